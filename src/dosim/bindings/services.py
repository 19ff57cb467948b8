"""Placeholder: service bindings are being written (issue 14)."""

from __future__ import annotations

from typing import Any

from .host import BindingHost

__all__ = ["service_fetcher"]


def service_fetcher(host: BindingHost, binding: str, service: str, entrypoint: str | None) -> Any:
    """Make the Fetcher for a service binding (being written)."""
    raise NotImplementedError(f"service binding {binding!r} to {service!r}")
