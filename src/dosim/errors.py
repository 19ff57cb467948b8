"""Errors the simulator raises, with the platform's exact texts.

On Cloudflare, Python code meets runtime errors after they crossed from JavaScript, and
Pyodide turns every JavaScript error into ``pyodide.ffi.JsException``, whatever its
JavaScript class; the SDK's wrappers around storage, stubs and namespaces pass it on.
dosim does the same: :func:`platform_error` builds the exception app code would see, and
:class:`JsException` stands in for ``pyodide.ffi.JsException`` (importable as such on
CPython under dosim). Only a few SDK methods convert a JS ``TypeError``/``RangeError``
into Python's ``TypeError``/``ValueError`` (``Response.redirect``, ``Response.json``,
``form_data``: :mod:`dosim.workers.jserror`); the SDK's own argument checks (a tuple sent
over RPC or stored) raise Python's ``TypeError`` before anything reaches JavaScript.

Portable app code therefore catches ``Exception`` (or ``JsException``) around platform
calls, reads ``error.name`` for the JavaScript class, and reads the flags (``remote``,
``retryable``, ``overloaded``, ``durableObjectReset``) with
``getattr(error, "retryable", False)``, which works here and on Cloudflare.

Message texts are named constants (``MSG_*``) defined next to the rule or limit they
enforce: this module holds those of resets, disconnections, RPC, ids and namespaces;
storage's are in :mod:`dosim.storage.limits`, WebSockets' in
:mod:`dosim.websockets.sockets` and :mod:`dosim.websockets.hibernation`, the ``workers``
types' in their own modules, migrations' in :mod:`dosim.migrations`. Tests import the
constant rather than repeat the text.

This module also decides how an exception *crosses* an object boundary
(:func:`call_python`, :func:`cross_exception`, :func:`copy_exception`,
:func:`network_lost`): what a caller of a stub sees when the object raised, was reset, or
the connection dropped. As on Cloudflare, an exception raised by the object's Python code
leaves it as Pyodide's JS ``PythonError`` (its message the Python traceback) and reaches
the caller as a :class:`JsException` named ``Error`` whose message is ``"PythonError: "``
and that traceback; errors the runtime raises itself (resets, lost connections, unknown
methods) keep their name, message and flags.
"""

from __future__ import annotations

import inspect
import os
import traceback
from typing import Any

from . import compat

__all__ = [
    "JsException",
    "platform_error",
    "cross_exception",
    "call_python",
    "python_error",
    "python_traceback",
    "PYTHON_ERROR",
    "copy_exception",
    "error_summary",
    "network_lost",
    "MSG_CODE_UPDATED",
    "MSG_NETWORK_LOST",
    "MSG_ABORT_DEFAULT",
    "MSG_STORAGE_COMMIT_FAILED",
    "MSG_BCW_TIMEOUT",
    "MSG_CPU_RESET",
    "MSG_BCW_NESTED",
    "MSG_EVICTED_STORAGE",
    "MSG_RESERVED_METHOD",
    "MSG_UNKNOWN_METHOD",
    "MSG_INVALID_ID",
    "MSG_ID_WRONG_NAMESPACE",
    "MSG_JURISDICTION_LOCAL",
    "MSG_UNKNOWN_ROUTING_MODE",
    "MSG_JURISDICTION_MISMATCH",
]

# --- resets and disconnections (spec §3.4) ---------------------------------------------
MSG_CODE_UPDATED = "Durable Object reset because its code was updated."
MSG_NETWORK_LOST = "Network connection lost."
MSG_ABORT_DEFAULT = "Application called abort() to reset Durable Object."
# The platform logs a failed commit as an internal error and resets the object; callers
# whose response was held by the output gate see this text.
MSG_STORAGE_COMMIT_FAILED = (
    "Internal error in Durable Object storage write caused object to be reset."
)
MSG_BCW_TIMEOUT = (
    "A call to blockConcurrencyWhile() in a Durable Object waited for too long. "
    "The call was canceled and the Durable Object was reset."
)
MSG_BCW_NESTED = "blockConcurrencyWhile() calls are nested too deeply."
# What the caller of an object that exceeded its CPU time limit sees (the text as
# production logs show it; the platform's docs do not list it).
MSG_CPU_RESET = "Durable Object exceeded its CPU time limit and was reset."
# dosim's own text: the platform never evicts an instance with work pending, but a test
# can (``evict_durable_object``); the old instance's leftover tasks then meet this.
MSG_EVICTED_STORAGE = (
    "dosim: this Durable Object instance was evicted; its storage can no longer be used."
)

# --- stubs and RPC (spec §3.1, §3.3) ---------------------------------------------------
MSG_RESERVED_METHOD = "'{name}' is a reserved method and cannot be called over RPC."
# A Python object's RPC entry point answers every name and fails on call when the Python
# instance has no callable attribute of that name (workerd src/pyodide/
# python-entrypoint-helper.ts, makeEntrypointProxyHandler).
MSG_UNKNOWN_METHOD = "Method {name} does not exist"

# --- ids and namespaces (spec §2) ------------------------------------------------------
MSG_INVALID_ID = "Invalid Durable Object ID: must be 64 hex digits"
MSG_ID_WRONG_NAMESPACE = "Durable Object ID is not valid for this namespace."
MSG_JURISDICTION_LOCAL = "Jurisdiction restrictions are not implemented in workerd."
MSG_UNKNOWN_ROUTING_MODE = "unknown routingMode: {mode}"
MSG_JURISDICTION_MISMATCH = (
    "get called on jurisdictional subnamespace with an ID from a different jurisdiction"
)


class JsException(Exception):
    """A JavaScript error as Python code on Cloudflare receives it.

    Stands in for ``pyodide.ffi.JsException``. It carries the JS error's ``name`` (for
    example ``"Error"``) and ``message``, and the flags the runtime sets on errors that
    cross an object boundary.

    Attributes:
        name: The JavaScript error class name, e.g. ``"Error"`` or ``"DataCloneError"``.
        message: The error text without the name prefix.
        remote: True when the error was raised inside the callee (the object), not by the
            connection to it.
        retryable: True when the operation may be retried if it is idempotent (set on
            disconnections such as ``Network connection lost.``).
        overloaded: True when the object is overloaded; do not retry.
        durableObjectReset: True when the object was reset (aborted, failed commit, code
            update); the stub that saw it keeps failing, a new stub reaches a fresh
            instance.
    """

    def __init__(
        self,
        message: str,
        *,
        name: str = "Error",
        remote: bool = False,
        retryable: bool = False,
        overloaded: bool = False,
        durable_object_reset: bool = False,
    ) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.remote = remote
        self.retryable = retryable
        self.overloaded = overloaded
        self.durableObjectReset = durable_object_reset

    @property
    def js_error(self) -> JsException:
        """The JS error object; on Cloudflare ``JsException.js_error`` holds the flags."""
        return self


MSG_JSG_NEW_REQUIRED = (
    "Failed to construct '{name}': Please use the 'new' operator, this object constructor "
    "cannot be called as a function."
)
"""A workerd API class (``Response``, ``WebSocketPair``, ...) called without ``new``
(workerd ``src/workerd/jsg/resource.c++``, ``throwIfConstructorCalledAsFunction``)."""

MSG_BUILTIN_NEW_REQUIRED = "Constructor {name} requires 'new'"
"""A JavaScript built-in class (``Map``, ``Set``, ``ArrayBuffer``) called without ``new`` (V8)."""


def platform_error(name: str, message: str, **flags: bool) -> Exception:
    """Build the exception Python app code sees for a JS error raised by the runtime.

    Pyodide turns every JavaScript error into ``pyodide.ffi.JsException`` (whatever its
    JavaScript class), and the SDK's wrappers around storage, stubs and namespaces pass
    it on unconverted. Only a few SDK methods convert (see
    :func:`dosim.workers.jserror.to_python_exception`).

    Args:
        name: JavaScript error class: ``"TypeError"``, ``"RangeError"``, ``"Error"``, ...
        message: The platform's message text.
        **flags: ``remote``, ``retryable``, ``overloaded``, ``durable_object_reset``.

    Returns:
        A :class:`JsException` with that ``name`` and the flags.
    """
    return JsException(message, name=name, **flags)


# --- errors crossing an object boundary ------------------------------------------------
_FLAGS = ("remote", "retryable", "overloaded", "durableObjectReset")

PYTHON_ERROR = "PythonError"
"""The JS class name Pyodide gives a Python exception that leaves Python code."""

# The error names workerd's exception tunnel recreates on the caller's side: the standard
# JS error classes (workerd src/workerd/jsg/util.h, ``JS_ERROR_TYPES``) and DOMException
# names (src/workerd/jsg/value.h, the ``jsg.DOMException(...)`` branch). A JS error with any
# other name -- Pyodide's ``PythonError`` above all -- is tunneled as a plain ``Error``
# whose message is the original ``"<name>: <message>"`` (value.h: ``reason`` is the error's
# string form, prefixed ``jsg.Error: `` when it does not start with a tunneled name).
_TUNNELED_NAMES = frozenset(
    {
        "Error",
        "RangeError",
        "TypeError",
        "SyntaxError",
        "ReferenceError",
        "CompileError",
        "LinkError",
        "RuntimeError",
        "SuspendError",
        "AggregateError",
        "SuppressedError",
        "URIError",
        "EvalError",
        # DOMException names
        "IndexSizeError",
        "HierarchyRequestError",
        "WrongDocumentError",
        "InvalidCharacterError",
        "NoModificationAllowedError",
        "NotFoundError",
        "NotSupportedError",
        "InvalidStateError",
        "InvalidModificationError",
        "NamespaceError",
        "InvalidAccessError",
        "TypeMismatchError",
        "SecurityError",
        "NetworkError",
        "AbortError",
        "URLMismatchError",
        "QuotaExceededError",
        "TimeoutError",
        "InvalidNodeTypeError",
        "DataCloneError",
        "EncodingError",
        "NotReadableError",
        "UnknownError",
        "ConstraintError",
        "DataError",
        "TransactionInactiveError",
        "ReadOnlyError",
        "VersionError",
        "OperationError",
        "NotAllowedError",
    }
)

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _is_dosim_frame(frame: traceback.FrameSummary) -> bool:
    return os.path.abspath(frame.filename).startswith(_PACKAGE_DIR + os.sep)


def _drop_dosim_frames(summary: traceback.TracebackException, seen: set[int]) -> None:
    if id(summary) in seen:
        return
    seen.add(id(summary))
    frames = [frame for frame in summary.stack if not _is_dosim_frame(frame)]
    summary.stack = traceback.StackSummary.from_list(frames)
    for linked in (summary.__cause__, summary.__context__):
        if linked is not None:
            _drop_dosim_frames(linked, seen)


def python_traceback(error: BaseException) -> str:
    """The text Pyodide puts in the message of a ``PythonError``.

    Pyodide prints the exception as the interpreter would (``sys.excepthook``, that is
    ``traceback.print_exception``) and keeps the text: ``"Traceback (most recent call
    last):"``, the frames, and a last line such as ``"ValueError: boom"``, with a final
    newline (pyodide src/core/error_handling.c, ``wrap_exception_inner``). dosim leaves out
    its own frames (the platform's would be the SDK's and workerd's) and names its
    stand-in for ``pyodide.ffi.JsException`` as Pyodide does.

    Args:
        error: The Python exception leaving Python code.
    """
    summary = traceback.TracebackException.from_exception(error)
    _drop_dosim_frames(summary, set())
    own = f"{__name__}.JsException: "
    lines = "".join(summary.format()).splitlines(keepends=True)
    return "".join(
        "pyodide.ffi.JsException: " + line[len(own) :] if line.startswith(own) else line
        for line in lines
    )


def python_error(error: BaseException) -> JsException:
    """Return the JavaScript error Pyodide makes of a Python exception leaving Python.

    On Cloudflare a Durable Object's Python method is called from JavaScript; an exception
    it raises becomes a JS ``PythonError`` whose message is the formatted traceback
    (:func:`python_traceback`). That includes a ``JsException`` the method let through:
    Pyodide wraps it again rather than rethrowing the original JS error.

    Args:
        error: The exception raised by app code.
    """
    return JsException(python_traceback(error), name=PYTHON_ERROR)


async def call_python(function: Any, *args: Any) -> Any:
    """Call app code as JavaScript calls into Python: exceptions leave as ``PythonError``.

    Args:
        function: The app's callable (an RPC method, a ``fetch`` handler, a callback).
        *args: Its arguments.

    Returns:
        Its result, awaited if it is awaitable.

    Raises:
        JsException: ``PythonError`` for any ``Exception`` the call raised
            (``BaseException`` such as cancellation or ``DurableObjectAbort`` passes).
    """
    try:
        result = function(*args)
        if inspect.isawaitable(result):
            result = await result
    except Exception as error:  # noqa: BLE001 - every app exception leaves Python this way
        raise python_error(error) from None
    return result


def cross_exception(
    error: BaseException, compatibility: compat.Compatibility | None = None
) -> BaseException:
    """Return ``error`` as the caller of an object sees it (``remote = True``).

    The caller gets a :class:`JsException`, as Python code on Cloudflare does when an RPC
    call rejects (the SDK's stub wrappers do not convert errors):

    * a JS error whose name workerd's tunnel recreates (``Error``, ``TypeError``,
      ``RangeError``, DOMException names, ...) keeps its name, message and flags;
    * any other name -- ``PythonError``, what a Python exception raised by the object
      became -- keeps it from compatibility date 2026-04-21 (workerd's
      ``enhanced_error_serialization``; :mod:`dosim.compat`), so a Python
      ``ValueError("boom")`` reaches the caller as ``PythonError`` with the traceback as
      its message (ending in ``ValueError: boom`` and a newline); before that date it
      arrives as ``Error`` with ``"PythonError: "`` before the message;
    * a Python exception that was not converted yet is converted first
      (:func:`python_error`).

    Args:
        error: The exception raised inside the object.
        compatibility: The app's (default: the active one, :func:`dosim.compat.active`).

    Returns:
        A new :class:`JsException`, or ``error`` itself if it already crossed (``remote``
        is set).
    """
    if getattr(error, "remote", False) or getattr(error, "_dosim_crossed", False):
        return error
    js = error if isinstance(error, JsException) else python_error(error)
    name, message = js.name, js.message
    enhanced = (compatibility or compat.active()).enhanced_error_serialization
    if name not in _TUNNELED_NAMES and not enhanced:
        name, message = "Error", f"{name}: {message}"
    crossed = JsException(
        message,
        name=name,
        remote=True,
        retryable=js.retryable,
        overloaded=js.overloaded,
        durable_object_reset=js.durableObjectReset,
    )
    crossed._dosim_crossed = True  # type: ignore[attr-defined]
    return crossed


def error_summary(error: BaseException) -> str:
    """One line naming ``error`` for the trace: a traceback keeps its first and last line.

    Args:
        error: Any exception.
    """
    lines = [line for line in str(error).splitlines() if line.strip()]
    if len(lines) > 1:
        lines = [lines[0], "...", lines[-1]]
    return f"{type(error).__name__}: {' '.join(lines)}"


def copy_exception(error: BaseException) -> BaseException:
    """Return a fresh exception equal to ``error`` (type, message, flags).

    Args:
        error: The exception to copy.
    """
    if isinstance(error, JsException):
        copy: BaseException = JsException(
            error.message,
            name=error.name,
            remote=error.remote,
            retryable=error.retryable,
            overloaded=error.overloaded,
            durable_object_reset=error.durableObjectReset,
        )
    else:
        try:
            copy = type(error)(*error.args)
        except Exception:  # noqa: BLE001
            copy = Exception(str(error))
        for flag in _FLAGS:
            if hasattr(error, flag):
                setattr(copy, flag, getattr(error, flag))
    if getattr(error, "_dosim_crossed", False):
        copy._dosim_crossed = True  # type: ignore[attr-defined]
    return copy


def network_lost() -> BaseException:
    """The error a caller sees when the connection to an object drops."""
    return platform_error("Error", MSG_NETWORK_LOST, retryable=True)
