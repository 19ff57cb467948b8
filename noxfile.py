"""Every task of the project is a nox session; the README names two of them.

    nox -s serve     build the site and serve it on http://127.0.0.1:8000
    nox -s tests     the whole test suite (CPython 3.11 + 3.13, Pyodide in Node, lint)
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]

CORE_PYTHONS = ["3.11", "3.13"]


@nox.session(python=CORE_PYTHONS[0])
def tests(session: nox.Session) -> None:
    """The whole suite: core + examples on CPython, then every other runtime."""
    session.install("-e", ".[test]")
    session.run("pytest", "-q", *session.posargs)
    for later in ("tests_py313", "pyodide", "lint"):
        session.notify(later)


@nox.session(name="tests_py313", python=CORE_PYTHONS[1])
def tests_py313(session: nox.Session) -> None:
    """The core suite on the newest CPython here (Pyodide ships 3.14)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-q", *session.posargs)


@nox.session(python=CORE_PYTHONS[0])
def lint(session: nox.Session) -> None:
    """ruff over the package, tests, examples and benchmarks."""
    session.install("ruff==0.8.6")
    session.run("ruff", "check", "src", "tests", "examples", "bench", "noxfile.py")


@nox.session(python=CORE_PYTHONS[0])
def pyodide(session: nox.Session) -> None:
    """Run the core test suite inside Pyodide (npm package, pinned) under Node.js."""
    session.install("build", "pip")
    session.run("python", "tools/pyodide/run_tests.py", *session.posargs)


@nox.session(python=CORE_PYTHONS[0])
def bench(session: nox.Session) -> None:
    """Print the benchmark figures (bench/)."""
    session.install("-e", ".[test]")
    env = {"PYTHONHASHSEED": "0"}
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        session.run("python", str(script), env=env)
    if os.environ.get("CI"):
        session.log("benchmarks printed above")
