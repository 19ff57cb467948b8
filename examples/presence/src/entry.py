"""Multiplayer cursors and presence: one Durable Object per document, hibernation-friendly.

GET /                                   the page (document "welcome")
GET /doc/<name>                         the page for document <name>
GET /doc/<name>/ws?name=..&role=..&page=..
                                        WebSocket upgrade into document <name>
                                        (426 without `Upgrade: websocket`)

The protocol is described in README.md. In short: on connect the room sends the newcomer
"welcome" (who they are, who else is here) and everyone else "join"; a client sends
{"type": "cursor", "x": .., "y": ..} and the others on the same page get it; a closed or
dropped socket makes a "leave". The text "ping" is answered "pong" by the runtime itself,
without waking the object.

Nothing about who is connected lives in instance fields or storage: each socket carries
its user (id, name, colour, role, page, last position) as its attachment and its role and
page as tags. So the room can hibernate (be dropped from memory while its sockets stay
connected) and wake up on the next message knowing everyone and where their cursors are.
"""

import json
import math
import re
import secrets
import zlib
from urllib.parse import parse_qs, urlparse

from presence_page import PAGE
from pyodide.ffi import to_js

from js import WebSocketPair, WebSocketRequestResponsePair
from workers import DurableObject, Response, WorkerEntrypoint

OPEN = 1  # WebSocket.readyState of an open socket
MAX_NAME_LENGTH = 32
MAX_PAGE = 99
ROLES = ("editor", "viewer")
COLORS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#0f9fa8", "#c9a000", "#f032e6")

DOC_ROUTE = re.compile(r"^/doc/([A-Za-z0-9_-]{1,64})(/ws)?/?$")
PAGE_NUMBER = re.compile(r"^[0-9]{1,2}$")
NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,32}$")


def color_for(name):
    """A stable colour per name (crc32: Python's own hash() differs between processes)."""
    return COLORS[zlib.crc32(name.encode()) % len(COLORS)]


def send(ws, message):
    try:
        ws.send(json.dumps(message))
    except Exception:  # closing under us: its close event follows
        pass


def coordinate(value):
    """A cursor coordinate: a finite number from 0 to 1 (a fraction of the page), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or not 0 <= value <= 1:
        return None
    return round(float(value), 4)


class PresenceRoom(DurableObject):
    """One document's presence: its sockets, held by the runtime, are all the state there is."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        # The runtime answers "ping" itself, even while the room hibernates.
        self.ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair.new("ping", "pong"))

    async def fetch(self, request):
        if (request.headers.get("Upgrade") or "").lower() != "websocket":
            return Response("expected a WebSocket upgrade\n", status=426)
        query = parse_qs(urlparse(request.url).query)
        name = (query.get("name") or [""])[0].strip()
        role = (query.get("role") or ["editor"])[0]
        page = (query.get("page") or ["1"])[0]
        if not NAME.match(name):
            return Response(f"name: 1 to {MAX_NAME_LENGTH} printable characters\n", status=400)
        if role not in ROLES:
            return Response("role: editor or viewer\n", status=400)
        if not PAGE_NUMBER.match(page) or not 1 <= int(page) <= MAX_PAGE:
            return Response(f"page: 1 to {MAX_PAGE}\n", status=400)
        client, server = WebSocketPair.new()
        # Hibernatable accept. The tags say what never changes for this socket, and let
        # the room find sockets by it: getWebSockets("page:2") is everyone on page 2.
        # ctx.acceptWebSocket is a JavaScript method: the tags must be a JavaScript Array.
        self.ctx.acceptWebSocket(server, to_js([f"role:{role}", f"page:{int(page)}"]))
        # The attachment holds the rest, including what changes (the cursor position).
        attachment = {"id": secrets.token_hex(4), "name": name, "color": color_for(name)}
        server.serializeAttachment(json.dumps({**attachment, "x": None, "y": None}))
        user = self._user(server)
        send(server, {"type": "welcome", "you": user, "users": self._users(but=user["id"])})
        self._broadcast({"type": "join", "user": user}, but=user["id"])
        return Response(None, status=101, web_socket=client)

    # -- events from the sockets ----------------------------------------------------------
    async def webSocketMessage(self, ws, message):
        user = self._user(ws)
        try:
            data = json.loads(message) if isinstance(message, str) else None
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("type") != "cursor":
            return self._refuse(ws, "bad_message", 'expected {"type": "cursor", "x": .., "y": ..}')
        if user["role"] != "editor":
            return self._refuse(ws, "read_only", "viewers watch; only editors move a cursor")
        x, y = coordinate(data.get("x")), coordinate(data.get("y"))
        if x is None or y is None:
            return self._refuse(ws, "bad_cursor", "x and y are numbers from 0 to 1")
        attachment = json.loads(ws.deserializeAttachment())
        attachment["x"], attachment["y"] = x, y
        ws.serializeAttachment(json.dumps(attachment))  # the position survives hibernation
        cursor = {"type": "cursor", "id": user["id"], "x": x, "y": y}
        self._broadcast(cursor, but=user["id"], tag=f"page:{user['page']}")

    async def webSocketClose(self, ws, code, reason, was_clean):
        self._leave(ws)

    async def webSocketError(self, ws, error):
        self._leave(ws)

    # -- helpers --------------------------------------------------------------------------
    def _leave(self, ws):
        # With compatibility dates before 2026-04-07 the runtime does not answer the
        # client's close frame by itself: close our end (a no-op if already closed).
        try:
            ws.close(1000, "bye")
        except Exception:  # the connection is gone either way
            pass
        user = self._user(ws)
        if user is not None:
            self._broadcast({"type": "leave", "id": user["id"]}, but=user["id"])

    def _user(self, ws):
        """Who is on `ws`: its attachment (a JSON string) plus its role and page tags."""
        attachment = ws.deserializeAttachment()
        if not attachment:
            return None
        tags = dict(tag.split(":", 1) for tag in self.ctx.getTags(ws))
        user = json.loads(attachment)
        return {**user, "role": tags["role"], "page": int(tags["page"])}

    def _sockets(self, tag=None):
        """Open sockets (with `tag`, if given). The runtime keeps them across hibernation."""
        sockets = self.ctx.getWebSockets(tag) if tag else self.ctx.getWebSockets()
        return [ws for ws in sockets if ws.readyState == OPEN]

    def _users(self, but=None):
        """Everyone connected except the user with id `but`, sorted by name."""
        users = [user for user in map(self._user, self._sockets()) if user is not None]
        users = [user for user in users if user["id"] != but]
        return sorted(users, key=lambda user: (user["name"], user["id"]))

    def _broadcast(self, message, but=None, tag=None):
        """Send to every open socket (tagged `tag`, if given) except user `but`'s.

        Sockets are told apart by the id in their attachment, not with `is`: in Python
        Workers each call to getWebSockets() may hand back new proxies for the same sockets.
        """
        text = json.dumps(message)
        for ws in self._sockets(tag):
            user = self._user(ws)
            if user is not None and user["id"] != but:
                try:
                    ws.send(text)
                except Exception:  # closing under us: its close event follows
                    continue

    def _refuse(self, ws, error, detail):
        send(ws, {"type": "error", "error": error, "detail": detail})


class Default(WorkerEntrypoint):
    """Serves the page and routes WebSocket upgrades to the document's object."""

    async def fetch(self, request):
        path = urlparse(request.url).path
        if path == "/":
            return self._page()
        route = DOC_ROUTE.match(path)
        if route is None:
            return Response("not found\n", status=404)
        doc, is_socket = route.group(1), route.group(2)
        if not is_socket:
            return self._page()
        if (request.headers.get("Upgrade") or "").lower() != "websocket":
            return Response(
                "expected a WebSocket upgrade\n", status=426, headers={"Upgrade": "websocket"}
            )
        # If the document's object is reset (a deploy, say) while we connect, retry once
        # through a new stub: the failed upgrade had no effect, so trying again is safe.
        try:
            return await self.env.DOCS.getByName(doc).fetch(request)
        except OSError:
            return await self.env.DOCS.getByName(doc).fetch(request)

    def _page(self):
        return Response(PAGE, headers={"Content-Type": "text/html; charset=utf-8"})
