"""What the Workers runtime checks before an R2 call leaves the Worker.

workerd turns an ``R2Bucket`` call's JavaScript arguments into a request for the R2
service (``src/workerd/api/r2-bucket.c++``, commit 6552d999c79e). Some mistakes never
reach R2: they fail here, with the runtime's ``TypeError``/``RangeError`` texts:

* ``range``: a negative or fractional ``offset``/``length``/``suffix``
  (``RangeError``), a ``suffix`` given with an ``offset`` or ``length`` (``TypeError``);
* ``onlyIf``: an etag wrapped in quotes (``TypeError``), a malformed ``If-Match`` /
  ``If-None-Match`` header (``Error``);
* checksums: a hash of the wrong length or not hex, or two algorithms at once
  (``TypeError``);
* ``list``: an ``include`` value other than ``httpMetadata``/``customMetadata``
  (``RangeError``);
* multipart part numbers outside 1-10000 (``TypeError``, ``r2-multipart.c++``).

Values arrive as wire values (:mod:`dosim.bindings.wrapper`): a Python ``datetime`` is a
wire date, a JavaScript ``Headers`` is a :class:`~dosim.workers.headers.HeaderList`.

Inferred (the platform is silent): a ``None`` option (JavaScript ``null``) counts as
absent; a value of the wrong type fails with workerd's wording for a struct field
(``Incorrect type for the '<field>' field on '<Struct>': ...``).
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import math
from dataclasses import dataclass
from typing import Any

from ..errors import JsException
from ..serialization import js_number_to_string, wire_date_ms
from ..workers.headers import HeaderList
from .jsstring import js_string

__all__ = [
    "Conditional",
    "Etag",
    "RangeRequest",
    "HTTP_FIELDS",
    "HASHES",
    "js_string",
    "parse_conditional",
    "parse_range",
    "parse_http_metadata",
    "parse_custom_metadata",
    "parse_checksum",
    "parse_list_options",
    "check_part_number",
    "etags_from_header",
]

Etag = tuple[str, str]
"""``("strong" | "weak" | "wildcard", value)``: one etag of a condition."""

HTTP_FIELDS = (
    ("contentType", "content-type"),
    ("contentLanguage", "content-language"),
    ("contentDisposition", "content-disposition"),
    ("contentEncoding", "content-encoding"),
    ("cacheControl", "cache-control"),
)
"""``R2HTTPMetadata``'s string fields and the headers they stand for (``cacheExpiry`` is
``Expires``)."""

HASHES = (
    ("md5", "MD5", 16),
    ("sha1", "SHA-1", 20),
    ("sha256", "SHA-256", 32),
    ("sha384", "SHA-384", 48),
    ("sha512", "SHA-512", 64),
)
"""The checksum options: field, the algorithm's name in messages, digest length."""

_INCLUDES = ("httpMetadata", "customMetadata")
_COND = "Conditional"
_MSG_MULTIPLE_HASHES = "You cannot specify multiple hashing algorithms."
_MSG_QUOTED_ETAG = "Conditional ETag should not be wrapped in quotes ({value})."
_MSG_INVALID_DATE = "The value cannot be converted because it is not a valid Date."


def _type_error(message: str) -> JsException:
    return JsException(message, name="TypeError")


def _field_error(field: str, struct: str, expected: str) -> JsException:
    return _type_error(
        f"Incorrect type for the '{field}' field on '{struct}': the provided value is "
        f"not of type '{expected}'."
    )


def _number(value: float) -> str:
    # kj::str(double) as workerd's messages print it: 1.0 is "1", 1.5 is "1.5".
    return js_number_to_string(float(value))


def _date_ms(value: Any, field: str, struct: str) -> int:
    """A ``kj::Date`` argument: a Date or a number of ms (jsg's DateWrapper)."""
    moment = wire_date_ms(value)
    if moment is not None:
        return moment
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise _type_error(_MSG_INVALID_DATE)
        return int(value)
    raise _field_error(field, struct, "date")


def _strict_string(value: Any, field: str, struct: str) -> str:
    # jsg::NonCoercible<kj::String>: only a real string is accepted.
    if not isinstance(value, str):
        raise _field_error(field, struct, "string")
    return value


def _http_date_ms(text: str) -> int:
    # JavaScript's Date parser, for the HTTP-dates conditional headers carry.
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        try:
            moment = _dt.datetime.fromisoformat(text.strip())
        except ValueError:
            raise _type_error(_MSG_INVALID_DATE) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class Conditional:
    """An ``onlyIf`` as the R2 service receives it.

    Attributes:
        etag_matches: ``etagMatches`` / ``If-Match``.
        etag_does_not_match: ``etagDoesNotMatch`` / ``If-None-Match``.
        uploaded_before: ``uploadedBefore`` / ``If-Unmodified-Since``, ms.
        uploaded_after: ``uploadedAfter`` / ``If-Modified-Since``, ms.
        seconds_granularity: Compare upload times in whole seconds (always so for
            headers, which carry whole-second dates).
    """

    etag_matches: tuple[Etag, ...] | None = None
    etag_does_not_match: tuple[Etag, ...] | None = None
    uploaded_before: int | None = None
    uploaded_after: int | None = None
    seconds_granularity: bool = False


def parse_conditional(value: Any) -> Conditional | None:
    """Read an ``onlyIf`` option: an ``R2Conditional`` object or a ``Headers``.

    Args:
        value: The option's wire value (``None`` when absent).

    Raises:
        JsException: ``TypeError`` for a quoted etag or a wrong type; ``Error`` for a
            malformed ``If-Match``/``If-None-Match`` header.
    """
    if value is None:
        return None
    if isinstance(value, HeaderList):
        return _conditional_from_headers(value)
    if not isinstance(value, dict):
        raise _type_error(
            "Failed to execute 'onlyIf': the provided value is not of type "
            "'Conditional or Headers'."
        )
    matches = _single_etag(value.get("etagMatches"), "etagMatches")
    does_not_match = _single_etag(value.get("etagDoesNotMatch"), "etagDoesNotMatch")
    before = value.get("uploadedBefore")
    after = value.get("uploadedAfter")
    return Conditional(
        etag_matches=matches,
        etag_does_not_match=does_not_match,
        uploaded_before=None if before is None else _date_ms(before, "uploadedBefore", _COND),
        uploaded_after=None if after is None else _date_ms(after, "uploadedAfter", _COND),
        seconds_granularity=bool(value.get("secondsGranularity")),
    )


def _single_etag(value: Any, field: str) -> tuple[Etag, ...] | None:
    if value is None:
        return None
    text = _strict_string(value, field, "Conditional")
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        raise _type_error(_MSG_QUOTED_ETAG.format(value=text))
    if text == "*":
        return (("wildcard", ""),)
    return (("strong", text),)


def _conditional_from_headers(headers: HeaderList) -> Conditional:
    matches = does_not_match = None
    if_match = headers.get("if-match")
    if if_match is not None:
        matches = etags_from_header(if_match)
        if not matches:
            raise JsException("Invalid ETag in if-match header")
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        does_not_match = etags_from_header(if_none_match)
        if not does_not_match:
            raise JsException("Invalid ETag in if-none-match header")
    since = headers.get("if-modified-since")
    unmodified = headers.get("if-unmodified-since")
    return Conditional(
        etag_matches=matches,
        etag_does_not_match=does_not_match,
        uploaded_before=None if unmodified is None else _http_date_ms(unmodified),
        uploaded_after=None if since is None else _http_date_ms(since),
        seconds_granularity=True,
    )


def etags_from_header(text: str) -> tuple[Etag, ...]:
    """Parse an ``If-Match``/``If-None-Match`` value into etags, as workerd does.

    A list of quoted strong etags and ``W/"..."`` weak ones, separated by commas; ``*``
    stands for any etag and ends the list. Parsing stops quietly at a character that
    cannot start an etag.

    Args:
        text: The header value.

    Raises:
        JsException: ``Error`` for a missing comma, an unclosed quote or a weak etag
            not written ``W/"..."``.
    """
    found: list[Etag] = []
    need_comma = False
    rest = text
    while True:
        rest = rest.lstrip(" \t")
        if not rest:
            return tuple(found)
        first = rest[0]
        if first == ",":
            rest, need_comma = rest[1:], False
        elif first == "*":
            if need_comma:
                raise JsException(
                    "Comma was expected to separate etags. Encountered a wildcard "
                    "character '*' instead."
                )
            return (("wildcard", ""),)
        elif first == "W":
            if need_comma:
                raise JsException(
                    "Comma was expected to separate etags. Encountered a weak quotation "
                    "character 'W' instead. This would otherwise indicate the start of a "
                    "new weak etag."
                )
            if not rest.startswith('W/"') or len(rest) <= 2:
                raise JsException("Weak etags must start with W/ and their value must be quoted")
            value, rest = _quoted(rest[3:])
            found.append(("weak", value))
            need_comma = True
        elif first == '"':
            if need_comma:
                raise JsException(
                    "Comma was expected to separate etags. Encountered a double quote "
                    "character '\"' instead. This would otherwise indicate the start of a "
                    "new strong etag."
                )
            value, rest = _quoted(rest[1:])
            found.append(("strong", value))
            need_comma = True
        else:
            return tuple(found)


def _quoted(rest: str) -> tuple[str, str]:
    end = rest.find('"')
    if end < 0:
        raise JsException("Unclosed double quote for Etag")
    return rest[:end], rest[end + 1 :]


@dataclass(frozen=True)
class RangeRequest:
    """A ``range`` option: numbers from an ``R2Range``, or a ``Range`` header's text.

    Attributes:
        offset: First byte.
        length: Number of bytes.
        suffix: Number of bytes from the end.
        header: The ``Range`` header of a ``Headers`` given as ``range``.
    """

    offset: int | None = None
    length: int | None = None
    suffix: int | None = None
    header: str | None = None


def parse_range(value: Any) -> RangeRequest | None:
    """Read a ``get`` ``range`` option with workerd's checks.

    Args:
        value: ``{offset, length}``, ``{suffix}``, a ``Headers``, or ``None``.

    Raises:
        JsException: ``RangeError`` for negative or fractional numbers, ``TypeError``
            for a ``suffix`` combined with ``offset`` or ``length``.
    """
    if value is None:
        return None
    if isinstance(value, HeaderList):
        header = value.get("range")
        return None if header is None else RangeRequest(header=header)
    if not isinstance(value, dict):
        raise _type_error(
            "Failed to execute 'range': the provided value is not of type 'Range or Headers'."
        )
    offset = _range_number(value.get("offset"), "offset")
    length = _range_number(value.get("length"), "length")
    suffix = _range_number(value.get("suffix"), "suffix")
    if offset is not None:
        if offset < 0:
            raise _range_error(
                f"Invalid range. Starting offset ({_number(offset)}) must be greater than or "
                "equal to 0."
            )
        if not float(offset).is_integer():
            raise _range_error(
                f"Invalid range. Starting offset ({_number(offset)}) must be an integer, not "
                "floating point."
            )
    if length is not None:
        if length < 0:
            raise _range_error(
                f"Invalid range. Length ({_number(length)}) must be greater than or equal to 0."
            )
        if not float(length).is_integer():
            raise _range_error(
                f"Invalid range. Length ({_number(length)}) must be an integer, not floating "
                "point."
            )
    if suffix is not None:
        if offset is not None:
            raise _type_error("Suffix is incompatible with offset.")
        if length is not None:
            raise _type_error("Suffix is incompatible with length.")
        if suffix < 0:
            raise _range_error(
                f"Invalid suffix. Suffix ({_number(suffix)}) must be greater than or equal to 0."
            )
        if not float(suffix).is_integer():
            raise _range_error(
                f"Invalid range. Suffix ({_number(suffix)}) must be an integer, not floating "
                "point."
            )
    return RangeRequest(
        offset=None if offset is None else int(offset),
        length=None if length is None else int(length),
        suffix=None if suffix is None else int(suffix),
    )


def _range_number(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _field_error(field, "Range", "number")
    return value


def _range_error(message: str) -> JsException:
    return JsException(message, name="RangeError")


def parse_http_metadata(value: Any) -> dict[str, Any]:
    """Read an ``httpMetadata`` option: an ``R2HTTPMetadata`` object or a ``Headers``.

    From ``Headers``, workerd takes ``Content-Type``, ``Content-Language``,
    ``Content-Disposition``, ``Content-Encoding``, ``Cache-Control`` and ``Expires``
    (as ``cacheExpiry``) and ignores the rest.

    Args:
        value: The option's wire value.

    Returns:
        The stored form: camelCase fields, ``cacheExpiry`` in ms.
    """
    if value is None:
        return {}
    stored: dict[str, Any] = {}
    if isinstance(value, HeaderList):
        for field, header in HTTP_FIELDS:
            text = value.get(header)
            if text is not None:
                stored[field] = text
        expires = value.get("expires")
        if expires is not None:
            stored["cacheExpiry"] = _http_date_ms(expires)
        return stored
    if not isinstance(value, dict):
        raise _type_error(
            "Failed to execute 'httpMetadata': the provided value is not of type "
            "'HttpMetadata or Headers'."
        )
    for field, _header in HTTP_FIELDS:
        if value.get(field) is not None:
            stored[field] = js_string(value[field])
    if value.get("cacheExpiry") is not None:
        stored["cacheExpiry"] = _date_ms(value["cacheExpiry"], "cacheExpiry", "HttpMetadata")
    return stored


def parse_custom_metadata(value: Any) -> list[tuple[str, str]]:
    """Read ``customMetadata``: a record of strings (other values become strings).

    Args:
        value: The option's wire value.

    Returns:
        The pairs, in the order given.
    """
    if value is None:
        return []
    if not isinstance(value, dict):
        raise _field_error("customMetadata", "PutOptions", "object")
    return [(str(key), js_string(item)) for key, item in value.items()]


def parse_checksum(options: dict[str, Any]) -> tuple[str, str, bytes] | None:
    """Read the one checksum option a ``put`` may carry.

    Args:
        options: The ``put`` options.

    Returns:
        ``(field, algorithm name, digest)``, or ``None`` without a checksum.

    Raises:
        JsException: ``TypeError`` for two algorithms, a digest of the wrong length, or
            a string that is not hex (workerd's texts).
    """
    chosen: tuple[str, str, bytes] | None = None
    for field, name, size in HASHES:
        value = options.get(field)
        if value is None:
            continue
        if chosen is not None:
            raise _type_error(_MSG_MULTIPLE_HASHES)
        if isinstance(value, (bytes, bytearray, memoryview)):
            digest = bytes(value)
            if len(digest) != size:
                raise _type_error(f"{name} is {size} bytes, not {len(digest)}")
        elif isinstance(value, str):
            if len(value) != size * 2:
                raise _type_error(f"{name} is {size * 2} hex characters, not {len(value)}")
            try:
                digest = bytes.fromhex(value)
            except ValueError:
                raise _type_error(f"Provided {name} wasn't a valid hex string") from None
        else:
            raise _field_error(field, "PutOptions", "ArrayBuffer or ArrayBufferView or string")
        chosen = (field, name, digest)
    return chosen


@dataclass(frozen=True)
class ListRequest:
    """The options of a ``list`` call.

    Attributes:
        limit: ``limit``, or ``None`` for the default (1000).
        prefix: ``prefix``.
        cursor: ``cursor``.
        delimiter: ``delimiter``.
        start_after: ``startAfter``.
        include: The metadata asked for (``include``).
    """

    limit: int | None = None
    prefix: str = ""
    cursor: str | None = None
    delimiter: str | None = None
    start_after: str | None = None
    include: tuple[str, ...] = ()


def parse_list_options(value: Any) -> ListRequest:
    """Read a ``list`` call's options.

    Under every compatibility date Python Workers can have (``r2_list_honor_include``
    is on from 2022-08-04), ``include`` decides which metadata the listed objects carry.

    Args:
        value: ``R2ListOptions`` or ``None``.

    Raises:
        JsException: ``RangeError: Unsupported include value <v>``; ``TypeError`` for a
            wrong type.
    """
    if value is None:
        return ListRequest()
    if not isinstance(value, dict):
        raise _type_error(
            "Failed to execute 'list' on 'R2Bucket': parameter 1 is not of type 'ListOptions'."
        )
    limit = value.get("limit")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, (int, float)):
            raise _field_error("limit", "ListOptions", "integer")
        limit = int(limit)
    strings: dict[str, str | None] = {}
    for field in ("prefix", "cursor", "delimiter", "startAfter"):
        item = value.get(field)
        strings[field] = None if item is None else _strict_string(item, field, "ListOptions")
    include: list[str] = []
    requested = value.get("include")
    if requested is not None:
        if not isinstance(requested, list):
            raise _field_error("include", "ListOptions", "Array")
        for item in requested:
            text = _strict_string(item, "include", "ListOptions")
            if text not in _INCLUDES:
                raise _range_error(f"Unsupported include value {text}")
            include.append(text)
    return ListRequest(
        limit=limit,
        prefix=strings["prefix"] or "",
        cursor=strings["cursor"],
        delimiter=strings["delimiter"] or None,
        start_after=strings["startAfter"],
        include=tuple(include),
    )


def check_part_number(part_number: Any) -> int:
    """Check a multipart part number (workerd ``r2-multipart.c++``).

    Args:
        part_number: The number given.

    Returns:
        It, as an ``int``.

    Raises:
        JsException: ``TypeError: Part number must be between 1 and 10000 (inclusive).
            Actual value was: <n>``.
    """
    if isinstance(part_number, bool) or not isinstance(part_number, (int, float)):
        number = 0
    else:
        number = int(part_number) if math.isfinite(part_number) else 0
    if not 1 <= number <= 10000:
        raise _type_error(
            "Part number must be between 1 and 10000 (inclusive). Actual value was: " f"{number}"
        )
    return number
