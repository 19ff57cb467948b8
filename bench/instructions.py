"""Instructions per operation of two storage rows, counted by cachegrind (not timed).

Run by hand: ``python bench/instructions.py`` (needs ``valgrind``; about a minute). Prints,
for ``sql.exec`` INSERT and ``storage.put`` awaited one by one (the shapes of
bench_runtime.py's rows, commit included), the instructions one operation costs: a run
doing N operations minus a run doing 0, divided by N. Unlike a wall-clock figure, the count
does not move when other work loads the machine, so it shows what a change to a hot path
gained. It says nothing about workerd; bench_runtime.py has the side-by-side ratios.
``python bench/instructions.py sql`` or ``put`` counts one row only.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile

from dosim import App
from workers import DurableObject

ROWS = {"sql": 20_000, "put": 10_000}  # operations per counted run


class Bench(DurableObject):
    """bench_runtime.py's object, without its timers."""

    async def noop(self):
        return None

    async def inserts(self, n):
        sql = self.ctx.storage.sql
        sql.exec("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)")
        for _ in range(n):
            sql.exec("INSERT INTO t(v) VALUES (?)", "value")

    async def puts(self, n):
        storage = self.ctx.storage
        for i in range(n):
            await storage.put(f"key{i}", i)


async def _workload(row: str, n: int) -> None:
    """Run ``n`` operations of ``row`` in a fresh object, after one warm-up call."""
    stub = App(None, {"B": Bench}).env.B.getByName("b")
    await stub.noop()
    await (stub.inserts(n) if row == "sql" else stub.puts(n))


def _count(row: str, n: int) -> int:
    """Instructions of a whole process doing ``n`` operations of ``row``."""
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run(
            [
                "valgrind",
                "--tool=cachegrind",
                "--cache-sim=no",
                f"--cachegrind-out-file={os.path.join(folder, 'out')}",
                sys.executable,
                __file__,
                "--run",
                row,
                str(n),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},  # the same dict layouts every run
            check=True,
        ).stderr
    match = re.search(r"I\s+refs:\s+([\d,]+)", out)
    if match is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{out}")
    return int(match.group(1).replace(",", ""))


def main() -> None:
    if sys.argv[1:2] == ["--run"]:
        asyncio.run(_workload(sys.argv[2], int(sys.argv[3])))
        return
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: no instruction counts")
        return
    for row in sys.argv[1:] or list(ROWS):
        n = ROWS[row]
        per_op = (_count(row, n) - _count(row, 0)) / n
        label = "sql.exec INSERT" if row == "sql" else "storage.put awaited"
        print(f"{label}: {per_op:,.0f} instructions per operation ({n:,} operations)")


if __name__ == "__main__":
    main()
