"""The ``workers`` facade (filled in below)."""

from .entrypoints import DurableObject, WorkerEntrypoint

__all__ = ["DurableObject", "WorkerEntrypoint"]
