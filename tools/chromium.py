"""Debian's Chromium for the browser tests and benchmarks (stdlib only).

Playwright drives ``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` does
it); it never downloads a browser. The launch flags keep a headless run quiet and
offline: no sandbox (the tests run as root in a container), no GPU, and none of the
background requests Chromium makes on its own.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright):
    """Start headless Chromium with Playwright (``sync_playwright()``'s object).

    Args:
        playwright: The object ``sync_playwright()`` gives.

    Returns:
        Playwright's ``Browser``; close it when done.
    """
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
    )
