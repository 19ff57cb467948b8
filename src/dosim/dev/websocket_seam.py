"""SEAM: bridging browser WebSockets to the simulated Worker (not wired yet).

uvicorn hands WebSocket upgrades to the ASGI app as ``websocket`` scopes, which Starlette
routes to :func:`bridge_websocket`. Today it refuses the upgrade (the client sees
``403``) and logs why; HTTP is fully served.

What wiring it takes (the simulator side exists: :meth:`dosim.App.connect` and
:class:`dosim.websockets.WebSocketClient`):

1. Build the upgrade ``Request`` from ``websocket.url`` and ``websocket.headers`` (keep
   ``Upgrade: websocket``), run it through ``server.app.fetch`` inside
   :func:`dosim.dev.requestlog.recording` so the log line lists the objects touched,
   and track it with ``server.track_request`` so a reload lets it finish on the old app.
2. Not ``101`` with a ``web_socket``: refuse the upgrade, sending the Worker's status
   and body (ASGI ``websocket.http.response``, which uvicorn supports).
3. Otherwise ``await websocket.accept()`` and wrap the client end in a
   ``WebSocketClient``; pump both ways until either side closes:
   browser → ``client.send(text or bytes)``; ``client.receive()`` → browser
   (``send_text``/``send_bytes``); a close from the object → ``websocket.close(code,
   reason)``; a close from the browser → ``client.close(code, reason)``; a dropped
   connection → ``client.disconnect()`` (the object sees 1006).
4. Bad input: frames over 32 MiB (:data:`dosim.websockets.MAX_MESSAGE_BYTES`) close with
   1009 (uvicorn's ``ws_max_size`` must be raised to at least that, from its 16 MiB
   default, for the simulator to see them); invalid close codes and malformed frames
   are answered by the websockets library with 1002/1007.
5. Sockets stay connected across an idle eviction (hibernation) but not across a
   reload: on reload, close them with 1012 (service restart) once the old app drains.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.websockets import WebSocket

__all__ = ["bridge_websocket", "NOT_WIRED_REASON"]

NOT_WIRED_REASON = "dosim dev does not bridge WebSockets yet"
"""Why the upgrade is refused, as logged."""

log = logging.getLogger("dosim.dev")


async def bridge_websocket(server: Any, websocket: WebSocket) -> None:
    """Serve one browser WebSocket through the Worker (SEAM: refuses for now).

    Args:
        server: The :class:`~dosim.dev.server.DevServer`.
        websocket: The Starlette WebSocket, not yet accepted.
    """
    log.info("WS %s refused: %s", websocket.url.path, NOT_WIRED_REASON)
    await websocket.close(code=1011, reason=NOT_WIRED_REASON)
