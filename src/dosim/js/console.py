"""``js.console``: ``log``, ``info``, ``debug``, ``warn`` and ``error``.

On Cloudflare, console output goes to the Worker's logs (``wrangler tail``, the dashboard,
the terminal of ``wrangler dev``). Under dosim a call does two things:

* it writes one line, as ``print`` would: ``log``, ``info`` and ``debug`` to standard
  output, ``warn`` and ``error`` to standard error. ``dosim dev`` shows it in its
  terminal; pytest captures it like any output;
* when it runs inside a Durable Object, it records a ``console`` event in that object's
  trace (``detail``: ``level`` and ``message``), so the inspectors show it in place.
  Worker-level code has no object, so its console output is not traced.

The arguments are joined with spaces as the console does: strings as they are, other
values as ``String(value)`` gives them, except objects and arrays, written as JSON when
they have a JSON form.
"""

from __future__ import annotations

import sys
from typing import Any

from ..boundary import js_method
from ..current import current_incarnation
from ..ffi import JsArray, JsObject, JsProxy, PyProxy, js_to_string
from .jsonvalues import stringify

__all__ = ["Console", "console", "format_args"]


def format_args(args: tuple[Any, ...]) -> str:
    """Join console arguments (JavaScript values) into one line, as the console does.

    Args:
        args: The JavaScript values passed.
    """
    parts = []
    for value in args:
        if isinstance(value, str):
            parts.append(value)
            continue
        text = None
        if isinstance(value, JsObject | JsArray) or (
            isinstance(value, PyProxy) and isinstance(value.obj, dict | list | tuple)
        ):
            try:
                text = stringify(value)
            except Exception:  # noqa: BLE001 - fall back to String(value)
                text = None
        parts.append(text if text is not None else js_to_string(value))
    return " ".join(parts)


class Console(JsProxy):
    """JavaScript's ``console`` object (``js.console``); see the module docstring."""

    _js_type = "console"
    _STDERR_LEVELS = ("warn", "error")

    def _emit(self, level: str, args: tuple[Any, ...]) -> None:
        message = format_args(args)
        stream = sys.stderr if level in self._STDERR_LEVELS else sys.stdout
        print(message, file=stream)
        incarnation = current_incarnation()
        if incarnation is not None:
            incarnation.host.record("console", level=level, message=message)

    @js_method
    def log(self, *args: Any) -> None:
        """``console.log(...)``: a line on standard output (and the object's trace)."""
        self._emit("log", args)

    @js_method
    def info(self, *args: Any) -> None:
        """``console.info(...)``: as :meth:`log`, at level ``info``."""
        self._emit("info", args)

    @js_method
    def debug(self, *args: Any) -> None:
        """``console.debug(...)``: as :meth:`log`, at level ``debug``."""
        self._emit("debug", args)

    @js_method
    def warn(self, *args: Any) -> None:
        """``console.warn(...)``: a line on standard error (and the object's trace)."""
        self._emit("warn", args)

    @js_method
    def error(self, *args: Any) -> None:
        """``console.error(...)``: as :meth:`warn`, at level ``error``."""
        self._emit("error", args)


console = Console()
"""``js.console``."""
