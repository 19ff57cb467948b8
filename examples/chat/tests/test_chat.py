"""Tests of the chat starter app, through the Worker, as a browser would talk to it."""

import pytest

from dosim.websockets import WebSocketDisconnect


@pytest.fixture(autouse=True)
def no_handler_errors(dosim_app):
    """Fail a test whose WebSocket handler raised: the socket stays open, only the trace says."""
    yield
    assert dosim_app.trace.filter("websocket.error") == []


async def join(app, name, room="lobby"):
    """Connect to `room`, join as `name`; return the client, its history and who is in."""
    client = await app.connect(f"/room/{room}/ws")
    client.send_json({"type": "join", "name": name})
    history = await client.receive_json()
    assert history["type"] == "history"
    presence = await client.receive_json()
    assert presence["type"] == "presence" and presence["joined"] == name
    return client, history["messages"], presence["users"]


def drain(*clients):
    for client in clients:
        client.pending()


def limits(app):
    return int(app.env.HISTORY_SIZE), int(app.env.RATE_LIMIT_PER_10S)


async def test_join_sends_history_then_presence(dosim_app):
    client = await dosim_app.connect("/room/lobby/ws")
    client.send_json({"type": "join", "name": "  alice "})
    assert await client.receive_json() == {"type": "history", "messages": []}
    assert await client.receive_json() == {
        "type": "presence",
        "users": ["alice"],
        "joined": "alice",
    }


async def test_messages_before_joining_are_refused(dosim_app):
    client = await dosim_app.connect("/room/lobby/ws")
    client.send_json({"type": "message", "text": "hi"})
    assert (await client.receive_json())["error"] == "not_joined"
    client.send_json({"type": "join", "name": ""})
    assert (await client.receive_json())["error"] == "bad_name"
    client.send("not json")
    assert (await client.receive_json())["error"] == "bad_message"


async def test_message_is_broadcast_to_everyone_in_the_room(dosim_app):
    alice, _, _ = await join(dosim_app, "alice")
    bob, _, _ = await join(dosim_app, "bob")
    drain(alice)
    alice.send_json({"type": "message", "text": "hello"})
    for client in (alice, bob):
        got = await client.receive_json()
        assert (got["type"], got["name"], got["text"]) == ("message", "alice", "hello")
        assert got["ts"] == dosim_app.now() * 1000


async def test_rooms_are_separate(dosim_app):
    alice, _, _ = await join(dosim_app, "alice", room="lobby")
    bob, _, _ = await join(dosim_app, "bob", room="kitchen")
    alice.send_json({"type": "message", "text": "lobby only"})
    assert (await alice.receive_json())["text"] == "lobby only"
    assert bob.pending() == []


async def test_presence_lists_everyone_on_each_join(dosim_app):
    alice, _, _ = await join(dosim_app, "alice")
    bob, _, _ = await join(dosim_app, "bob")
    assert await alice.receive_json() == {
        "type": "presence",
        "users": ["alice", "bob"],
        "joined": "bob",
    }
    assert bob.pending() == []


async def test_history_on_join_is_the_last_n_messages(dosim_app):
    size, rate = limits(dosim_app)
    alice, _, _ = await join(dosim_app, "alice")
    for n in range(size + 5):
        alice.send_json({"type": "message", "text": f"m{n}"})
        assert (await alice.receive_json())["text"] == f"m{n}"
        await dosim_app.advance(10 / rate)  # stay under the rate limit
    _, history, _ = await join(dosim_app, "bob")
    assert [m["text"] for m in history] == [f"m{n}" for n in range(5, size + 5)]
    assert {m["name"] for m in history} == {"alice"}


async def test_rate_limit_refuses_then_recovers_after_ten_seconds(dosim_app):
    _, rate = limits(dosim_app)
    alice, _, _ = await join(dosim_app, "alice")
    bob, _, _ = await join(dosim_app, "bob")
    drain(alice)
    for n in range(rate):
        alice.send_json({"type": "message", "text": str(n)})
    assert [(await alice.receive_json())["text"] for _ in range(rate)] == [
        str(n) for n in range(rate)
    ]
    alice.send_json({"type": "message", "text": "one too many"})
    refused = await alice.receive_json()
    assert (refused["error"], refused["retry_after"]) == ("rate_limited", 10)
    bob.send_json({"type": "message", "text": "bob is not limited"})
    assert (await alice.receive_json())["name"] == "bob"
    await dosim_app.advance(10)
    alice.send_json({"type": "message", "text": "back"})
    assert (await alice.receive_json())["text"] == "back"


async def test_closing_leaves_the_room_and_tells_the_others(dosim_app):
    alice, _, _ = await join(dosim_app, "alice")
    bob, _, _ = await join(dosim_app, "bob")
    drain(alice)
    await bob.close(1000, "bye")
    assert await alice.receive_json() == {"type": "presence", "users": ["alice"], "left": "bob"}


async def test_dropped_connection_also_leaves(dosim_app):
    alice, _, _ = await join(dosim_app, "alice")
    bob, _, _ = await join(dosim_app, "bob")
    drain(alice)
    await bob.disconnect()  # no close frame: the room sees code 1006
    assert await alice.receive_json() == {"type": "presence", "users": ["alice"], "left": "bob"}


async def test_a_name_in_two_tabs_is_listed_once_until_both_leave(dosim_app):
    alice, _, _ = await join(dosim_app, "alice")
    first_tab, _, _ = await join(dosim_app, "bob")
    second_tab, _, users = await join(dosim_app, "bob")
    assert users == ["alice", "bob"]
    drain(alice)
    await first_tab.close()
    assert await alice.receive_json() == {"type": "presence", "users": ["alice", "bob"]}
    await second_tab.close()
    assert await alice.receive_json() == {"type": "presence", "users": ["alice"], "left": "bob"}


async def test_room_hibernates_and_wakes_knowing_who_is_who(dosim_app):
    alice, _, _ = await join(dosim_app, "alice")
    bob, _, _ = await join(dosim_app, "bob")
    drain(alice)
    await dosim_app.advance(10)
    assert len(dosim_app.trace.filter("eviction", name="lobby")) == 1
    bob.send_json({"type": "message", "text": "still there?"})
    for client in (alice, bob):
        got = await client.receive_json()
        assert (got["name"], got["text"]) == ("bob", "still there?")
    assert len(dosim_app.trace.filter("constructor", name="lobby")) == 2
    await join(dosim_app, "carol")
    assert (await alice.receive_json())["users"] == ["alice", "bob", "carol"]


async def test_leaving_a_hibernated_room_is_still_announced(dosim_app):
    alice, _, _ = await join(dosim_app, "alice")
    bob, _, _ = await join(dosim_app, "bob")
    drain(alice)
    await dosim_app.advance(10)
    await bob.close()
    assert await alice.receive_json() == {"type": "presence", "users": ["alice"], "left": "bob"}
    assert len(dosim_app.trace.filter("constructor", name="lobby")) == 2


async def test_reset_disconnects_everyone_and_history_survives(dosim_app):
    alice, _, _ = await join(dosim_app, "alice")
    bob, _, _ = await join(dosim_app, "bob")
    drain(alice)
    alice.send_json({"type": "message", "text": "before the reset"})
    await alice.receive_json()
    drain(bob)
    dosim_app.faults.reset(("ROOMS", "lobby"))
    for client in (alice, bob):
        with pytest.raises(WebSocketDisconnect) as closed:
            await client.receive()
        assert closed.value.code == 1006
    alice, history, users = await join(dosim_app, "alice")
    assert [m["text"] for m in history] == ["before the reset"]
    assert users == ["alice"]  # bob's dropped socket is not remembered


async def test_reset_while_someone_connects_is_retried_by_the_worker(dosim_app):
    alice, _, _ = await join(dosim_app, "alice")
    alice.send_json({"type": "message", "text": "hi"})
    await alice.receive_json()
    dosim_app.faults.reset_on_next_call(("ROOMS", "lobby"))
    bob, history, _ = await join(dosim_app, "bob")
    assert [m["text"] for m in history] == ["hi"]
    with pytest.raises(WebSocketDisconnect) as closed:
        await alice.receive()
    assert closed.value.code == 1006
    assert len(dosim_app.trace.filter("reset", name="lobby")) == 1


async def test_ping_is_answered_without_waking_the_room(dosim_app):
    alice, _, _ = await join(dosim_app, "alice")
    await dosim_app.advance(10)
    assert len(dosim_app.trace.filter("eviction", name="lobby")) == 1
    alice.send("ping")
    assert await alice.receive() == "pong"
    assert len(dosim_app.trace.filter("constructor", name="lobby")) == 1
    assert len(dosim_app.trace.filter("websocket.autoresponse")) == 1


@pytest.mark.parametrize("path", ["/", "/room/lobby"])
async def test_the_chat_page_is_served(dosim_app, path):
    response = await dosim_app.fetch(path)
    assert response.status == 200
    assert response.headers.get("content-type").startswith("text/html")
    page = await response.text()
    assert "new WebSocket(" in page and "/ws`" in page


async def test_plain_get_on_the_socket_route_is_426(dosim_app):
    response = await dosim_app.fetch("/room/lobby/ws")
    assert response.status == 426
    assert response.headers.get("upgrade") == "websocket"


async def test_unknown_routes_are_404(dosim_app):
    for path in ("/nope", "/room/bad%20name/ws", "/room/lobby/ws/extra"):
        assert (await dosim_app.fetch(path)).status == 404
