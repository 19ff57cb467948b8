"""Runtime throughput, beside the figures measured on workerd/Miniflare on this machine kind.

Run: ``nox -s bench`` (or ``python bench/bench_runtime.py``). Prints a table; asserts nothing.
Each row does the same work as the peer measurement: 10,000 operations, in memory.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

from dosim import App
from workers import DurableObject

OPS = 10_000
ROUNDS = 5


class Bench(DurableObject):
    async def noop(self):
        return None

    async def increment(self):
        value = (await self.ctx.storage.get("value") or 0) + 1
        await self.ctx.storage.put("value", value)
        return value

    async def puts(self, n):
        storage = self.ctx.storage
        for i in range(n):
            await storage.put(f"key{i}", i)

    async def inserts(self, n):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)")
        started = time.perf_counter()
        for _ in range(n):
            sql.exec("INSERT INTO t(v) VALUES (?)", "value")
        return time.perf_counter() - started


async def rpc_noop() -> float:
    stub = App(None, {"B": Bench}).env.B.getByName("b")
    await stub.noop()
    started = time.perf_counter()
    for _ in range(OPS):
        await stub.noop()
    return OPS / (time.perf_counter() - started)


async def rpc_increment() -> float:
    stub = App(None, {"B": Bench}).env.B.getByName("b")
    await stub.noop()
    started = time.perf_counter()
    for _ in range(OPS):
        await stub.increment()
    return OPS / (time.perf_counter() - started)


async def storage_put() -> float:
    stub = App(None, {"B": Bench}).env.B.getByName("b")
    await stub.noop()
    started = time.perf_counter()
    await stub.puts(OPS)
    return OPS / (time.perf_counter() - started)


async def sql_insert() -> float:
    stub = App(None, {"B": Bench}).env.B.getByName("b")
    await stub.noop()
    seconds = await stub.inserts(OPS)
    return OPS / seconds


ROWS = [
    ("no-op RPC calls/s", rpc_noop, 47_000),
    ("get+put increment RPC calls/s", rpc_increment, 4_200),
    ("storage.put awaited one by one /s", storage_put, 232_000),
    ("sql.exec INSERT /s", sql_insert, 476_000),
]


def main() -> None:
    print(
        f"dosim runtime benchmark — Python {sys.version.split()[0]}, "
        f"{OPS:,} ops, median of {ROUNDS}"
    )
    print(f"{'row':38} {'dosim':>12} {'workerd':>10} {'ratio':>7}")
    for label, function, peer in ROWS:
        figures = [asyncio.run(function()) for _ in range(ROUNDS)]
        median = statistics.median(figures)
        print(f"{label:38} {median:12,.0f} {peer:10,} {median / peer:6.2f}x")


if __name__ == "__main__":
    main()
