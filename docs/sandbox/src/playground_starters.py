"""The playground's starters as files: the templates it offers, and the zip it shares.

Loaded into the worker as ``_dosim_playground_starters`` (``_dosim_playground`` calls it
for its ``templates`` and ``zip`` ops). Plain file work, no app: the starters are the
folders of ``examples/`` that ``dosim new`` offers (a wrangler config beside them), read
as the playground shows them (config, ``pyproject.toml``, ``README.md``, ``src/``,
``tests/``), plus a blank app written here. A zip is one of those, renamed, ready for
``pip install dosim`` and ``pytest``.
"""

import io
import re
import zipfile
from pathlib import Path

from dosim.config import CONFIG_FILE_NAMES

EXAMPLES = Path("examples")  # where the worker lays the starters down (files.json)

BLANK_FILES = {
    "wrangler.toml": """name = "blank"
main = "src/entry.py"
compatibility_date = "2025-11-01"
compatibility_flags = ["python_workers"]

[[durable_objects.bindings]]
name = "NOTES"
class_name = "Notes"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Notes"]
""",
    "pyproject.toml": """[project]
name = "blank"
version = "0.1.0"
description = "A Worker and one Durable Object"
readme = "README.md"
requires-python = ">=3.12"
dependencies = []

[dependency-groups]
dev = ["dosim[dev]", "pytest>=8", "workers-py"]

[tool.pytest.ini_options]
testpaths = ["tests"]
""",
    "README.md": """# Blank app

A Worker and one Durable Object to start from: `PUT /<name>` stores the request's body
in the object called `<name>`, `GET /<name>` reads it back.
""",
    "src/entry.py": '''from urllib.parse import urlparse

from workers import DurableObject, Response, WorkerEntrypoint


class Notes(DurableObject):
    """One note, kept in the object's storage."""

    async def write(self, text):
        await self.ctx.storage.put("text", text)

    async def read(self):
        return await self.ctx.storage.get("text") or ""


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        name = urlparse(request.url).path.strip("/") or "default"
        notes = self.env.NOTES.getByName(name)
        if request.method == "PUT":
            await notes.write(await request.text())
            return Response("saved\\n", status=201)
        return Response(await notes.read())
''',
    "tests/test_entry.py": """async def test_a_note_is_read_back(dosim_app):
    await dosim_app.fetch("/shopping", method="PUT", body="milk")
    response = await dosim_app.fetch("/shopping")
    assert await response.text() == "milk"
""",
}


def _app_files(folder):
    """The files of a starter the playground shows: config, pyproject, README, src, tests."""
    files = {}
    for name in (*CONFIG_FILE_NAMES, "pyproject.toml", "README.md"):
        if (folder / name).is_file():
            files[name] = (folder / name).read_text(encoding="utf-8")
    for sub in ("src", "tests"):
        for path in sorted((folder / sub).rglob("*.py")):
            if "__pycache__" not in path.parts:
                files[path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
    return files


def _title_and_summary(readme, fallback):
    title, paragraph = fallback, []
    for line in readme.splitlines():
        text = line.strip()
        if text.startswith("# ") and title == fallback and not paragraph:
            title = text[2:].strip()
        elif text.startswith("#") or (not text and not paragraph):
            continue
        elif not text:
            break
        else:
            paragraph.append(text)
    summary = " ".join(paragraph).split(". ")[0].rstrip(".")
    return title, summary


def _examples_root():
    if EXAMPLES.is_dir():
        return EXAMPLES
    from dosim.dev.templates import templates_root  # stdlib-only module of the dev package

    return templates_root()


def starters():
    """Every starter under ``examples/`` (those ``dosim new`` offers), then ``blank``.

    Returns:
        ``[{"name", "title", "description", "files": {path: text}}]``.
    """
    found = []
    root = _examples_root()
    for folder in sorted(root.iterdir()) if root else []:
        if folder.name.startswith(("_", ".")) or not any(
            (folder / name).is_file() for name in CONFIG_FILE_NAMES
        ):
            continue
        files = _app_files(folder)
        title, summary = _title_and_summary(files.get("README.md", ""), folder.name)
        found.append({"name": folder.name, "title": title, "description": summary, "files": files})
    title, summary = _title_and_summary(BLANK_FILES["README.md"], "blank")
    found.append({"name": "blank", "title": title, "description": summary, "files": BLANK_FILES})
    return found


_UV_SOURCE = re.compile(r"(?m)^dosim\s*=\s*\{[^\n]*\}$")
GITIGNORE = """.venv/
.venv-workers/
python_modules/
__pycache__/
.pytest_cache/
.wrangler/
.dev.vars
.dosim/
"""


def _worker_name(name):
    cleaned = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")[:63].rstrip("-")
    return cleaned or "my-app"


def _renamed(rel, text, name):
    """A file of the zip: the Worker and project named ``name``; dosim from an install."""
    if rel == "wrangler.toml":
        head, sep, rest = text.partition("\n[")
        head = re.sub(r'(?m)^name\s*=\s*"[^"\n]*"', f'name = "{name}"', head, count=1)
        return head + sep + rest
    if rel.startswith("wrangler.json"):
        return re.sub(r'"name"\s*:\s*"[^"\n]*"', f'"name": "{name}"', text, count=1)
    if rel == "pyproject.toml":
        head, sep, rest = text.partition("[project]\n")
        if sep:
            rest = re.sub(r'(?m)^name\s*=\s*"[^"\n]*"', f'name = "{name}"', rest, count=1)
        # The starters point uv at the dosim checkout around them; a zip has none.
        return _UV_SOURCE.sub('# dosim = { path = "/path/to/a/clone/of/dosim" }', head + sep + rest)
    return text


def zip_app(files, name):
    """The app ``files`` make, as a starter in a folder ``<name>/``, zipped.

    The Worker and the project are named after ``name`` (as ``dosim new`` names them), and
    the starters' ``[tool.uv.sources]`` line pointing at the dosim checkout around them is
    commented out: a zip has no checkout around it. A ``.gitignore`` is added if missing.

    Args:
        files: The app's files by relative path.
        name: The folder's and the Worker's name (made a valid Worker name).

    Returns:
        ``(file name, zip bytes)``.

    Raises:
        ValueError: A path leaves the app's folder.
    """
    worker = _worker_name(name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel in sorted(files):
            if rel.startswith("/") or ".." in Path(rel).parts:
                raise ValueError(f"a file path must stay inside the app: {rel!r}")
            archive.writestr(f"{worker}/{rel}", _renamed(rel, files[rel], worker))
        if ".gitignore" not in files:
            archive.writestr(f"{worker}/.gitignore", GITIGNORE)
    return f"{worker}.zip", buffer.getvalue()
