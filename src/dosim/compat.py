"""Which platform behaviour an app gets from its compatibility date and flags.

Cloudflare changes behaviour behind compatibility dates; dosim follows the app's
``compatibility_date`` and ``compatibility_flags`` (from ``wrangler.toml``, or the
arguments of :class:`dosim.App`) where it models a difference:

===============================  =====================  ===================================
behaviour                        from date              flags (on / off)
===============================  =====================  ===================================
errors crossing RPC keep their   2026-04-21             ``enhanced_error_serialization`` /
name (``PythonError``)                                  ``legacy_error_serialization``
Pyodide 314 (Python 3.14):       2026-09-08             ``python_workers_314`` /
``to_js`` makes an Object of a                          ``no_python_workers_314``
``dict``; before, a Map
``storage.deleteAll()`` also     2026-02-24             ``delete_all_deletes_alarm`` /
deletes the alarm                                       ``delete_all_preserves_alarm``
===============================  =====================  ===================================

Sources: workerd ``src/workerd/io/compatibility-date.capnp`` (commit 6552d999c79e,
``enhancedErrorSerialization``, ``deleteAllDeletesAlarm``) and pywrangler 1.17.9
``pywrangler/metadata.py`` (the date from which Python 3.14 is selected). The platform's
choice depends on the Worker's own settings; a test or docs example that makes an
:class:`~dosim.App` without a config gets :data:`DEFAULT_DATE`.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "Compatibility",
    "DEFAULT_DATE",
    "ENHANCED_ERRORS_DATE",
    "PYODIDE_314_DATE",
    "DELETE_ALL_DELETES_ALARM_DATE",
    "active",
    "activate",
    "restore",
]

DEFAULT_DATE = "2026-11-01"
"""The compatibility date of an app made without a wrangler config."""
ENHANCED_ERRORS_DATE = "2026-04-21"
"""From this date an error keeps its own name when it crosses RPC."""
PYODIDE_314_DATE = "2026-09-08"
"""From this date Python Workers run Pyodide 314 (Python 3.14) instead of 0.28."""
DELETE_ALL_DELETES_ALARM_DATE = "2026-02-24"
"""From this date ``storage.deleteAll()`` deletes the alarm too."""


@dataclass(frozen=True)
class Compatibility:
    """An app's compatibility date and flags, and what they switch on.

    Args:
        date: ``YYYY-MM-DD``.
        flags: The ``compatibility_flags``.
    """

    date: str = DEFAULT_DATE
    flags: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, date: str | None, flags: Iterable[str] = ()) -> Compatibility:
        """Build one from a config's values (``None``: :data:`DEFAULT_DATE`)."""
        return cls(date or DEFAULT_DATE, frozenset(flags))

    def _switch(self, on: str, off: str, since: str) -> bool:
        if on in self.flags:
            return True
        if off in self.flags:
            return False
        return self.date >= since

    @property
    def enhanced_error_serialization(self) -> bool:
        """Errors crossing RPC keep their name (``PythonError`` is not folded into ``Error``)."""
        return self._switch(
            "enhanced_error_serialization", "legacy_error_serialization", ENHANCED_ERRORS_DATE
        )

    @property
    def pyodide_314(self) -> bool:
        """The app runs Pyodide 314 (Python 3.14), where ``to_js(dict)`` is an Object."""
        return self._switch("python_workers_314", "no_python_workers_314", PYODIDE_314_DATE)

    @property
    def delete_all_deletes_alarm(self) -> bool:
        """``storage.deleteAll()`` deletes the alarm as well as the stored data."""
        return self._switch(
            "delete_all_deletes_alarm", "delete_all_preserves_alarm", DELETE_ALL_DELETES_ALARM_DATE
        )


_DEFAULT = Compatibility()
_active: contextvars.ContextVar[Compatibility | None] = contextvars.ContextVar(
    "dosim_compatibility", default=None
)


def active() -> Compatibility:
    """The compatibility of the app whose event is running (default: :data:`DEFAULT_DATE`)."""
    return _active.get() or _DEFAULT


def activate(compatibility: Compatibility) -> contextvars.Token[Compatibility | None]:
    """Make ``compatibility`` the active one in this context; returns a token to restore."""
    return _active.set(compatibility)


def restore(token: contextvars.Token[Compatibility | None]) -> None:
    """Undo :func:`activate`."""
    _active.reset(token)
