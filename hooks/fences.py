"""MkDocs hook: hide the test settings of code fences from the renderer.

The fence line of a code block carries its test policy (``group="..."``,
``test="skip: ..."``; see the Contributing page and ``tests/test_docs.py``). Python-Markdown's
SuperFences would refuse a fence with options it does not know and render the block as
plain text, so this hook removes those settings before the page is converted. The
markdown files keep them; only the HTML loses them.
"""

from __future__ import annotations

import re

TEST_SETTINGS = ("test", "group")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>`{3,}|~{3,})(?P<info>[^\n`]*)$", re.MULTILINE)
_NAMES = "|".join(TEST_SETTINGS)
_SETTING = re.compile(rf"""\s+(?:{_NAMES})=(["'])(?:(?!\1).)*\1""")


def strip_test_settings(markdown: str) -> str:
    """Return ``markdown`` with ``test=``/``group=`` removed from every fence line."""

    def clean(match: re.Match[str]) -> str:
        info = _SETTING.sub("", match.group("info"))
        return f"{match.group('indent')}{match.group('ticks')}{info}"

    return _FENCE.sub(clean, markdown)


def on_page_markdown(markdown, page, config, files):
    """Strip the test settings from the page's fences before it is rendered."""
    return strip_test_settings(markdown)
