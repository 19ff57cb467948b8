"""Errors the simulator raises, with the platform's exact texts.

On Cloudflare, Python code meets runtime errors after they crossed from JavaScript. The
Python Workers SDK turns a JS ``TypeError`` into a Python ``TypeError`` and a JS
``RangeError`` into a ``ValueError``; every other JS error stays a
``pyodide.ffi.JsException``. dosim follows the same mapping: :func:`platform_error` builds
the exception app code would see, and :class:`JsException` stands in for
``pyodide.ffi.JsException`` (which only exists inside Pyodide).

Portable app code therefore catches ``TypeError`` / ``ValueError`` / ``Exception`` and
reads the flags (``remote``, ``retryable``, ``overloaded``, ``durableObjectReset``) with
``getattr(error, "retryable", False)``, which works here and on Cloudflare.

Message texts are named constants (``MSG_*``) defined next to the rule or limit they
enforce: this module holds those of resets, disconnections, RPC, ids and namespaces;
storage's are in :mod:`dosim.storage.limits`, WebSockets' in
:mod:`dosim.websockets.sockets` and :mod:`dosim.websockets.hibernation`, the ``workers``
types' in their own modules, migrations' in :mod:`dosim.migrations`. Tests import the
constant rather than repeat the text.

This module also decides how an exception *crosses* an object boundary
(:func:`cross_exception`, :func:`copy_exception`, :func:`network_lost`): what a caller
of a stub sees when the object raised, was reset, or the connection dropped.
"""

from __future__ import annotations

__all__ = [
    "JsException",
    "platform_error",
    "cross_exception",
    "copy_exception",
    "network_lost",
    "MSG_CODE_UPDATED",
    "MSG_NETWORK_LOST",
    "MSG_ABORT_DEFAULT",
    "MSG_STORAGE_COMMIT_FAILED",
    "MSG_BCW_TIMEOUT",
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
# dosim's own text: the platform never evicts an instance with work pending, but a test
# can (``evict_durable_object``); the old instance's leftover tasks then meet this.
MSG_EVICTED_STORAGE = (
    "dosim: this Durable Object instance was evicted; its storage can no longer be used."
)

# --- stubs and RPC (spec §3.1, §3.3) ---------------------------------------------------
MSG_RESERVED_METHOD = "'{name}' is a reserved method and cannot be called over RPC."
MSG_UNKNOWN_METHOD = 'The RPC receiver does not implement the method "{name}".'

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


def platform_error(name: str, message: str, **flags: bool) -> Exception:
    """Build the exception Python app code sees for a JS error raised by the runtime.

    Args:
        name: JavaScript error class: ``"TypeError"``, ``"RangeError"``, ``"Error"``, ...
        message: The platform's message text.
        **flags: ``remote``, ``retryable``, ``overloaded``, ``durable_object_reset``.

    Returns:
        ``TypeError`` for a JS ``TypeError``, ``ValueError`` for a JS ``RangeError`` (as
        the Python Workers SDK converts them), otherwise a :class:`JsException`. Flags are
        set as attributes on whichever type is returned.
    """
    error: Exception
    if name == "TypeError":
        error = TypeError(message)
    elif name == "RangeError":
        error = ValueError(message)
    else:
        return JsException(message, name=name, **flags)
    error.remote = flags.get("remote", False)  # type: ignore[attr-defined]
    error.retryable = flags.get("retryable", False)  # type: ignore[attr-defined]
    error.overloaded = flags.get("overloaded", False)  # type: ignore[attr-defined]
    error.durableObjectReset = flags.get("durable_object_reset", False)  # type: ignore[attr-defined]
    return error


# --- errors crossing an object boundary ------------------------------------------------
_FLAGS = ("remote", "retryable", "overloaded", "durableObjectReset")


def _builtin_base(cls: type) -> type:
    for klass in cls.__mro__:
        if klass.__module__ == "builtins":
            return klass
    return Exception  # pragma: no cover - every exception derives from a builtin


def cross_exception(error: BaseException) -> BaseException:
    """Return ``error`` as the caller of an object sees it (``remote = True``).

    Built-in exception types keep their type and message; other classes arrive as their
    nearest built-in base with ``"ClassName: message"``; errors raised by the runtime
    (already flagged) keep their flags.

    Args:
        error: The exception raised inside the object.

    Returns:
        A new exception, or ``error`` itself if it already crossed (``remote`` is set).
    """
    if getattr(error, "remote", False) or getattr(error, "_dosim_crossed", False):
        return error
    if isinstance(error, JsException):
        crossed: BaseException = copy_exception(error)
    else:
        cls = type(error)
        base = _builtin_base(cls)
        try:
            crossed = cls(*error.args) if base is cls else base(f"{cls.__name__}: {error}")
        except Exception:  # noqa: BLE001 - constructor with a custom signature
            crossed = Exception(f"{cls.__name__}: {error}")
        for flag in _FLAGS:
            if hasattr(error, flag):
                setattr(crossed, flag, getattr(error, flag))
    crossed.remote = True  # type: ignore[attr-defined]
    crossed._dosim_crossed = True  # type: ignore[attr-defined]
    return crossed


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
