"""Runtime throughput, in-process: dosim beside the same object run by workerd (Miniflare 4).

Run: ``nox -s bench`` (or ``python bench/bench_runtime.py``). Prints a table; asserts nothing.
Each row does the same work on both sides: 10,000 operations on a fresh object, in memory.

dosim: the caller is the test's event loop (``App(...).env.B.getByName``), timed with
``time.perf_counter`` around the operations (the SQL row inside the method, as before).
workerd: bench/peers/apps/runtime/worker.js, whose Worker drives its object the same way;
bench/peers/runtime.mjs times each request from Node (``performance.now``, sub-ms) and
subtracts a request doing 0 operations on the same warm object: that is the figure of the
RPC rows and of ``storage.put`` (whose dosim figure also spans the whole call, commit
included). The INSERT row is timed inside the method on both sides, as dosim's always was:
in workerd with ``performance.now()`` around the loop. Miniflare's workerd does advance
that clock during execution (it is not frozen between I/O as in production), but in whole
milliseconds (3 ms steps with the ``precise_timers`` flag), so a 20-40 ms loop reads
within ±1 ms; the outer figure (which adds the commit of the 10,000 rows, ~6 ms) stays in
bench/results/latest.json as a cross-check.
Rounds alternate dosim and workerd, row by row, so machine noise hits both.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

from common import NODE, PEERS, SHORT, Row, peer_env, peers, print_rows, record

from dosim import App
from workers import DurableObject

OPS = 10_000
ROUNDS = 3 if SHORT else 7


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


class Workerd:
    """bench/peers/runtime.mjs: one Miniflare, asked for one timed row at a time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [str(NODE), str(PEERS / "runtime.mjs")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=peer_env(),
        )
        if not json.loads(self.process.stdout.readline() or "{}").get("ready"):
            raise RuntimeError("runtime.mjs did not start")
        self.runs: list[dict] = []

    def rate(self, row: str, name: str) -> float:
        self.process.stdin.write(f"{row} {OPS} {name}\n")
        self.process.stdin.flush()
        result = json.loads(self.process.stdout.readline())
        self.runs.append(result)
        if result["inner_ms"]:
            # The INSERT row is timed inside the method on both sides (dosim's `inserts`
            # too): the request also carries the commit of 10,000 rows after the loop.
            return OPS / (result["inner_ms"] / 1000)
        return OPS / (result["seconds"] - result["baseline"])

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


PEER = "workerd (Miniflare 4)"
ROWS = [
    # (label, dosim function, workerd row, goal ratio)
    ("no-op RPC", rpc_noop, "noop", None),
    ("get+put increment RPC", rpc_increment, "increment", None),
    ("storage.put awaited one by one", storage_put, "puts", 1.5),
    ("sql.exec INSERT, in-process", sql_insert, "inserts", 1.5),
]


def main() -> None:
    usable, versions = peers()
    rows = [
        Row(
            label,
            "ops/s",
            "higher",
            PEER,
            goal=goal,
            goal_text=f">= {goal}x" if goal else "-",
            peer_note="" if usable else f"peer could not run: {versions}",
        )
        for label, _, _, goal in ROWS
    ]
    workerd = None
    if usable:
        try:
            workerd = Workerd()
        except (OSError, RuntimeError, ValueError) as error:
            for row in rows:
                row.peer_note = f"peer could not run: {error}"
    try:
        for index in range(ROUNDS):
            for row, (_, function, peer_row, _) in zip(rows, ROWS, strict=True):
                row.dosim.append(asyncio.run(function()))
                if workerd is not None:
                    row.peer.append(workerd.rate(peer_row, f"{peer_row}-{index}"))
    finally:
        if workerd is not None:
            workerd.close()
    print_rows(
        f"dosim runtime, in-process — Python {sys.version.split()[0]}, {OPS:,} ops per run, "
        f"{ROUNDS} interleaved runs; peer: {versions}",
        rows,
    )
    record(
        "runtime",
        rows,
        python=sys.version.split()[0],
        ops=OPS,
        peers=versions,
        workerd_runs=workerd.runs if workerd else [],
    )


if __name__ == "__main__":
    main()
