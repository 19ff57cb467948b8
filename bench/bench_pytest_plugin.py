"""The inner loop of a user: 50 object tests (5 files x 10, each with its own app) under pytest.

Wall time from the shell, as a user would see it, in two environments a user would have,
each a virtualenv the bench builds once with pip from the package registry and reuses
while pyproject.toml and the Python version stay the same. They live outside the
repository (``$XDG_CACHE_HOME/dosim-bench/``, else ``~/.cache/dosim-bench/``), where no
tool that walks the source tree sees them:

* ``dosim + pytest``: ``pip install -e .`` and pytest, nothing else;
* ``dosim[dev] + pytest``: ``pip install -e .[dev]`` and pytest. The dev extra (uvicorn,
  websockets, uvloop) installs no anyio, whose pytest plugin would otherwise load in every
  run; the bench checks that and says so if it ever changes.

dosim is installed editable, so the rows measure this working tree. Without the registry
(offline) a virtualenv cannot be built: the bench says why, measures the first and last
rows with this interpreter instead (its other pytest plugins switched off with ``-p``,
anyio's included), and leaves the dev row empty. The goal is absolute (<= 0.45 s on this
machine). The peer, @cloudflare/vitest-pool-workers, is not run here: its figure
(5.5-6.5 s for this shape, 2.8 s for a single test) was measured by hand on this machine
kind and is printed as a note.
Run: ``nox -s bench``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, SHORT, Row, print_rows, record

ROUNDS = 3 if SHORT else 7
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
# One set per working tree: the installs are editable, so they point at this one.
VENVS = CACHE / "dosim-bench" / hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]

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
# This interpreter's environment has more pytest plugins than a user's (the fallback only).
FALLBACK_PLUGINS_OFF = (*PLUGINS_OFF, "-p", "no:anyio", "-p", "no:examples")


def venv_python(name: str, extra: str) -> tuple[Path | None, str]:
    """A virtualenv with dosim (``extra`` installed) and pytest; (python, "") or (None, why).

    Built once; rebuilt when pyproject.toml or the Python version changes.
    """
    folder = VENVS / name
    python = folder / "bin" / "python"
    wanted = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + sys.version.encode() + extra.encode()
    ).hexdigest()
    stamp = folder / ".dosim-bench-stamp"
    if python.exists() and stamp.is_file() and stamp.read_text() == wanted:
        return python, ""
    shutil.rmtree(folder, ignore_errors=True)
    steps = [
        [sys.executable, "-m", "venv", str(folder)],
        [str(python), "-m", "pip", "install", "-q", "-e", f"{ROOT}{extra}", "pytest"],
    ]
    print(f"building the {name} virtualenv (once): pip install -e .{extra} pytest", flush=True)
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            lines = (done.stderr or done.stdout).strip().splitlines() or ["(no output)"]
            errors = [line for line in lines if line.strip().startswith("ERROR")] or lines
            return None, f"could not build it ({errors[-1].strip()}); offline?"
    stamp.write_text(wanted)
    return python, ""


def has_anyio(python: Path) -> bool:
    check = "import importlib.util, sys; sys.exit(importlib.util.find_spec('anyio') is None)"
    return subprocess.run([str(python), "-c", check], check=False).returncode == 0


def run_pytest(python: Path | str, folder: Path, *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", *args],
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
    dev = Row("50 tests (5 files x 10), dosim[dev] + pytest", "s", "lower", peer, limit=0.45)
    one = Row("1 test", "s", "lower", peer)
    for row in (many, dev, one):
        row.peer_note = note
        row.goal_text = "<= 0.45 s" if row.limit else "-"
    core_python, core_why = venv_python("core", "")
    dev_python, dev_why = venv_python("dev", "[dev]")
    core_args: tuple[str, ...] = PLUGINS_OFF
    if core_python is None:
        print(f"dosim + pytest virtualenv: {core_why}; measuring with {sys.executable}")
        core_python, core_args = Path(sys.executable), FALLBACK_PLUGINS_OFF
    if dev_python is None:
        print(f"dosim[dev] + pytest virtualenv: {dev_why}; that row is not measured")
    elif has_anyio(dev_python):
        print("note: the dosim[dev] virtualenv has anyio installed (its pytest plugin loads)")
    else:
        print("dosim[dev] virtualenv: no anyio installed")
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for name in ("src/entry.py", "wrangler.toml"):
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / "examples" / "counter" / name, project / name)
        for index in range(5):
            (project / f"test_file{index}.py").write_text(TEST_FILE)
        # Warm the OS file cache and write each environment's .pyc files.
        run_pytest(core_python, project, *core_args)
        if dev_python is not None:
            run_pytest(dev_python, project, *PLUGINS_OFF)
        for _ in range(ROUNDS):  # interleaved, so noise falls on every row
            many.dosim.append(run_pytest(core_python, project, *core_args))
            if dev_python is not None:
                dev.dosim.append(run_pytest(dev_python, project, *PLUGINS_OFF))
            one.dosim.append(
                run_pytest(core_python, project, *core_args, "test_file0.py::test_counter[0]")
            )
    rows = [many, dev, one]
    print_rows(
        f"pytest + dosim plugin, wall time — Python {sys.version.split()[0]}, {ROUNDS} runs",
        rows,
        digits=2,
    )
    record("pytest_plugin", rows, python=sys.version.split()[0])


if __name__ == "__main__":
    main()
