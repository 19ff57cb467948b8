"""The inner loop of a user: 50 object tests (5 files x 10, each with its own app) under pytest.

Wall time from the shell, as a user would see it, beside @cloudflare/vitest-pool-workers
measured on this machine kind (5.5-6.5 s for this shape, 2.8 s for a single test).
Run: ``nox -s bench``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 3

TEST_FILE = """
import pytest


@pytest.mark.parametrize("n", range(10))
async def test_counter(dosim_app, n):
    stub = dosim_app.env.COUNTER.getByName(f"c{n}")
    assert await stub.increment(n) == n
    response = await dosim_app.fetch(f"/c{n}")
    assert await response.text() == str(n)
"""


def run_pytest(folder: Path, *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        # anyio's pytest plugin comes with dosim[dev] (starlette) and costs ~0.25 s at
        # start-up; a user with only dosim and pytest does not have it.
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:anyio", *args],
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
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for name in ("src/entry.py", "wrangler.toml"):
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / "examples" / "counter" / name, project / name)
        for index in range(5):
            (project / f"test_file{index}.py").write_text(TEST_FILE)
        run_pytest(project)  # warm the OS file cache and .pyc files, as a user's second run
        many = statistics.median(run_pytest(project) for _ in range(ROUNDS))
        one = statistics.median(
            run_pytest(project, "test_file0.py::test_counter[0]") for _ in range(ROUNDS)
        )
    print(f"pytest + dosim plugin — Python {sys.version.split()[0]}, median of {ROUNDS}")
    print(f"{'shape':38} {'dosim':>8} {'vitest-pool-workers':>20}")
    print(f"{'50 tests (5 files x 10), wall s':38} {many:8.2f} {'5.5-6.5':>20}")
    print(f"{'1 test, wall s':38} {one:8.2f} {'2.8':>20}")


if __name__ == "__main__":
    main()
