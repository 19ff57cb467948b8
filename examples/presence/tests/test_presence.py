"""Tests of the presence starter app, through the Worker, as a browser would talk to it."""

import pytest

from dosim.websockets import WebSocketDisconnect


@pytest.fixture(autouse=True)
def no_handler_errors(dosim_app):
    """Fail a test whose WebSocket handler raised: the socket stays open, only the trace says."""
    yield
    assert dosim_app.trace.filter("websocket.error") == []


async def enter(app, name, doc="plan", role="editor", page=1):
    """Connect to `doc` as `name`; return the client and its welcome message."""
    client = await app.connect(f"/doc/{doc}/ws?name={name}&role={role}&page={page}")
    welcome = await client.receive_json()
    assert welcome["type"] == "welcome" and welcome["you"]["name"] == name
    return client, welcome


async def test_welcome_says_who_you_are_and_who_is_here(dosim_app):
    alice, welcome = await enter(dosim_app, "alice")
    me = welcome["you"]
    assert (me["role"], me["page"], me["x"], me["y"]) == ("editor", 1, None, None)
    assert me["color"].startswith("#") and len(me["id"]) == 8
    assert welcome["users"] == []
    _, welcome = await enter(dosim_app, "bob", role="viewer", page=2)
    assert welcome["users"] == [me]


async def test_join_cursor_and_leave_reach_the_others(dosim_app):
    alice, a = await enter(dosim_app, "alice")
    bob, b = await enter(dosim_app, "bob")
    assert await alice.receive_json() == {"type": "join", "user": b["you"]}
    alice.send_json({"type": "cursor", "x": 0.25, "y": 0.5})
    assert await bob.receive_json() == {"type": "cursor", "id": a["you"]["id"], "x": 0.25, "y": 0.5}
    await dosim_app.settle()
    assert alice.pending() == []  # the sender does not get its own cursor back
    await bob.close(1000, "bye")
    assert await alice.receive_json() == {"type": "leave", "id": b["you"]["id"]}


async def test_a_dropped_connection_also_leaves(dosim_app):
    alice, _ = await enter(dosim_app, "alice")
    bob, b = await enter(dosim_app, "bob")
    alice.pending()
    await bob.disconnect()  # no close frame: the room sees code 1006
    assert await alice.receive_json() == {"type": "leave", "id": b["you"]["id"]}


async def test_documents_are_separate(dosim_app):
    alice, _ = await enter(dosim_app, "alice", doc="plan")
    bob, welcome = await enter(dosim_app, "bob", doc="notes")
    assert welcome["users"] == []
    alice.send_json({"type": "cursor", "x": 0.1, "y": 0.1})
    await dosim_app.settle()
    assert alice.pending() == bob.pending() == []


async def test_cursors_go_only_to_the_same_page_by_tag(dosim_app):
    alice, a = await enter(dosim_app, "alice", page=1)
    bob, _ = await enter(dosim_app, "bob", page=1)
    carol, _ = await enter(dosim_app, "carol", page=2)
    await dosim_app.settle()
    alice.pending(), bob.pending()
    alice.send_json({"type": "cursor", "x": 0.5, "y": 0.5})
    assert (await bob.receive_json())["id"] == a["you"]["id"]
    await dosim_app.settle()
    assert carol.pending() == []  # other pages see presence, not cursors


async def test_viewers_watch_but_cannot_move_a_cursor(dosim_app):
    alice, a = await enter(dosim_app, "alice")
    viewer, _ = await enter(dosim_app, "vic", role="viewer")
    alice.pending()
    viewer.send_json({"type": "cursor", "x": 0.5, "y": 0.5})
    assert (await viewer.receive_json())["error"] == "read_only"
    alice.send_json({"type": "cursor", "x": 0.75, "y": 0.25})
    assert (await viewer.receive_json())["id"] == a["you"]["id"]
    await dosim_app.settle()
    assert alice.pending() == []


async def test_bad_messages_are_refused(dosim_app):
    alice, _ = await enter(dosim_app, "alice")
    for message, error in (
        ("not json", "bad_message"),
        ('{"type": "chat"}', "bad_message"),
        ('{"type": "cursor", "x": 2, "y": 0}', "bad_cursor"),
        ('{"type": "cursor", "x": "0", "y": 0}', "bad_cursor"),
        ('{"type": "cursor", "x": true, "y": 0}', "bad_cursor"),
        ('{"type": "cursor", "x": NaN, "y": 0}', "bad_cursor"),
    ):
        alice.send(message)
        assert (await alice.receive_json())["error"] == error, message


@pytest.mark.parametrize(
    "query", ["name=&role=editor", "name=a&role=admin", "name=a&page=0", "name=a&page=x"]
)
async def test_bad_connection_parameters_are_400(dosim_app, query):
    with pytest.raises(ConnectionError, match="400"):
        await dosim_app.connect(f"/doc/plan/ws?{query}")


async def test_role_and_page_come_from_tags_after_hibernation_too(dosim_app):
    alice, a = await enter(dosim_app, "alice", page=3)
    vic, v = await enter(dosim_app, "vic", role="viewer", page=3)
    assert (v["you"]["role"], v["you"]["page"]) == ("viewer", 3)
    await dosim_app.advance(10)
    assert len(dosim_app.trace.filter("eviction", name="plan")) == 1
    _, welcome = await enter(dosim_app, "carol", page=1)
    assert [(u["name"], u["role"], u["page"]) for u in welcome["users"]] == [
        ("alice", "editor", 3),
        ("vic", "viewer", 3),
    ]
    vic.pending()
    vic.send_json({"type": "cursor", "x": 0.5, "y": 0.5})
    assert (await vic.receive_json())["error"] == "read_only"
    alice.send_json({"type": "cursor", "x": 0.5, "y": 0.5})
    assert (await vic.receive_json())["id"] == a["you"]["id"]


async def test_state_is_restored_after_hibernation_from_attachments(dosim_app):
    alice, a = await enter(dosim_app, "alice")
    bob, b = await enter(dosim_app, "bob")
    alice.pending()
    alice.send_json({"type": "cursor", "x": 0.3, "y": 0.7})
    await bob.receive_json()
    await dosim_app.advance(10)
    assert len(dosim_app.trace.filter("eviction", name="plan")) == 1
    # A newcomer wakes the room: it knows everyone and their last cursor position.
    _, welcome = await enter(dosim_app, "carol")
    assert len(dosim_app.trace.filter("constructor", name="plan")) == 2
    assert welcome["users"] == [{**a["you"], "x": 0.3, "y": 0.7}, b["you"]]
    # Cursors still flow, and nothing was ever stored: the attachments are the state.
    bob.send_json({"type": "cursor", "x": 0.9, "y": 0.1})
    assert (await alice.receive_json())["type"] == "join"
    assert await alice.receive_json() == {
        "type": "cursor",
        "id": b["you"]["id"],
        "x": 0.9,
        "y": 0.1,
    }
    assert dosim_app.trace.filter("commit") == []


async def test_leaving_a_hibernated_room_is_still_announced(dosim_app):
    alice, _ = await enter(dosim_app, "alice")
    bob, b = await enter(dosim_app, "bob")
    alice.pending()
    await dosim_app.advance(10)
    await bob.close()
    assert await alice.receive_json() == {"type": "leave", "id": b["you"]["id"]}
    assert len(dosim_app.trace.filter("constructor", name="plan")) == 2


async def test_ping_is_answered_without_waking_the_room(dosim_app):
    alice, _ = await enter(dosim_app, "alice")
    await dosim_app.advance(10)
    assert len(dosim_app.trace.filter("eviction", name="plan")) == 1
    alice.send("ping")
    assert await alice.receive() == "pong"
    assert len(dosim_app.trace.filter("constructor", name="plan")) == 1
    assert len(dosim_app.trace.filter("websocket.autoresponse")) == 1


async def test_reset_disconnects_everyone_who_then_reconnects_cleanly(dosim_app):
    alice, _ = await enter(dosim_app, "alice")
    bob, _ = await enter(dosim_app, "bob")
    alice.send_json({"type": "cursor", "x": 0.5, "y": 0.5})
    await dosim_app.settle()
    alice.pending(), bob.pending()
    dosim_app.faults.reset(("DOCS", "plan"))
    for client in (alice, bob):
        with pytest.raises(WebSocketDisconnect) as closed:
            await client.receive()
        assert closed.value.code == 1006
    # Reconnecting (as the page does) starts clean: no ghosts of the dropped sockets.
    alice, welcome = await enter(dosim_app, "alice")
    assert welcome["users"] == []
    bob, welcome = await enter(dosim_app, "bob")
    assert [u["name"] for u in welcome["users"]] == ["alice"]
    assert (await alice.receive_json())["type"] == "join"
    bob.send_json({"type": "cursor", "x": 0.2, "y": 0.2})
    assert (await alice.receive_json())["x"] == 0.2


async def test_reset_while_someone_connects_is_retried_by_the_worker(dosim_app):
    alice, _ = await enter(dosim_app, "alice")
    dosim_app.faults.reset_on_next_call(("DOCS", "plan"))
    _, welcome = await enter(dosim_app, "bob")
    assert welcome["users"] == []  # alice was dropped by the reset
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:  # the failed first attempt may have announced bob before the reset
            assert (await alice.receive_json())["type"] == "join"
    assert closed.value.code == 1006
    assert len(dosim_app.trace.filter("reset", name="plan")) == 1


@pytest.mark.parametrize("path", ["/", "/doc/plan"])
async def test_the_page_is_served(dosim_app, path):
    response = await dosim_app.fetch(path)
    assert response.status == 200
    assert response.headers.get("content-type").startswith("text/html")
    page = await response.text()
    assert "new WebSocket(" in page and "http://" not in page and "https://" not in page


async def test_plain_get_on_the_socket_route_is_426(dosim_app):
    response = await dosim_app.fetch("/doc/plan/ws?name=alice")
    assert response.status == 426
    assert response.headers.get("upgrade") == "websocket"


async def test_unknown_routes_are_404(dosim_app):
    for path in ("/nope", "/doc/bad%20name/ws", "/doc/plan/ws/extra"):
        assert (await dosim_app.fetch(path)).status == 404
