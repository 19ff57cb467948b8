"""Placeholder: the KvNamespace model is being written (issue 14)."""

from __future__ import annotations

from typing import Any

from .host import BindingHost
from .wrapper import JsClassObject

__all__ = ["KvNamespace"]


class KvNamespace(JsClassObject):
    """The KvNamespace binding (being written)."""

    js_class_name = "KvNamespace"

    def __init__(self, host: BindingHost, binding: str, namespace_id: str) -> None:
        self.host = host
        self.binding = binding
        self.namespace_id = namespace_id

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)
