"""``dosim new``: copy a starter app from ``examples/`` into a fresh folder, and name it.

Templates are the folders of ``examples/`` (``counter``, ``chat``, ...), laid out as
Cloudflare's Python templates are: ``wrangler.toml`` (``main = "src/entry.py"``), the
Worker code under ``src/``, its tests under ``tests/``, a ``pyproject.toml``, a
``.gitignore`` and a README. The copy gets its own Worker ``name`` (from the folder's
name) and today's ``compatibility_date``, in the wrangler config and as the
``pyproject.toml`` project's name; its ``[tool.uv.sources]`` entry for dosim points at
the checkout dosim runs from. Templates are looked up

1. inside the installed package, at ``dosim/_examples/`` (present when a wheel is built
   with the examples included), then
2. in the source checkout the package runs from (``<repo>/examples/``, for a
   ``pip install -e .`` or running from the repo).

A wheel built from the current ``pyproject.toml`` does not include ``examples/``, so an
installation from it finds no templates and says so.
"""

from __future__ import annotations

import datetime
import re
import shutil
from pathlib import Path

from ..config import CONFIG_FILE_NAMES, ConfigError, load_config

__all__ = [
    "TemplateError",
    "templates_root",
    "available_templates",
    "create_app",
    "worker_name",
    "MSG_NO_TEMPLATES",
    "DEFAULT_TEMPLATE",
]

DEFAULT_TEMPLATE = "counter"

MSG_NO_TEMPLATES = (
    "no templates are available: this installation of dosim does not include the "
    "examples/ folder (install dosim from a source checkout, e.g. pip install -e .)"
)

# Local state and environments that a template folder may hold, never copied.
_SKIPPED = shutil.ignore_patterns(
    "__pycache__",
    "*.pyc",
    ".dosim",
    ".wrangler",
    ".pytest_cache",
    ".venv",
    ".venv-workers",
    "python_modules",
    "pylock.toml",
    "node_modules",
    "uv.lock",
)
_MAX_WORKER_NAME = 63  # Cloudflare's limit: a Worker's name is a DNS label


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
    return folder.is_dir() and any((folder / name).is_file() for name in CONFIG_FILE_NAMES)


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


def worker_name(directory: str | Path) -> str:
    """The Worker name for an app in ``directory``: its folder name, as Cloudflare allows.

    Lowercase letters, digits and dashes (anything else becomes a dash), no dash at
    either end, at most 63 characters: ``My_Counter`` → ``my-counter``.

    Raises:
        TemplateError: When nothing usable is left (``"__"``).
    """
    base = Path(directory).resolve().name
    name = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")
    name = name[:_MAX_WORKER_NAME].rstrip("-")
    if not name:
        raise TemplateError(
            f"cannot make a Worker name from {base!r}: use letters, digits and dashes"
        )
    return name


def _today() -> datetime.date:
    # Cloudflare's dates are UTC: a date later than the runtime's own is refused.
    return datetime.datetime.now(datetime.UTC).date()


def _dosim_checkout(root: Path) -> Path | None:
    """The dosim source checkout the templates come from (``<repo>/examples``), if any."""
    repo = root.parent
    pyproject = repo / "pyproject.toml"
    if root.name == "examples" and pyproject.is_file():
        if re.search(r'(?m)^name\s*=\s*"dosim"\s*$', pyproject.read_text(encoding="utf-8")):
            return repo
    return None


def _set_top_level(text: str, key: str, value: str, *, toml: bool) -> tuple[str, int]:
    """Set the first top-level ``key`` of a wrangler file to the string ``value``."""
    if toml:
        head, sep, rest = text.partition("\n[")  # top-level keys come before any table
        head, count = re.subn(rf'(?m)^{key}\s*=\s*"[^"\n]*"', f'{key} = "{value}"', head, count=1)
        return head + sep + rest, count
    return re.subn(rf'"{key}"\s*:\s*"[^"\n]*"', f'"{key}": "{value}"', text, count=1)


def _name_wrangler_config(folder: Path, name: str, date: str) -> None:
    for file_name in CONFIG_FILE_NAMES:
        path = folder / file_name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        toml = path.suffix == ".toml"
        text, named = _set_top_level(text, "name", name, toml=toml)
        text, dated = _set_top_level(text, "compatibility_date", date, toml=toml)
        if not (named and dated):
            raise TemplateError(f"{path}: found no top-level name and compatibility_date to set")
        path.write_text(text, encoding="utf-8")
        return


def _name_pyproject(folder: Path, name: str, checkout: Path | None) -> None:
    path = folder / "pyproject.toml"
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition("[project]\n")
    if sep:
        rest = re.sub(r'(?m)^name\s*=\s*"[^"\n]*"', f'name = "{name}"', rest, count=1)
        text = head + sep + rest
    source = re.compile(r"(?m)^dosim\s*=\s*\{[^\n]*\}$")
    if checkout is not None:
        line = f"dosim = {{ path = {_toml_string(str(checkout))}, editable = true }}"
    else:  # installed from a wheel: no checkout to point at
        line = '# dosim = { path = "/path/to/a/clone/of/dosim", editable = true }'
    text = source.sub(lambda _: line, text, count=1)
    path.write_text(text, encoding="utf-8")


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def create_app(
    template: str,
    directory: str | Path,
    *,
    name: str | None = None,
    today: datetime.date | None = None,
) -> Path:
    """Copy template ``template`` into ``directory`` and make it a Worker of its own.

    The copy's wrangler config gets ``name`` (default: :func:`worker_name` of the folder)
    and ``compatibility_date`` = ``today`` (default: today, UTC); its ``pyproject.toml``
    gets the same project name, and its ``[tool.uv.sources]`` entry for dosim the path of
    the dosim checkout the templates come from (commented out when dosim runs from a
    wheel, which has none).

    Args:
        template: A name from :func:`available_templates`.
        directory: The folder to create; it may exist only if empty.
        name: The Worker's name (default: from the folder's name).
        today: The compatibility date to write (default: today's date in UTC).

    Returns:
        The created folder.

    Raises:
        TemplateError: Unknown template, no templates installed, a non-empty target, or
            a folder name that makes no Worker name.
    """
    root = templates_root()
    if root is None:
        raise TemplateError(MSG_NO_TEMPLATES)
    source = root / template
    if not _is_template(source):
        known = ", ".join(available_templates()) or "none"
        raise TemplateError(f"unknown template {template!r}; expected one of: {known}")
    target = Path(directory)
    worker = worker_name(target) if name is None else name
    if target.exists():
        if not target.is_dir():
            raise TemplateError(f"{target} exists and is not a folder")
        if any(target.iterdir()):
            raise TemplateError(f"{target} is not empty; refusing to overwrite it")
    shutil.copytree(source, target, ignore=_SKIPPED, dirs_exist_ok=True)
    date = (today or _today()).isoformat()
    _name_wrangler_config(target, worker, date)
    _name_pyproject(target, worker, _dosim_checkout(root))
    try:
        config = load_config(target)
    except ConfigError as error:  # a template that does not load is a bug of dosim's
        raise TemplateError(
            f"the {template!r} template did not load once copied: {error}"
        ) from None
    if config.name != worker or config.compatibility_date != date:
        raise TemplateError(f"{config.path}: name or compatibility_date not set")
    return target
