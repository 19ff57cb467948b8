"""Reloading the app when its files change, keeping storage.

:func:`watch` waits for changes to Python files or the wrangler config under the app's
folder (the state folder, hidden folders, virtualenvs and caches are ignored) and asks
the server to reload. It polls: every :data:`POLL_SECONDS` it lists the app's folders
(``os.scandir``, in a worker thread so requests keep flowing) and compares each source
file's modification time and size with the last listing; a change is reported once the
folder has been quiet for one more listing, so an editor's save in several steps, or a
``git checkout`` of many files, is one reload. Polling needs nothing outside the
standard library and sees every file system the same way (network mounts and
containers' bind mounts, where change notifications often never arrive). An app's
source tree is small, so a listing costs well under a millisecond; in a folder so large
that it does not, the pause between listings grows (:func:`pause_after`) so that
watching never takes more than about 5% of the time.
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

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ..config import CONFIG_FILE_NAMES

__all__ = ["watch", "is_app_source", "snapshot", "changed_files", "pause_after", "POLL_SECONDS"]

POLL_SECONDS = 0.3
"""Seconds between two listings of the app's folders (at least)."""
_MAX_SHARE = 0.05
"""Most of a core's time the listings may take: a slow listing lengthens the pause."""

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


Snapshot = dict[str, tuple[int, int]]
"""Source file path → (modification time in ns, size)."""


def snapshot(app_dir: Path, state_dir: Path | None) -> Snapshot:
    """List the app's source files with their modification time and size.

    Walks ``app_dir`` with :func:`os.scandir`, never entering the folders that
    :func:`is_app_source` ignores (hidden ones, virtualenvs, vendored packages, caches,
    the state folder) nor following links to folders.

    Args:
        app_dir: The app's folder.
        state_dir: The state folder, or ``None``.
    """
    found: Snapshot = {}
    state = str(state_dir) if state_dir is not None else None
    pending = [str(app_dir)]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue  # removed while listed, or unreadable: nothing of it to watch
        if folder != str(app_dir) and any(e.name == _VENV_MARKER for e in entries):
            continue
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not (name.startswith(".") or name in _IGNORED_PARTS or entry.path == state):
                        pending.append(entry.path)
                elif (name.endswith(".py") or name in CONFIG_FILE_NAMES) and not name.startswith(
                    "."
                ):
                    info = entry.stat()
                    found[entry.path] = (info.st_mtime_ns, info.st_size)
            except OSError:
                continue  # removed between the listing and the stat
    return found


def changed_files(before: Snapshot, after: Snapshot) -> set[str]:
    """The files added, removed or modified between two snapshots.

    Args:
        before: The earlier snapshot.
        after: The later one.
    """
    changed = {path for path, stamp in after.items() if before.get(path) != stamp}
    changed.update(path for path in before if path not in after)
    return changed


def _timed_snapshot(app_dir: Path, state_dir: Path | None) -> tuple[Snapshot, float]:
    # Timed in the worker thread: the listing itself, not the wait for the event loop
    # when the server is busy (which must not slow reloads down).
    started = time.perf_counter()
    found = snapshot(app_dir, state_dir)
    return found, time.perf_counter() - started


def pause_after(listing_seconds: float, interval: float = POLL_SECONDS) -> float:
    """Seconds to wait before the next listing, given how long the last one took.

    Args:
        listing_seconds: How long the last listing took.
        interval: The shortest pause.
    """
    return max(interval, listing_seconds * (1 - _MAX_SHARE) / _MAX_SHARE)


async def watch(
    app_dir: Path,
    state_dir: Path | None,
    on_change: Callable[[list[str]], Awaitable[None]],
    stop_event: Any,
    poll_seconds: float | None = None,
) -> None:
    """Call ``await on_change(paths)`` whenever app sources change, until ``stop_event``.

    Changes seen in consecutive listings are grouped into one call, made at the first
    listing that finds nothing new.

    Args:
        app_dir: The folder to watch (recursively).
        state_dir: The state folder, whose files never trigger a reload.
        on_change: Receives the changed paths, sorted.
        stop_event: An ``asyncio.Event``; setting it ends the watch.
        poll_seconds: Seconds between listings; :data:`POLL_SECONDS` by default.
    """
    interval = POLL_SECONDS if poll_seconds is None else poll_seconds
    app_dir, state = app_dir.resolve(), state_dir.resolve() if state_dir is not None else None
    current, took = await asyncio.to_thread(_timed_snapshot, app_dir, state)
    batch: set[str] = set()
    while not stop_event.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop_event.wait(), pause_after(took, interval))
        if stop_event.is_set():
            return
        latest, took = await asyncio.to_thread(_timed_snapshot, app_dir, state)
        fresh = changed_files(current, latest)
        current = latest
        if fresh:
            batch |= fresh  # still changing: wait for a quiet listing
            continue
        if batch:
            changed, batch = sorted(batch), set()
            await on_change(changed)
