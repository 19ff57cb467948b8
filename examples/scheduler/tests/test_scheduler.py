"""Tests of the scheduler starter app: one alarm for many reminders, retries, faults."""

import asyncio
import json

from dosim.testing import evict_durable_object, run_in_durable_object

START_MS = 1_735_689_600_000  # dosim's virtual clock starts at 2025-01-01T00:00:00Z
MAX_ATTEMPTS = 5  # MAX_ATTEMPTS and RETRY_DELAY_SECONDS in wrangler.toml
RETRY_DELAY = 10


async def put(app, reminder_id, text, delay, user="ann"):
    body = json.dumps({"text": text, "in": delay})
    return await app.fetch(f"/{user}/reminders/{reminder_id}", method="PUT", body=body)


async def get_json(app, path):
    return json.loads(await (await app.fetch(path)).text())


async def inbox(app, user="ann"):
    return [message["text"] for message in await get_json(app, f"/{user}/inbox")]


async def reminder(app, reminder_id, user="ann"):
    reminders = await get_json(app, f"/{user}/reminders")
    return next(r for r in reminders if r["id"] == reminder_id)


async def alarm_of(app, user="ann"):
    stub = app.env.SCHEDULER.getByName(user)
    return await run_in_durable_object(stub, lambda obj, ctx: ctx.storage.getAlarm())


def test_constants_match_wrangler_toml(dosim_app):
    assert int(dosim_app.env.MAX_ATTEMPTS) == MAX_ATTEMPTS
    assert float(dosim_app.env.RETRY_DELAY_SECONDS) == RETRY_DELAY


async def test_put_schedules_a_pending_reminder(dosim_app):
    response = await put(dosim_app, "tea", "make tea", 60)
    assert response.status == 200
    assert json.loads(await response.text()) == {
        "id": "tea",
        "text": "make tea",
        "due_at": START_MS + 60_000,
        "status": "pending",
        "attempts": 0,
        "last_error": None,
        "delivered_at": None,
    }


async def test_reminder_is_delivered_when_due_and_not_before(dosim_app):
    await put(dosim_app, "tea", "make tea", 60)
    await dosim_app.advance(59.999)
    assert await inbox(dosim_app) == []
    await dosim_app.advance(0.001)
    assert await inbox(dosim_app) == ["make tea"]
    done = await reminder(dosim_app, "tea")
    assert (done["status"], done["attempts"], done["delivered_at"]) == (
        "delivered",
        1,
        START_MS + 60_000,
    )


async def test_alarm_is_always_set_to_the_earliest_pending_reminder(dosim_app):
    await put(dosim_app, "later", "b", 60)
    assert await alarm_of(dosim_app) == START_MS + 60_000
    await put(dosim_app, "sooner", "a", 10)
    assert await alarm_of(dosim_app) == START_MS + 10_000
    await dosim_app.fetch("/ann/reminders/sooner", method="DELETE")
    assert await alarm_of(dosim_app) == START_MS + 60_000
    await dosim_app.advance(60)
    assert await alarm_of(dosim_app) is None


async def test_one_alarm_delivers_everything_due_in_due_order(dosim_app):
    for reminder_id, delay in [("c", 30), ("a", 10), ("b", 20)]:
        await put(dosim_app, reminder_id, f"reminder {reminder_id}", delay)
    await dosim_app.advance(30)
    assert await inbox(dosim_app) == ["reminder a", "reminder b", "reminder c"]
    assert len(dosim_app.trace.filter("alarm.fire")) == 3


async def test_more_reminders_due_than_a_batch_are_all_delivered(dosim_app):
    scheduler = dosim_app.env.SCHEDULER.getByName("ann")
    for n in range(60):  # BATCH_SIZE is 50: the alarm re-arms itself for the rest
        await scheduler.schedule(f"r{n:02}", "ann", f"text {n}", START_MS)
    await dosim_app.advance(0)
    assert len(await inbox(dosim_app)) == 60
    assert len(dosim_app.trace.filter("alarm.fire")) == 2


async def test_putting_a_reminder_again_reschedules_it(dosim_app):
    await put(dosim_app, "tea", "make tea", 10)
    await put(dosim_app, "tea", "make green tea", 60)
    await dosim_app.advance(59)
    assert await inbox(dosim_app) == []
    await dosim_app.advance(1)
    assert await inbox(dosim_app) == ["make green tea"]


async def test_putting_a_delivered_reminder_again_changes_nothing(dosim_app):
    await put(dosim_app, "tea", "make tea", 0)
    await dosim_app.advance(0)
    response = await put(dosim_app, "tea", "make tea", 0)
    assert json.loads(await response.text())["status"] == "delivered"
    await dosim_app.advance(60)
    assert await inbox(dosim_app) == ["make tea"]


async def test_cancelled_reminder_is_never_delivered(dosim_app):
    await put(dosim_app, "tea", "make tea", 10)
    response = await dosim_app.fetch("/ann/reminders/tea", method="DELETE")
    assert response.status == 204
    await dosim_app.advance(60)
    assert await inbox(dosim_app) == []
    assert await get_json(dosim_app, "/ann/reminders") == []


async def test_users_have_separate_reminders_and_inboxes(dosim_app):
    await put(dosim_app, "tea", "ann's tea", 10, user="ann")
    await put(dosim_app, "tea", "bob's tea", 10, user="bob")
    await dosim_app.advance(10)
    assert await inbox(dosim_app, "ann") == ["ann's tea"]
    assert await inbox(dosim_app, "bob") == ["bob's tea"]


async def test_invalid_body_is_400(dosim_app):
    for body in ["not json", '{"text": "x"}', '{"text": "x", "in": -1}', '{"text": 1, "in": 5}']:
        response = await dosim_app.fetch("/ann/reminders/x", method="PUT", body=body)
        assert response.status == 400, body


async def test_unknown_route_is_404(dosim_app):
    assert (await dosim_app.fetch("/ann")).status == 404
    assert (await dosim_app.fetch("/ann/elsewhere")).status == 404


async def test_reminders_survive_eviction(dosim_app):
    await put(dosim_app, "tea", "make tea", 60)
    assert evict_durable_object(dosim_app.env.SCHEDULER.getByName("ann")) is True
    await dosim_app.advance(60)  # the alarm wakes a new instance
    assert await inbox(dosim_app) == ["make tea"]
    assert len(dosim_app.trace.filter("constructor", namespace="SCHEDULER")) == 2


async def test_concurrent_puts_arm_the_earliest_and_deliver_each_once(dosim_app):
    delays = [(n * 37) % 50 + 1 for n in range(40)]
    await asyncio.gather(*(put(dosim_app, f"r{n}", f"r{n}", d) for n, d in enumerate(delays)))
    assert await alarm_of(dosim_app) == START_MS + min(delays) * 1000
    await dosim_app.advance(max(delays))
    received = await inbox(dosim_app)
    assert sorted(received) == sorted(f"r{n}" for n in range(40))
    assert [delays[int(text[1:])] for text in received] == sorted(delays)


async def test_failed_delivery_is_retried_after_the_retry_delay(dosim_app):
    # The inbox is reset while it handles the delivery: its write is discarded and the
    # scheduler sees the error. Its own bookkeeping schedules the next attempt.
    await put(dosim_app, "tea", "make tea", 0)
    dosim_app.faults.reset_on_next_call(dosim_app.env.INBOX.getByName("ann"))
    await dosim_app.advance(0)
    failed = await reminder(dosim_app, "tea")
    assert (failed["status"], failed["attempts"], failed["due_at"]) == (
        "pending",
        1,
        START_MS + RETRY_DELAY * 1000,
    )
    assert "reset" in failed["last_error"]
    assert await inbox(dosim_app) == []
    await dosim_app.advance(RETRY_DELAY)
    assert await inbox(dosim_app) == ["make tea"]
    assert (await reminder(dosim_app, "tea"))["attempts"] == 2


async def test_redelivery_after_a_lost_answer_is_not_duplicated(dosim_app):
    # The inbox stored the reminder, but its answer was lost: the scheduler counts a
    # failure and delivers again; the inbox recognises the id and keeps one copy.
    await put(dosim_app, "tea", "make tea", 0)
    inbox_stub = dosim_app.env.INBOX.getByName("ann")
    dosim_app.faults.lose_connection_on_next_call(inbox_stub, after_delivery=True)
    await dosim_app.advance(RETRY_DELAY)
    assert len(dosim_app.trace.filter("rpc.call", method="receive")) == 2
    assert await inbox(dosim_app) == ["make tea"]
    done = await reminder(dosim_app, "tea")
    assert (done["status"], done["attempts"]) == ("delivered", 2)
    assert done["last_error"] == "Error: Network connection lost."


async def test_reminder_is_marked_failed_after_max_attempts(dosim_app):
    await put(dosim_app, "tea", "make tea", 0)
    inbox_stub = dosim_app.env.INBOX.getByName("ann")
    for _ in range(MAX_ATTEMPTS):
        dosim_app.faults.lose_connection_on_next_call(inbox_stub, after_delivery=False)
    await dosim_app.advance(RETRY_DELAY * (2**MAX_ATTEMPTS))  # 10 + 20 + 40 + 80 s of backoff
    failed = await reminder(dosim_app, "tea")
    assert (failed["status"], failed["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert failed["due_at"] == START_MS + 150_000  # its last attempt; no next one
    assert failed["last_error"] == "Error: Network connection lost."
    assert await inbox(dosim_app) == []
    assert await alarm_of(dosim_app) is None


async def test_failed_commit_in_the_alarm_is_retried_by_the_platform(dosim_app):
    # The alarm's first storage commit fails before the reminder left: the scheduler is
    # reset, its writes (and the alarm's deletion) roll back, and the platform runs the
    # alarm again with backoff.
    await put(dosim_app, "tea", "make tea", 0)
    dosim_app.faults.fail_next_commit(dosim_app.env.SCHEDULER.getByName("ann"))
    await dosim_app.advance(0)
    assert await inbox(dosim_app) == []
    assert len(dosim_app.trace.filter("alarm.retry")) == 1
    await dosim_app.advance(3)  # first platform retry: 2 s plus up to 25 % jitter
    assert await inbox(dosim_app) == ["make tea"]
    assert (await reminder(dosim_app, "tea"))["attempts"] == 1


async def test_crash_after_delivery_is_retried_and_not_duplicated(dosim_app):
    # The worst moment: the inbox stored the reminder, then the scheduler's commit that
    # records the delivery fails. The platform retries the alarm; it delivers again and
    # the inbox drops the repeat.
    scheduler = dosim_app.env.SCHEDULER.getByName("ann")

    def fail_scheduler_commit_once_received(event):
        if event.kind == "rpc.return" and event.detail.get("method") == "receive":
            dosim_app.trace.unsubscribe(fail_scheduler_commit_once_received)
            dosim_app.faults.fail_next_commit(scheduler)

    await put(dosim_app, "tea", "make tea", 0)
    dosim_app.trace.subscribe(fail_scheduler_commit_once_received)
    await dosim_app.advance(3)
    assert len(dosim_app.trace.filter("rpc.call", method="receive")) == 2
    assert len(dosim_app.trace.filter("reset", namespace="SCHEDULER")) == 1
    assert await inbox(dosim_app) == ["make tea"]
    assert (await reminder(dosim_app, "tea"))["status"] == "delivered"
