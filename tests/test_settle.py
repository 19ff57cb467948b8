import asyncio

from dosim.settle import MAX_TURNS, QUIET_TURNS, wait_all_tasks_blocked


async def test_waits_for_a_chain_longer_than_any_fixed_number_of_turns():
    reached = []

    async def hop(n):
        await asyncio.sleep(0)
        reached.append(n)
        if n < 50:
            asyncio.get_running_loop().create_task(hop(n + 1))

    asyncio.get_running_loop().create_task(hop(0))
    await wait_all_tasks_blocked()
    assert reached == list(range(51))


async def test_waits_for_a_task_woken_through_a_queue_and_gather():
    queue: asyncio.Queue[int] = asyncio.Queue()
    seen = []

    async def consumer():
        while True:
            seen.append(await queue.get())

    async def producer():
        await asyncio.gather(*(asyncio.sleep(0) for _ in range(3)))
        queue.put_nowait(1)

    consumer_task = asyncio.get_running_loop().create_task(consumer())
    asyncio.get_running_loop().create_task(producer())
    await wait_all_tasks_blocked()
    assert seen == [1]
    consumer_task.cancel()


async def test_tasks_blocked_on_a_future_or_an_event_do_not_hold_the_wait():
    never = asyncio.get_running_loop().create_future()
    waiter = asyncio.get_running_loop().create_task(asyncio.wait_for(never, 60))
    wake = asyncio.Event()
    turns = 0

    async def count():
        nonlocal turns
        while True:
            turns += 1
            await wake.wait()
            wake.clear()

    counter = asyncio.get_running_loop().create_task(count())
    await wait_all_tasks_blocked()
    assert not waiter.done() and turns == 1
    wake.set()
    await wait_all_tasks_blocked()
    assert turns == 2
    waiter.cancel()
    counter.cancel()


async def test_waits_through_nested_gathers():
    done = []

    async def leaf():
        await asyncio.sleep(0)
        done.append("leaf")

    async def nested():
        await asyncio.gather(asyncio.gather(asyncio.gather(leaf())))
        done.append("outer")

    asyncio.get_running_loop().create_task(nested())
    await wait_all_tasks_blocked()
    assert done == ["leaf", "outer"]


async def test_a_task_that_never_blocks_ends_the_wait_after_max_turns():
    spins = 0

    async def spin():
        nonlocal spins
        while True:
            spins += 1
            await asyncio.sleep(0)

    spinner = asyncio.get_running_loop().create_task(spin())
    await wait_all_tasks_blocked()
    spinner.cancel()
    assert MAX_TURNS - 1 <= spins <= MAX_TURNS + 1


async def test_yields_at_least_the_quiet_turns():
    turns = 0

    async def step():
        nonlocal turns
        for _ in range(QUIET_TURNS - 1):
            turns += 1
            await asyncio.sleep(0)
        turns += 1

    asyncio.get_running_loop().create_task(step())
    await wait_all_tasks_blocked()
    assert turns == QUIET_TURNS
