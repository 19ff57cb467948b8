"""A bound on how many object databases keep their files open at once.

A file-backed object database holds three file descriptors while open (the database, its
``-wal`` and its ``-shm``). An app with thousands of objects on disk would run out of
them, so the app keeps the open ones in a :class:`DatabasePool`: when more than
:attr:`DatabasePool.limit` are open, the least recently used ones that nothing needs are
closed (:meth:`dosim.storage.ObjectDatabase.release`), and reopened on their next use.

"Nothing needs it" is decided by the owner's release function: the object host refuses
while an event runs in the object, while it has background tasks or standard WebSockets,
and the database refuses while a transaction or savepoint is open, writes are pending or
a cursor is still being read. So the limit is soft: it is exceeded while more objects
than that are busy at the same moment, and met again as they come to rest. Closing
never loses a write: only a database with nothing uncommitted is closed, and a commit is
on disk when it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    import resource
except ImportError:  # pragma: no cover - Windows, Pyodide
    resource = None  # type: ignore[assignment]

__all__ = ["DatabasePool", "default_limit"]

_FDS_PER_DATABASE = 3
_RESERVED_FDS = 64
_MIN_LIMIT, _MAX_LIMIT = 8, 256


def default_limit() -> int:
    """How many databases to keep open: a sixth of the free file descriptors, 8 to 256.

    Reads the process's soft ``RLIMIT_NOFILE``, keeps 64 descriptors for everything else
    (sockets, the app's own files) and allows each database twice its three files, so
    that busy objects above the limit still fit. Where the limit cannot be read, 64.
    """
    if resource is None:  # pragma: no cover - Windows, Pyodide
        return 64
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return _MAX_LIMIT
    spare = (soft - _RESERVED_FDS) // (2 * _FDS_PER_DATABASE)
    return max(_MIN_LIMIT, min(_MAX_LIMIT, spare))


class DatabasePool:
    """The open file-backed databases of one app, least recently used first.

    Args:
        limit: How many may stay open once the extra ones are at rest (at least 1).

    Attributes:
        limit: See above.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(1, int(limit))
        self._open: dict[Any, Callable[[], bool]] = {}

    def __len__(self) -> int:
        return len(self._open)

    def __contains__(self, database: Any) -> bool:
        return database in self._open

    @property
    def over(self) -> bool:
        """Whether more databases are open than :attr:`limit`."""
        return len(self._open) > self.limit

    def opened(self, database: Any, release: Callable[[], bool]) -> None:
        """Note that ``database`` opened its file; close others if over the limit.

        Args:
            database: The database (any hashable key).
            release: Closes it if nothing needs it; returns whether it did.
        """
        self._open.pop(database, None)
        self._open[database] = release
        if len(self._open) > self.limit:
            self.trim(keep=database)

    def used(self, database: Any) -> None:
        """Mark ``database`` as the most recently used (an event reached its object).

        Args:
            database: A database noted by :meth:`opened`; others are ignored.
        """
        release = self._open.pop(database, None)
        if release is not None:
            self._open[database] = release

    def closed(self, database: Any) -> None:
        """Forget ``database`` (it closed its file).

        Args:
            database: A database noted by :meth:`opened`; others are ignored.
        """
        self._open.pop(database, None)

    def trim(self, keep: Any = None) -> int:
        """Close least recently used databases at rest until at most :attr:`limit` are open.

        Args:
            keep: A database not to close (the one being opened).

        Returns:
            How many were closed.
        """
        closed = 0
        for database, release in list(self._open.items()):
            if len(self._open) <= self.limit:
                break
            if database is keep or database not in self._open:
                continue
            if release():
                self._open.pop(database, None)
                closed += 1
        return closed
