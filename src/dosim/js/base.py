"""What every ``js`` global of this package is: a JavaScript function object.

``js.Date``, ``js.Object`` and the other constructors are JavaScript functions; Python
code calls their static methods (``js.Date.now()``) and builds instances with ``.new()``,
as Pyodide exposes JavaScript's ``new``.
"""

from __future__ import annotations

from ..ffi import JsProxy

__all__ = ["JsFunction"]


class JsFunction(JsProxy):
    """A JavaScript function or constructor as Python code sees it (a ``JsProxy``).

    Args:
        name: The function's ``name``, e.g. ``"Date"``.
    """

    _js_type = "Function"

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def typeof(self) -> str:
        """``"function"``."""
        return "function"

    def __repr__(self) -> str:
        return f"function {self.name}() {{ [native code] }}"
