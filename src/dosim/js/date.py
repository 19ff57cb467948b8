"""``js.Date``: JavaScript dates on dosim's virtual clock.

Inside a simulation (a Worker handler, an object's events, the tasks they start)
``Date.now()`` and ``Date.new()`` read the simulation's virtual time, the same source
``time.time()`` reads there (:func:`dosim.clock.simulation_time_ms`); outside one they
read the real clock. Dates are :class:`dosim.ffi.JsDate` values; Pyodide runs in UTC, so
local-time forms are UTC forms.

Parsing follows V8 for the forms code writes: ISO 8601 (``2025-01-01``,
``2025-01-01T10:00:00``, with ``Z`` or an offset; a date-time without an offset is local
time, which is UTC), and the RFC 2822 / HTTP-date form (``Wed, 01 Jan 2025 00:00:00
GMT``). Anything else is an invalid date (``getTime()`` gives ``nan``). V8 also accepts
many looser forms; dosim does not.
"""

from __future__ import annotations

import datetime
import email.utils
import math
import re
import time
from typing import Any

from ..boundary import js_method
from ..clock import simulation_time_ms
from ..ffi import JsDate, js_to_string, time_clip
from .base import JsFunction

__all__ = ["DateConstructor", "Date", "now_ms", "parse_date"]

_ISO = re.compile(
    r"^([+-]\d{6}|\d{4})(?:-(\d\d)(?:-(\d\d))?)?"
    r"(?:T(\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?(Z|[+-]\d\d:?\d\d)?)?$"
)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def now_ms() -> int:
    """The current time in ms since the epoch: virtual inside a simulation, else real."""
    virtual = simulation_time_ms()
    return virtual if virtual is not None else time.time_ns() // 1_000_000


def parse_date(text: str) -> float:
    """Parse a date string as ``Date.parse`` does for the forms dosim knows.

    Args:
        text: An ISO 8601 or RFC 2822 date.

    Returns:
        Milliseconds since the epoch, or NaN when the text is not a date dosim can read.
    """
    text = text.strip()
    match = _ISO.match(text)
    if match is not None:
        return _iso_ms(match)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return math.nan
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return time_clip((moment - _EPOCH) // datetime.timedelta(milliseconds=1))


def _iso_ms(match: re.Match[str]) -> float:
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime.datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
            int(second or 0), tzinfo=datetime.UTC,
        )  # fmt: skip
    except ValueError:
        return math.nan
    ms = (moment - _EPOCH) // datetime.timedelta(milliseconds=1)
    ms += int((fraction or "0")[:3].ljust(3, "0"))
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        ms -= sign * (int(digits[:2]) * 60 + int(digits[2:])) * 60_000
    return time_clip(ms)


def _utc_ms(*parts: Any) -> float:
    numbers = [_to_number(part) for part in parts]
    if any(math.isnan(number) for number in numbers):
        return math.nan
    year, month, day, hour, minute, second, ms = [math.trunc(n) for n in numbers] + [
        0,
        0,
        1,
        0,
        0,
        0,
        0,
    ][len(numbers) :]
    if 0 <= year <= 99:
        year += 1900
    # Months outside 0-11 roll over into the year, as JavaScript's MakeDay does.
    year, month = year + month // 12, month % 12
    try:
        start = datetime.datetime(year, month + 1, 1, tzinfo=datetime.UTC)
    except ValueError:
        return math.nan
    offset = datetime.timedelta(
        days=day - 1, hours=hour, minutes=minute, seconds=second, milliseconds=ms
    )
    return time_clip((start + offset - _EPOCH) // datetime.timedelta(milliseconds=1))


def _to_number(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if value is None:
        return math.nan
    try:
        return float(js_to_string(value).strip() or 0)
    except ValueError:
        return math.nan


class DateConstructor(JsFunction):
    """JavaScript's ``Date`` (``js.Date``): ``now()``, ``new(...)``, ``parse``, ``UTC``."""

    def __init__(self) -> None:
        super().__init__("Date")

    def now(self) -> int:
        """``Date.now()``: the current (virtual) time in ms since the epoch."""
        return now_ms()

    @js_method
    def new(self, *args: Any) -> JsDate:
        """``new Date(...)``.

        Args:
            *args: Nothing (now); a number of ms; a date string; a ``Date``; or the parts
                ``year, monthIndex[, day, hours, minutes, seconds, ms]`` (read as UTC, the
                time zone of Pyodide on Cloudflare).

        Returns:
            A :class:`~dosim.ffi.JsDate` (an invalid date for an unreadable string).
        """
        if not args:
            return JsDate(now_ms())
        if len(args) == 1:
            value = args[0]
            if isinstance(value, JsDate):
                return JsDate(value._ms)
            if isinstance(value, str):
                return JsDate(parse_date(value))
            return JsDate(_to_number(value))
        return JsDate(_utc_ms(*args))

    @js_method
    def parse(self, text: Any) -> float | int:
        """``Date.parse(text)``: ms since the epoch (an ``int``), or ``nan``."""
        ms = parse_date(js_to_string(text))
        return ms if math.isnan(ms) else int(ms)

    @js_method
    def UTC(self, *parts: Any) -> float | int:  # noqa: N802 - the JavaScript method name
        """``Date.UTC(year, monthIndex, ...)``: ms since the epoch of a UTC date."""
        ms = _utc_ms(*parts)
        return ms if math.isnan(ms) else int(ms)


Date = DateConstructor()
"""``js.Date``."""
