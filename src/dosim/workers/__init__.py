"""The ``workers`` facade: what ``from workers import ...`` gives app code under dosim.

Every name the Python Workers SDK (``workers-runtime-sdk`` 1.9.5) exports is here, with
the same behaviour where dosim can give it one, and so is each of its submodules
(``workers.entrypoints``, ``workers.request``, ``workers.workflows``, ``workers.wsgi``,
...) with the same objects as the top-level names. The HTTP types follow the SDK on top of
workerd: :class:`Request`, :class:`Response` (and :class:`FetchResponse`), the headers
mapping they return, :class:`FormData`, :class:`Blob`, :class:`File` and :func:`fetch`
(which goes to a test-installed handler: dosim has no network). See each module for the
platform rules applied and for where dosim differs.
"""

# The submodules the SDK has, loaded so that ``workers.<name>`` is each one (and the
# loader's alias finds them all): ``workers.request.Request is workers.Request``, etc.
from . import asgi as asgi
from . import gateway as gateway
from . import rpc as rpc
from . import types as types
from . import utils as utils
from . import workflows as workflows
from . import wsgi as wsgi
from .blob import Blob, BlobEnding, BlobValue, File
from .compat import (
    env,
    handler,
    import_from_javascript,
    patch_env,
    python_from_rpc,
    python_to_rpc,
    wait_until,
    waitUntil,
)
from .entrypoints import DurableObject, WorkerEntrypoint, WorkflowEntrypoint
from .fetch import fetch
from .formdata import FormData, FormDataValue
from .request import Request
from .response import FetchResponse, Response
from .types import Body, Context, FetchKwargs, Headers, JSBody, RequestInitCfProperties

__all__ = [
    "Blob",
    "BlobEnding",
    "BlobValue",
    "Body",
    "Context",
    "DurableObject",
    "FetchKwargs",
    "FetchResponse",
    "File",
    "FormData",
    "FormDataValue",
    "Headers",
    "JSBody",
    "Request",
    "RequestInitCfProperties",
    "Response",
    "WorkerEntrypoint",
    "WorkflowEntrypoint",
    "env",
    "fetch",
    "handler",
    "import_from_javascript",
    "patch_env",
    "python_from_rpc",
    "python_to_rpc",
    "waitUntil",
    "wait_until",
]
