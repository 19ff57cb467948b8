"""Binding declarations: what a wrangler config's binding entries say, as Python values.

:func:`dosim.config.load_config` turns ``kv_namespaces``, ``d1_databases``,
``r2_buckets``, ``services`` and the bindings dosim does not simulate into these; an
:class:`~dosim.App` built by hand takes them in ``bindings=``. Each declaration's
:meth:`~BindingDeclaration.create` makes the value Python code finds in ``env``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..bindingconfig import BindingConfig
from .d1 import D1Database
from .kv import KvNamespace
from .r2 import R2Bucket
from .services import service_fetcher
from .unsupported import NotSimulated
from .wrapper import BindingProxy

if TYPE_CHECKING:
    from .host import BindingHost

__all__ = [
    "BindingDeclaration",
    "KvNamespaceBinding",
    "D1DatabaseBinding",
    "R2BucketBinding",
    "ServiceBinding",
    "UnsupportedBinding",
    "declaration_of",
]


class BindingDeclaration:
    """Base of the binding declarations."""

    kind = "binding"
    """The binding's type, as the trace and the inspector name it."""

    @property
    def store_key(self) -> tuple[str, str] | None:
        """``(kind, key)`` of the store holding the binding's data, or ``None``."""
        return None

    def create(self, host: BindingHost, name: str) -> Any:
        """Make the value ``env.<name>`` holds.

        Args:
            host: The app's binding host.
            name: The binding name.
        """
        raise NotImplementedError


@dataclass(frozen=True)
class KvNamespaceBinding(BindingDeclaration):
    """A Workers KV namespace (``[[kv_namespaces]]``).

    Attributes:
        id: The namespace id; bindings with the same id share data.
    """

    id: str
    kind = "kv"

    @property
    def store_key(self) -> tuple[str, str]:
        """``("kv", id)``."""
        return ("kv", self.id)

    def create(self, host: BindingHost, name: str) -> Any:
        """Make the namespace, wrapped as the SDK wraps it."""
        return BindingProxy(KvNamespace(host, name, self.id))


@dataclass(frozen=True)
class D1DatabaseBinding(BindingDeclaration):
    """A D1 database (``[[d1_databases]]``).

    Attributes:
        id: ``database_id`` (or the name when the config gives no id); bindings with the
            same id share data.
        database_name: ``database_name``.
    """

    id: str
    database_name: str = ""
    kind = "d1"

    @property
    def store_key(self) -> tuple[str, str]:
        """``("d1", id)``."""
        return ("d1", self.id)

    def create(self, host: BindingHost, name: str) -> Any:
        """Make the database, wrapped as the SDK wraps it."""
        return BindingProxy(D1Database(host, name, self.id))


@dataclass(frozen=True)
class R2BucketBinding(BindingDeclaration):
    """An R2 bucket (``[[r2_buckets]]``).

    Attributes:
        bucket_name: The bucket; bindings with the same name share data.
    """

    bucket_name: str
    kind = "r2"

    @property
    def store_key(self) -> tuple[str, str]:
        """``("r2", bucket_name)``."""
        return ("r2", self.bucket_name)

    def create(self, host: BindingHost, name: str) -> Any:
        """Make the bucket, wrapped as the SDK wraps it."""
        return BindingProxy(R2Bucket(host, name, self.bucket_name))


@dataclass(frozen=True)
class ServiceBinding(BindingDeclaration):
    """A service binding (``[[services]]``): another Worker's entrypoint.

    Attributes:
        service: The Worker's name.
        entrypoint: A named ``WorkerEntrypoint`` class, or ``None`` for ``Default``.
    """

    service: str
    entrypoint: str | None = None
    kind = "service"

    def create(self, host: BindingHost, name: str) -> Any:
        """Make the Fetcher, wrapped as the SDK wraps it."""
        return service_fetcher(host, name, self.service, self.entrypoint)


@dataclass(frozen=True)
class UnsupportedBinding(BindingDeclaration):
    """A binding dosim does not simulate (a queue producer, Workers AI, ...).

    Attributes:
        config_key: Where the config declares it (``"queues.producers"``).
        description: What it is, in words (``"a Queue producer"``).
    """

    config_key: str
    description: str
    kind = "unsupported"

    def create(self, host: BindingHost, name: str) -> Any:
        """Make a stand-in that explains, on any use, how to replace it."""
        return NotSimulated(name, self.config_key, self.description)


def declaration_of(config: BindingConfig) -> BindingDeclaration:
    """Turn a binding read from a wrangler config into its declaration.

    Args:
        config: One entry of :attr:`dosim.config.AppConfig.other_bindings`.
    """
    options = config.options
    if config.type == "kv":
        return KvNamespaceBinding(options["id"])
    if config.type == "d1":
        return D1DatabaseBinding(options["id"], options.get("database_name", ""))
    if config.type == "r2":
        return R2BucketBinding(options["bucket_name"])
    if config.type == "service":
        return ServiceBinding(options["service"], options.get("entrypoint"))
    return UnsupportedBinding(config.config_key, options.get("description", "a binding"))
