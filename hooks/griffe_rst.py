"""Griffe extension: turn reST simple tables in docstrings into Markdown tables.

A few dosim docstrings (``dosim.serialization``, ``dosim.trace``) lay out a table the reST
way, between rows of ``=====  =====``. mkdocstrings renders docstrings as Markdown, where
such a table collapses into one paragraph. This extension rewrites each one into a pipe
table before rendering; the source files stay as they are. Lines that continue a cell
(first column blank, or a first cell ending in a comma) are joined to the row above.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_BORDER = re.compile(r"^(\s*)(=+)(\s+=+)+\s*$")


def _columns(border: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"=+", border)]


def _cells(line: str, spans: list[tuple[int, int]]) -> list[str]:
    cells = []
    for index, (start, _end) in enumerate(spans):
        stop = spans[index + 1][0] if index + 1 < len(spans) else len(line)
        cells.append(line[start:stop].strip())
    return cells


def _to_markdown(rows: list[list[str]]) -> list[str]:
    def row(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    header, body = rows[0], rows[1:]
    return [row(header), "| " + " | ".join("---" for _ in header) + " |", *map(row, body)]


def convert(text: str) -> str:
    """Return ``text`` with every reST simple table replaced by a Markdown table."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _BORDER.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        spans = _columns(lines[i])
        rows: list[list[str]] = []
        borders = 1
        i += 1
        while i < len(lines) and borders < 3:
            line = lines[i]
            if _BORDER.match(line):
                borders += 1
            elif line.strip():
                cells = _cells(line, spans)
                # A continuation line: the first column is blank, or the row above ended
                # its first cell with a comma ("None, bool, int, float," / "str").
                joins = (
                    rows
                    and borders >= 2
                    and (not cells[0] or (rows[-1][0].endswith(",") and not any(cells[1:])))
                )
                if joins:
                    rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
                else:
                    rows.append(cells)
            i += 1
        if len(rows) >= 2:
            indent = match.group(1)
            out.extend(indent + line for line in _to_markdown(rows))
        out.append("")
    return "\n".join(out)


class RstTables(griffe.Extension):
    """Rewrite reST simple tables in every docstring as Markdown tables."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Convert the docstring of each loaded object."""
        if obj.docstring is not None and "==" in obj.docstring.value:
            obj.docstring.value = convert(obj.docstring.value)
