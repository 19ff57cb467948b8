"""Reloading the app when its files change, keeping storage.

:func:`watch` waits for changes to Python files or the wrangler config under the app's
folder (the state folder, hidden folders, virtualenvs and caches are ignored) and asks
the server to reload.
:func:`dosim.loader.forget_app_modules` makes the next ``App.from_config`` import the app's
code afresh: it drops the app's own modules from :data:`sys.modules` (so ``from helpers
import x`` in the main module re-imports ``helpers``) and the simulator's cached main
module.

The server then builds a new :class:`dosim.App` from the config with the same
``persist_to`` and swaps it in (see :meth:`dosim.dev.server.DevServer.reload`).
Storage is untouched: the new app reopens the same SQLite files. Objects' in-memory
state is gone, as after a deploy on Cloudflare (where a code update resets objects).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ..config import CONFIG_FILE_NAMES

__all__ = ["watch", "is_app_source"]

log = logging.getLogger("dosim.dev")

_IGNORED_PARTS = frozenset(
    {
        "__pycache__",
        "venv",
        "python_modules",
        "node_modules",
    }
)
"""Folder names never watched (besides hidden ones such as ``.venv``, ``.venv-workers``,
``.dosim``, ``.wrangler`` and ``.git``): ``pip install`` or ``pywrangler sync`` writing
thousands of ``.py`` files there must not reload the app once per batch."""

_VENV_MARKER = "pyvenv.cfg"
"""The file every virtualenv has at its root (PEP 405), whatever the folder's name."""


def _ignored_folder(folder: Path, name: str) -> bool:
    """Whether files under ``folder`` (a folder inside the app) never trigger a reload."""
    if name.startswith(".") or name in _IGNORED_PARTS:
        return True
    return (folder / _VENV_MARKER).is_file()


def is_app_source(path: str | Path, app_dir: Path, state_dir: Path | None) -> bool:
    """Tell whether a changed file should trigger a reload.

    Args:
        path: The changed file.
        app_dir: The app's folder.
        state_dir: The state folder (never a trigger), or ``None``.

    Returns:
        True for ``.py`` files and wrangler config files of the app; false under
        hidden folders, virtualenvs (any folder holding ``pyvenv.cfg``, or named
        ``venv``), ``python_modules``, ``node_modules`` and ``__pycache__``.
    """
    file = Path(path)
    if file.suffix != ".py" and file.name not in CONFIG_FILE_NAMES:
        return False
    try:
        relative = file.resolve().relative_to(app_dir)
    except ValueError:
        return False
    if state_dir is not None and file.resolve().is_relative_to(state_dir):
        return False
    if file.name.startswith("."):
        return False  # editor temporaries; a module name cannot start with a dot anyway
    folder = app_dir
    for name in relative.parts[:-1]:
        folder = folder / name
        if _ignored_folder(folder, name):
            return False
    return True


async def watch(
    app_dir: Path,
    state_dir: Path | None,
    on_change: Callable[[list[str]], Awaitable[None]],
    stop_event: Any,
    debounce_ms: int = 300,
) -> None:
    """Call ``await on_change(paths)`` whenever app sources change, until ``stop_event``.

    Args:
        app_dir: The folder to watch (recursively).
        state_dir: The state folder, whose files never trigger a reload.
        on_change: Receives the changed paths.
        stop_event: An ``asyncio.Event``; setting it ends the watch.
        debounce_ms: Changes within this many ms are grouped into one reload.
    """
    from watchfiles import awatch

    def keep(change: Any, path: str) -> bool:
        return is_app_source(path, app_dir, state_dir)

    async for changes in awatch(
        app_dir,
        watch_filter=keep,
        stop_event=stop_event,
        debounce=debounce_ms,
        step=50,
    ):
        await on_change(sorted({path for _, path in changes}))
