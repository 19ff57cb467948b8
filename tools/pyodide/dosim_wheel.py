"""dosim's wheel, built from this checkout offline, for Pyodide (stdlib only).

Two users install it in Pyodide: the test run (``tools/pyodide/run_tests.py``, the
``nox -s pyodide`` session) and the docs sandbox (``hooks/sandbox.py``). Both call
:func:`ensure_build_deps` once, then :func:`build_dosim_wheel`:

1. download dosim's build backend (pyproject ``[build-system] requires``) into
   ``tools/pyodide/cache/build-deps/``, once per requirement list and host Python;
2. build the wheel from the working tree, offline, into ``cache/dist/``, again only when
   ``src/``, ``pyproject.toml`` or ``README.md`` changed.

The cache helpers (:func:`cached_dir`, :func:`fill_dir`) and :class:`SetupError` serve
``run_tests.py``'s other setup steps too.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CACHE = HERE / "cache"
BUILD_DEPS = CACHE / "build-deps"  # dosim's build backend, for the host Python
DIST = CACHE / "dist"  # dosim's own wheel
WHEELS = CACHE / "wheels"  # pytest + deps (+ the starters' packages), for Pyodide's Python
REQUIREMENTS = HERE / "requirements.txt"
MARKER = ".complete"


class SetupError(Exception):
    """A preparation step failed; the message says which and why."""


def say(msg: str) -> None:
    """Print a progress line of the setup phase.

    Args:
        msg: The line, without the ``[pyodide-setup]`` prefix.
    """
    print(f"[pyodide-setup] {msg}", flush=True)


def run(step: str, cmd: list[str], *, cwd: Path = ROOT, env: dict | None = None) -> str:
    """Run a setup command quietly; on failure show its output and raise SetupError.

    Args:
        step: What the command does, for the error message.
        cmd: The command and its arguments.
        cwd: Where to run it.
        env: Its environment (the current one by default).

    Returns:
        What it printed (stdout and stderr together).
    """
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout)
        raise SetupError(f"{step}: `{' '.join(cmd)}` exited with {proc.returncode}")
    return proc.stdout


def digest(*parts: str) -> str:
    """A short, stable cache key.

    Args:
        *parts: The texts the key depends on.
    """
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def cached_dir(path: Path, key: str) -> list[Path] | None:
    """The files listed in ``path/.complete`` if it was made for ``key`` and they all exist.

    Args:
        path: A cache folder filled by :func:`fill_dir`.
        key: The key it must have been made for.
    """
    marker = path / MARKER
    if not marker.is_file():
        return None
    data = json.loads(marker.read_text())
    files = [path / f for f in data.get("files", [])]
    if data.get("key") != key or not files or not all(f.is_file() for f in files):
        return None
    return files


def fill_dir(path: Path, key: str, download) -> list[Path]:
    """Run ``download(tmpdir)`` and atomically replace ``path`` with the result (+ marker).

    Args:
        path: The cache folder to replace.
        key: Recorded in the marker, for :func:`cached_dir`.
        download: Fills the temporary folder it is given with wheels.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=path.name + "-", dir=CACHE))
    try:
        download(tmp)
        files = sorted(f.name for f in tmp.glob("*.whl"))
        if not files:
            raise SetupError(f"no wheels were produced for {path.name}/")
        (tmp / MARKER).write_text(json.dumps({"key": key, "files": files}, indent=1))
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [path / f for f in files]


def ensure_build_deps() -> str:
    """Download dosim's build backend for the host Python, once, so builds work offline."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    key = digest(json.dumps(requires), f"{sys.version_info[0]}.{sys.version_info[1]}")
    if cached_dir(BUILD_DEPS, key):
        say(f"build backend {requires} present in {BUILD_DEPS.relative_to(ROOT)}/")
        return "cached"
    say(f"downloading build backend {requires} ...")

    def download(dest: Path) -> None:
        run(
            "download build backend",
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--disable-pip-version-check",
                "--only-binary=:all:",
                "-d",
                str(dest),
                *requires,
            ],
        )

    fill_dir(BUILD_DEPS, key, download)
    return "done"


def ensure_test_wheels(pyver: str) -> tuple[list[Path], str]:
    """Download requirements.txt (hash-pinned) as pure-Python wheels for Python ``pyver``.

    Once per requirement list and Python version, into ``cache/wheels/``; the Pyodide
    test run installs them, and the docs site serves pytest's for the playground's
    "Run tests".

    Args:
        pyver: Pyodide's Python version, e.g. ``"3.14"``.

    Returns:
        The wheels, and ``"cached"`` or ``"done"``.
    """
    key = digest(REQUIREMENTS.read_text(), pyver)
    cached = cached_dir(WHEELS, key)
    if cached:
        say(f"pytest wheels for Python {pyver} present in {WHEELS.relative_to(ROOT)}/")
        return cached, "cached"
    say(f"downloading pytest wheels for Python {pyver} (requirements.txt) ...")

    def download(dest: Path) -> None:
        run(
            "download pytest wheels",
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--disable-pip-version-check",
                "--only-binary=:all:",
                "--python-version",
                pyver,
                "--platform",
                "any",
                "--implementation",
                "py",
                "--abi",
                "none",
                "-r",
                str(REQUIREMENTS),
                "-d",
                str(dest),
            ],
        )
        odd = [f.name for f in dest.iterdir() if not f.name.endswith("-none-any.whl")]
        if odd:
            raise SetupError(f"download pytest wheels: not pure-Python wheels: {odd}")

    files = fill_dir(WHEELS, key, download)
    say("got " + ", ".join(f.name for f in files))
    return files, "done"


def source_key() -> str:
    """A hash of everything the dosim wheel is built from (rebuild only when it changes)."""
    h = hashlib.sha256()
    files = [ROOT / "pyproject.toml", ROOT / "README.md"]
    files += sorted(p for p in (ROOT / "src").rglob("*") if p.is_file())
    for f in files:
        if "__pycache__" in f.parts or f.suffix in {".pyc", ".pyo"} or not f.is_file():
            continue
        h.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def build_dosim_wheel() -> tuple[Path, str]:
    """Build dosim's wheel from the working tree (offline), unless the cached one is current."""
    key = source_key()
    cached = cached_dir(DIST, key)
    if cached and len(cached) == 1:
        say(f"{cached[0].relative_to(ROOT)} is up to date with src/")
        return cached[0], "cached"
    # Offline: the isolated build environment gets its backend from cache/build-deps only.
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(BUILD_DEPS)}
    env.pop("PIP_INDEX_URL", None)

    def build(dest: Path) -> None:
        if importlib.util.find_spec("build"):
            cmd = [sys.executable, "-m", "build", "--wheel", "--outdir", str(dest), str(ROOT)]
        else:  # e.g. run by hand outside nox: pip can build the wheel too
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--disable-pip-version-check",
                "--no-deps",
                "-w",
                str(dest),
                str(ROOT),
            ]
        run("build dosim wheel", cmd, env=env)
        built = [f.name for f in dest.glob("*.whl")]
        if len(built) != 1 or not built[0].startswith("dosim-"):
            raise SetupError(f"build dosim wheel: expected one dosim-*.whl, got {built}")

    (wheel,) = fill_dir(DIST, key, build)
    say(f"built {wheel.relative_to(ROOT)}")
    return wheel, "done"
