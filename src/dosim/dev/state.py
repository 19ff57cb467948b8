"""Where ``dosim dev`` keeps state, and reopening stored objects at startup.

Layout (the one ``App.database_path`` gives, like ``wrangler dev``'s
``.wrangler/state/v3/do``)::

    <app folder>/.dosim/state/<worker name>-<ClassName>/<object id hex>.sqlite

plus the ``-wal``/``-shm`` files SQLite keeps next to each database, and
``names.json`` (see :mod:`dosim.dev.names`).

The simulator schedules an object's alarm when it opens the object's database. After a
restart nothing has opened them yet, so :func:`restore_objects` opens the host of every
stored object: pending alarms are scheduled again (a past-due one runs at the next clock
tick, as on Cloudflare, where an alarm missed while the machine was down runs as soon as
possible), and the inspector lists the objects. Opening does not construct instances;
constructors run on the first event, as usual.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["STATE_DIR", "default_state_dir", "restore_objects", "RestoreReport"]

STATE_DIR = Path(".dosim") / "state"
"""The state folder, relative to the app's folder."""

log = logging.getLogger("dosim.dev")


def default_state_dir(app_dir: str | Path) -> Path:
    """Return ``<app_dir>/.dosim/state``.

    Args:
        app_dir: The folder holding ``wrangler.toml``.
    """
    return Path(app_dir) / STATE_DIR


@dataclass
class RestoreReport:
    """What :func:`restore_objects` found.

    Attributes:
        objects: Stored objects reopened.
        alarms: How many of them have a pending alarm.
        skipped: Files that are not databases of a bound namespace's objects.
    """

    objects: int = 0
    alarms: int = 0
    skipped: int = 0


def restore_objects(app: Any) -> RestoreReport:
    """Open every object stored under ``app.persist_to`` so its alarm is scheduled again.

    Args:
        app: A :class:`dosim.App` built with ``persist_to``.

    Returns:
        Counts of objects, alarms and skipped files.
    """
    report = RestoreReport()
    if app.persist_to is None:
        return report
    for runtime in app.namespaces.values():
        folder = Path(app.persist_to) / runtime.unique_key
        if not folder.is_dir():
            continue
        for file in sorted(folder.glob("*.sqlite")):
            try:
                object_id = runtime.ids.from_string(file.stem)
            except TypeError:
                report.skipped += 1
                log.warning("dosim dev: %s is not an object of %s; ignored", file, runtime.binding)
                continue
            host = runtime.host_for(object_id)
            database = host.database  # opening it schedules the stored alarm
            report.objects += 1
            if database.read_alarm() is not None:
                report.alarms += 1
    return report
