"""What every ``js`` global of this package is: a JavaScript function object.

``js.Date``, ``js.Object`` and the other constructors are JavaScript functions; Python
code calls their static methods (``js.Date.now()``) and builds instances with ``.new()``,
as Pyodide exposes JavaScript's ``new``.
"""

from __future__ import annotations

from typing import Any

from ..errors import MSG_BUILTIN_NEW_REQUIRED, MSG_JSG_NEW_REQUIRED, platform_error
from ..ffi import JsProxy

__all__ = ["JsFunction", "JsClass", "WorkerdClass"]


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


class JsClass(JsFunction):
    """A JavaScript built-in class (``Map``, ``Set``, ...): only ``.new()`` builds one.

    Calling it as a function (``js.Map()``) raises the ``TypeError`` V8 raises, as it does
    from Python under Pyodide.
    """

    new_required = MSG_BUILTIN_NEW_REQUIRED

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Raise ``TypeError``: the class needs ``new`` (``.new()`` from Python)."""
        raise platform_error("TypeError", self.new_required.format(name=self.name))


class WorkerdClass(JsClass):
    """A workerd API class (``Response``, ``Headers``, ``URL``, ...): only ``.new()``.

    Called as a function it raises workerd's own ``TypeError`` text.
    """

    new_required = MSG_JSG_NEW_REQUIRED
