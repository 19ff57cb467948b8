"""``workers.rpc``: the SDK's conversions for values crossing RPC, under its module name.

The Python Workers SDK keeps ``python_to_rpc``, ``python_from_rpc`` and ``JsDict`` (the
dict with attribute access that JavaScript objects arrive as) in ``workers/rpc.py``. The
same objects are here as at the top of ``workers``; see :mod:`dosim.workers.compat` and
:mod:`dosim.serialization` for what they do under dosim.
"""

from __future__ import annotations

from ..serialization import JsDict
from .compat import python_from_rpc, python_to_rpc

__all__ = ["JsDict", "python_from_rpc", "python_to_rpc"]
