"""dosim: a faithful, deterministic simulator of Cloudflare Durable Objects for Python.

The public surface:

* :class:`dosim.App` — load a Worker and its Durable Objects, send requests, move
  virtual time, read the trace, inject faults;
* ``dosim.workers`` — the ``workers`` module app code imports (``DurableObject``,
  ``WorkerEntrypoint``, ``Request``, ``Response``, ...); importing :mod:`dosim` makes
  ``import workers`` resolve to it;
* :mod:`dosim.testing` — pytest fixtures and helpers;
* :mod:`dosim.errors` — the errors the runtime raises, with the platform's texts.
"""

from .app import App, Env
from .clock import install_time_patch
from .errors import JsException
from .ids import DurableObjectId
from .loader import install_workers_alias
from .trace import Trace, TraceEvent

__all__ = ["App", "Env", "JsException", "DurableObjectId", "Trace", "TraceEvent", "__version__"]

__version__ = "0.1.0"

install_workers_alias()
# Before any app module runs ``from time import time``, so it binds the patched function.
install_time_patch()
