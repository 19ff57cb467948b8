"""The test side of a WebSocket: :class:`WebSocketClient`, from :meth:`dosim.App.connect`.

Tests and tutorials talk to an app over WebSockets the way a browser would: the Worker
answers the upgrade with the client end of a pair, and the client holds that end outside
the app (:func:`dosim.websockets.sockets.attach_receiver`). Sending, closing and
disconnecting let the app run until it is blocked again
(:func:`dosim.settle.wait_all_tasks_blocked`), so a test can assert right after.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ..settle import wait_all_tasks_blocked
from .sockets import CLOSED, SocketEvent, WebSocket, attach_receiver, disconnect, transmit

__all__ = ["WebSocketClient", "WebSocketDisconnect"]


class WebSocketDisconnect(Exception):
    """Raised by :meth:`WebSocketClient.receive` once the connection is closed.

    Attributes:
        code: The close code.
        reason: The close reason.
    """

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"WebSocket closed: {code} {reason}".rstrip())
        self.code = code
        self.reason = reason


class WebSocketClient:
    """A test-side WebSocket connection to an app (from :meth:`dosim.App.connect`).

    Args:
        socket: The client end from the upgrade response.
    """

    def __init__(self, socket: WebSocket) -> None:
        self._socket = socket
        self._inbox: asyncio.Queue[SocketEvent] = asyncio.Queue()
        self.close_code: int | None = None
        self.close_reason: str | None = None
        attach_receiver(socket, self._receive)

    @property
    def closed(self) -> bool:
        """Whether the connection is closed."""
        return self._socket.readyState == CLOSED

    def _receive(self, event: SocketEvent) -> None:
        if event[0] == "close":
            self.close_code, self.close_reason = event[1][0], event[1][1]
        self._inbox.put_nowait(event)

    def send(self, message: str | bytes) -> None:
        """Send a message to the app (delivered on the next turns of the event loop).

        Args:
            message: ``str`` or ``bytes``.
        """
        transmit(self._socket, message)

    def send_json(self, value: Any) -> None:
        """Send ``value`` as JSON text.

        Args:
            value: Any JSON-serialisable value.
        """
        self.send(json.dumps(value))

    async def receive(self, timeout: float = 2.0) -> str | bytes:
        """Wait for the next message from the app.

        Args:
            timeout: Real seconds to wait.

        Returns:
            ``str`` for text messages, ``bytes`` for binary ones.

        Raises:
            WebSocketDisconnect: When the app closed the connection.
            TimeoutError: When nothing arrived in time.
        """
        try:
            kind, payload = await asyncio.wait_for(self._inbox.get(), timeout)
        except TimeoutError:
            raise TimeoutError(f"no WebSocket message within {timeout} s") from None
        if kind == "close":
            self._inbox.put_nowait((kind, payload))  # stays closed for later calls
            raise WebSocketDisconnect(payload[0], payload[1])
        data = payload[0]
        return data if isinstance(data, str) else data.to_bytes()

    async def receive_json(self, timeout: float = 2.0) -> Any:
        """Wait for the next message and parse it as JSON.

        Args:
            timeout: Real seconds to wait.
        """
        message = await self.receive(timeout)
        return json.loads(message)

    def pending(self) -> list[str | bytes]:
        """Return the messages that already arrived, without waiting."""
        messages: list[str | bytes] = []
        while not self._inbox.empty():
            kind, payload = self._inbox.get_nowait()
            if kind == "close":
                self._inbox.put_nowait((kind, payload))
                break
            data = payload[0]
            messages.append(data if isinstance(data, str) else data.to_bytes())
        return messages

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection cleanly and let the app handle it.

        Args:
            code: The close code.
            reason: The close reason.
        """
        self._socket.close(code, reason)
        await wait_all_tasks_blocked()

    async def disconnect(self) -> None:
        """Drop the connection without a close frame (the app sees code 1006)."""
        disconnect(self._socket)
        await wait_all_tasks_blocked()
