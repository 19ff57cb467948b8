"""Placeholder: stand-ins for bindings dosim does not simulate (issue 14)."""

from __future__ import annotations

__all__ = ["NotSimulated"]


class NotSimulated:
    """A binding dosim does not simulate (being written)."""

    def __init__(self, name: str, config_key: str, description: str) -> None:
        self.name = name
        self.config_key = config_key
        self.description = description
