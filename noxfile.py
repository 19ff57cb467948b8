"""Every task of the project is a nox session; the README names two of them.

nox -s serve     build the site and serve it on http://127.0.0.1:8000
nox -s tests     the whole test suite (CPython 3.11 + 3.13, Pyodide in Node, lint)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import nox

ROOT = Path(__file__).parent


def _expose_pyenv_interpreters() -> None:
    """Let nox find python3.12/3.13 on machines where pyenv has them but has not selected them."""
    # pyenv's own shim sets PYENV_VERSION to one version while it runs nox; only a list
    # chosen by the user (with ":") is left alone.
    if ":" in os.environ.get("PYENV_VERSION", "") or not shutil.which("pyenv"):
        return
    listed = subprocess.run(
        ["pyenv", "versions", "--bare"], capture_output=True, text=True, check=False
    ).stdout.split()
    wanted = [v for v in listed if v.startswith(("3.11.", "3.12.", "3.13."))]
    if wanted:
        os.environ["PYENV_VERSION"] = ":".join(sorted(wanted, key=lambda v: v.split(".")[1]))


_expose_pyenv_interpreters()
nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]

CORE_PYTHONS = ["3.11", "3.13"]


@nox.session(python=CORE_PYTHONS[0])
def tests(session: nox.Session) -> None:
    """The whole suite: core + examples on CPython, then every other runtime."""
    session.install("-e", ".[test]")
    # tests/test_dev_files.py: the full 10,000 objects under `ulimit -n 256` (500 by default).
    session.run("pytest", "-q", *session.posargs, env={"DOSIM_FD_TEST_OBJECTS": "10000"})
    for later in (
        "tests_py313",
        "sdk_surface",
        "pyodide",
        "lint",
        "docs_tests",
        "docs",
        "sandbox",
        "deploy_check",
    ):
        session.notify(later)


@nox.session(name="tests_py313", python=CORE_PYTHONS[1])
def tests_py313(session: nox.Session) -> None:
    """The core suite on the newest CPython here (Pyodide ships 3.14)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-q", *session.posargs)


# The Python Workers SDK release dosim's `workers` module is compared with, and its wheel's
# sha256 on PyPI (pip refuses a download that does not match).
SDK_PIN = "workers-runtime-sdk==1.9.5"
SDK_SHA256 = "f2b912660a3ab60d2a24920106422f9eaf4cd7a794e42b022237ad2444287fef"
SDK_CACHE = ROOT / ".nox" / "_sdk"


@nox.session(name="sdk_surface", python=CORE_PYTHONS[0])
def sdk_surface(session: nox.Session) -> None:
    """Compare dosim's `workers` with the pinned SDK wheel's source (tests/test_sdk_surface.py).

    Downloads the wheel from PyPI once (hash-checked) into .nox/_sdk/, unzips it and runs
    the surface test on it; the test fails rather than skips if the folder is missing.
    """
    session.install("-e", ".[test]")
    wheels = SDK_CACHE / "wheels"
    unpacked = SDK_CACHE / SDK_PIN.replace("==", "-")
    if not (unpacked / "workers" / "__init__.py").is_file():
        wheels.mkdir(parents=True, exist_ok=True)
        requirement = SDK_CACHE / "requirement.txt"
        requirement.write_text(f"{SDK_PIN} --hash=sha256:{SDK_SHA256}\n")
        session.run(
            "python", "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--require-hashes", "-r", str(requirement), "-d", str(wheels),
        )  # fmt: skip
        found = sorted(wheels.glob("workers_runtime_sdk-*.whl"))
        if len(found) != 1:
            session.error(f"expected one workers-runtime-sdk wheel in {wheels}, found {found}")
        shutil.rmtree(unpacked, ignore_errors=True)
        with zipfile.ZipFile(found[0]) as wheel:
            wheel.extractall(unpacked)
    session.run(
        "pytest",
        "-q",
        "tests/test_sdk_surface.py",
        *session.posargs,
        env={"DOSIM_SDK_DIR": str(unpacked), "DOSIM_SDK_REQUIRED": "1"},
    )


@nox.session(python=CORE_PYTHONS[0])
def lint(session: nox.Session) -> None:
    """ruff (lint and format) over the package, tests, examples, benchmarks, hooks and tools."""
    session.install("ruff==0.8.6")
    paths = [
        "src",
        "tests",
        "examples",
        "bench",
        "hooks",
        "tools",
        "docs/sandbox/src",
        "noxfile.py",
    ]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session(python=CORE_PYTHONS[0])
def package(session: nox.Session) -> None:
    """Build the sdist and wheel as a release would; check them with twine and tests.

    `python -m build` makes the sdist, then the wheel from it; `twine check --strict`
    reads their metadata as PyPI would; tests/test_package.py checks their contents.
    Publishing is then `twine upload dist/*` from a build into dist/. Not queued by
    `nox -s tests`: on a clean checkout it takes about 35 s, most of it installing twine.
    """
    session.install("build", "twine", "pytest")
    dist = Path(session.create_tmp()).resolve() / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist))
    session.run("twine", "check", "--strict", *sorted(str(p) for p in dist.iterdir()))
    session.run(
        "pytest",
        "-q",
        "tests/test_package.py",
        *session.posargs,
        env={"DOSIM_DIST_DIR": str(dist), "DOSIM_PACKAGE_REQUIRED": "1"},
    )


@nox.session(python=CORE_PYTHONS[0])
def pyodide(session: nox.Session) -> None:
    """Run the core test suite inside Pyodide (npm package, pinned) under Node.js."""
    session.install("build", "pip")
    session.run("python", "tools/pyodide/run_tests.py", *session.posargs)


@nox.session(python=CORE_PYTHONS[0])
def bench(session: nox.Session) -> None:
    """Print the benchmark figures (bench/), beside Miniflare 4 and wrangler dev run here.

    The peers are pinned in bench/peers/ and installed there by the bench (npm ci, with a
    Node.js 22 from the npm registry); a peer that cannot run is named in the table.
    ``nox -s bench -- --no-peers`` measures dosim alone; ``-- --short`` runs fewer, shorter
    rounds (a smoke run). All runs go to bench/results/latest.json; bench/summary.py prints
    the goals table last.
    """
    session.install("-e", ".[test]")
    env = {"PYTHONHASHSEED": "0"}
    if "--no-peers" in session.posargs:
        env["DOSIM_BENCH_PEERS"] = "0"
    if "--short" in session.posargs:
        env["DOSIM_BENCH_SHORT"] = "1"
    results = ROOT / "bench" / "results" / "latest.json"
    results.unlink(missing_ok=True)  # the summary reads this run's figures only
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        session.run("python", str(script), env=env)
    session.run("python", str(ROOT / "bench" / "summary.py"), env=env)
    if os.environ.get("CI"):
        session.log("benchmarks printed above")


DOCS_PYTHON = "3.12"  # pytest-examples cannot report an example's exception on 3.11
DOCS_ENV = {"NO_MKDOCS_2_WARNING": "1"}  # silence Material's end-of-life banner


@nox.session(python=CORE_PYTHONS[0])
def docs(session: nox.Session) -> None:
    """Build the site strictly (broken links, references or includes fail) into site/."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", *session.posargs, env=DOCS_ENV)


@nox.session(python=CORE_PYTHONS[0])
def serve(session: nox.Session) -> None:
    """Build the site and serve it on http://127.0.0.1:8000, rebuilding on changes."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "serve", "--dev-addr", "127.0.0.1:8000", *session.posargs, env=DOCS_ENV)


@nox.session(name="docs_tests", python=DOCS_PYTHON)
def docs_tests(session: nox.Session) -> None:
    """Run every code block on the site (test_docs.py); open every page in Chromium."""
    session.install("-e", ".[docs]", "pytest", "ruff==0.8.6", "playwright==1.65.2")
    session.run(
        "pytest",
        "-q",
        "tests/test_docs.py",
        "tests/test_site_browser.py",
        *session.posargs,
        env={**DOCS_ENV, "DOSIM_BROWSER_TESTS": "1"},
    )


@nox.session(name="new-tutorial", python=DOCS_PYTHON)
def new_tutorial(session: nox.Session) -> None:
    """Scaffold tutorials/NN-slug.md from the template, then run its blocks.

    Usage: nox -s new-tutorial -- "Title in the reader's words"
    """
    if len(session.posargs) != 1:
        session.error('give the title: nox -s new-tutorial -- "Title in the reader\'s words"')
    session.install("-e", ".[docs]", "pytest", "ruff==0.8.6")
    output = session.run(
        "python", "tools/new_tutorial.py", session.posargs[0], silent=True, external=False
    )
    print(output, end="")
    stem = output.split()[1].removeprefix("tutorials/").removesuffix(".md")
    session.run("pytest", "-q", "tests/test_docs.py", "-k", stem, env=DOCS_ENV)


@nox.session(python=CORE_PYTHONS[0])
def sandbox(session: nox.Session) -> None:
    """The site's live sandboxes in Chromium: every block of every page, and the playground.

    Builds the site (hooks/sandbox.py bundles the front end with esbuild from
    docs/sandbox/, npm ci there on first use; the sandbox and playground page tests share
    one build through tests/browser_site.py) and serves it with tools/serve_site.py.
    """
    session.install("-e", ".[docs]", "pytest", "playwright==1.65.2")
    session.run(
        "pytest",
        "-q",
        "tests/test_sandbox_browser.py",
        "tests/test_playground_engine_browser.py",
        "tests/test_playground_browser.py",
        *session.posargs,
        env={**DOCS_ENV, "DOSIM_BROWSER_TESTS": "1"},
    )


# pywrangler (PyPI workers-py): tools/deploy_check.py calls its configuration checks.
# Keep in step with WORKERS_PY_PIN there; wrangler and its Node.js are pinned in
# tools/wrangler/package-lock.json.
WORKERS_PY_PIN = "workers-py==1.17.9"
WRANGLER_DIR = ROOT / "tools" / "wrangler"


def _dosim_new_command(session: nox.Session, folder: str) -> list[str]:
    """The ``dosim new`` command line for a fresh app in ``folder`` from the counter template.

    Today's CLI is ``dosim new TEMPLATE DIR``; the planned one is ``dosim new NAME
    [--template T]`` (issue 12). Ask its --help which one is installed.
    """
    usage = session.run("dosim", "new", "--help", silent=True) or ""
    if "--template" in usage:
        return ["dosim", "new", folder, "--template", "counter"]
    return ["dosim", "new", "counter", folder]


@nox.session(name="deploy_check", python=CORE_PYTHONS[0])
def deploy_check(session: nox.Session) -> None:
    """Would Cloudflare's tools take every starter, and a `dosim new` app, as they are?

    For each app (posargs: app folders; default: every starter in examples/ plus a fresh
    `dosim new` app) tools/deploy_check.py runs pywrangler's own configuration checks and
    an offline `wrangler deploy --dry-run`, and asserts the bundle is the app's modules
    only. Installs pinned workers-py here and `npm ci`s tools/wrangler/ on first use.
    `nox -s deploy_check -- tests/fixtures/deploy_app` checks the template-layout fixture.
    """
    session.install("-e", ".", WORKERS_PY_PIN, "pytest")
    session.run("pytest", "-q", "tests/test_deploy_check.py")  # its pywrangler test runs here
    wrangler_js = WRANGLER_DIR / "node_modules" / "wrangler" / "bin" / "wrangler.js"
    if not wrangler_js.is_file():
        with session.chdir(WRANGLER_DIR):
            session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
    if session.posargs:
        session.run("python", "tools/deploy_check.py", *session.posargs)
        return
    configs = ("wrangler.toml", "wrangler.jsonc", "wrangler.json")
    starters = sorted({str(p.parent) for c in configs for p in ROOT.glob(f"examples/*/{c}")})
    tmp = Path(session.create_tmp()).resolve() / "dosim-new"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    fresh = tmp / "deploy-check-app"
    with session.chdir(tmp):
        session.run(*_dosim_new_command(session, fresh.name))
    session.run("python", "tools/deploy_check.py", "--unique-names", *starters, str(fresh))
