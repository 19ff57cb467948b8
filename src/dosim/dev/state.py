"""Where ``dosim dev`` keeps state, and migrating it at startup.

Layout (the one ``App.database_path`` gives, like ``wrangler dev``'s
``.wrangler/state/v3/do``)::

    <app folder>/.dosim/state/<worker name>-<ClassName>/<object id hex>.sqlite

plus the ``-wal``/``-shm`` files SQLite keeps next to each database, and
``names.json`` (see :mod:`dosim.dev.names`).

The simulator schedules an object's alarm when it opens the object's database. After a
restart nothing has opened them yet, so the server calls
:meth:`dosim.App.open_stored_objects`, which opens every stored object: pending alarms are
scheduled again (a past-due one runs at the next clock tick, as on Cloudflare, where an
alarm missed while the machine was down runs as soon as possible), and the inspector
lists the objects. Opening does not construct instances;
constructors run on the first event, as usual.

An object file SQLite finds damaged (or not a database) does not stop the server:
:func:`set_aside` moves it, with its ``-wal``/``-shm`` files, to
``<state>/corrupt/<UTC time>/<worker>-<ClassName>/`` and the server logs where it went;
that object starts empty and the others are served.

At startup :func:`apply_local_migrations` applies the config's pending
``renamed_classes`` / ``deleted_classes`` / ``transferred_classes`` to these folders (the
tags already applied are kept in ``migrations.json``), so a rename can be rehearsed on
real local data before deploying. Only these folder moves live here: the migration model,
its rules and the deploy check are in :mod:`dosim.migrations`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from ..ids import IdFactory

__all__ = [
    "STATE_DIR",
    "APPLIED_FILE",
    "default_state_dir",
    "apply_local_migrations",
    "CORRUPT_DIR",
    "set_aside",
]

STATE_DIR = Path(".dosim") / "state"
"""The state folder, relative to the app's folder."""

log = logging.getLogger("dosim.dev")


def default_state_dir(app_dir: str | Path) -> Path:
    """Return ``<app_dir>/.dosim/state``.

    Args:
        app_dir: The folder holding ``wrangler.toml``.
    """
    return Path(app_dir) / STATE_DIR


# -- damaged object files --------------------------------------------------------------------
CORRUPT_DIR = "corrupt"
"""The folder under the state folder where damaged object files are moved."""


def set_aside(file: str | Path, state_dir: str | Path, *, now: float | None = None) -> Path:
    """Move a damaged object file and its ``-wal``/``-shm``/``-journal`` out of the way.

    Args:
        file: ``<state>/<worker>-<ClassName>/<id>.sqlite``.
        state_dir: The state folder.
        now: The time to name the folder after (seconds since the epoch; default now).

    Returns:
        Where the database file went:
        ``<state>/corrupt/<YYYYmmdd-HHMMSS>/<worker>-<ClassName>/<id>.sqlite``.
    """
    file = Path(file)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    target = Path(state_dir) / CORRUPT_DIR / stamp / file.parent.name
    target.mkdir(parents=True, exist_ok=True)
    for suffix in _DB_SUFFIXES:
        part = file.parent / (file.name + suffix)
        if part.exists():
            os.replace(part, target / part.name)
    return target / file.name


# -- migrations on local state ---------------------------------------------------------------
APPLIED_FILE = "migrations.json"
"""The file in the state folder that remembers the migration tags already applied."""

_DB_SUFFIXES = ("", "-wal", "-shm", "-journal")


def _applied_tags(state_dir: Path) -> set[str]:
    path = state_dir / APPLIED_FILE
    if not path.is_file():
        return set()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(tag) for tag in data.get("applied", [])}
    except (OSError, ValueError, TypeError, AttributeError):
        log.warning("dosim dev: could not read %s; treating every migration as pending", path)
        return set()


def _save_applied(state_dir: Path, worker: str, tags: list[str]) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / APPLIED_FILE
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps({"worker": worker, "applied": tags}, indent=1), "utf-8")
    os.replace(temporary, path)


def _names_by_hex(state_dir: Path) -> dict[str, str]:
    path = state_dir / "names.json"
    try:
        book = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found: dict[str, str] = {}
    for entries in book.values() if isinstance(book, dict) else ():
        if isinstance(entries, dict):
            found.update({str(k): str(v) for k, v in entries.items()})
    return found


def _rekey_names(state_dir: Path, renamed: dict[str, str]) -> None:
    """Point names.json entries at the ids objects have after a move."""
    path = state_dir / "names.json"
    if not renamed or not path.is_file():
        return
    try:
        book = json.loads(path.read_text(encoding="utf-8"))
        for entries in book.values():
            for old, new in renamed.items():
                if old in entries:
                    entries[new] = entries.pop(old)
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(book, indent=1, sort_keys=True), "utf-8")
        os.replace(temporary, path)
    except (OSError, ValueError, TypeError, AttributeError) as error:
        log.warning("dosim dev: could not update object names after a migration: %s", error)


def _move_namespace(
    state_dir: Path, source_key: str, target_key: str, names: dict[str, str]
) -> tuple[int, list[str], dict[str, str]]:
    """Move every object of ``source_key`` to ``target_key``, re-deriving ids.

    dosim derives a namespace's id key from ``<worker>-<Class>``, so an object keeps its
    identity across the move by getting the id the new namespace gives its name (named
    objects, names from names.json) or its first 16 bytes (other ids,
    :meth:`~dosim.ids.IdFactory.rekey`).

    Returns:
        (objects moved, files left in place because the target exists, old → new hex).
    """
    source, target = state_dir / source_key, state_dir / target_key
    factory = IdFactory(target_key)
    moved, kept, renamed = 0, [], {}
    target.mkdir(parents=True, exist_ok=True)
    for database in sorted(source.glob("*.sqlite")):
        old_hex = database.stem
        name = names.get(old_hex)
        try:
            if name is not None:
                new_hex = factory.from_name(name).toString()
            else:
                new_hex = factory.rekey(old_hex).toString()
        except TypeError:
            new_hex = old_hex  # not an id: keep the file name
        if (target / f"{new_hex}.sqlite").exists():
            kept.append(database.name)
            continue
        for suffix in _DB_SUFFIXES:
            part = source / f"{old_hex}.sqlite{suffix}"
            if part.exists():
                os.replace(part, target / f"{new_hex}.sqlite{suffix}")
        moved += 1
        if new_hex != old_hex:
            renamed[old_hex] = new_hex
    if not any(source.iterdir()):
        source.rmdir()
    return moved, kept, renamed


def apply_local_migrations(config: Any, state_dir: str | Path) -> list[str]:
    """Apply pending ``renamed_classes`` / ``deleted_classes`` / ``transferred_classes``.

    Local state lives in ``<state>/<worker>-<Class>/``. For every migration whose tag
    is not yet in ``<state>/migrations.json``, in file order (and inside one entry in
    wrangler's order: deletes, then renames, then transfers):

    * ``deleted_classes``: ``<worker>-<Class>`` is removed with all its objects;
    * ``renamed_classes`` ``{from, to}``: objects move from ``<worker>-<from>`` to
      ``<worker>-<to>`` (ids re-derived, see :func:`_move_namespace`);
    * ``transferred_classes`` ``{from, from_script, to}``: objects move from
      ``<from_script>-<from>`` to ``<worker>-<to>``, if that folder is in this state
      folder (as when both Workers share ``--persist-to``);
    * ``new_classes`` / ``new_sqlite_classes`` need nothing locally.

    Then the tag is remembered. Each step is logged.

    Args:
        config: The :class:`dosim.config.AppConfig`.
        state_dir: The state folder.

    Returns:
        The log lines, one per thing done (empty when nothing was pending).
    """
    state = Path(state_dir)
    applied = _applied_tags(state)
    pending = [m for m in config.migrations if m.tag not in applied]
    if not pending:
        return []
    worker = config.name
    tags = [m.tag for m in config.migrations]
    done = [tag for tag in tags if tag in applied] + sorted(applied - set(tags))
    if not state.is_dir() or not any(p.is_dir() for p in state.iterdir()):
        # A fresh state folder: nothing stored yet, every migration counts as applied.
        _save_applied(state, worker, done + [m.tag for m in pending])
        return []
    names = _names_by_hex(state)
    lines: list[str] = []
    renamed_ids: dict[str, str] = {}

    def move(source_key: str, target_key: str, what: str, tag: str) -> None:
        if not (state / source_key).is_dir():
            lines.append(f"migration {tag}: {what}: no local objects in {source_key}/")
            return
        moved, kept, renamed = _move_namespace(state, source_key, target_key, names)
        renamed_ids.update(renamed)
        line = f"migration {tag}: {what}: moved {moved} object(s) {source_key}/ → {target_key}/"
        if kept:
            line += f"; {len(kept)} left in {source_key}/ (already in {target_key}/)"
        lines.append(line)

    for migration in pending:
        tag = migration.tag
        for name in migration.deleted_classes:
            folder = state / f"{worker}-{name}"
            if folder.is_dir():
                count = len(list(folder.glob("*.sqlite")))
                shutil.rmtree(folder)
                lines.append(f"migration {tag}: deleted {name}: removed {count} object(s)")
            else:
                lines.append(f"migration {tag}: deleted {name}: no local objects")
        for old, new in migration.renamed_classes:
            move(f"{worker}-{old}", f"{worker}-{new}", f"renamed {old} → {new}", tag)
        for old, script, new in migration.transferred_classes:
            what = f"transferred {old} of {script} → {new}"
            move(f"{script}-{old}", f"{worker}-{new}", what, tag)
        done.append(tag)
    _rekey_names(state, renamed_ids)
    _save_applied(state, worker, done)
    return lines
