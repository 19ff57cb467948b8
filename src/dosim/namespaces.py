"""Durable Object namespaces: the ``env.BINDING`` objects that make ids and stubs.

A namespace is one Durable Object class bound into a Worker's ``env``. It makes ids
(``idFromName``, ``newUniqueId``, ``idFromString``) and stubs (``get``, ``getByName``).
Neither contacts the object: it is created on the first call through a stub.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    MSG_JURISDICTION_MISMATCH,
    MSG_UNKNOWN_ROUTING_MODE,
    platform_error,
)
from .host import ObjectHost
from .ids import DurableObjectId, IdFactory, check_jurisdiction
from .stubs import DurableObjectStub

if TYPE_CHECKING:
    from .app import App

__all__ = ["DurableObjectNamespace", "NamespaceRuntime"]


class NamespaceRuntime:
    """Everything dosim keeps per bound class: ids, hosts, storage settings.

    Args:
        app: The owning app.
        binding: The binding name (``env.<binding>``).
        cls: The Durable Object class.
        worker_name: The Worker's name; with the class name it keys id derivation.
        sql_enabled: True for ``new_sqlite_classes`` (SQLite-backed), False for
            ``new_classes`` (KV-backed).
    """

    def __init__(
        self, app: App, binding: str, cls: type, worker_name: str, sql_enabled: bool
    ) -> None:
        self.app = app
        self.binding = binding
        self.cls = cls
        self.sql_enabled = sql_enabled
        self.unique_key = f"{worker_name}-{cls.__name__}"
        self.ids = IdFactory(self.unique_key, seed=app.seed)
        self.hosts: dict[str, ObjectHost] = {}

    @property
    def env(self) -> Any:
        """The Worker's env, passed to every instance's constructor."""
        return self.app.env

    def host_for(self, object_id: DurableObjectId) -> ObjectHost:
        """Return the host of ``object_id``, creating it on first use.

        Args:
            object_id: An id of this namespace.
        """
        key = object_id.toString()
        host = self.hosts.get(key)
        if host is None:
            host = self.hosts[key] = ObjectHost(self, object_id)
        elif host.name is None and object_id.name is not None:
            host.name = object_id.name
            host.id = object_id
        return host


def _options(options: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    merged = dict(options or {})
    merged.update(kwargs)
    return merged


class DurableObjectNamespace:
    """The binding app code reaches as ``self.env.<BINDING>``.

    Same camelCase methods as on Cloudflare. Options are accepted as a dict or as keyword
    arguments (Pyodide turns Python keywords into a trailing JS object).
    """

    def __init__(self, runtime: NamespaceRuntime, jurisdiction: str | None = None) -> None:
        self._runtime = runtime
        self._jurisdiction = jurisdiction

    def __repr__(self) -> str:
        return f"DurableObjectNamespace({self._runtime.binding} → {self._runtime.cls.__name__})"

    def idFromName(self, name: str) -> DurableObjectId:  # noqa: N802 - platform name
        """Return the id for ``name``: the same name always gives the same id.

        Args:
            name: Any string; the id is derived as local workerd derives it.
        """
        return self._runtime.ids.from_name(name)

    def idFromString(self, id_string: str) -> DurableObjectId:  # noqa: N802
        """Rebuild an id from its 64-hex-digit form; the name is not kept.

        Args:
            id_string: What ``DurableObjectId.toString()`` returned.

        Raises:
            JsException: ``TypeError`` for a malformed id or one of another namespace.
                The method is the runtime's JavaScript, so Python code receives a
                ``JsException``, not a Python ``TypeError``.
        """
        try:
            return self._runtime.ids.from_string(id_string)
        except TypeError as error:
            raise platform_error("TypeError", str(error)) from None

    def newUniqueId(self, options: Any = None, **kwargs: Any) -> DurableObjectId:  # noqa: N802
        """Return a new random id (seeded, so runs repeat).

        Args:
            options: ``{"jurisdiction": ...}``; local workerd rejects jurisdictions.
            **kwargs: The same options as keywords.
        """
        jurisdiction = _options(options, kwargs).get("jurisdiction") or self._jurisdiction
        return self._runtime.ids.unique(jurisdiction)

    def get(
        self, object_id: DurableObjectId, options: Any = None, **kwargs: Any
    ) -> DurableObjectStub:
        """Return a stub for ``object_id`` without contacting the object.

        Args:
            object_id: An id made by this namespace.
            options: ``{"locationHint": ..., "routingMode": "primary-only"}``.
            **kwargs: The same options as keywords.

        Raises:
            TypeError: If ``object_id`` is not a ``DurableObjectId`` of this namespace.
            ValueError: ``unknown routingMode: <x>`` (a JS ``RangeError``).
        """
        if not isinstance(object_id, DurableObjectId):
            raise TypeError(
                f"get() expects a DurableObjectId, got {type(object_id).__name__}; "
                "use getByName(name) or idFromName(name) first"
            )
        if not self._runtime.ids.owns(object_id):
            raise platform_error("TypeError", "Durable Object ID is not valid for this namespace.")
        if object_id.jurisdiction != self._jurisdiction and self._jurisdiction is not None:
            raise platform_error("TypeError", MSG_JURISDICTION_MISMATCH)
        chosen = _options(options, kwargs)
        mode = chosen.get("routingMode")
        if mode is not None and mode != "primary-only":
            raise platform_error("RangeError", MSG_UNKNOWN_ROUTING_MODE.format(mode=mode))
        return DurableObjectStub(self._runtime, object_id)

    def getByName(self, name: str, options: Any = None, **kwargs: Any) -> DurableObjectStub:  # noqa: N802
        """Return a stub for the object called ``name`` (``get(idFromName(name))``).

        Args:
            name: The object's name.
            options: As for :meth:`get`.
            **kwargs: The same options as keywords.
        """
        return self.get(self.idFromName(name), options, **kwargs)

    def jurisdiction(self, jurisdiction: str) -> DurableObjectNamespace:
        """Return a sub-namespace restricted to ``jurisdiction``.

        Production supports ``eu``, ``fedramp``, ``fedramp-high`` and ``us``; local workerd
        raises ``Jurisdiction restrictions are not implemented in workerd.`` and so does
        dosim (a nullish jurisdiction is accepted).

        Args:
            jurisdiction: ``"eu"``, ``"fedramp"``, ``"fedramp-high"`` or ``"us"``.

        Raises:
            JsException: Always, as local workerd does.
        """
        check_jurisdiction(jurisdiction)
        return DurableObjectNamespace(self._runtime, jurisdiction)
