"""MkDocs hook: the Examples gallery, one page per starter app under ``examples/``.

Every folder ``examples/<app>/`` that holds a ``README.md`` becomes the page
``/examples/<app>/``: the README, then each source file of the app as a code block, by
its path in the app (the entry module that ``main`` names first, ``src/entry.py`` in the
layout of Cloudflare's Python templates or ``worker.py`` in a single-folder app, then the
other modules, ``wrangler.toml``, ``pyproject.toml``, the tests, anything else).
The files are read when the site is built, so the page always shows what is in the
repository. ``/examples/`` lists the apps. Nothing is hard-coded: an app added later
appears on the next build (``mkdocs serve`` watches ``examples/``).

The code blocks on these pages are whole modules, tested by each app's own
``tests/test_<app>.py``; ``tests/test_docs.py`` runs only the ```` ```py ```` blocks of the
READMEs (it reads ``examples/*/README.md`` itself) and never sees these generated pages.
Folders whose name starts with ``_`` or ``.`` are left out.

Each page also has an "Open in sandbox" section: one ```` ```py sandbox="run" ```` block
that ``hooks/sandbox.py`` turns into a live editor (the tutorials' machinery; the example
apps are in the browser's file system through ``files.json``). Its code is the app's demo,
``examples/_sandbox/<app>.py``: a script with top-level ``await`` that loads the app with
``dosim.App.from_config("examples/<app>")`` and exercises its objects as a reader would
want to see them (the counter counts, the chat room broadcasts to two clients, the rate
limiter refuses and refills...), each ``print`` followed by its output as ``#>`` lines.
The demos live outside the apps' folders (a ``.py`` file at an app's root is not allowed,
and ``dosim new`` copies the folder) and in an ``_`` folder, which this hook and the
layout tests pass over. Leading ``# ruff:`` / ``# fmt:`` lines of a demo (top-level
``await`` and the ``#>`` lines are not plain Python style) are left out of the page. An
app without a demo gets a generic driver built here (``sandbox_snippet``): ``GET`` its
README's first route, print the status and the body's start, the bindings and
``app.trace.kinds()``. The block exists only in the build, so ``tests/test_docs.py`` does
not collect it; ``tests/test_gallery_demos.py`` runs every demo on CPython, as the sandbox
runs it, against its ``#>`` lines, and ``tests/test_sandbox_browser.py`` runs the pages'
blocks in Chromium.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # MkDocs is imported where the build needs it: the helpers run without it
    from mkdocs.structure.files import Files

EXAMPLES_DIR = "examples"
URL_PREFIX = "examples"
SECTION = "Examples"
COLLAPSE_AFTER_LINES = 150  # longer helper files (and every test file) are shown folded

_LANGUAGES = {
    ".py": "python",
    ".toml": "toml",
    ".json": "json",
    ".html": "html",
    ".js": "javascript",
    ".mjs": "javascript",
    ".css": "css",
    ".sql": "sql",
    ".txt": "text",
    ".cfg": "ini",
    ".ini": "ini",
    ".yaml": "yaml",
    ".yml": "yaml",
}
_SKIP_NAMES = {"README.md", "__pycache__"}
# Folders of local state and installed packages, never part of the app's source.
_SKIP_DIRS = {"__pycache__", "python_modules", "node_modules"}
_SHOWN_DOTFILES = {".gitignore"}
# The "Open in sandbox" code of app <app>: examples/_sandbox/<app>.py, when it exists.
SANDBOX_DIR = "_sandbox"
# Leading lines of a demo that speak to the repository's linter and formatter, not to readers.
_TOOL_DIRECTIVE = re.compile(r"^#\s*(?:ruff|fmt):")
SANDBOX_BODY_CHARS = 200
# The playground page (docs/playground.md) as a link from the gallery's pages (all in
# examples/); MkDocs checks the link and keeps its query.
PLAYGROUND_PAGE = "../playground.md"
_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)")
_FILE_ITEM = re.compile(r"^(\s*[-*]\s+)`([^`]+)`")


def _root(config) -> Path:
    return Path(config.config_file_path).parent


def _apps(config) -> list[Path]:
    return starter_apps(_root(config) / EXAMPLES_DIR)


def starter_apps(examples: Path) -> list[Path]:
    """The apps the gallery shows: folders of ``examples`` with a README, not ``_``/``.``."""
    if not examples.is_dir():
        return []
    return sorted(
        path
        for path in examples.iterdir()
        if path.is_dir() and not path.name.startswith(("_", ".")) and (path / "README.md").is_file()
    )


def _main(app: Path) -> str | None:
    """The entry module's path in the app (``main`` of its wrangler config), if it loads."""
    try:
        from dosim.config import load_config

        return load_config(app).main.relative_to(app.resolve()).as_posix()
    except Exception:  # noqa: BLE001 - a broken config still gets a page, in default order
        return None


def _order(rel: str, main: str | None) -> tuple[int, str]:
    name = rel.rsplit("/", 1)[-1]
    if rel == main or (main is None and name == "worker.py"):
        rank = 0
    elif name.startswith("test_") or name == "conftest.py":
        rank = 4
    elif name.endswith(".py"):
        rank = 1
    elif name == "wrangler.toml" or name.startswith("wrangler.json"):
        rank = 2
    elif name == "pyproject.toml":
        rank = 3
    else:
        rank = 5
    return rank, rel


def _source_files(app: Path) -> list[str]:
    """The app's files to show, as paths in the app (``src/entry.py``), in order.

    Text files of the app's folder and its subfolders, not hidden ones (``.gitignore``
    excepted), nor local state and installed packages.
    """
    shown = []
    for path in app.rglob("*"):
        rel = path.relative_to(app)
        if any(part.startswith(".") or part in _SKIP_DIRS for part in rel.parts[:-1]):
            continue
        if not path.is_file() or path.name in _SKIP_NAMES:
            continue
        if path.name.startswith(".") and path.name not in _SHOWN_DOTFILES:
            continue
        if path.suffix not in _LANGUAGES and path.name not in {"wrangler.toml", ".gitignore"}:
            continue
        try:
            path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        shown.append(rel.as_posix())
    main = _main(app)
    return sorted(shown, key=lambda rel: _order(rel, main))


def _title(readme: str, fallback: str) -> str:
    for line in readme.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def _summary(readme: str) -> str:
    """The README's first paragraph after the title, on one line."""
    paragraph: list[str] = []
    for line in readme.splitlines():
        if line.startswith("#") and not paragraph:
            continue
        if not line.strip():
            if paragraph:
                break
            continue
        paragraph.append(line.strip())
    return " ".join(paragraph)


def _anchor(name: str) -> str:
    """The id MkDocs' toc extension gives the heading ``### name``."""
    return re.sub(r"[^\w\- ]", "", name).strip().lower().replace(" ", "-")


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=0)
    return "`" * max(3, longest + 1)


def _describe(rel: str, main: str | None) -> str:
    name = rel.rsplit("/", 1)[-1]
    if rel == main:
        return "The Worker and its Durable Object classes: what `main` in `wrangler.toml` names."
    if name == "wrangler.toml":
        return "The configuration — bindings, migrations, variables — read by dosim and wrangler."
    if name == "pyproject.toml":
        return (
            "The project: the packages the Worker imports (`pywrangler sync` vendors them) and "
            "the `dev` group for working on it locally (dosim, pytest, pywrangler)."
        )
    if name == ".gitignore":
        return "What pywrangler, wrangler and `dosim dev` write in the folder, kept out of git."
    if name.startswith("test_"):
        return "The tests: run them with `pytest` in the app's folder."
    return ""


def _rewrite_links(readme: str, app: str, shown: set[str], repo_url: str | None) -> str:
    """Point the README's relative links at this page's sections or at the repository."""

    def fix(match: re.Match[str]) -> str:
        text, target = match.groups()
        if re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", target):
            return match.group(0)
        path, _, fragment = target.partition("#")
        if path in shown:
            return f"[{text}](#{_anchor(path)})"
        if repo_url:
            full = posixpath.normpath(posixpath.join(EXAMPLES_DIR, app, path))
            url = f"{repo_url.rstrip('/')}/blob/main/{full}"
            return f"[{text}]({url}{'#' + fragment if fragment else ''})"
        return text

    out = []
    for line in _LINK.sub(fix, readme).splitlines():
        # "- `src/entry.py` — ..." in the README's file list links to the file below.
        item = _FILE_ITEM.match(line)
        if item and item.group(2) in shown:
            name = item.group(2)
            line = f"{item.group(1)}[`{name}`](#{_anchor(name)}){line[item.end():]}"
        out.append(line)
    return "\n".join(out)


_GET_ROUTE = re.compile(r"^\|\s*`GET(?:`/`POST)? (/[^`\s?]*)")


def first_documented_get(app: Path) -> str:
    """The first plain ``GET`` route in the app's README route table, placeholders filled.

    WebSocket routes (rows that mention an upgrade) are passed over; ``<name>``-style
    placeholders become ``demo``. Falls back to ``/``.
    """
    readme = app / "README.md"
    if not readme.is_file():
        return "/"
    for line in readme.read_text(encoding="utf-8").splitlines():
        match = _GET_ROUTE.match(line)
        if match and "upgrade" not in line.lower() and "websocket" not in line.lower():
            return re.sub(r"<[^>]+>", "demo", match.group(1))
    return "/"


def demo_path(app: Path) -> Path:
    """Where the demo of ``app`` is: ``examples/_sandbox/<app>.py`` (it may not exist)."""
    return app.parent / SANDBOX_DIR / f"{app.name}.py"


def demo_code(path: Path) -> str:
    """A demo's code as the page shows it: without its leading tool directives."""
    lines = path.read_text(encoding="utf-8").splitlines()
    while lines and (_TOOL_DIRECTIVE.match(lines[0]) or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines).rstrip("\n")


def sandbox_snippet(app: Path) -> str:
    """The code of the gallery page's "Open in sandbox" block for ``app``.

    The app's demo, ``examples/_sandbox/<app>.py``, when there is one (top-level
    ``await`` allowed, as in every sandbox; see :func:`demo_code`). Otherwise a generic
    driver, the same for every app: load it from its folder, send ``GET`` to the first
    route its README documents and print the status and the start of the body, then
    list its bindings and the kinds of the events the request caused.
    """
    demo = demo_path(app)
    if demo.is_file():
        return demo_code(demo)
    where = f"{EXAMPLES_DIR}/{app.name}"
    route = first_documented_get(app)
    return "\n".join(
        [
            "import dosim",
            "",
            f"# The app in {where}/, loaded from its wrangler.toml.",
            f'app = dosim.App.from_config("{where}")',
            "",
            "# One HTTP request through the app's Worker (a route its README documents).",
            f'response = await app.fetch("{route}")',
            'print("status:", response.status)',
            f"print((await response.text())[:{SANDBOX_BODY_CHARS}])",
            "",
            "# What wrangler.toml binds: Durable Object namespaces and [vars].",
            "for name, value in sorted(vars(app.env).items()):",
            "    if name in app.namespaces:",
            '        value = f"Durable Object namespace ({app.namespaces[name].cls.__name__})"',
            '    print(f"binding {name}: {value}")',
            "",
            "# What happened, as the simulator recorded it.",
            'print("trace:", app.trace.kinds())',
        ]
    )


def render_sandbox(app: Path) -> list[str]:
    """The "Open in sandbox" section: a runnable block (hooks/sandbox.py makes the editor)."""
    code = sandbox_snippet(app)
    fence = _fence(code)
    intro = [
        "Run the app in your browser: Python (Pyodide) and dosim run in the page, with the",
        f"files of `{EXAMPLES_DIR}/{app.name}/` shown below.",
    ]
    if demo_path(app).is_file():
        intro += [
            "The code below drives the app's objects through its Worker; each `#>` line",
            "is what the `print` above it shows. Press **Run**, then edit and run again;",
            "the Objects panel under the output shows what the app stored.",
        ]
    else:
        intro += [
            "Edit the code and press **Run** to send other requests; the Objects panel",
            "under the output shows what the app stored.",
        ]
    return [
        "## Open in sandbox",
        "",
        *intro,
        "",
        f'{fence}py sandbox="run"',
        code,
        fence,
        "",
        *render_playground_link(app),
    ]


def playground_url(app: Path) -> str:
    """The playground with ``app`` as its template, relative to the app's gallery page."""
    return f"{PLAYGROUND_PAGE}?template={app.name}"


def render_playground_link(app: Path) -> list[str]:
    """The "Open in playground" line: the whole app, editable and testable, in the page."""
    return [
        f"[Open in playground]({playground_url(app)}){{ .md-button }} edits the app's files,",
        "sends it requests, opens WebSockets and runs its tests, all in your browser.",
        "",
    ]


def render_app(app: Path, repo_url: str | None = None) -> str:
    """The Markdown of the gallery page of ``app``."""
    readme = (app / "README.md").read_text(encoding="utf-8")
    files = _source_files(app)
    shown = set(files)
    parts = [_rewrite_links(readme, app.name, shown, repo_url).rstrip(), ""]
    parts += render_sandbox(app)
    where = f"`{EXAMPLES_DIR}/{app.name}/`"
    parts += [
        "## Source",
        "",
        f"The files below are read from {where} when the site is built: they are the app,",
        "not a copy of it. Copy the folder to start your own.",
        "",
    ]
    main = _main(app)
    for rel in files:
        path = app / rel
        name = path.name
        text = path.read_text(encoding="utf-8").rstrip("\n")
        fence = _fence(text)
        language = _LANGUAGES.get(path.suffix, "toml" if name == "wrangler.toml" else "text")
        parts += [f"### {rel}", ""]
        description = _describe(rel, main)
        if description:
            parts += [description, ""]
        block = [f'{fence}{language} title="{rel}"', text, fence]
        lines = text.count("\n") + 1
        leading = rel == main or name == "wrangler.toml"
        if name.startswith("test_") or (lines > COLLAPSE_AFTER_LINES and not leading):
            # Long files and tests fold away: the page is for reading the app first.
            parts += [f'??? example "{rel} ({lines} lines)"', ""]
            parts += [f"    {line}" if line else "" for line in "\n".join(block).splitlines()]
            parts += [""]
        else:
            parts += [*block, ""]
    return "\n".join(parts)


def render_index(apps: list[Path]) -> str:
    """The Markdown of the gallery's index page."""
    lines = [
        "# Examples",
        "",
        "Starter apps, each a complete Worker with its Durable Objects, its `wrangler.toml`",
        "and its tests. Every page shows the app's README and its files as they are in the",
        f"repository's `{EXAMPLES_DIR}/` folder, laid out as Cloudflare's Python templates",
        "are. Start your own app from one with `dosim new my-app --template <app>`; run its",
        "tests with `pytest` in its folder; deploy it unchanged with `pywrangler`.",
        "",
        '<div class="grid cards" markdown>',
        "",
    ]
    for app in apps:
        readme = (app / "README.md").read_text(encoding="utf-8")
        title = _title(readme, app.name)
        lines += [
            f"-   **[{title}]({app.name}.md)**",
            "",
            "    ---",
            "",
            f"    {_summary(readme)}",
            "",
            f"    `{EXAMPLES_DIR}/{app.name}/` · [Open in sandbox]({app.name}.md#open-in-sandbox)"
            f" · [Open in playground]({playground_url(app)})",
            "",
        ]
    lines += ["</div>", ""]
    return "\n".join(lines)


def on_config(config):
    """Insert an "Examples" section, before "How-to guides" (or at the end), into the nav."""
    if config.nav is None:
        return config
    apps = _apps(config)
    if not apps:
        return config
    pages: list = [{"All examples": f"{URL_PREFIX}/index.md"}]
    for app in apps:
        readme = (app / "README.md").read_text(encoding="utf-8")
        pages.append({_title(readme, app.name): f"{URL_PREFIX}/{app.name}.md"})
    titles = [next(iter(item)) if isinstance(item, dict) else None for item in config.nav]
    where = titles.index("How-to guides") if "How-to guides" in titles else len(config.nav)
    config.nav.insert(where, {SECTION: pages})
    return config


def on_files(files: Files, config) -> Files:
    """Add the generated pages (``examples/index.md`` and one per app) to the build."""
    from mkdocs.structure.files import File

    apps = _apps(config)
    if not apps:
        return files
    files.append(File.generated(config, f"{URL_PREFIX}/index.md", content=render_index(apps)))
    for app in apps:
        files.append(
            File.generated(
                config,
                f"{URL_PREFIX}/{app.name}.md",
                content=render_app(app, config.repo_url),
            )
        )
    return files


def on_page_context(context, page, config, nav):
    """Point a gallery page's edit link at the app's README (the index has none)."""
    src = page.file.src_uri
    if src == f"{URL_PREFIX}/index.md":
        page.edit_url = None
    elif src.startswith(f"{URL_PREFIX}/") and src.endswith(".md") and config.repo_url:
        app = posixpath.splitext(posixpath.basename(src))[0]
        if (_root(config) / EXAMPLES_DIR / app / "README.md").is_file():
            readme = f"{EXAMPLES_DIR}/{app}/README.md"
            page.edit_url = f"{config.repo_url.rstrip('/')}/edit/main/{readme}"
    return context
