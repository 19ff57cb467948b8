"""The ``js`` module app code sees inside Pyodide: the real one, with dosim's ``Date``.

In the docs' sandbox (and the Pyodide test run) the real ``js`` module exists, and Pyodide
and the page rely on the real JavaScript globals, so dosim never changes them. App code
there should still see what it sees on CPython where it matters for the simulation:
``Date`` on the virtual clock (an alarm set for ``Date.now() + 1000`` must fall due when
the test advances one virtual second) and the Workers-only WebSocket classes. So
``sys.modules["js"]`` becomes a :class:`JsFacade`: those names are dosim's, every other
attribute is the real global, read through. Pyodide's own modules imported ``js`` (or its
names) before dosim loads and keep the real objects.
"""

from __future__ import annotations

import types
from typing import Any

__all__ = ["JsFacade", "APP_OVERRIDES"]

APP_OVERRIDES = ("Date", "WebSocketPair", "WebSocketRequestResponsePair")
"""The names app code gets from dosim rather than from JavaScript, inside Pyodide."""


class JsFacade(types.ModuleType):
    """A ``js`` module that reads through to the real one except for :data:`APP_OVERRIDES`.

    Args:
        real: Pyodide's ``js`` module (the JavaScript global scope).
        overrides: The names to serve from dosim, with their values.
    """

    def __init__(self, real: Any, overrides: dict[str, Any]) -> None:
        super().__init__("js", "JavaScript's globals, with dosim's Date (see dosim.js.facade)")
        object.__setattr__(self, "_real", real)
        for name, value in overrides.items():
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_real"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_real"), name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(object.__getattribute__(self, "_real"))) | set(APP_OVERRIDES))
