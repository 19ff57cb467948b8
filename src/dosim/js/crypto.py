"""``js.crypto``: ``randomUUID()`` and ``getRandomValues(array)``, seeded.

Every random value dosim hands out is reproducible, as ``newUniqueId()`` is: code
running inside a Durable Object draws from a stream seeded with the app's ``seed`` and
the object's id, so an object's values do not depend on what other objects did; other
code (a Worker handler, a test body) draws from one stream per process, seeded with 0.
Do not use them as secrets: they are predictable by design.

``getRandomValues`` takes an integer typed array (``js.Uint8Array.new(16)`` or
``to_js(bytearray(16))``), fills it in place and returns it; a Python ``bytearray`` or
list crosses as a PyProxy and is refused, as on the platform. The error names and
messages are those observed in Pyodide 314.0.7 under Node.js (``TypeMismatchError``,
``QuotaExceededError``); workerd raises the same error names.
"""

from __future__ import annotations

import random
import uuid
import weakref
from typing import Any

from ..boundary import js_method
from ..current import current_incarnation
from ..errors import JsException
from ..ffi import JsBuffer, JsProxy

__all__ = ["Crypto", "crypto", "random_stream"]

MAX_RANDOM_BYTES = 65536
MSG_NOT_INTEGER_ARRAY = "The data argument must be an integer-type TypedArray"
MSG_TOO_LONG = "The requested length exceeds 65,536 bytes"
_INTEGER_ARRAYS = frozenset(
    "Int8Array Uint8Array Uint8ClampedArray Int16Array Uint16Array Int32Array Uint32Array "
    "BigInt64Array BigUint64Array".split()
)

_object_streams: weakref.WeakKeyDictionary[Any, random.Random] = weakref.WeakKeyDictionary()
_process_stream = random.Random("dosim:js.crypto")


def random_stream() -> random.Random:
    """The seeded random stream for code running in this context (see the module docstring)."""
    incarnation = current_incarnation()
    if incarnation is None:
        return _process_stream
    host = incarnation.host
    stream = _object_streams.get(host)
    if stream is None:
        stream = random.Random(f"{host.app.seed}:{host.hex_id}:js.crypto")
        _object_streams[host] = stream
    return stream


class Crypto(JsProxy):
    """JavaScript's ``crypto`` object (``js.crypto``); see the module docstring."""

    _js_type = "Crypto"

    def randomUUID(self) -> str:  # noqa: N802 - the JavaScript method name
        """A version 4 UUID string from the seeded stream."""
        return str(uuid.UUID(int=random_stream().getrandbits(128), version=4))

    @js_method
    def getRandomValues(self, array: Any) -> Any:  # noqa: N802 - the JavaScript method name
        """Fill an integer typed array with seeded random bytes and return it.

        Args:
            array: An integer typed array (a :class:`~dosim.ffi.JsBuffer` view).

        Returns:
            The same array.

        Raises:
            JsException: ``TypeMismatchError`` for anything but an integer typed array,
                ``QuotaExceededError`` for more than 65,536 bytes.
        """
        if not isinstance(array, JsBuffer) or array._kind not in _INTEGER_ARRAYS:
            raise JsException(MSG_NOT_INTEGER_ARRAY, name="TypeMismatchError")
        if len(array._data) > MAX_RANDOM_BYTES:
            raise JsException(MSG_TOO_LONG, name="QuotaExceededError")
        array._data = random_stream().randbytes(len(array._data))
        return array


crypto = Crypto()
"""``js.crypto``."""
