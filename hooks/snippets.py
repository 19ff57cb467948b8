"""MkDocs hook: resolve ``--8<--`` includes from the repository root, wherever mkdocs runs.

``pymdownx.snippets`` reads ``base_path`` relative to the current directory. Pages include
real files of the repository (``examples/counter/worker.py``), so this hook makes the base
path the folder that holds ``mkdocs.yml``.
"""

from __future__ import annotations

from pathlib import Path


def on_config(config):
    """Anchor the snippets base path at the repository root."""
    root = Path(config.config_file_path).parent
    snippets = config.mdx_configs.setdefault("pymdownx.snippets", {})
    snippets["base_path"] = [str(root)]
    return config
