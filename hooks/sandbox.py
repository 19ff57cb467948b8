"""MkDocs hook: the live sandboxes of the site's pages.

Every ```` ```py ```` (or ```` ```python ````) block of every page becomes an editable
sandbox, unless its fence opts out:

* ``test="skip: <reason>"`` — the block never runs, in CI or in the browser (a pytest
  module, a file included from an app that its own tests cover);
* ``sandbox="off: <reason>"`` — the block runs in CI on CPython but cannot run in the
  browser (it starts ``dosim dev`` or a subprocess, say). Keep these rare.

Either way it stays a plain code block. The gallery pages (``examples/<app>/``, made by
``hooks/gallery.py``) are the exception: their README blocks stay plain, and only the
generated "Open in sandbox" block, whose fence says ``sandbox="run"``, is live.
``tools/fence_settings.py`` (:func:`in_sandbox`) holds that rule; the docs tests and the
browser tests read fences with the same parser.

Blocks with the same ``group="name"`` continue each other in page order and share one
namespace (as in ``tests/test_docs.py``); a block without a group runs alone, in a fresh
namespace, each time. This hook must run before ``hooks/fences.py``, which strips the
settings: it rewrites a sandbox's fence to ``{.py .dosim-run data-dosim-group="..."}``,
which the front end (``docs/sandbox/src/sandbox.js``) finds in the HTML, and a plain
Python fence to ``{.py .dosim-plain}``. Code examples in docstrings, which mkdocstrings
renders on the reference pages after this hook has seen the Markdown, become sandboxes in
the HTML (``on_page_content``): every Python block there that is not marked plain. They
cannot carry settings, so each runs alone.

After the build it puts the sandbox's files into ``<site>/sandbox/``:

* ``sandbox.js``, ``sandbox.css``, ``playground.js``, ``playground.css``, ``worker.js`` —
  the front end, bundled with esbuild from ``docs/sandbox/`` (``npm ci`` there first when
  ``node_modules`` is missing; the bundle is cached in ``docs/sandbox/dist/`` and rebuilt
  when a source changes);
* ``pyodide/`` — the runtime files of the pinned npm ``pyodide`` package, the dosim wheel
  built from this checkout (offline, by ``tools/pyodide/dosim_wheel.py``), and a
  ``pyodide-lock.json`` that lists **only** dosim. Written here with the stdlib rather than
  ``pyodide lockfile add-wheels`` (that needs Python >= 3.12 and pyodide-lock + pkginfo;
  the entry is six fields). Listing only what is on disk means no package name can ever
  make Pyodide fall back to its CDN;
* ``pyodide/snapshot-<digest>.bin.gz`` — a memory snapshot of an interpreter that has
  dosim and the page helper imported, made in Node by ``docs/sandbox/snapshot/
  make_snapshot.mjs`` with the same Pyodide files (a snapshot fits only the build that
  made it). It is cached in ``docs/sandbox/dist/`` under a digest of the npm lock, the
  wheel and the sandbox sources. ``DOSIM_SANDBOX_SNAPSHOT=0`` builds without it (the
  worker then always boots plainly);
* ``boot.json`` — what the worker reads first: the wheel's file name and the snapshot's
  file name and sizes (or ``null``);
* ``wheels/`` — pytest and its pure-Python dependencies (``tools/pyodide/requirements.txt``,
  hash-pinned, the Pyodide test run's cache), which the worker fetches and unpacks on the
  playground's first "Run tests" only (named in ``files.json``'s ``test_wheels``);
* ``files.json`` — the example apps (``examples/*/`` sources), which the worker lays down
  in its file system so ``dosim.App.from_config("examples/counter")`` works in the page;
  the packages the apps declare in their ``pyproject.toml`` ``dependencies`` (pure
  Python, e.g. marshmallow for seat_booking), copied from this build's environment (the
  ``docs`` extra installs them) into site-packages, as ``pywrangler sync`` vendors them
  for Cloudflare; and (with a snapshot) the wheel's text files, which a restored
  interpreter has imported but no longer has on disk.

The playground page (``docs/playground.md``, any page holding ``<div id="dosim-playground">``)
gets the same worker, started early in its ``<head>``, with ``playground.js`` and
``playground.css`` instead of ``sandbox.js`` (it has no sandboxes of its own).

Only pages that have sandboxes (or the playground) get the ``<script>``/``<link>`` tags. Set
``DOSIM_SANDBOX=0`` to build without sandboxes (no Node.js needed; ``sandbox="..."`` is
then removed from fence lines and every block renders as plain code).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

# MkDocs loads a hook by its file path, with only hooks/ on sys.path: the repository root
# must be there too for the ``tools`` package to import.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.fence_settings import (  # noqa: E402
    FENCE_LINE,
    SANDBOX_SETTING,
    TEST_SETTINGS,
    in_sandbox,
    is_python_fence,
    parse_settings,
    remove_settings,
)
from tools.pyodide.dosim_wheel import (  # noqa: E402
    build_dosim_wheel,
    ensure_build_deps,
    ensure_test_wheels,
)
from tools.pyodide.run_tests import stack_switching_flags  # noqa: E402

log = logging.getLogger("mkdocs.hooks.sandbox")

FRONT = ROOT / "docs" / "sandbox"
SRC = FRONT / "src"
CACHE = FRONT / "dist"
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip")
EXAMPLE_SUFFIXES = {".py", ".toml", ".sql", ".json", ".jsonc", ".txt", ".md"}
ENABLED = os.environ.get("DOSIM_SANDBOX", "1") != "0"
SNAPSHOT = os.environ.get("DOSIM_SANDBOX_SNAPSHOT", "1") != "0"
SNAPSHOT_MAKER = FRONT / "snapshot" / "make_snapshot.mjs"

_pages_with_sandboxes: set[str] = set()
_pages_with_playground: set[str] = set()
# The playground page's mount element (docs/playground.md); playground.js builds in it.
PLAYGROUND_MOUNT = 'id="dosim-playground"'


# -- markdown: mark the runnable fences ------------------------------------------------------


def _rewrite_fence(info: str, opt_in_only: bool = False) -> tuple[str | None, bool]:
    """The new info string of a Python fence, and whether it is a sandbox.

    A sandbox's fence becomes ``{.py .dosim-run ...}``; a Python block that stays plain
    becomes ``{.py .dosim-plain ...}`` (so that ``on_page_content`` tells it from a
    docstring's block). Other fences are left alone: ``(None, False)``. With
    ``opt_in_only`` (the gallery pages) only fences that say ``sandbox="run"`` become
    sandboxes, and the others are left as written.
    """
    if not is_python_fence(info):
        return None, False
    settings = parse_settings(info)
    live = in_sandbox(settings, opt_in_only)
    if opt_in_only and not live:
        return None, False
    for name in (SANDBOX_SETTING, *TEST_SETTINGS):
        value = settings.pop(name, None)
        if name == "group" and live and value:
            settings["data-dosim-group"] = value
    attrs = [".py", ".dosim-run" if live else ".dosim-plain"]
    attrs.extend(f'{key}="{value}"' for key, value in settings.items())
    return "{" + " ".join(attrs) + "}", live


def mark_sandboxes(markdown: str, opt_in_only: bool = False) -> tuple[str, int]:
    """Rewrite the Python fences (not those nested in other fences); count the sandboxes.

    ``opt_in_only``: only the fences marked ``sandbox="run"`` (see ``_rewrite_fence``).
    """
    out, open_fence, count = [], None, 0
    for line in markdown.split("\n"):
        match = FENCE_LINE.match(line)
        if match and open_fence is None:
            open_fence = match.group("ticks")
            new, live = _rewrite_fence(match.group("info"), opt_in_only)
            if new is not None:
                line = f"{match.group('indent')}{match.group('ticks')}{new}"
                count += live
        elif match and open_fence and match.group("ticks").startswith(open_fence[0]):
            if len(match.group("ticks")) >= len(open_fence) and not match.group("info").strip():
                open_fence = None
        out.append(line)
    return "\n".join(out), count


def strip_sandbox_setting(markdown: str) -> str:
    """Drop ``sandbox="..."`` from fence lines (builds without sandboxes show plain code)."""

    def clean(line: str) -> str:
        match = FENCE_LINE.match(line)
        if not match or SANDBOX_SETTING not in match.group("info"):
            return line
        info = remove_settings(match.group("info"), {SANDBOX_SETTING})
        return f"{match.group('indent')}{match.group('ticks')}{info}"

    return "\n".join(clean(line) for line in markdown.split("\n"))


def is_gallery_page(src_uri: str) -> bool:
    """Whether a page is one of the generated gallery pages (blocks opt in)."""
    return src_uri.startswith("examples/")


def on_page_markdown(markdown, page, config, files):
    """Turn the page's Python blocks into sandboxes (on gallery pages: opted-in ones)."""
    if not ENABLED:
        return strip_sandbox_setting(markdown)
    if PLAYGROUND_MOUNT in markdown:
        _pages_with_playground.add(page.file.src_uri)
    markdown, count = mark_sandboxes(markdown, opt_in_only=is_gallery_page(page.file.src_uri))
    if count:
        _pages_with_sandboxes.add(page.file.src_uri)
    return markdown


# A Python block as Pygments renders it, with no class of ours: one from a docstring.
_DOCSTRING_BLOCK = re.compile(r'<div class="language-(?:py|python) highlight">')


def mark_docstring_sandboxes(html: str) -> tuple[str, int]:
    """Make the Python blocks that no fence of the page marked (docstrings') sandboxes."""
    return _DOCSTRING_BLOCK.subn('<div class="language-py dosim-run highlight">', html)


def on_page_content(html, page, config, files):
    """Make the docstrings' code examples (reference pages) sandboxes too."""
    if not ENABLED or is_gallery_page(page.file.src_uri):
        return html
    html, count = mark_docstring_sandboxes(html)
    if count:
        _pages_with_sandboxes.add(page.file.src_uri)
    return html


# Starts the page's Python worker while the page is still being parsed, so Pyodide's
# downloads begin half a second before sandbox.js (CodeMirror) has run. The client
# (client.js) adopts it; if it failed to start, the client starts its own.
EARLY_WORKER = """<script>
(() => {
  try {
    const url = new URL("BASEworker.js", location.href);
    const boot = new URLSearchParams(location.search).get("sandbox-boot");
    if (boot === "plain") url.searchParams.set("boot", "plain");
    const early = { worker: new Worker(url, { type: "module" }), url: url.href, failed: false };
    early.worker.onerror = () => { early.failed = true; };
    window.dosimEarlyWorker = early;
  } catch (error) {}
})();
</script>
"""


def on_post_page(output, page, config):
    """Add the sandbox's (or the playground's) stylesheets and script to their pages."""
    playground = page.file.src_uri in _pages_with_playground
    if page.file.src_uri not in _pages_with_sandboxes and not playground:
        return output
    base = "../" * page.url.count("/") + "sandbox/"  # "tutorials/x/" -> "../../sandbox/"
    styles = ["sandbox.css", "playground.css"] if playground else ["sandbox.css"]
    links = "".join(f'<link rel="stylesheet" href="{base}{name}">\n' for name in styles)
    output = output.replace("</head>", links + EARLY_WORKER.replace("BASE", base) + "</head>", 1)
    script = "playground.js" if playground else "sandbox.js"
    return output.replace(
        "</body>", f'<script type="module" src="{base}{script}"></script>\n</body>', 1
    )


# -- assets ---------------------------------------------------------------------------------


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"sandbox: `{' '.join(cmd)}` failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
        )


def _ensure_node_modules() -> None:
    want = json.loads((FRONT / "package.json").read_text())["dependencies"]
    have_json = FRONT / "node_modules" / "pyodide" / "package.json"
    esbuild = FRONT / "node_modules" / ".bin" / "esbuild"
    if have_json.is_file() and esbuild.exists():
        if json.loads(have_json.read_text())["version"] == want["pyodide"]:
            return
    npm = shutil.which("npm")
    if not npm:
        raise RuntimeError("sandbox: npm not found (Node.js 20+); or build with DOSIM_SANDBOX=0")
    log.info("sandbox: npm ci in docs/sandbox/")
    _run([npm, "ci", "--no-audit", "--no-fund"], FRONT)


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _prune(paths, keep: Path, older_than_s: float = 3600) -> None:
    """Delete cached builds other than ``keep`` that nobody has written for an hour."""
    for path in paths:
        if path != keep and time.time() - path.stat().st_mtime > older_than_s:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _bundle() -> Path:
    """Bundle the front end with esbuild into docs/sandbox/dist/bundle-<digest>/ unless there."""
    key = _digest([*SRC.iterdir(), FRONT / "package-lock.json"])
    # One folder per source digest: two builds of different sources never share one.
    out = CACHE / f"bundle-{key}"
    stamp = out / ".key"
    if stamp.is_file() and stamp.read_text() == key:
        return out
    _prune(CACHE.glob("bundle-*"), keep=out)
    _run(
        [
            str(FRONT / "node_modules" / ".bin" / "esbuild"),
            "src/sandbox.js",
            "src/playground.js",
            "src/worker.js",
            "--bundle",
            "--format=esm",
            "--target=es2022",
            "--minify",
            "--legal-comments=none",
            "--loader:.py=text",
            "--external:./pyodide/pyodide.mjs",
            "--external:./pyodide/pyodide.asm.mjs",
            f"--outdir={out}",
        ],
        FRONT,
    )
    stamp.write_text(key)
    log.info("sandbox: bundled the front end with esbuild")
    return out


def _dosim_wheel() -> Path:
    """The dosim wheel of this checkout, built offline as for the Pyodide test run."""
    ensure_build_deps()
    wheel, _status = build_dosim_wheel()
    return wheel


def _copy(src: Path, dest: Path) -> None:
    if dest.is_file() and dest.stat().st_size == src.stat().st_size:
        if dest.stat().st_mtime >= src.stat().st_mtime:
            return
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)


def _lock(npm_lock: Path, wheel: Path) -> dict:
    info = json.loads(npm_lock.read_text())["info"]
    name, version = wheel.name.split("-")[:2]
    return {
        "info": info,
        "packages": {
            name: {
                "name": name,
                "version": version,
                "file_name": wheel.name,
                "install_dir": "site",
                "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
                "package_type": "package",
                "imports": [name],
                "depends": [],
                "unvendored_tests": False,
            }
        },
    }


def _example_files() -> dict[str, str]:
    files = {}
    for path in sorted((ROOT / "examples").rglob("*")):
        rel = path.relative_to(ROOT)
        if (
            path.is_file()
            and path.suffix in EXAMPLE_SUFFIXES
            and "__pycache__" not in rel.parts
            and not any(part.startswith(".") for part in rel.parts)
        ):
            files[rel.as_posix()] = path.read_text(encoding="utf-8")
    return files


def _declared_packages() -> list[str]:
    """The distribution names the example apps list in their pyproject.toml dependencies."""
    names: set[str] = set()
    for pyproject in sorted((ROOT / "examples").glob("*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        for requirement in project.get("dependencies", []):
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
            if match:
                names.add(match.group(1))
    return sorted(names)


def _package_files() -> dict[str, str]:
    """Those packages' files from this build's environment, by path under site-packages.

    Only pure-Python packages can be laid down this way (the sandbox's Pyodide loads no
    other wheel); a text file is what such a package is made of. A package missing here
    fails the build: the gallery page of the app that imports it would not run.
    """
    files: dict[str, str] = {}
    for name in _declared_packages():
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise RuntimeError(
                f"sandbox: an example app depends on {name!r}, which this environment lacks "
                "(install dosim's docs extra: pip install -e '.[docs]')"
            ) from None
        for entry in dist.files or []:
            path = entry.as_posix()
            if "__pycache__" in path or path.endswith((".pyc", "RECORD")) or path.startswith(".."):
                continue
            try:
                files[path] = Path(dist.locate_file(entry)).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                raise RuntimeError(
                    f"sandbox: {name!r} has a file that is not text ({path}): only pure-Python "
                    "packages can run in the sandbox"
                ) from None
    return files


def _distribution(wheel: Path) -> str:
    """A wheel's distribution name, normalized (``Pygments-2.x-...`` -> ``pygments``)."""
    return re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()


def _test_wheels(npm: Path) -> list[Path]:
    """The wheels of pytest and its dependencies for this Pyodide's Python (hash-pinned).

    The same cache as the Pyodide test run (``tools/pyodide/requirements.txt``, downloaded
    once into ``tools/pyodide/cache/wheels/``). The starters' own packages (marshmallow)
    are left out: ``files.json`` lays those down at boot.
    """
    info = json.loads((npm / "pyodide-lock.json").read_text())["info"]
    pyver = ".".join(info["python"].split(".")[:2])
    wheels, _status = ensure_test_wheels(pyver)
    declared = {re.sub(r"[-_.]+", "-", name).lower() for name in _declared_packages()}
    return [wheel for wheel in wheels if _distribution(wheel) not in declared]


def _wheel_files(wheel: Path) -> dict[str, str]:
    """The text files of the dosim wheel, by path under site-packages.

    A memory snapshot keeps imported modules but not the files they came from; the worker
    writes these back after a restore (faster than unpacking the wheel in Python). The
    copies of the example apps that ``dosim new`` uses are left out: the sandbox has no
    CLI, and ``files`` holds the apps already.
    """
    files = {}
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.endswith("/") or name.startswith("dosim/_examples/"):
                continue
            files[name] = archive.read(name).decode("utf-8")
    return files


def _snapshot_sizes(made: Path) -> dict[str, int]:
    """The sizes the worker allocates by: the packed file's, and the memory's.

    ``bytes``: the packed snapshot (gzip's trailer holds it, modulo 2**32);
    ``memory``: the interpreter's memory (the packed header's first length field, see
    ``docs/sandbox/src/snapshot_format.js``); ``gzip_bytes``: what is downloaded.
    """
    with made.open("rb") as raw:
        raw.seek(-4, os.SEEK_END)
        packed_bytes = int.from_bytes(raw.read(4), "little")
    with gzip.open(made, "rb") as packed:
        memory_bytes = int.from_bytes(packed.read(12)[8:12], "little")
    return {"bytes": packed_bytes, "memory": memory_bytes, "gzip_bytes": made.stat().st_size}


def _snapshot(npm: Path, wheel: Path) -> Path:
    """The memory snapshot for this Pyodide, wheel and sandbox sources (cached)."""
    key = _digest(
        [
            FRONT / "package-lock.json",
            wheel,
            SNAPSHOT_MAKER,
            SRC / "sandbox_boot.py",
            SRC / "sandbox_helper.py",
            SRC / "playground_helper.py",
            SRC / "playground_starters.py",
            SRC / "playground_pytest.py",
            SRC / "snapshot_format.js",
        ]
    )
    out = CACHE / f"snapshot-{key}.bin.gz"
    if out.is_file():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    _prune(CACHE.glob("snapshot-*"), keep=out)
    node = shutil.which("node")
    if not node:
        raise RuntimeError("sandbox: node not found; or build with DOSIM_SANDBOX_SNAPSHOT=0")
    proc = subprocess.run(
        # With JSPI on, as in the browsers that have it: see make_snapshot.mjs.
        [node, *stack_switching_flags(node), str(SNAPSHOT_MAKER)]
        + [str(npm), str(wheel), str(SRC), str(out)],
        cwd=FRONT,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0 or not out.is_file():
        raise RuntimeError(
            f"sandbox: making the memory snapshot failed ({proc.returncode}):\n"
            f"{proc.stdout}{proc.stderr}\n(DOSIM_SANDBOX_SNAPSHOT=0 builds without one)"
        )
    log.info("sandbox: memory snapshot made: %s", proc.stdout.strip())
    return out


def on_post_build(config):
    """Bundle and copy the sandbox's files into ``<site>/sandbox/``."""
    if not ENABLED or not (_pages_with_sandboxes or _pages_with_playground):
        return
    site = Path(config.site_dir) / "sandbox"
    _ensure_node_modules()
    bundle = _bundle()
    for name in ("sandbox.js", "sandbox.css", "playground.js", "playground.css", "worker.js"):
        _copy(bundle / name, site / name)
    npm = FRONT / "node_modules" / "pyodide"
    for name in PYODIDE_FILES:
        _copy(npm / name, site / "pyodide" / name)
    wheel = _dosim_wheel()
    for old in (site / "pyodide").glob("*.whl"):
        if old.name != wheel.name:
            old.unlink()
    shutil.copy2(wheel, site / "pyodide" / wheel.name)
    lock = json.dumps(_lock(npm / "pyodide-lock.json", wheel), indent=1)
    (site / "pyodide" / "pyodide-lock.json").write_text(lock)
    for old in (site / "pyodide").glob("snapshot-*"):
        old.unlink()
    snapshot = None
    if SNAPSHOT:
        made = _snapshot(npm, wheel)
        shutil.copy2(made, site / "pyodide" / made.name)
        snapshot = {"file": made.name, **_snapshot_sizes(made)}
    (site / "boot.json").write_text(json.dumps({"wheel": wheel.name, "snapshot": snapshot}))
    # The playground's "Run tests" fetches these on first use (worker.js, "Playground").
    test_wheels = _test_wheels(npm)
    (site / "wheels").mkdir(parents=True, exist_ok=True)
    for old in (site / "wheels").glob("*.whl"):
        if old.name not in {w.name for w in test_wheels}:
            old.unlink()
    for test_wheel in test_wheels:
        _copy(test_wheel, site / "wheels" / test_wheel.name)
    files = {
        "files": _example_files(),
        "packages": _package_files(),
        "site_files": _wheel_files(wheel) if snapshot else {},
        "test_wheels": [test_wheel.name for test_wheel in test_wheels],
    }
    (site / "files.json").write_text(json.dumps(files))


ISOLATION_HEADERS = [
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Embedder-Policy", "require-corp"),
]


def _isolating(app):
    """Wrap a WSGI app so that every response carries the COOP/COEP headers."""

    def wrapped(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, *ISOLATION_HEADERS], exc_info)

        return app(environ, start)

    return wrapped


def on_serve(server, config, builder):
    """Under ``mkdocs serve``: rebuild on sandbox changes, and send COOP/COEP headers.

    The live-reload server is a ``wsgiref`` server; wrapping its WSGI app adds the headers
    that make pages cross-origin isolated (Stop then interrupts instead of restarting),
    and live reload keeps working (its polling is same-origin).
    """
    server.watch(str(SRC))
    if ENABLED and hasattr(server, "get_app") and hasattr(server, "set_app"):
        server.set_app(_isolating(server.get_app()))
    return server
