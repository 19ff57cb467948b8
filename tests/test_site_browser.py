"""Open every page of the built site in headless Chromium; fail on what a reader would hit.

The site is built once (``mkdocs build --strict`` into a temporary folder) and served by
``tools/serve_site.py`` on a free ``127.0.0.1`` port. Each page is loaded in Debian's
Chromium through Playwright, and the test fails on

* a console error or an uncaught JavaScript exception;
* a request that failed or answered 4xx/5xx;
* any request to another host (a CDN, a font service, ``api.github.com``): the site must
  work offline and behind strict headers. Such requests are blocked, then reported;
* a same-site link or image that points at a file the build did not produce, or at an
  anchor its page does not have.

It also saves screenshots — the home page and a tutorial page, light and dark, desktop
(1280×900) and narrow (390×844) — to ``artifacts/screenshots/`` for a human to look at.

Runs in ``nox -s docs_tests`` (which installs Playwright and the ``docs`` extra; never
``playwright install``: the browser is ``/usr/bin/chromium``, which ``.ci/run`` installs).
Without ``/usr/bin/chromium`` the test skips, except under CI (``CI`` set), where it fails.
Without mkdocs or Playwright (``nox -s tests``) the module skips, except in the
``docs_tests`` session (``DOSIM_BROWSER_TESTS`` set), where it fails.
"""

from __future__ import annotations

import functools
import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest

if sys.platform == "emscripten":
    pytest.skip("drives Chromium from CPython; not a Pyodide test", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tools package
from tools.chromium import CHROMIUM, launch  # noqa: E402
from tools.serve_site import serve_in_thread  # noqa: E402

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
VIEWPORTS = {"desktop": (1280, 900), "narrow": (390, 844)}
SCREENSHOT_PAGES = {"home": "", "tutorial": "tutorials/01-first-durable-object/"}
# nox -s docs_tests sets DOSIM_BROWSER_TESTS: there a missing dependency is a broken set-up.
# Elsewhere (nox -s tests has no mkdocs or playwright) the module skips itself.
IN_DOCS_SESSION = bool(os.environ.get("DOSIM_BROWSER_TESTS"))


def _require(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        if IN_DOCS_SESSION:
            pytest.fail(f"{module} is not installed in the docs_tests session")
        pytest.skip(f"needs {module}: run nox -s docs_tests", allow_module_level=True)


_require("mkdocs")
sync_playwright = _require("playwright.sync_api").sync_playwright


# -- the site and its server ---------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the site strictly into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{built.stdout}\n{built.stderr}")
    return out


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    """Serve ``site`` on a free 127.0.0.1 port for the module's tests.

    Without COOP/COEP, as a plain static host serves it (the sandbox tests cover both).
    """
    server = serve_in_thread(site, 0, isolate=False)
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def _pages(site: Path) -> list[str]:
    """Every HTML page of the build, as a URL path relative to the site root."""
    paths = []
    for html in sorted(site.rglob("*.html")):
        relative = html.relative_to(site).as_posix()
        paths.append(relative.removesuffix("index.html"))
    return paths


# -- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, driven by Playwright."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so this is an error, not a skip")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Problems:
    """What went wrong while one page loaded."""

    items: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.items.append(text)


def _watch(page, base_url: str, problems: Problems) -> None:
    """Record console errors, exceptions, failed and foreign requests of ``page``."""
    host = urlsplit(base_url).netloc

    def route(route) -> None:
        url = route.request.url
        scheme = urlsplit(url).scheme
        if scheme in ("data", "blob") or urlsplit(url).netloc == host:
            route.continue_()
        else:
            problems.add(f"request to another host: {url}")
            route.abort()

    page.route("**/*", route)
    page.on(
        "console",
        lambda message: message.type == "error"
        and problems.add(f"console error: {message.text} ({message.location.get('url', '')})"),
    )
    page.on("pageerror", lambda error: problems.add(f"uncaught exception: {error}"))

    def failed(request) -> None:
        if urlsplit(request.url).netloc == host:  # foreign ones were reported when blocked
            problems.add(f"request failed: {request.url} ({request.failure})")

    page.on("requestfailed", failed)
    page.on(
        "response",
        lambda response: response.status >= 400
        and problems.add(f"HTTP {response.status}: {response.url}"),
    )


_LINKS_JS = """() => [
  ...[...document.querySelectorAll('a[href]')].map(a => a.href),
  ...[...document.querySelectorAll('img[src]')].map(i => i.src),
]"""


def _broken_links(site: Path, base_url: str, urls: list[str]) -> list[str]:
    """Same-site links to a file the build lacks, or to an anchor the target page lacks."""
    broken = []
    for url in urls:
        parts = urlsplit(url)
        if not url.startswith(base_url) or parts.scheme not in ("http", "https"):
            continue
        path = unquote(parts.path).lstrip("/")
        target = site / path
        if target.is_dir() or path == "" or path.endswith("/"):
            target = target / "index.html"
        if not target.exists():
            broken.append(url)
        elif parts.fragment and target.suffix == ".html":
            if f'id="{unquote(parts.fragment)}"' not in _text(target):
                broken.append(url)
    return sorted(set(broken))


@functools.cache
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_every_page_loads_cleanly(site: Path, base_url: str, browser) -> None:
    pages = _pages(site)
    assert len(pages) > 20, pages
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    report: dict[str, list[str]] = {}
    try:
        for path in pages:
            page = context.new_page()
            problems = Problems()
            _watch(page, base_url, problems)
            url = urljoin(base_url, path)
            response = page.goto(url, wait_until="load")
            if response is None or (response.status >= 400 and path != "404.html"):
                problems.add(f"page answered {response and response.status}")
            page.wait_for_load_state("networkidle")
            for link in _broken_links(site, base_url, page.evaluate(_LINKS_JS)):
                problems.add(f"broken link: {link}")
            if problems.items:
                report[path or "/"] = problems.items
            page.close()
    finally:
        context.close()
    print(f"{len(pages)} pages loaded")
    assert not report, "\n".join(
        f"{path}:\n  " + "\n  ".join(items) for path, items in report.items()
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_screenshots(base_url: str, browser, scheme: str, viewport: str) -> None:
    width, height = VIEWPORTS[viewport]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    try:
        page = context.new_page()
        problems = Problems()
        _watch(page, base_url, problems)
        for name, path in SCREENSHOT_PAGES.items():
            page.goto(urljoin(base_url, path), wait_until="networkidle")
            shown = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
            assert shown == ("slate" if scheme == "dark" else "default"), (name, shown)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{scheme}-{viewport}.png"))
        assert not problems.items, problems.items
    finally:
        context.close()
