"""What the site's browser tests share: one strict build of the site, and guarded pages.

``tests/test_sandbox_browser.py`` and ``tests/test_playground_browser.py`` run in one
pytest process (``nox -s sandbox``): :func:`built_site` builds the site once for both
(``mkdocs build --strict`` into a temporary folder, or the folder ``DOSIM_SITE_DIR``
names), and :func:`open_page` gives each test a page that records console errors, page
errors and any request that would leave 127.0.0.1 (those are blocked).
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def require_browser_tools() -> None:
    """Skip the calling test module unless Playwright, Chromium and MkDocs are there.

    Call it at module level, before importing Playwright. Under ``nox -s sandbox``
    (``DOSIM_BROWSER_TESTS`` set) a missing tool fails the module instead: there the
    browser tests must run. MkDocs is not needed when ``DOSIM_SITE_DIR`` names a built site.
    """
    from tools.chromium import CHROMIUM

    def missing(reason: str) -> None:
        if os.environ.get("DOSIM_BROWSER_TESTS"):
            pytest.fail(f"{reason} (DOSIM_BROWSER_TESTS is set, so this is an error)")
        pytest.skip(reason, allow_module_level=True)

    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        missing("playwright is not installed (nox -s sandbox installs it)")
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is missing (apt-get install chromium)")
    if not os.environ.get("DOSIM_SITE_DIR"):
        try:
            import mkdocs  # noqa: F401
        except ImportError:  # pragma: no cover - depends on the environment
            missing("mkdocs is not installed (nox -s sandbox installs the docs extra)")


@functools.cache
def built_site() -> Path:
    """The built site: ``DOSIM_SITE_DIR`` if set, else a strict build made once per process.

    A failed ``mkdocs build --strict`` fails the calling test, with the build's output.
    """
    given = os.environ.get("DOSIM_SITE_DIR")
    if given:
        return Path(given)
    out = Path(tempfile.mkdtemp(prefix="dosim-site-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    if built.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{built.stdout}\n{built.stderr}")
    return out


def open_page(browser, url: str, problems: list[str], routes=(), **context_options):
    """A page in a new context that records console errors, page errors and requests off 127.0.0.1.

    Args:
        browser: Playwright's ``Browser``.
        url: Where to go.
        problems: Where each problem is appended, as a line of text.
        routes: Extra ``(pattern, handler)`` pairs for the context, consulted before the
            guard (Playwright tries the routes added last first).
        **context_options: For ``browser.new_context`` (the viewport is 1280x900 unless given).

    Returns:
        The page, loaded; close its ``context`` when done.
    """
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **context_options})

    def route(route) -> None:
        if route.request.url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            problems.append(f"request left 127.0.0.1: {route.request.url}")
            route.abort()

    context.route("**/*", route)
    for pattern, handler in routes:
        context.route(pattern, handler)
    page = context.new_page()
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("worker", lambda w: w.on("console", lambda m: None))
    page.goto(url)
    return page
