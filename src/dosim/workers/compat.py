"""The rest of the ``workers`` SDK surface: module globals, RPC helpers, stand-ins.

Module-level ``env``/``waitUntil``, the RPC conversion helpers, and stand-ins for names
that have no meaning in a simulator.

On Cloudflare ``from workers import env, wait_until`` reads the Worker's bindings and
the current invocation's ``waitUntil`` from the ``cloudflare:workers`` module. In dosim,
:data:`env` and :func:`waitUntil` forward to what the runtime installs with
:func:`set_runtime_globals` for every Worker request (the Worker's ``env`` and its
``ctx.waitUntil``) and every Durable Object event (the same ``env``; ``waitUntil`` keeps
the instance alive, as ``ctx.waitUntil`` does). Outside those, in a test body for
instance, they raise ``RuntimeError``.

A stand-in, importable but failing when used with ``NotImplementedError``:
``import_from_javascript`` for any module but ``cloudflare:workers``. :func:`patch_env`
patches what ``env`` gives for the length of a ``with`` block. ``handler`` is a
pass-through decorator: on Cloudflare it converts JavaScript arguments to ``workers``
types, and in dosim the arguments already are.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from types import SimpleNamespace
from typing import Any, TypeVar

from ..serialization import from_wire, to_wire

__all__ = [
    "env",
    "handler",
    "import_from_javascript",
    "patch_env",
    "python_from_rpc",
    "python_to_rpc",
    "set_runtime_globals",
    "waitUntil",
    "wait_until",
]

MSG_NO_RUNTIME = (
    "workers.{name} is only available while dosim runs a Worker (nothing is installed for "
    "this task)."
)
MSG_IMPORT_JS = (
    "import_from_javascript({name!r}): dosim has no JavaScript modules; only "
    "'cloudflare:workers' is simulated."
)

_current_env: ContextVar[Any] = ContextVar("dosim_workers_env", default=None)
_current_wait_until: ContextVar[Callable[[Any], None] | None] = ContextVar(
    "dosim_workers_wait_until", default=None
)

F = TypeVar("F", bound=Callable[..., Any])


def set_runtime_globals(
    env: Any = None, wait_until: Callable[[Any], None] | None = None
) -> Callable[[], None]:
    """Install what ``workers.env`` and ``workers.waitUntil`` refer to (dosim runtime only).

    The values are context variables, so tasks started afterwards from this context see
    them and concurrent Workers can each have their own.

    Args:
        env: The Worker's bindings object.
        wait_until: The current invocation's ``ctx.waitUntil``.

    Returns:
        A function that restores the previous values.
    """
    env_token = _current_env.set(env)
    wait_token = _current_wait_until.set(wait_until)

    def restore() -> None:
        _current_env.reset(env_token)
        _current_wait_until.reset(wait_token)

    return restore


class _EnvProxy:
    """``workers.env``: forwards attribute access to the installed bindings."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        current = _current_env.get()
        if current is None:
            raise RuntimeError(MSG_NO_RUNTIME.format(name="env"))
        return getattr(current, name)

    def __repr__(self) -> str:
        current = _current_env.get()
        return "workers.env (not installed)" if current is None else f"workers.env({current!r})"


env = _EnvProxy()
"""The Worker's bindings, as ``from workers import env`` gives them."""


def waitUntil(awaitable: Awaitable[Any]) -> None:  # noqa: N802 - the JS name
    """Keep the current invocation alive until ``awaitable`` settles.

    Raises:
        RuntimeError: When no invocation is running in this task.
    """
    current = _current_wait_until.get()
    if current is None:
        raise RuntimeError(MSG_NO_RUNTIME.format(name="waitUntil"))
    current(awaitable)


wait_until = waitUntil


def python_to_rpc(value: Any) -> Any:
    """Convert a Python value for sending over RPC.

    On Cloudflare this produces the JavaScript value; dosim returns the wire form of
    :func:`dosim.serialization.to_wire`, applying the same rules and errors (tuples and
    unsupported objects fail; ``Request``/``Response``/``Blob``/``FormData`` are copied;
    callables become functions the other side can call).
    """
    return None if value is None else to_wire(value, functions=True)


def python_from_rpc(obj: Any) -> Any:
    """Convert a value received over RPC into what Python code reads.

    Models the SDK's JS-to-Python conversion with :func:`dosim.serialization.from_wire`:
    objects become ``JsDict``, bytes become ``memoryview``, and so on.
    """
    return None if obj is None else from_wire(obj)


def handler(func: F) -> F:
    """Decorate a module-level handler such as ``on_fetch`` (pass-through in dosim).

    On Cloudflare it converts a JavaScript ``Request`` argument to ``workers.Request``
    and wraps ``env``; dosim passes Python objects already, so nothing changes.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class _PatchedEnv:
    """The env seen inside ``patch_env``: the patched names over the current bindings."""

    __slots__ = ("_base", "_values")

    def __init__(self, base: Any, values: dict[str, Any]) -> None:
        self._base = base
        self._values = values

    def __getattr__(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        if self._base is None:
            raise AttributeError(
                f"env has no binding or var {name!r} (patched: {sorted(self._values)})"
            )
        return getattr(self._base, name)

    def __repr__(self) -> str:
        return f"patched env ({', '.join(sorted(self._values))} over {self._base!r})"


@contextlib.contextmanager
def patch_env(d: Any = None, **kwds: Any) -> Iterator[None]:
    """Patch what ``workers.env`` gives inside the ``with`` block.

    The SDK's ``patch_env`` asks workerd to patch the ``cloudflare:workers`` env for as
    long as the context manager is open (workers-runtime-sdk 1.9.5 ``workers/utils.py``;
    workerd ``src/pyodide/internal/envHelpers``). dosim lays the given values over the
    current bindings (inferred: workerd's patch semantics are not visible from Python);
    names not patched still read the Worker's env.

    Args:
        d: A mapping or a sequence of ``(name, value)`` pairs.
        **kwds: More names and values (they win over ``d``).
    """
    values = dict(d or {}) | kwds
    token = _current_env.set(_PatchedEnv(_current_env.get(), values))
    try:
        yield
    finally:
        _current_env.reset(token)


def import_from_javascript(module_name: str) -> Any:
    """Import a JavaScript module; dosim simulates ``cloudflare:workers`` only.

    Returns:
        For ``"cloudflare:workers"``, an object with ``env`` and ``waitUntil``.

    Raises:
        NotImplementedError: For any other module.
    """
    if module_name == "cloudflare:workers":
        return SimpleNamespace(env=env, waitUntil=waitUntil)
    raise NotImplementedError(MSG_IMPORT_JS.format(name=module_name))
