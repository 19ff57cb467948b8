"""Placeholder: the R2Bucket model is being written (issue 14)."""

from __future__ import annotations

from typing import Any

from .host import BindingHost
from .wrapper import JsClassObject

__all__ = ["R2Bucket"]


class R2Bucket(JsClassObject):
    """The R2Bucket binding (being written)."""

    js_class_name = "R2Bucket"

    def __init__(self, host: BindingHost, binding: str, bucket_name: str) -> None:
        self.host = host
        self.binding = binding
        self.bucket_name = bucket_name

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)
