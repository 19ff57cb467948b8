"""MkDocs hook: publish the top-level ``tutorials/`` folder as the site's Tutorials section.

Tutorials live beside ``docs/`` (not inside it) so the test suite and the browser sandbox
can treat them as one set of runnable lessons. This hook adds every ``tutorials/**/*.md``
to the build under ``/tutorials/``, appends a "Tutorials" section to the nav (titles come
from each file's first ``# `` heading; files whose name starts with ``_``, such as
``_template.md``, are left out), and makes ``mkdocs serve`` reload when one changes.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File, Files

TUTORIALS_DIR = "tutorials"
URL_PREFIX = "tutorials"


def _root(config) -> Path:
    return Path(config.config_file_path).parent / TUTORIALS_DIR


def _tutorial_paths(config) -> list[Path]:
    # Files starting with "_" (the template) are not published.
    return sorted(p for p in _root(config).glob("**/*.md") if not p.name.startswith("_"))


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem


def on_config(config):
    """Insert a "Tutorials" section, right after "Get started", into an explicit nav."""
    if config.nav is not None:
        root = _root(config)
        pages = [
            {_title(p): f"{URL_PREFIX}/{p.relative_to(root).as_posix()}"}
            for p in _tutorial_paths(config)
        ]
        # Tutorials go right after "Get started": that is where a new reader goes next.
        config.nav.insert(2, {"Tutorials": pages})
    return config


def on_files(files: Files, config) -> Files:
    """Add every published tutorial to the build, under ``tutorials/``."""
    root = _root(config)
    for path in _tutorial_paths(config):
        files.append(
            File(
                f"{URL_PREFIX}/{path.relative_to(root).as_posix()}",
                src_dir=str(root.parent),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    return files


def on_page_context(context, page, config, nav):
    """Point a tutorial's edit link at ``tutorials/<file>``, not ``docs/tutorials/<file>``."""
    if page.file.src_uri.startswith(f"{URL_PREFIX}/") and config.repo_url:
        page.edit_url = f"{config.repo_url.rstrip('/')}/edit/main/{page.file.src_uri}"
    return context


def on_serve(server, config, builder):
    """Rebuild when a tutorial changes under ``mkdocs serve``."""
    server.watch(str(_root(config)))
    return server
