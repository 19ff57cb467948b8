#!/usr/bin/env python3
"""Run dosim's test suite inside Pyodide under Node.js (the ``nox -s pyodide`` session).

Usage::

    python tools/pyodide/run_tests.py [pytest args]     # e.g.  -k storage  tests/test_x.py::test_y

Steps, each skipped when its result is already in place (so only the first run needs the network):

1. ``npm ci`` in tools/pyodide/ when node_modules/pyodide is missing or not the pinned version;
2. download pytest and its dependencies (requirements.txt, hash-pinned) as py3-none-any wheels for
   Pyodide's Python into cache/wheels/;
3. download dosim's build backend (pyproject ``[build-system] requires``) into
   cache/build-deps/, then build dosim's wheel from the working tree, offline, into cache/dist/
   (rebuilt whenever src/, pyproject.toml or README.md changed; dosim_wheel.py, which the docs
   sandbox uses too);
4. ``node --experimental-wasm-stack-switching run_pytest.mjs ...`` which boots Pyodide from
   node_modules/, installs the wheels, copies tests/ and examples/ in and runs pytest on both
   (see run_pytest.mjs).

The exit status is pytest's (0 all passed, 1 failures, 5 no tests ran, ...); a failing setup step
exits with 90+ after saying which step failed. Stdlib only; needs Python 3.11+, Node.js 20+, npm.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
# Run as a script, only tools/pyodide/ is on sys.path: the ``tools`` package needs the root.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.pyodide import dosim_wheel  # noqa: E402
from tools.pyodide.dosim_wheel import (  # noqa: E402
    SetupError,
    cached_dir,
    digest,
    run,
    say,
)

WHEELS = dosim_wheel.WHEELS  # pytest + deps, for Pyodide's Python
PYODIDE_PKG = HERE / "node_modules" / "pyodide"
REQUIREMENTS = dosim_wheel.REQUIREMENTS
EXIT_SETUP = 90
# Output that means something reached for the network (Pyodide's CDN fallback, our fetch guard).
NETWORK_SIGNS = re.compile(r"jsdelivr|fetch failed|BLOCKED network fetch", re.IGNORECASE)
TIMEOUT = float(os.environ.get("DOSIM_PYODIDE_TIMEOUT", "1800"))

phases: list[str] = []


def timed(name: str):
    """Decorator: record the wall time of a phase (and whether it was cached) in ``phases``."""

    def wrap(fn):
        def inner(*args, **kwargs):
            t = time.perf_counter()
            result = fn(*args, **kwargs)
            status = result[-1] if isinstance(result, tuple) else result
            note = " (cached)" if status == "cached" else ""
            phases.append(f"{name} {time.perf_counter() - t:.2f}s{note}")
            return result

        return inner

    return wrap


# The wheel steps live in dosim_wheel.py because the docs sandbox builds the same wheel;
# only this run reports their timings.
ensure_build_deps = timed("build deps")(dosim_wheel.ensure_build_deps)
build_dosim_wheel = timed("dosim wheel")(dosim_wheel.build_dosim_wheel)


# ----------------------------------------------------------------------------------------- steps


@timed("npm")
def ensure_node_modules() -> str:
    """``npm ci`` unless node_modules/pyodide is already the version package.json pins."""
    want = json.loads((HERE / "package.json").read_text())["dependencies"]["pyodide"]
    installed_json = PYODIDE_PKG / "package.json"
    have = json.loads(installed_json.read_text())["version"] if installed_json.is_file() else None
    if have == want and (PYODIDE_PKG / "pyodide.asm.wasm").is_file():
        say(f"node_modules/pyodide {have} present")
        return "cached"
    npm = shutil.which("npm")
    if not npm:
        raise SetupError("npm: not found on PATH (Node.js 20+ with npm is required)")
    lock = HERE / "package-lock.json"
    cmd = [npm, "ci" if lock.is_file() else "install", "--no-audit", "--no-fund"]
    say(f"node_modules/pyodide is {have or 'missing'}, want {want}: {' '.join(cmd[1:])}")
    run("npm", cmd, cwd=HERE)
    have = json.loads(installed_json.read_text())["version"] if installed_json.is_file() else None
    if have != want:
        raise SetupError(f"npm: installed pyodide is {have}, package.json pins {want}")
    return "done"


def pyodide_python() -> str:
    """Pyodide's CPython version as "3.14", read from the installed package's lock file."""
    info = json.loads((PYODIDE_PKG / "pyodide-lock.json").read_text())["info"]
    return ".".join(info["python"].split(".")[:2])


def ensure_test_wheels(pyver: str) -> str:
    """Download requirements.txt as pure-Python wheels for Pyodide's Python, once (timed)."""
    return timed("pytest wheels")(dosim_wheel.ensure_test_wheels)(pyver)[1]


def stack_switching_flags(node: str) -> list[str]:
    """The flag that enables JSPI (needed for asyncio.run in Pyodide), by Node version."""
    opts = subprocess.run([node, "--v8-options"], capture_output=True, text=True).stdout
    for flag in ("--experimental-wasm-stack-switching", "--experimental-wasm-jspi"):
        if flag in opts:
            return [flag]
    return []  # newer Node: JSPI on by default (run_pytest.mjs checks and fails loudly if not)


def run_node(wheels: list[Path], pytest_args: list[str]) -> tuple[int, str, float]:
    """Run run_pytest.mjs, streaming its output; return (exit code, output, seconds)."""
    node = shutil.which("node")
    if not node:
        raise SetupError("node: not found on PATH (Node.js 20+ is required)")
    cmd = [
        node,
        *stack_switching_flags(node),
        str(HERE / "run_pytest.mjs"),
        f"--pyodide-repo={ROOT}",
        *(f"--pyodide-wheel={w}" for w in wheels),
        "--",
        *pytest_args,
    ]
    t = time.perf_counter()
    # Stream node's output as it comes (pytest's progress dots included) and keep a copy to scan.
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    chunks: list[bytes] = []
    out = sys.stdout.buffer
    # A hung interpreter prints nothing, so the read below would block: a timer kills node instead.
    watchdog = threading.Timer(TIMEOUT, proc.kill)
    watchdog.daemon = True
    watchdog.start()
    try:
        while chunk := os.read(proc.stdout.fileno(), 65536):
            chunks.append(chunk)
            out.write(chunk)
            out.flush()
        rc = proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if time.perf_counter() - t >= TIMEOUT:
        raise SetupError(f"node: killed after {TIMEOUT:.0f}s (DOSIM_PYODIDE_TIMEOUT)")
    return rc, b"".join(chunks).decode("utf-8", "replace"), time.perf_counter() - t


def pytest_counts(output: str) -> dict[str, int] | None:
    """Counts from pytest's closing line, e.g. ``1 failed, 3 passed, 2 skipped in 0.08s``."""
    for line in reversed(output.splitlines()):
        line = line.strip("= ")
        if re.fullmatch(r"(\d+ [a-z]+(, )?)+ in [\d.]+s( \([^)]*\))?", line):
            counts: dict[str, int] = {}
            for n, word in re.findall(r"(\d+) ([a-z]+)", line.split(" in ")[0]):
                word = {"errors": "error", "warnings": "warning"}.get(word, word)
                counts[word] = counts.get(word, 0) + int(n)
            return counts
    return None


def main(argv: list[str]) -> int:
    """Prepare everything, run the tests in Pyodide, print the summary; return the exit code."""
    t0 = time.perf_counter()
    try:
        ensure_node_modules()
        pyver = pyodide_python()
        ensure_test_wheels(pyver)
        ensure_build_deps()
        dosim_wheel, _ = build_dosim_wheel()
        test_wheels = cached_dir(WHEELS, digest(REQUIREMENTS.read_text(), pyver))
        assert test_wheels, "cache/wheels vanished"
        rc, output, node_s = run_node([*test_wheels, dosim_wheel], argv)
        phases.append(f"node {node_s:.2f}s")
        if NETWORK_SIGNS.search(output):
            hits = sorted({m.group(0) for m in NETWORK_SIGNS.finditer(output)})
            raise SetupError(f"node output shows network access ({hits}); everything must be local")
    except SetupError as e:
        print(f"[pyodide] phases: {', '.join(phases)}", flush=True)
        print(f"pyodide: FAILED: {e}", flush=True)
        return EXIT_SETUP
    version = json.loads((PYODIDE_PKG / "package.json").read_text())["version"]
    total = time.perf_counter() - t0
    print(f"[pyodide] phases: {', '.join(phases)}; total {total:.2f}s", flush=True)
    counts = pytest_counts(output)
    where = f"Pyodide {version}, Python {pyver}, pytest exit code {rc}"
    if rc >= EXIT_SETUP:
        print(f"pyodide: RUNNER FAILED ({where}; see the [pyodide] ERROR above)", flush=True)
    elif counts is None:
        verdict = {0: "OK", 5: "NO TESTS RAN"}.get(rc, "FAILED")
        print(f"pyodide: {verdict} ({where}; no pytest counts in the output)", flush=True)
    else:
        failed = counts.get("failed", 0) + counts.get("error", 0)
        print(f"[pyodide] {where}", flush=True)
        print(
            f"pyodide: {counts.get('passed', 0)} passed, {failed} failed, "
            f"{counts.get('skipped', 0)} skipped",
            flush=True,
        )
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
