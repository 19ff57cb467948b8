"""Placeholder: the D1Database model is being written (issue 14)."""

from __future__ import annotations

from typing import Any

from .host import BindingHost
from .wrapper import JsClassObject

__all__ = ["D1Database"]


class D1Database(JsClassObject):
    """The D1Database binding (being written)."""

    js_class_name = "D1Database"

    def __init__(self, host: BindingHost, binding: str, database_id: str) -> None:
        self.host = host
        self.binding = binding
        self.database_id = database_id

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)
