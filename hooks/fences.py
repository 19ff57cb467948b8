"""MkDocs hook: hide the test settings of code fences from the renderer.

The fence line of a code block carries its test policy (``group="..."``,
``test="skip: ..."``, ``sandbox="off: ..."``; see the Contributing page and
``tests/test_docs.py``). Python-Markdown's
SuperFences would refuse a fence with options it does not know and render the block as
plain text, so this hook removes those settings before the page is converted. The
markdown files keep them; only the HTML loses them. The settings are read by
``tools/fence_settings.py``, the parser the docs tests and ``hooks/sandbox.py`` use too.
"""

from __future__ import annotations

import re
import sys
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
    remove_settings,
)

STRIPPED = (*TEST_SETTINGS, SANDBOX_SETTING)


def strip_test_settings(markdown: str) -> str:
    """Return ``markdown`` with ``test=``/``group=``/``sandbox=`` removed from every fence."""

    def clean(match: re.Match[str]) -> str:
        info = remove_settings(match.group("info"), STRIPPED)
        return f"{match.group('indent')}{match.group('ticks')}{info}"

    return FENCE_LINE.sub(clean, markdown)


def on_page_markdown(markdown, page, config, files):
    """Strip the test settings from the page's fences before it is rendered."""
    return strip_test_settings(markdown)
