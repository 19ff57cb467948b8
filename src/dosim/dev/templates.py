"""``dosim new``: copy a starter app from ``examples/`` into a fresh folder.

Templates are the folders of ``examples/`` (``counter``, ``chat``, ...): each holds a
``wrangler.toml``, the Worker code, its tests and a README. They are looked up

1. inside the installed package, at ``dosim/_examples/`` (present when a wheel is built
   with the examples included), then
2. in the source checkout the package runs from (``<repo>/examples/``, for a
   ``pip install -e .`` or running from the repo).

A wheel built from the current ``pyproject.toml`` does not include ``examples/``, so an
installation from it finds no templates and says so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = [
    "TemplateError",
    "templates_root",
    "available_templates",
    "create_app",
    "MSG_NO_TEMPLATES",
]

MSG_NO_TEMPLATES = (
    "no templates are available: this installation of dosim does not include the "
    "examples/ folder (install dosim from a source checkout, e.g. pip install -e .)"
)

_SKIPPED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".dosim", ".wrangler", ".pytest_cache", ".venv"
)


class TemplateError(Exception):
    """A template that does not exist, or a target folder that is not empty."""


def templates_root() -> Path | None:
    """Return the folder holding the templates, or ``None`` when none can be found."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_examples", package.parent.parent / "examples"):
        if candidate.is_dir() and any(_is_template(p) for p in candidate.iterdir()):
            return candidate
    return None


def _is_template(folder: Path) -> bool:
    return folder.is_dir() and any(
        (folder / name).is_file() for name in ("wrangler.toml", "wrangler.jsonc", "wrangler.json")
    )


def _summary(folder: Path, width: int = 72) -> str:
    """Return the first sentence of the README's first paragraph, cut to ``width``."""
    readme = folder / "README.md"
    if not readme.is_file():
        return ""
    paragraph: list[str] = []
    for line in readme.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if text.startswith("#") or (not text and not paragraph):
            continue
        if not text:
            break
        paragraph.append(text)
    sentence = " ".join(paragraph).split(": ")[0].split(". ")[0].rstrip(".")
    return sentence if len(sentence) <= width else sentence[: width - 1] + "…"


def available_templates() -> dict[str, str]:
    """Return template name → one-line summary (from its README), sorted by name."""
    root = templates_root()
    if root is None:
        return {}
    return {p.name: _summary(p) for p in sorted(root.iterdir()) if _is_template(p)}


def create_app(template: str, directory: str | Path) -> Path:
    """Copy template ``template`` into ``directory``.

    Args:
        template: A name from :func:`available_templates`.
        directory: The folder to create; it may exist only if empty.

    Returns:
        The created folder.

    Raises:
        TemplateError: Unknown template, no templates installed, or a non-empty target.
    """
    root = templates_root()
    if root is None:
        raise TemplateError(MSG_NO_TEMPLATES)
    source = root / template
    if not _is_template(source):
        known = ", ".join(available_templates()) or "none"
        raise TemplateError(f"unknown template {template!r}; expected one of: {known}")
    target = Path(directory)
    if target.exists():
        if not target.is_dir():
            raise TemplateError(f"{target} exists and is not a folder")
        if any(target.iterdir()):
            raise TemplateError(f"{target} is not empty; refusing to overwrite it")
        target.rmdir()
    shutil.copytree(source, target, ignore=_SKIPPED)
    return target
