"""Tests of the seat booking starter app: holds, expiry by alarm, atomic conflicts, faults."""

import asyncio
import json

import pytest

from dosim.testing import evict_durable_object, run_in_durable_object

START_MS = 1_735_689_600_000  # dosim's virtual clock starts at 2025-01-01T00:00:00Z
HOLD_SECONDS = 300  # HOLD_SECONDS in wrangler.toml


async def hold(app, customer, seats, show="gala"):
    body = json.dumps({"customer": customer, "seats": seats})
    response = await app.fetch(f"/{show}/holds", method="POST", body=body)
    return response.status, json.loads(await response.text())


async def confirm(app, hold_id, customer, show="gala"):
    body = json.dumps({"customer": customer})
    response = await app.fetch(f"/{show}/holds/{hold_id}/confirm", method="POST", body=body)
    return response.status, json.loads(await response.text())


async def seat_map(app, show="gala"):
    return json.loads(await (await app.fetch(f"/{show}/seats")).text())


def show_stub(app, show="gala"):
    return app.env.SHOWS.getByName(show)


async def alarm_of(app, show="gala"):
    return await run_in_durable_object(
        show_stub(app, show), lambda obj, ctx: ctx.storage.getAlarm()
    )


def test_hold_seconds_matches_wrangler_toml(dosim_app):
    assert float(dosim_app.env.HOLD_SECONDS) == HOLD_SECONDS


async def test_new_show_has_every_seat_free(dosim_app):
    seats = await seat_map(dosim_app)
    assert list(seats)[:3] == ["A1", "A2", "A3"]
    assert len(seats) == 5 * 8 and set(seats.values()) == {"free"}


async def test_hold_reserves_the_seats_until_it_expires(dosim_app):
    status, held = await hold(dosim_app, "ann", ["A1", "A2"])
    assert status == 201
    assert held["customer"] == "ann" and held["seats"] == ["A1", "A2"]
    assert held["expires_at"] == START_MS + HOLD_SECONDS * 1000
    seats = await seat_map(dosim_app)
    assert (seats["A1"], seats["A2"], seats["A3"]) == ("held", "held", "free")


async def test_confirm_books_the_held_seats(dosim_app):
    _, held = await hold(dosim_app, "ann", ["B4"])
    status, booking = await confirm(dosim_app, held["hold"], "ann")
    assert status == 200
    assert booking == {"booking": held["hold"], "customer": "ann", "seats": ["B4"]}
    assert (await seat_map(dosim_app))["B4"] == "booked"


async def test_confirming_twice_returns_the_same_booking(dosim_app):
    _, held = await hold(dosim_app, "ann", ["B4"])
    first = await confirm(dosim_app, held["hold"], "ann")
    assert await confirm(dosim_app, held["hold"], "ann") == first


async def test_held_or_booked_seats_cannot_be_held_again(dosim_app):
    _, held = await hold(dosim_app, "ann", ["A1"])
    await hold(dosim_app, "bob", ["A2"])
    await confirm(dosim_app, held["hold"], "ann")
    assert await hold(dosim_app, "cy", ["A1", "A2", "A3"]) == (
        409,
        {"error": "unavailable", "seats": ["A1", "A2"]},
    )
    assert (await seat_map(dosim_app))["A3"] == "free"  # all or nothing


async def test_unknown_repeated_or_too_many_seats_are_400(dosim_app):
    unknown = await hold(dosim_app, "ann", ["A1", "Z9"])
    assert unknown == (400, {"error": "invalid", "seats": ["Z9"]})
    eleven = [f"C{n}" for n in range(1, 9)] + ["D1", "D2", "D3"]
    for seats in [["A1", "A1"], [], eleven]:
        assert (await hold(dosim_app, "ann", seats))[0] == 400, seats


async def test_malformed_body_is_400(dosim_app):
    for body in ["nope", "{}", '{"customer": "ann", "seats": "A1"}']:
        response = await dosim_app.fetch("/gala/holds", method="POST", body=body)
        assert response.status == 400, body


async def test_a_malformed_body_is_answered_with_what_is_wrong(dosim_app):
    # The Worker's marshmallow schemas name each field at fault.
    body = '{"customer": 5, "seats": "A1"}'
    response = await dosim_app.fetch("/gala/holds", method="POST", body=body)
    assert response.status == 400
    assert await response.json() == {
        "error": "bad_body",
        "fields": {"customer": ["Not a valid string."], "seats": ["Not a valid list."]},
    }
    confirm = await dosim_app.fetch("/gala/holds/h1/confirm", method="POST", body="{}")
    assert (await confirm.json())["fields"] == {"customer": ["Missing data for required field."]}


async def test_only_the_holder_can_confirm(dosim_app):
    _, held = await hold(dosim_app, "ann", ["A1"])
    assert await confirm(dosim_app, held["hold"], "bob") == (403, {"error": "not_yours"})


async def test_released_hold_frees_its_seats(dosim_app):
    _, held = await hold(dosim_app, "ann", ["A1"])
    response = await dosim_app.fetch(f"/gala/holds/{held['hold']}", method="DELETE")
    assert response.status == 204
    assert (await seat_map(dosim_app))["A1"] == "free"
    assert await confirm(dosim_app, held["hold"], "ann") == (404, {"error": "unknown_hold"})


async def test_expired_hold_is_freed_by_the_alarm(dosim_app):
    _, held = await hold(dosim_app, "ann", ["A1"])
    assert await alarm_of(dosim_app) == held["expires_at"]
    await dosim_app.advance(HOLD_SECONDS)
    assert len(dosim_app.trace.filter("alarm.fire")) == 1
    assert (await seat_map(dosim_app))["A1"] == "free"
    assert await alarm_of(dosim_app) is None
    assert await confirm(dosim_app, held["hold"], "ann") == (404, {"error": "unknown_hold"})


async def test_alarm_moves_on_to_the_next_expiry(dosim_app):
    await hold(dosim_app, "ann", ["A1"])
    await dosim_app.advance(100)
    _, later = await hold(dosim_app, "bob", ["A2"])
    await dosim_app.advance(HOLD_SECONDS - 100)
    seats = await seat_map(dosim_app)
    assert (seats["A1"], seats["A2"]) == ("free", "held")
    assert await alarm_of(dosim_app) == later["expires_at"]


async def test_confirmed_booking_outlives_the_hold_time(dosim_app):
    _, held = await hold(dosim_app, "ann", ["A1"])
    await confirm(dosim_app, held["hold"], "ann")
    assert await alarm_of(dosim_app) is None
    await dosim_app.advance(2 * HOLD_SECONDS)
    assert (await seat_map(dosim_app))["A1"] == "booked"


async def test_expired_hold_never_blocks_even_if_the_alarm_is_late(dosim_app):
    await hold(dosim_app, "ann", ["A1"])
    # Alarms usually fire on time but may run late; model that by removing it.
    await run_in_durable_object(show_stub(dosim_app), lambda obj, ctx: ctx.storage.deleteAlarm())
    await dosim_app.advance(HOLD_SECONDS)
    assert dosim_app.trace.filter("alarm.fire") == []
    assert (await hold(dosim_app, "bob", ["A1"]))[0] == 201


async def test_shows_are_separate_objects(dosim_app):
    await hold(dosim_app, "ann", ["A1"], show="gala")
    assert (await hold(dosim_app, "bob", ["A1"], show="matinee"))[0] == 201


async def test_holds_survive_eviction(dosim_app):
    _, held = await hold(dosim_app, "ann", ["A1"])
    assert evict_durable_object(show_stub(dosim_app)) is True
    assert (await confirm(dosim_app, held["hold"], "ann"))[0] == 200
    assert len(dosim_app.trace.filter("constructor", name="gala")) == 2


async def test_many_customers_racing_for_one_seat_one_wins(dosim_app):
    results = await asyncio.gather(*(hold(dosim_app, f"c{n}", ["E8"]) for n in range(20)))
    statuses = [status for status, _ in results]
    assert statuses.count(201) == 1 and statuses.count(409) == 19


async def test_overlapping_holds_racing_leave_the_loser_nothing(dosim_app):
    (ann_status, _), (bob_status, bob) = await asyncio.gather(
        hold(dosim_app, "ann", ["A1", "A2"]), hold(dosim_app, "bob", ["A2", "A3"])
    )
    assert (ann_status, bob_status) == (201, 409)
    assert bob == {"error": "unavailable", "seats": ["A2"]}
    seats = await seat_map(dosim_app)
    assert (seats["A1"], seats["A2"], seats["A3"]) == ("held", "held", "free")


async def test_hold_retried_after_a_lost_answer_is_made_once(dosim_app):
    # The object made the hold, the answer was lost; the Worker retries with the same
    # hold id and gets the same hold back instead of a conflict with itself.
    dosim_app.faults.lose_connection_on_next_call(show_stub(dosim_app), after_delivery=True)
    status, held = await hold(dosim_app, "ann", ["A1", "A2"])
    assert status == 201 and held["seats"] == ["A1", "A2"]
    assert len(dosim_app.trace.filter("rpc.call", method="hold")) == 2
    assert (await confirm(dosim_app, held["hold"], "ann"))[0] == 200


async def test_hold_whose_commit_failed_is_retried_on_a_new_stub(dosim_app):
    dosim_app.faults.fail_next_commit(show_stub(dosim_app))
    status, held = await hold(dosim_app, "ann", ["A1"])
    assert status == 201
    assert len(dosim_app.trace.filter("reset", name="gala")) == 1
    assert (await seat_map(dosim_app))["A1"] == "held"


async def test_reset_during_confirm_is_retried_and_books_once(dosim_app):
    _, held = await hold(dosim_app, "ann", ["A1"])
    dosim_app.faults.reset_on_next_call(show_stub(dosim_app))
    status, booking = await confirm(dosim_app, held["hold"], "ann")
    assert (status, booking["seats"]) == (200, ["A1"])
    assert (await seat_map(dosim_app))["A1"] == "booked"


async def test_failed_commit_leaves_the_seats_free(dosim_app):
    stub = show_stub(dosim_app)
    dosim_app.faults.fail_next_commit(stub)
    with pytest.raises(Exception, match="reset") as caught:
        await stub.hold("h1", "ann", ["A1"])
    assert getattr(caught.value, "durableObjectReset", False) is True
    assert (await show_stub(dosim_app).seats())["A1"] == "free"
