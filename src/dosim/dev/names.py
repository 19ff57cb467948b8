"""Object names for display: remembered from the trace, kept across restarts.

An object's id does not carry its name once rebuilt from hex (``idFromString`` drops it,
as on Cloudflare), so after a restart the inspector would show bare ids. A
:class:`NameBook` listens to the trace, notes each ``(binding, id) → name`` the first
time it sees one, and writes them to ``<state>/names.json``. It is display-only: the
simulation never reads it.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

__all__ = ["NameBook"]

log = logging.getLogger("dosim.dev")


class NameBook:
    """Names of objects seen so far, per namespace binding.

    Args:
        path: The JSON file to load from and save to, or ``None`` to keep names in memory.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._names: dict[str, dict[str, str]] = {}
        self._last: tuple[str | None, str | None, str] | None = None
        if self.path is not None and self.path.is_file():
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
                self._names = {str(k): dict(v) for k, v in loaded.items()}
            except (OSError, ValueError, TypeError, AttributeError):
                log.warning("dosim dev: could not read %s; object names start empty", self.path)

    def get(self, binding: str, hex_id: str) -> str | None:
        """Return the name of an object, if one was ever seen.

        Args:
            binding: The namespace binding, e.g. ``"COUNTER"``.
            hex_id: The object's id as hex.
        """
        return self._names.get(binding, {}).get(hex_id)

    def note(self, binding: str | None, hex_id: str | None, name: str | None) -> None:
        """Remember a name (saving the file when it is new).

        Args:
            binding: The namespace binding.
            hex_id: The object's id as hex.
            name: The name, or ``None`` (ignored).
        """
        if binding is None or hex_id is None or name is None:
            return
        known = self._names.setdefault(binding, {})
        if known.get(hex_id) == name:
            return
        known[hex_id] = name
        self._save()

    def listener(
        self,
        seq: int,
        time: int,
        kind: str,
        namespace: str | None,
        object_id: str | None,
        name: str | None,
        detail: dict[str, Any],
    ) -> None:
        """A trace listener of the fields form (``subscribe(listener, fields=True)``).

        Notes the name the event carries, if any.

        Args:
            seq: The event's sequence number.
            time: Its virtual time in ms.
            kind: Its kind.
            namespace: Its namespace binding, or ``None``.
            object_id: Its object's hex id, or ``None``.
            name: Its object's name, or ``None``.
            detail: Its detail dict.
        """
        if name is None:
            return
        # Events come in runs about one object (a broadcast is one event per socket).
        seen = (namespace, object_id, name)
        if seen != self._last:
            self._last = seen
            self.note(namespace, object_id, name)

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".json.tmp")
            temporary.write_text(json.dumps(self._names, indent=1, sort_keys=True), "utf-8")
            os.replace(temporary, self.path)
        except OSError as error:
            log.warning("dosim dev: could not save object names: %s", error)
