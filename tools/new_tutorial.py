"""Scaffold a tutorial from tutorials/_template.md (the ``nox -s new-tutorial`` session).

    python tools/new_tutorial.py "Title in the reader's words"

writes ``tutorials/NN-slug.md`` with ``NN`` the next free number, the title in its first
heading (which becomes its place in the navigation) and the template's runnable blocks
in a group named after the slug, so the page builds and its checks pass before the first
edit. It never overwrites a file. The nox session then runs the new page's blocks
(tests/test_docs.py) so the author starts from green.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"
TEMPLATE_NAME = "_template.md"
_NUMBERED = re.compile(r"^(\d{2})-[a-z0-9-]+\.md$")


def slug_of(title: str) -> str:
    """``"Rate limits, the hard way"`` -> ``"rate-limits-the-hard-way"``.

    Args:
        title: The tutorial's title.

    Raises:
        ValueError: The title has no letters or digits.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if not slug:
        raise ValueError(f"cannot make a file name from {title!r}: use letters or digits")
    return slug[:48].rstrip("-")


def next_number(folder: Path) -> int:
    """One more than the highest ``NN-`` prefix in ``folder`` (1 for an empty folder)."""
    numbers = [int(m.group(1)) for p in folder.glob("*.md") if (m := _NUMBERED.match(p.name))]
    return max(numbers, default=0) + 1


def scaffold(title: str, folder: Path = TUTORIALS) -> Path:
    """Write the new tutorial and return its path.

    Args:
        title: The title, as the reader sees it.
        folder: The tutorials folder (holding ``_template.md``).

    Raises:
        ValueError: A bad title, or more than 99 tutorials.
        FileExistsError: The file is already there (nothing is overwritten).
    """
    slug = slug_of(title)
    number = next_number(folder)
    if number > 99:
        raise ValueError("tutorials are numbered 01 to 99; renumber before adding more")
    target = folder / f"{number:02d}-{slug}.md"
    if target.exists():
        raise FileExistsError(f"{target} exists; refusing to overwrite it")
    text = (folder / TEMPLATE_NAME).read_text(encoding="utf-8")
    heading = f"# {number:02d} — {title.strip()}"
    text = text.replace("# NN — Title in the reader's words", heading, 1)
    text = re.sub(r"<!-- Copy this file.*?-->\n\n", "", text, count=1, flags=re.DOTALL)
    text = text.replace('group="tutorial"', f'group="{slug}"')
    target.write_text(text, encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    """Command line: scaffold, print the path and the next steps; 1 on a refusal."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("title", help="the tutorial's title, in the reader's words")
    args = parser.parse_args(argv)
    try:
        path = scaffold(args.title)
    except (ValueError, FileExistsError) as error:
        print(f"new-tutorial: {error}", file=sys.stderr)
        return 1
    print(f"created {path.relative_to(ROOT)}")
    print("next: write it step by step, then `nox -s docs_tests -- --update-examples`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
