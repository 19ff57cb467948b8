"""Alarms on virtual time: set, fire, retry with backoff, drop."""

import datetime as dt
import time

import pytest

from dosim import App
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
    with pytest.raises(TypeError, match="must have an alarm\\(\\) handler"):
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
