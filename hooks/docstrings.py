"""MkDocs hook: render the reST habits of dosim's docstrings cleanly on reference pages.

The docstrings are Google style, but some use Sphinx roles (``:class:`~dosim.x.Y```) and
``::`` before literal blocks. mkdocstrings renders those as text, so a reader would see
``:class:`` in front of a name. This hook turns a role into the plain code name (``~``
keeps only the last dotted part, as Sphinx does) and ``::`` at the end of a paragraph into
``:``. It runs on the rendered HTML of every page.
"""

from __future__ import annotations

import re

_ROLE = re.compile(
    r":(?:py:)?(?:class|mod|func|meth|data|attr|exc|obj|const|term|ref):<code>(~?)([^<]*)</code>"
)
_DOUBLE_COLON = re.compile(r"::(\s*</p>)")


def _role(match: re.Match[str]) -> str:
    short, name = match.groups()
    return f"<code>{name.rsplit('.', 1)[-1] if short else name}</code>"


def clean(html: str) -> str:
    """Return ``html`` without Sphinx roles and paragraph-final ``::``."""
    return _DOUBLE_COLON.sub(r":\1", _ROLE.sub(_role, html))


def on_page_content(html, page, config, files):
    """Clean the rendered page body."""
    return clean(html)
