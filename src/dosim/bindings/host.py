"""What a binding implementation needs from the app it belongs to.

:class:`BindingHost` gives a KV namespace, D1 database, R2 bucket or service binding the
app's virtual time (expirations and upload dates follow ``app.clock``), its trace (one
``binding`` event per call) and its fault table (``app.faults.fail_next_binding_call``),
and decides where each binding's data lives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..current import current_incarnation
from .store import BindingStore

if TYPE_CHECKING:
    from ..app import App

__all__ = ["BindingHost"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class BindingHost:
    """The app-side services shared by every binding of one app.

    Args:
        app: The app whose ``env`` holds the bindings.
    """

    def __init__(self, app: App) -> None:
        self._app = app
        self._stores: dict[tuple[str, str], BindingStore] = {}

    def now_ms(self) -> int:
        """The app's virtual time, in ms since the epoch."""
        return self._app.clock.now_ms()

    def record(self, binding: str, kind: str, op: str, **detail: Any) -> None:
        """Add a ``binding`` event to the app's trace.

        Args:
            binding: The binding name (``"CACHE"``).
            kind: ``"kv"``, ``"d1"``, ``"r2"`` or ``"service"``.
            op: The method called (``"get"``).
            **detail: JSON-serialisable facts (the key, the row count, ...).

        The event names the object whose code made the call, when one did.
        """
        namespace = object_id = name = None
        caller = current_incarnation()
        if caller is not None:  # called from inside an object: the event names it
            host = caller.host
            namespace, object_id, name = host.namespace.binding, host.hex_id, host.name
        self._app.trace.record(
            self.now_ms(),
            "binding",
            namespace,
            object_id,
            name,
            binding=binding,
            type=kind,
            op=op,
            **detail,
        )

    def before_call(
        self, binding: str, op: str, default_error: Callable[[], BaseException]
    ) -> None:
        """Raise the failure armed for this call by ``app.faults``, if any.

        Args:
            binding: The binding name.
            op: The method being called.
            default_error: Builds the platform's error for a failed call of this kind,
                used when the fault names no message of its own.

        Raises:
            BaseException: The injected failure.
        """
        error = self._app.faults.take_binding_fault(binding, op, default_error)
        if error is not None:
            raise error

    def service_app(self, binding: str, service: str) -> Any:
        """Find the app a service binding reaches.

        Args:
            binding: The binding name (for the error message).
            service: The bound Worker's name.

        Raises:
            LookupError: No Worker of that name is loaded.
        """
        app = self._app
        if service == app.name:
            return app
        linked = app.linked_workers.get(service)
        if linked is None:
            raise LookupError(
                f"service binding {binding!r} names Worker {service!r}, which is not "
                f"loaded; link it with app.link_worker(App.from_config(...)) (or serve both "
                "with dosim dev -c <its config>)"
            )
        return linked

    def store(self, kind: str, key: str, schema: str) -> BindingStore:
        """Return the store of one binding's data, shared by bindings with the same key.

        Args:
            kind: ``"kv"``, ``"d1"`` or ``"r2"`` (the folder under the state folder).
            key: The namespace id, database id or bucket name.
            schema: The tables the binding needs (created if missing).
        """
        found = self._stores.get((kind, key))
        if found is None:
            found = BindingStore(self.store_path(kind, key), schema)
            self._stores[(kind, key)] = found
        return found

    def store_path(self, kind: str, key: str) -> Path | None:
        """Where a binding's file lives under ``dosim dev``, or ``None`` in memory.

        Args:
            kind: ``"kv"``, ``"d1"`` or ``"r2"``.
            key: The namespace id, database id or bucket name.
        """
        root = self._app.persist_to
        if root is None:
            return None
        return Path(root) / kind / (_UNSAFE.sub("_", key) + ".sqlite")

    def stores(self) -> dict[tuple[str, str], BindingStore]:
        """Every store opened so far, keyed by ``(kind, key)``."""
        return dict(self._stores)

    def close(self) -> None:
        """Close every store."""
        for store in self._stores.values():
            store.close()
