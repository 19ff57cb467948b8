"""The gallery's "Open in sandbox" demos: one per starter, and each prints what it says.

Every starter app ``examples/<app>/`` has a demo, ``examples/_sandbox/<app>.py``, which
``hooks/gallery.py`` puts in the "Open in sandbox" block of the app's gallery page. Here
each demo runs as the browser's sandbox runs it, but on CPython: the code the page shows
(``sandbox_snippet``), compiled with ``ast.PyCF_ALLOW_TOP_LEVEL_AWAIT``, from the
repository's root (the sandbox's working folder, where ``examples/`` is), with
``__name__ == "__main__"``, in a fresh event loop. What it prints must be its ``#>``
lines, in order, and again on a second run in the same interpreter (a reader presses
Run twice). The demos must also run in Pyodide, so they import only dosim and the
standard library, and nothing that needs threads, processes or the network.
``tests/test_sandbox_browser.py`` runs the gallery pages in Chromium.

The hook is loaded from its file; it needs no MkDocs for this, so these tests run in
``nox -s tests``.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import difflib
import importlib.util
import io
import re
import sys
from pathlib import Path

import pytest

if sys.platform == "emscripten":
    pytest.skip(
        "runs the demos from CPython; the browser tests run them in Pyodide",
        allow_module_level=True,
    )

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
MAX_LINES = 40  # what the page shows without a scroll bar in the editor
MAX_CODE_WIDTH = 80  # as for the docs' blocks; printed output (#> lines) may be wider
OUTPUT_LINE = re.compile(r"^\s*#>(?: (.*))?$")
# Modules a demo may not import: Pyodide has no threads, processes or sockets.
NOT_IN_THE_BROWSER = (
    "threading",
    "_thread",
    "multiprocessing",
    "concurrent",
    "subprocess",
    "socket",
    "ssl",
    "selectors",
    "signal",
    "http.client",
    "http.server",
    "urllib.request",
    "asyncio.subprocess",
)


def _load_gallery():
    spec = importlib.util.spec_from_file_location(
        "_dosim_gallery_demos", ROOT / "hooks" / "gallery.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gallery = _load_gallery()
APPS = gallery.starter_apps(EXAMPLES)
WITH_DEMOS = [app for app in APPS if gallery.demo_path(app).is_file()]


def expected(code: str) -> list[str]:
    return [m.group(1) or "" for line in code.splitlines() if (m := OUTPUT_LINE.match(line))]


def run_as_the_sandbox(code: str) -> list[str]:
    """Run ``code`` as a sandbox block; return the lines it printed."""
    compiled = compile(
        code, "<block 1>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )
    namespace = {"__name__": "__main__"}

    async def run() -> None:
        result = eval(compiled, namespace)  # noqa: S307 - the demos are the repository's code
        if result is not None:
            await result

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        asyncio.run(asyncio.wait_for(run(), 60))
    return printed.getvalue().splitlines()


def test_there_are_starters():
    # The gallery's starters are the folders the layout tests check, no more, no fewer.
    assert len(APPS) >= 8
    assert [app.name for app in APPS] == sorted(
        p.parent.name for p in EXAMPLES.glob("*/wrangler.toml")
    )


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.name)
def test_every_starter_has_a_demo(app):
    demo = gallery.demo_path(app)
    assert demo == EXAMPLES / "_sandbox" / f"{app.name}.py"
    assert demo.is_file(), f"{app.name} has no demo: write {demo.relative_to(ROOT)}"
    assert gallery.sandbox_snippet(app) == gallery.demo_code(demo)


def test_every_demo_is_a_starters():
    names = {app.name for app in APPS}
    orphans = [p.name for p in (EXAMPLES / "_sandbox").glob("*.py") if p.stem not in names]
    assert orphans == []


@pytest.mark.parametrize("app", WITH_DEMOS, ids=lambda p: p.name)
def test_demo_is_short_and_runs_in_the_browser(app):
    code = gallery.sandbox_snippet(app)
    lines = code.splitlines()
    assert len(lines) <= MAX_LINES, f"{len(lines)} lines; the page shows at most {MAX_LINES}"
    wide = [line for line in lines if len(line) > MAX_CODE_WIDTH and not OUTPUT_LINE.match(line)]
    assert wide == []
    assert not code.startswith("#"), "tool directives are left out of the page"
    # It loads the app from its folder, relative to the root (the sandbox's working folder).
    assert f'dosim.App.from_config("examples/{app.name}")' in code
    assert sum(line.lstrip().startswith("# ") for line in lines) >= 3, "comment it for a reader"
    assert len(expected(code)) >= 3, "print a few lines, each followed by its #> output"
    imported = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    for name in imported:
        assert name == "dosim" or name.split(".")[0] in sys.stdlib_module_names, name
        assert not name.startswith(NOT_IN_THE_BROWSER), f"{name} is not available in Pyodide"


@pytest.mark.parametrize("app", WITH_DEMOS, ids=lambda p: p.name)
def test_demo_prints_its_documented_output(app, monkeypatch):
    code = gallery.sandbox_snippet(app)
    monkeypatch.chdir(ROOT)
    want = expected(code)
    for attempt in ("first run", "second run"):
        got = run_as_the_sandbox(code)
        if got != want:
            diff = "\n".join(
                difflib.unified_diff(
                    [f"#> {line}" for line in want],
                    [f"#> {line}" for line in got],
                    fromfile=f"examples/_sandbox/{app.name}.py (the #> lines)",
                    tofile=f"what it printed ({attempt})",
                    lineterm="",
                )
            )
            pytest.fail(f"printed output differs from the #> lines:\n{diff}", pytrace=False)


def test_an_app_without_a_demo_gets_the_generic_driver(tmp_path):
    app = tmp_path / "examples" / "notes"
    app.mkdir(parents=True)
    (app / "README.md").write_text(
        "# Notes\n\n| request | answer |\n| --- | --- |\n| `GET /<name>` | a note |\n"
    )
    code = gallery.sandbox_snippet(app)
    assert 'app = dosim.App.from_config("examples/notes")' in code
    assert 'await app.fetch("/demo")' in code and "trace:" in code
    # With a demo beside it, the page shows the demo, without the tool directives.
    demo = tmp_path / "examples" / "_sandbox" / "notes.py"
    demo.parent.mkdir()
    demo.write_text('# ruff: noqa: F704\n# fmt: off\nimport dosim\n\nprint("hi")\n#> hi\n')
    assert gallery.sandbox_snippet(app) == 'import dosim\n\nprint("hi")\n#> hi'
    assert gallery.starter_apps(tmp_path / "examples") == [app]
