"""The ``js`` names Python Workers code imports for WebSockets, for use outside Pyodide.

On Cloudflare, ``from js import WebSocketPair`` reaches JavaScript's global. Under dosim on
CPython, ``import js`` resolves to this module; inside Pyodide (the docs sandbox) dosim
adds these names to the real ``js`` module instead, so the same app code runs in both.
"""

from .websockets import WebSocketPair, WebSocketRequestResponsePair

__all__ = ["WebSocketPair", "WebSocketRequestResponsePair"]
