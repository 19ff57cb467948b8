"""Alarms on virtual time: set, fire, retry with backoff, drop."""

import datetime as dt
import time

import pytest

from dosim import App, JsException
from dosim.alarms import ALARM_FIRST_BACKOFF_MS, ALARM_MAX_RETRIES, AlarmScheduler
from dosim.clock import VirtualClock
from dosim.storage import ObjectDatabase
from dosim.testing import run_durable_object_alarm
from workers import DurableObject


class Reminder(DurableObject):
    async def remind_in(self, seconds):
        await self.ctx.storage.setAlarm(time.time() * 1000 + seconds * 1000)

    async def remind_at(self, moment):
        await self.ctx.storage.setAlarm(moment)

    async def alarm_time(self):
        return await self.ctx.storage.getAlarm()

    async def cancel(self):
        await self.ctx.storage.deleteAlarm()

    async def fired(self):
        return await self.ctx.storage.get("fired") or []

    async def fail_times(self, n):
        await self.ctx.storage.put("failures_left", n)

    async def alarm(self, alarm_info):
        seen = await self.ctx.storage.getAlarm()
        left = await self.ctx.storage.get("failures_left") or 0
        fired = await self.ctx.storage.get("fired") or []
        fired.append([alarm_info.retryCount, alarm_info.isRetry, seen, round(time.time() * 1000)])
        await self.ctx.storage.put("fired", fired)
        if left:
            await self.ctx.storage.put("failures_left", left - 1)
            raise RuntimeError("flaky")


class NoHandler(DurableObject):
    async def try_set(self):
        await self.ctx.storage.setAlarm(1)


@pytest.fixture
def app():
    return App(None, {"R": Reminder, "N": NoHandler})


async def test_alarm_set_from_time_time_fires_after_advance(app):
    stub = app.env.R.getByName("r")
    await stub.remind_in(60)
    await app.advance(59)
    assert await stub.fired() == []
    await app.advance(1)
    assert await stub.fired() == [[0, False, None, round(app.now() * 1000)]]


async def test_get_alarm_reports_the_time_then_none_after_firing(app):
    stub = app.env.R.getByName("r")
    await stub.remind_in(5)
    assert await stub.alarm_time() == app.now() * 1000 + 5000
    await app.advance(5)
    assert await stub.alarm_time() is None


async def test_alarm_in_the_past_fires_on_next_advance(app):
    stub = app.env.R.getByName("r")
    await stub.remind_at(dt.datetime(2001, 1, 1))
    await app.advance(0)
    assert len(await stub.fired()) == 1


async def test_deleted_alarm_does_not_fire(app):
    stub = app.env.R.getByName("r")
    await stub.remind_in(5)
    await stub.cancel()
    await app.advance(60)
    assert await stub.fired() == []


async def test_raising_handler_retries_with_exponential_backoff(app):
    stub = app.env.R.getByName("r")
    await stub.fail_times(2)
    await stub.remind_in(1)
    await app.advance(1 + 2.5 + 5)
    fired = await stub.fired()
    assert [entry[:2] for entry in fired] == [[0, False], [1, True], [2, True]]
    gaps = [b[3] - a[3] for a, b in zip(fired, fired[1:], strict=False)]
    assert 2000 <= gaps[0] <= 2500 and 4000 <= gaps[1] <= 5000


async def test_alarm_is_dropped_after_six_retries(app):
    stub = app.env.R.getByName("r")
    await stub.fail_times(100)
    await stub.remind_in(1)
    await app.advance(3600)
    assert len(await stub.fired()) == 7
    assert app.trace.filter("alarm.drop")[0].detail["reason"] == "retries exhausted"


async def test_set_alarm_without_handler_is_refused(app):
    # The TypeError is raised inside the object; the caller gets it as a JsException
    # (see tests/test_rpc_errors.py).
    with pytest.raises(JsException, match="\nTypeError: .*must have an alarm\\(\\) handler"):
        await app.env.N.getByName("n").try_set()


async def test_run_durable_object_alarm_runs_it_now(app):
    stub = app.env.R.getByName("r")
    assert await run_durable_object_alarm(stub) is False
    await stub.remind_in(3600)
    assert await run_durable_object_alarm(stub) is True
    assert len(await stub.fired()) == 1


async def test_alarm_fire_is_traced(app):
    stub = app.env.R.getByName("r")
    await stub.remind_in(1)
    await app.advance(1)
    assert [e.kind for e in app.trace.filter("alarm")] == ["alarm.set", "alarm.fire", "alarm.set"]


# -- the scheduler on its own, behind the AlarmHost seam ----------------------------------
class _AlarmHost:
    """Just enough of an object host for the scheduler: a real database and clock."""

    def __init__(self, handler):
        self.clock = VirtualClock(start_ms=1_000_000)
        self.database = ObjectDatabase(None, sql_enabled=True)
        self.events = []
        self.handler = handler

    def record(self, kind, **detail):
        self.events.append((kind, detail))

    def has_alarm_handler(self):
        return self.handler is not None

    def has_live_instance(self):
        return False

    def writes_pending(self):
        raise AssertionError("no instance is live in these tests")

    def commit(self):
        self.database.commit()

    async def run_event(self, label, invoke):
        return await invoke(self)

    async def alarm(self, info):
        return await self.handler(info)


def _scheduler(handler):
    host = _AlarmHost(handler)
    return host, AlarmScheduler(host, seed="test")


async def _run_due(host, until_ms):
    while (timer := host.clock.next_due(until_ms)) is not None:
        await timer.callback()


async def test_scheduler_follows_the_committed_alarm():
    host, scheduler = _scheduler(handler=None)
    host.database.begin_write()
    host.database.write_alarm(1_005_000)
    host.database.commit()
    scheduler.sync(record=True)
    assert scheduler.time == 1_005_000
    assert host.events == [("alarm.set", {"time": 1_005_000})]


async def test_scheduler_retries_with_doubling_backoff_then_drops():
    attempts = []

    async def failing(info):
        attempts.append((info.retryCount, host.clock.now_ms()))
        raise RuntimeError("down")

    host, scheduler = _scheduler(failing)
    host.database.write_alarm(1_000_000)
    scheduler.sync(record=False)
    await _run_due(host, 10**12)
    assert [count for count, _ in attempts] == list(range(ALARM_MAX_RETRIES + 1))
    times = [when for _, when in attempts]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    for retry, gap in enumerate(gaps):
        base = ALARM_FIRST_BACKOFF_MS << retry
        assert base <= gap <= base * 1.25
    assert host.events[-1][0] == "alarm.drop"
    assert scheduler.time is None and host.database.read_alarm() is None


async def test_scheduler_run_now_without_an_alarm_reports_false():
    host, scheduler = _scheduler(handler=None)
    assert await scheduler.run_now() is False
