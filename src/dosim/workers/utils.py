"""``workers.utils``: the SDK's helpers module, with the names app code can reach.

The Python Workers SDK defines ``import_from_javascript``, ``patch_env`` and the type of
``request.headers`` (``HTTPMessageMapping``) in ``workers/utils.py``; they are the same
objects here as at the top of ``workers`` (and :class:`~dosim.workers.headers.HeadersMapping`).
Its other public names reach into workerd (compatibility flags, the SDK's JavaScript
files) and are not provided; the surface test lists them with the reason.
"""

from __future__ import annotations

from ..ffi import jsnull
from .compat import import_from_javascript, patch_env
from .headers import HeadersMapping

__all__ = ["HTTPMessageMapping", "import_from_javascript", "jsnull", "patch_env"]

HTTPMessageMapping = HeadersMapping
"""What ``request.headers`` and ``response.headers`` are: an ``HTTPMessage`` and a mapping."""
