"""The inner loop of a user: 50 object tests (5 files x 10, each with its own app) under pytest.

Wall time from the shell, as a user would see it. Two rows: a user with only dosim and
pytest (anyio's pytest plugin is not there; here it is switched off with ``-p no:anyio``),
and a user with ``dosim[dev]`` installed (starlette brings anyio, whose plugin loads). The
goal is absolute (<= 0.45 s on this machine). The peer, @cloudflare/vitest-pool-workers,
is not run here: its figure (5.5-6.5 s for this shape, 2.8 s for a single test) was
measured by hand on this machine kind and is printed as a note.
Run: ``nox -s bench``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, SHORT, Row, print_rows, record

ROUNDS = 3 if SHORT else 7

TEST_FILE = """
import pytest


@pytest.mark.parametrize("n", range(10))
async def test_counter(dosim_app, n):
    stub = dosim_app.env.COUNTER.getByName(f"c{n}")
    assert await stub.increment(n) == n
    response = await dosim_app.fetch(f"/c{n}")
    assert await response.text() == str(n)
"""

PLUGINS_OFF = ("-p", "no:cacheprovider")
WITHOUT_DEV = (*PLUGINS_OFF, "-p", "no:anyio")  # as if starlette/anyio were not installed


def run_pytest(folder: Path, *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"pytest failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def main() -> None:
    note = "not run; by hand: 5.5-6.5 s (50 tests), 2.8 s (1)"
    peer = "vitest-pool-workers"
    many = Row("50 tests (5 files x 10), dosim + pytest", "s", "lower", peer, limit=0.45)
    dev = Row("50 tests (5 files x 10), dosim[dev] installed", "s", "lower", peer, limit=0.45)
    one = Row("1 test", "s", "lower", peer)
    for row in (many, dev, one):
        row.peer_note = note
        row.goal_text = "<= 0.45 s" if row.limit else "-"
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for name in ("src/entry.py", "wrangler.toml"):
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / "examples" / "counter" / name, project / name)
        for index in range(5):
            (project / f"test_file{index}.py").write_text(TEST_FILE)
        run_pytest(project, *WITHOUT_DEV)  # warm the OS file cache and .pyc files
        for _ in range(ROUNDS):  # interleaved, so noise falls on every row
            many.dosim.append(run_pytest(project, *WITHOUT_DEV))
            dev.dosim.append(run_pytest(project, *PLUGINS_OFF))
            one.dosim.append(run_pytest(project, *WITHOUT_DEV, "test_file0.py::test_counter[0]"))
    rows = [many, dev, one]
    print_rows(
        f"pytest + dosim plugin, wall time — Python {sys.version.split()[0]}, {ROUNDS} runs",
        rows,
        digits=2,
    )
    record("pytest_plugin", rows, python=sys.version.split()[0])


if __name__ == "__main__":
    main()
