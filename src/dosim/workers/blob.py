"""``Blob`` and ``File``: immutable bytes with a content type, as the ``workers`` SDK has them.

On Cloudflare these wrap JavaScript ``Blob``/``File`` objects; dosim keeps the bytes in
Python. The SDK's public surface is reproduced: ``size``, ``content_type``, ``text()``,
``bytes()``, ``slice()``, and for ``File`` also ``name`` and ``last_modified``.

Where dosim differs: there is no ``js_object``. ``File``'s default ``last_modified`` is
``time.time_ns()`` in milliseconds, which inside a simulation is dosim's virtual clock
(``Date.now()`` on Cloudflare).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, TypeAlias

__all__ = ["Blob", "BlobEnding", "BlobValue", "File"]

BlobValue: TypeAlias = "str | bytes | memoryview | Blob | File"
"""What a part of a ``Blob`` may be (the SDK's alias also names JS buffer types)."""


class BlobEnding(StrEnum):
    r"""How ``Blob`` treats line endings in ``str`` parts (JS ``endings`` option).

    ``NATIVE`` converts ``\\r\\n`` and ``\\r`` to ``\\n`` (the platform's ending on
    Cloudflare's Linux hosts); ``TRANSPARENT`` (the default) keeps them.
    """

    TRANSPARENT = "transparent"
    NATIVE = "native"


class Blob:
    """Immutable bytes with a content type.

    Args:
        blob_parts: One part or an iterable of parts: ``str`` (UTF-8 encoded), bytes-like
            objects, or other ``Blob``/``File`` objects. ``str`` and ``bytes`` count as a
            single part; a ``bytearray`` is iterable, so (as in the SDK) it is read as a
            sequence of ints and rejected -- wrap it in a list.
        content_type: The MIME type. Lower-cased; a type with characters outside
            printable ASCII becomes ``""``, as the JS ``Blob`` does. A single ``Blob``
            part passes its type on when none is given.
        endings: ``"transparent"`` (default) or ``"native"``.

    Raises:
        TypeError: ``Don't know how to handle <type> for Blob()`` for other part types.
    """

    def __init__(
        self,
        blob_parts: Iterable[Any] | Any,
        content_type: str | None = None,
        endings: BlobEnding | str | None = None,
    ) -> None:
        if _is_single(blob_parts):
            if not content_type and isinstance(blob_parts, Blob):
                content_type = blob_parts.content_type
            blob_parts = [blob_parts]
        native = endings is not None and str(endings) == BlobEnding.NATIVE
        self._data = b"".join(_part_bytes(part, native) for part in blob_parts)
        self._type = _normalise_type(content_type)

    @classmethod
    def _of(cls, data: bytes, content_type: str) -> Blob:
        """Build a blob without normalising the type (``Body.blob()`` keeps it as sent)."""
        blob = cls.__new__(cls)
        blob._data = data
        blob._type = content_type
        return blob

    @property
    def size(self) -> int:
        """The length in bytes."""
        return len(self._data)

    @property
    def content_type(self) -> str:
        """The MIME type, ``""`` when unknown."""
        return self._type

    async def text(self) -> str:
        """Return the bytes decoded as UTF-8 (invalid bytes become U+FFFD, a BOM is dropped)."""
        return decode_utf8(self._data)

    async def bytes(self) -> bytes:
        """Return the bytes."""
        return self._data

    def slice(
        self, start: int | None = None, end: int | None = None, content_type: str | None = None
    ) -> Blob:
        """Return a blob of a byte range; negative offsets count from the end.

        As in the SDK, the result's ``content_type`` is ``""`` whatever ``content_type``
        says: the SDK wraps the sliced JS blob in a list, which drops its type.
        """
        del content_type  # accepted for signature parity; see the docstring
        size = len(self._data)
        first = _clamp(start, size, 0)
        last = _clamp(end, size, size)
        return Blob([self._data[first : max(first, last)]])

    def __dosim_wire__(self) -> Blob:
        """Return the copy the other side of an RPC call receives."""
        return self._copy()

    def _copy(self) -> Blob:
        return Blob._of(self._data, self._type)

    @property
    def js_object(self) -> Blob:
        """The JavaScript ``Blob`` on Cloudflare; in dosim the object itself (there is none)."""
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, content_type={self.content_type!r})"


class File(Blob):
    """A ``Blob`` with a file name and a modification time.

    Args:
        blob_parts: As for :class:`Blob`. A single ``File`` part also passes on its
            ``last_modified``.
        filename: The file name.
        content_type: As for :class:`Blob`.
        endings: As for :class:`Blob`.
        last_modified: Milliseconds since the epoch; defaults to now (virtual time
            inside a simulation).
    """

    def __init__(
        self,
        blob_parts: Iterable[Any] | Any,
        filename: str,
        content_type: str | None = None,
        endings: BlobEnding | str | None = None,
        last_modified: int | None = None,
    ) -> None:
        if _is_single(blob_parts) and not last_modified and isinstance(blob_parts, File):
            last_modified = blob_parts.last_modified
        super().__init__(blob_parts, content_type, endings)
        self._name = str(filename)
        self._last_modified = int(last_modified) if last_modified else time.time_ns() // 1_000_000

    @property
    def name(self) -> str:
        """The file name."""
        return self._name

    @property
    def last_modified(self) -> int:
        """Milliseconds since the epoch."""
        return self._last_modified

    def _copy(self) -> File:
        return File([self._data], self._name, self._type, last_modified=self._last_modified)


def encode_utf8(text: str) -> bytes:
    """Encode a string as JavaScript does for a body: lone surrogates become U+FFFD."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # JS strings convert to USVString first; round-tripping UTF-16 does the same.
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


def decode_utf8(data: bytes) -> str:
    """Decode bytes as the Fetch spec's "UTF-8 decode": BOM dropped, errors replaced."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", "replace")


def _is_single(parts: Any) -> bool:
    """Mirror the SDK: ``str`` and ``bytes`` are one part, so is anything not iterable."""
    if isinstance(parts, str | bytes):
        return True
    try:
        iter(parts)
    except TypeError:
        return True
    return False


def _part_bytes(part: Any, native: bool) -> bytes:
    if isinstance(part, str):
        if native:
            part = part.replace("\r\n", "\n").replace("\r", "\n")
        return encode_utf8(part)
    if isinstance(part, Blob):
        return part._data
    try:
        with memoryview(part) as view:
            return view.tobytes()
    except TypeError:
        raise TypeError(f"Don't know how to handle {type(part)} for Blob()") from None


def _normalise_type(content_type: str | None) -> str:
    if not content_type:
        return ""
    if any(not 0x20 <= ord(char) <= 0x7E for char in content_type):
        return ""
    return content_type.lower()


def _clamp(offset: int | None, size: int, default: int) -> int:
    if offset is None:
        return default
    if offset < 0:
        return max(size + offset, 0)
    return min(offset, size)
