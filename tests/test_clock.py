import asyncio
import datetime
import time

from dosim.clock import DEFAULT_START_MS, VirtualClock


def test_time_inside_simulation_is_virtual_and_outside_is_real():
    clock = VirtualClock()
    token = clock.activate()
    try:
        inside = (time.time(), time.time_ns(), datetime.datetime.now(datetime.UTC))
    finally:
        VirtualClock.deactivate(token)
    assert inside[0] == DEFAULT_START_MS / 1000
    assert inside[1] == DEFAULT_START_MS * 1_000_000
    assert inside[2] == datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    assert time.time() > 1_750_000_000  # the real clock, well past the virtual start


def test_naive_now_inside_simulation_is_utc():
    clock = VirtualClock(DEFAULT_START_MS + 3_600_000)
    token = clock.activate()
    try:
        assert datetime.datetime.now() == datetime.datetime(2025, 1, 1, 1, 0)
        assert datetime.datetime.utcnow() == datetime.datetime(2025, 1, 1, 1, 0)
    finally:
        VirtualClock.deactivate(token)


def test_patched_datetime_keeps_isinstance_working():
    VirtualClock().activate()
    assert isinstance(datetime.datetime(2020, 1, 1), datetime.datetime)
    assert isinstance(datetime.datetime.fromtimestamp(0), datetime.datetime)


def test_tasks_started_inside_inherit_the_virtual_clock():
    clock = VirtualClock()

    async def main():
        token = clock.activate()
        try:
            return await asyncio.ensure_future(asyncio.sleep(0, result=time.time()))
        finally:
            VirtualClock.deactivate(token)

    assert asyncio.run(main()) == DEFAULT_START_MS / 1000


def test_timers_run_in_time_order_then_sequence():
    clock = VirtualClock(0)
    order = []

    def note(label):
        async def run():
            order.append((label, clock.now_ms()))

        return run

    clock.call_at(50, note("b"), "b")
    clock.call_at(10, note("a"), "a")
    clock.call_at(50, note("c"), "c")
    cancelled = clock.call_at(20, note("x"), "x")
    cancelled.cancel()

    async def drain():
        while (timer := clock.next_due(100)) is not None:
            await timer.callback()

    asyncio.run(drain())
    assert order == [("a", 10), ("b", 50), ("c", 50)]


def test_next_time_peeks_at_the_earliest_live_timer_without_running_it():
    # dosim's own API (src/dosim/clock.py), used by dosim dev's clock driver.
    clock = VirtualClock(0)
    assert clock.next_time() is None

    async def never():
        raise AssertionError("next_time must not run a timer")

    first = clock.call_at(30, never, "first")
    clock.call_at(70, never, "second")
    assert clock.next_time() == 30
    first.cancel()
    assert clock.next_time() == 70
    assert clock.now_ms() == 0
    assert [timer.label for timer in clock.pending()] == ["second"]
