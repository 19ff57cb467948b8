"""How Python code reaches a binding: the SDK's binding wrapper, modelled.

On Cloudflare a KV namespace, D1 database or R2 bucket in ``env`` is a JavaScript object.
The Python Workers SDK hands it to Python code inside a wrapper
(workers-runtime-sdk 1.9.5, ``workers/rpc.py``: ``_EnvWrapper`` picks ``_BindingWrapper``
for the binding classes it knows by constructor name) that:

* converts every argument with ``python_to_rpc``: dicts become JavaScript objects,
  ``None`` becomes ``null``, tuples and bytearrays are refused;
* passes keyword arguments as one trailing object, as any Pyodide call into JavaScript
  does (``get("k", type="json")`` calls ``get("k", {type: "json"})``);
* converts results with ``python_from_rpc``: objects arrive as :class:`~dosim.serialization.JsDict`,
  arrays as lists, ``null`` as ``None``, dates as naive UTC ``datetime``, buffers as
  ``memoryview``;
* wraps a result that is an instance of some other JavaScript class (a D1 prepared
  statement, an R2 object) in the same kind of wrapper, so its attributes and methods
  convert too. Streams, ``Response`` and ``Headers`` pass through unwrapped.

**Awaiting a binding lets other events in.** A KV, D1, R2 or service call is a
subrequest: while a Durable Object awaits it, its input gate is open and other events
may run (https://blog.cloudflare.com/durable-objects-easy-fast-correct-choose-three/:
only storage operations keep the gate closed). dosim's bindings do their work when
called, then yield to the event loop before the awaiting code resumes, so a
read-modify-write through KV inside an object can lose updates here as it can there.

:class:`BindingProxy` does the same for dosim's binding implementations, which are written
as the JavaScript objects they stand for: subclasses of :class:`JsClassObject` with the
platform's camelCase method names, taking and returning wire values
(:func:`dosim.serialization.to_wire`).
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from ..ffi import JsArray, JsBuffer, JsDate, JsObject
from ..serialization import JsDict, from_wire, to_wire, wire_date_ms
from ..workers.body import ReadableStream
from ..workers.headers import HeaderList

__all__ = [
    "JsClassObject",
    "BindingProxy",
    "RawJsObject",
    "JsConstructor",
    "js_arguments",
    "convert_result",
    "raw_js",
]


class JsConstructor:
    """What ``value.constructor`` gives for a modelled JavaScript object: its ``name``.

    Args:
        name: The JavaScript class name (``"KvNamespace"``).
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"[class {self.name}]"


class JsClassObject:
    """Base for dosim's models of the JavaScript objects behind bindings.

    Subclasses set :attr:`js_class_name` to the platform's constructor name (what the SDK
    reads to decide how to wrap a value) and define the platform's methods under their
    JavaScript names. Methods receive wire values (see :func:`js_arguments`) and return
    wire values, other :class:`JsClassObject` instances, or awaitables of those (a
    JavaScript ``Promise``).
    """

    js_class_name = "Object"
    """The JavaScript constructor name, as ``value.constructor.name`` reads it."""

    @property
    def constructor(self) -> JsConstructor:
        """The JavaScript constructor, for ``value.constructor.name`` checks."""
        return JsConstructor(self.js_class_name)

    def __repr__(self) -> str:
        return f"[object {self.js_class_name}]"


# Results the SDK passes through without a wrapper (``_JS_PASSTHROUGH_TYPES``): they have
# their own Python meaning, such as a body handed to ``Response``.
_PASSTHROUGH = frozenset(
    {"ReadableStream", "Response", "Headers", "FormData", "URLSearchParams", "Blob"}
)


def js_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    """Convert a Python call's arguments as the SDK and Pyodide do before JavaScript runs.

    Args:
        args: Positional arguments, each converted with the RPC rules.
        kwargs: Keyword arguments; when any are given they become one trailing object.

    Returns:
        The JavaScript arguments, as wire values.

    Raises:
        TypeError: For tuples, bytearrays and awaitables (the SDK's own check).
        JsException: ``DataCloneError`` for values JavaScript cannot receive.
    """
    sent = [_js_value(arg) for arg in args]
    if kwargs:
        sent.append({key: _js_value(value) for key, value in kwargs.items()})
    return sent


def _js_value(value: Any) -> Any:
    # JavaScript objects Python code holds (a ``js.Headers``, a body's stream) reach the
    # binding as they are: the SDK's to_js leaves a JsProxy alone, wherever it sits.
    if isinstance(value, (HeaderList, ReadableStream)):
        return value
    if type(value) is dict:
        if not any(isinstance(item, _PASSED) for item in value.values()):
            return to_wire(value, functions=True)
        return {key: _js_value(item) for key, item in to_wire_keys(value).items()}
    if type(value) is list and any(isinstance(item, _PASSED) for item in value):
        return [_js_value(item) for item in value]
    return to_wire(value, functions=True)


_PASSED = (HeaderList, ReadableStream)


def to_wire_keys(value: dict[Any, Any]) -> dict[str, Any]:
    """Give a dict JavaScript's property names (``1`` becomes ``"1"``), values untouched.

    Args:
        value: A dict whose values are converted separately.
    """
    keyed = to_wire({key: None for key in value}, functions=True)
    return dict(zip(keyed, value.values(), strict=True))


class BindingProxy:
    """A binding, or a JavaScript object a binding returned, as Python code holds it.

    Models the SDK's ``_BindingWrapper``: attribute reads convert the value, method calls
    convert arguments and results (see the module docstring). The wrapped object is
    :attr:`js_object`.

    Args:
        target: The modelled JavaScript object.
    """

    __slots__ = ("_target", "__dict__")

    def __init__(self, target: JsClassObject) -> None:
        self._target = target

    @property
    def js_object(self) -> JsClassObject:
        """The JavaScript object behind this wrapper."""
        return self._target

    def __dosim_wire__(self) -> JsClassObject:
        # Sent back into JavaScript (``db.batch([stmt])``) as the object itself.
        return self._target

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        attribute = getattr(self._target, name)
        if not callable(attribute) or isinstance(attribute, JsClassObject):
            result = convert_result(attribute)
        else:
            result = _method(attribute)
        # The SDK caches each attribute on the wrapper after the first read.
        setattr(self, name, result)
        return result

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int):
            return convert_result(self._target[key])  # type: ignore[index]
        return convert_result(getattr(self._target, key))

    def __iter__(self) -> Any:
        if not hasattr(self._target, "__iter__"):
            raise TypeError(f"'{self._target.js_class_name}' object is not iterable")
        for item in self._target:  # type: ignore[attr-defined]
            yield convert_result(item)

    def __bool__(self) -> bool:
        return True

    def __len__(self) -> int:
        length = getattr(self._target, "length", None)
        if not isinstance(length, int):
            raise TypeError(f"'{self._target.js_class_name}' object has no len()")
        return length

    def __repr__(self) -> str:
        return repr(self._target)


def _method(function: Any) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        result = function(*js_arguments(args, kwargs))
        if inspect.isawaitable(result):
            return _settle(result)
        return convert_result(result)

    call.__name__ = getattr(function, "__name__", "method")
    call.__doc__ = getattr(function, "__doc__", None)
    return call


async def _settle(promise: Any) -> Any:
    result = await promise
    await asyncio.sleep(0)  # the reply of a subrequest: see "Awaiting a binding" above
    return convert_result(result)


def convert_result(value: Any) -> Any:
    """Convert what a modelled JavaScript call returned into what Python code receives.

    Args:
        value: A wire value or a :class:`JsClassObject`.

    Returns:
        The Python value (``python_from_rpc``), or a :class:`BindingProxy` around a
        JavaScript object that is not passed through. As in the SDK, only the result
        itself and the items of a top-level list are wrapped: a class instance nested in
        an object (the ``objects`` of an R2 listing) arrives as a raw proxy
        (:class:`RawJsObject`).
    """
    if isinstance(value, JsClassObject):
        return _wrap(value)
    if isinstance(value, list):
        return [_wrap(item) if isinstance(item, JsClassObject) else _python(item) for item in value]
    return _python(value)


def _wrap(value: JsClassObject) -> Any:
    if value.js_class_name in _PASSTHROUGH:
        return value
    return BindingProxy(value)


def _python(value: Any) -> Any:
    # python_from_rpc: ``to_py`` with a converter that leaves unknown class instances as
    # raw proxies.
    if isinstance(value, JsClassObject):
        return value if value.js_class_name in _PASSTHROUGH else RawJsObject(value)
    if isinstance(value, dict):
        return JsDict({key: _python(item) for key, item in value.items()})
    if isinstance(value, list):
        return [_python(item) for item in value]
    return from_wire(value)


def raw_js(value: Any) -> Any:
    """Return what Pyodide gives for a JavaScript value read without the SDK's wrapper.

    Args:
        value: A wire value or a :class:`JsClassObject`.

    Returns:
        Scalars as they are; objects as :class:`~dosim.ffi.JsObject`, arrays as
        :class:`~dosim.ffi.JsArray`, buffers as :class:`~dosim.ffi.JsBuffer`, dates as
        :class:`~dosim.ffi.JsDate`, class instances as :class:`RawJsObject`.
    """
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, JsClassObject):
        return value if value.js_class_name in _PASSTHROUGH else RawJsObject(value)
    if isinstance(value, dict):
        return JsObject({key: raw_js(item) for key, item in value.items()})
    if isinstance(value, list):
        return JsArray([raw_js(item) for item in value])
    if isinstance(value, (bytes, bytearray, memoryview)):
        return JsBuffer(bytes(value))
    moment = wire_date_ms(value)
    if moment is not None:
        return JsDate(moment)
    return from_wire(value)


class RawJsObject:
    """A modelled JavaScript object reached without the SDK's wrapper (a raw ``JsProxy``).

    Properties read as Pyodide gives them (:func:`raw_js`): a date is a ``JsDate``, not a
    ``datetime``; an object is a ``JsProxy`` with attribute access and ``to_py()``, not a
    dict. Methods take the SDK's argument conversion (dosim's approximation of Pyodide's
    own; see the Differences page).

    Args:
        target: The modelled JavaScript object.
    """

    __slots__ = ("_target",)

    def __init__(self, target: JsClassObject) -> None:
        self._target = target

    @property
    def constructor(self) -> JsConstructor:
        """The JavaScript constructor (``.name`` is the class name)."""
        return self._target.constructor

    def __dosim_wire__(self) -> JsClassObject:
        return self._target

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        attribute = getattr(self._target, name)
        if callable(attribute) and not isinstance(attribute, JsClassObject):

            def call(*args: Any, **kwargs: Any) -> Any:
                result = attribute(*js_arguments(args, kwargs))
                if inspect.isawaitable(result):
                    return _settle_raw(result)
                return raw_js(result)

            return call
        return raw_js(attribute)

    def to_py(self, *, depth: int = -1, default_converter: Any = None) -> Any:
        """Return the object itself: a class instance has no dict form (as in Pyodide)."""
        return self

    def __repr__(self) -> str:
        return repr(self._target)


async def _settle_raw(promise: Any) -> Any:
    result = await promise
    await asyncio.sleep(0)  # the reply of a subrequest, as in _settle
    return raw_js(result)
