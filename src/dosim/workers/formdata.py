"""``FormData``: the ordered multi-map of form fields, and its body encoding and parsing.

On Cloudflare ``FormData`` wraps a JavaScript ``FormData``; dosim keeps the entries in a
Python list with the same rules: string values stay strings (other scalars are
stringified as JavaScript would), a ``Blob`` becomes a ``File`` (named ``"blob"`` unless
a file name is given), and reading a missing key returns ``None``.

Reproduced on purpose: ``len(form)`` and ``bool(form)`` raise ``TypeError`` as they do
with SDK 1.9.5 (its ``__len__`` takes the length of a generator), so code relying on
them fails here before it fails in production.

As a body, a form is encoded as ``multipart/form-data``. workerd picks a random
boundary; dosim derives it from a hash of the content so runs are reproducible.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, MutableMapping
from email.message import Message
from typing import Any, TypeAlias
from urllib.parse import parse_qsl

from .blob import Blob, File, decode_utf8, encode_utf8
from .headers import js_string

__all__ = ["FormData", "FormDataValue", "encode_form_data", "parse_form_data"]

FormDataValue: TypeAlias = "str | Blob | File"
"""A form field value."""

MSG_FORM_INIT = "Expected form_data to be a dict or an instance of FormData"
MSG_FORM_SETITEM = "Expected single item in arguments to FormData.__setitem__"
MSG_FORM_NO_CONTENT_TYPE = "Parsing a Body as FormData requires a Content-Type header."
MSG_FORM_BAD_CONTENT_TYPE = (
    "Unrecognized Content-Type header value. FormData can only parse the following MIME "
    "types: multipart/form-data, application/x-www-form-urlencoded"
)
MSG_FORM_NO_BOUNDARY = (
    "No boundary string in Content-Type header. The multipart/form-data MIME type requires "
    "a boundary parameter, e.g. 'Content-Type: multipart/form-data; boundary=\"abcd\"'. "
    "See RFC 7578, section 4."
)
MSG_FORM_BOUNDARY_LENGTH = (
    "Length of multipart/form-data boundary string must be in the range [1, 70]."
)
MSG_FORM_NO_INITIAL_BOUNDARY = "No initial boundary string (or you have a truncated message)."
MSG_FORM_NO_NEXT_BOUNDARY = "No subsequent boundary string after multipart message."
MSG_FORM_NO_HEADER_END = "No multipart message header termination found."
MSG_FORM_NO_DISPOSITION = "No valid Content-Disposition header found in FormData part."
MSG_FORM_BAD_DISPOSITION = (
    'Content-Disposition header for FormData part must have the value "form-data", '
    'possibly followed by parameters. Got: "{value}"'
)
MSG_FORM_NO_NAME = "Content-Disposition header in FormData part is missing a name."


class FormData(MutableMapping):
    """Form fields: an ordered list of ``(name, value)`` entries where names may repeat.

    Args:
        form_data: ``None`` or a ``dict`` whose items are appended in order.

    Raises:
        TypeError: ``Expected form_data to be a dict or an instance of FormData`` for
            other types (a Python ``FormData`` included, as in the SDK).
    """

    def __init__(self, form_data: dict[str, Any] | None = None) -> None:
        self._entries: list[tuple[str, str | File]] = []
        if not form_data:
            return
        if not isinstance(form_data, dict):
            raise TypeError(MSG_FORM_INIT)
        for key, value in form_data.items():
            self.append(key, value)

    def __getitem__(self, key: str) -> Any:
        # A missing key gives None (JS FormData.get returns null); no KeyError.
        for name, value in self._entries:
            if name == key:
                return value
        return None

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, list):
            raise TypeError(MSG_FORM_SETITEM)
        entry = _entry(key, value, None)
        for index, (name, _) in enumerate(self._entries):
            if name == key:
                self._entries[index] = entry
                self._entries = [
                    e for i, e in enumerate(self._entries) if i <= index or e[0] != key
                ]
                return
        self._entries.append(entry)

    def append(self, key: str, value: Any, filename: str | None = None) -> None:
        """Add an entry (``FormData.append``); ``filename`` names a ``Blob`` value."""
        self._entries.append(_entry(key, value, filename))

    def delete(self, key: str) -> None:
        """Remove every entry with this name (a missing name is ignored)."""
        self._entries = [entry for entry in self._entries if entry[0] != key]

    def __delitem__(self, key: str) -> None:
        self.delete(key)

    def __contains__(self, key: object) -> bool:
        return any(name == key for name, _ in self._entries)

    def keys(self) -> Iterator[str]:  # type: ignore[override]
        """Yield every entry's name, repeats included, in order."""
        yield from [name for name, _ in self._entries]

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        """Yield every entry's value in order."""
        yield from [value for _, value in self._entries]

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        """Yield every ``(name, value)`` entry in order."""
        yield from list(self._entries)

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def __len__(self) -> int:
        # SDK 1.9.5 computes len() of a generator here, which raises; kept on purpose.
        raise TypeError("object of type 'generator' has no len()")

    def get_all(self, key: str) -> list[Any]:
        """Return every value stored under ``key``, in order."""
        return [value for name, value in self._entries if name == key]

    @property
    def js_object(self) -> FormData:
        """The JavaScript ``FormData`` on Cloudflare; in dosim the object itself (there is none)."""
        return self

    def __dosim_wire__(self) -> FormData:
        """Return the copy the other side of an RPC call receives."""
        copy = FormData()
        copy._entries = [
            (name, value if isinstance(value, str) else value._copy())
            for name, value in self._entries
        ]
        return copy

    def __repr__(self) -> str:
        return f"FormData({self._entries!r})"


def _entry(key: Any, value: Any, filename: str | None) -> tuple[str, str | File]:
    name = js_string(key)
    if isinstance(value, Blob):
        if filename is not None:
            return name, File([value._data], filename, value.content_type)
        if isinstance(value, File):
            return name, value
        return name, File([value._data], "blob", value.content_type)
    return name, js_string(value)


def encode_form_data(form: FormData) -> tuple[bytes, str]:
    """Encode a form as a ``multipart/form-data`` body.

    Args:
        form: The form.

    Returns:
        The body and its ``Content-Type`` (with the boundary).
    """
    parts = []
    for name, value in form._entries:
        disposition = f'Content-Disposition: form-data; name="{_escape(name)}"'
        if isinstance(value, File):
            content_type = value.content_type or "application/octet-stream"
            head = f'{disposition}; filename="{_escape(value.name)}"\r\n'
            head += f"Content-Type: {content_type}\r\n\r\n"
            parts.append((encode_utf8(head), value._data))
        else:
            parts.append((encode_utf8(disposition + "\r\n\r\n"), encode_utf8(value)))
    digest = hashlib.sha256()
    for head, data in parts:
        digest.update(head)
        digest.update(data)
    boundary = digest.hexdigest()[:32].encode("ascii")
    body = b"".join(b"--" + boundary + b"\r\n" + head + data + b"\r\n" for head, data in parts)
    body += b"--" + boundary + b"--\r\n"
    return body, f"multipart/form-data; boundary={boundary.decode('ascii')}"


def _escape(text: str) -> str:
    return text.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def parse_form_data(data: bytes, content_type: str | None) -> FormData:
    """Parse a body as form data, as ``Body.formData()`` does.

    Args:
        data: The body bytes.
        content_type: The body's ``Content-Type`` header value, if any.

    Returns:
        A new :class:`FormData`; file parts become :class:`File` values.

    Raises:
        TypeError: With the runtime's message for a missing or unsupported content type
            or a malformed multipart body.
    """
    if content_type is None:
        raise TypeError(MSG_FORM_NO_CONTENT_TYPE)
    header = Message()
    header["content-type"] = content_type
    essence = content_type.split(";", 1)[0].strip().lower()
    form = FormData()
    if essence == "application/x-www-form-urlencoded":
        for key, value in parse_qsl(decode_utf8(data), keep_blank_values=True):
            form.append(key, value)
        return form
    if essence != "multipart/form-data":
        raise TypeError(MSG_FORM_BAD_CONTENT_TYPE)
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str):
        raise TypeError(MSG_FORM_NO_BOUNDARY)
    if not 1 <= len(boundary) <= 70:
        raise TypeError(MSG_FORM_BOUNDARY_LENGTH)
    for headers, content in _multipart_parts(data, b"--" + boundary.encode("latin-1")):
        _add_part(form, headers, content)
    return form


def _multipart_parts(data: bytes, delimiter: bytes) -> Iterator[tuple[Message, bytes]]:
    position = data.find(delimiter)
    if position < 0:
        raise TypeError(MSG_FORM_NO_INITIAL_BOUNDARY)
    position += len(delimiter)
    while not data.startswith(b"--", position):
        line_end = data.find(b"\r\n", position)
        if line_end < 0:
            raise TypeError(MSG_FORM_NO_NEXT_BOUNDARY)
        start = line_end + 2
        if data.startswith(b"\r\n", start):
            head, body_start = b"", start + 2
        else:
            head_end = data.find(b"\r\n\r\n", start)
            if head_end < 0:
                raise TypeError(MSG_FORM_NO_HEADER_END)
            head, body_start = data[start:head_end], head_end + 4
        next_delimiter = data.find(b"\r\n" + delimiter, body_start)
        if next_delimiter < 0:
            raise TypeError(MSG_FORM_NO_NEXT_BOUNDARY)
        yield _part_headers(head), data[body_start:next_delimiter]
        position = next_delimiter + 2 + len(delimiter)


def _part_headers(head: bytes) -> Message:
    headers = Message()
    for line in head.decode("utf-8", "replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip()] = value.strip()
    return headers


def _add_part(form: FormData, headers: Message, content: bytes) -> None:
    raw = headers.get("content-disposition")
    if raw is None:
        raise TypeError(MSG_FORM_NO_DISPOSITION)
    if headers.get_content_disposition() != "form-data":
        raise TypeError(MSG_FORM_BAD_DISPOSITION.format(value=raw))
    name = headers.get_param("name", header="content-disposition")
    if not isinstance(name, str):
        raise TypeError(MSG_FORM_NO_NAME)
    filename = headers.get_filename()
    if filename is None:
        form.append(name, decode_utf8(content))
        return
    # The Fetch spec's multipart parser defaults a file part's type to text/plain.
    content_type = headers.get("content-type", "text/plain")
    form.append(name, File([content], filename, content_type))
