"""Chat rooms over WebSockets: one Durable Object per room, hibernation-friendly.

GET /                  the chat page (room "lobby")
GET /room/<name>       the chat page for room <name>
GET /room/<name>/ws    WebSocket upgrade into room <name> (426 without `Upgrade: websocket`)

The message protocol is described in README.md. In short: the client sends
{"type": "join", "name": ...} once, then {"type": "message", "text": ...}; the room sends
"history" (to the joiner), "presence" (to everyone, on every join and leave), "message"
(to everyone) and "error" (to one socket). The text "ping" is answered "pong" by the
runtime itself, without waking the object.

Nothing about who is connected lives in instance fields: each socket carries its username
as its attachment, and everything else is in SQL. So the room can hibernate (be dropped
from memory while its sockets stay connected) and wake up on the next message none the
wiser.
"""

import json
import re
import time
from urllib.parse import urlparse

from chat_page import PAGE

from js import WebSocketPair, WebSocketRequestResponsePair
from workers import DurableObject, Response, WorkerEntrypoint

RATE_WINDOW_MS = 10_000  # RATE_LIMIT_PER_10S messages per user in any 10 s window
MAX_NAME_LENGTH = 32
MAX_TEXT_LENGTH = 2_000
OPEN = 1  # WebSocket.readyState of an open socket

ROOM_ROUTE = re.compile(r"^/room/([A-Za-z0-9_-]{1,64})(/ws)?/?$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def now_ms():
    return int(time.time() * 1000)


def user_of(ws):
    """The username a socket joined with, or None before it joined.

    The attachment is a JSON string rather than a dict: it is structured-cloned by the
    runtime, and a plain string crosses from Python to JavaScript without conversion.
    """
    attachment = ws.deserializeAttachment()
    return json.loads(attachment)["name"] if attachment else None


def send(ws, message):
    ws.send(json.dumps(message))


class ChatRoom(DurableObject):
    """One chat room: its sockets (held by the runtime), its history and rate limits (SQL)."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.history_size = int(env.HISTORY_SIZE)
        self.rate_limit = int(env.RATE_LIMIT_PER_10S)
        # The constructor runs again after every hibernation, so keep it cheap. No event
        # is delivered until the schema exists.
        ctx.blockConcurrencyWhile(self._create_tables)
        # Answered by the runtime for every socket of this room, even while it hibernates.
        ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair.new("ping", "pong"))

    async def _create_tables(self):
        self.sql.exec(
            "CREATE TABLE IF NOT EXISTS messages ("
            " id INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL,"
            " text TEXT NOT NULL,"
            " ts INTEGER NOT NULL);"  # ms since the epoch
            # One row per accepted message in the last 10 s: a sliding-window log.
            "CREATE TABLE IF NOT EXISTS recent_sends (name TEXT NOT NULL, ts INTEGER NOT NULL);"
            "CREATE INDEX IF NOT EXISTS recent_sends_by_time ON recent_sends (ts)"
        )

    async def fetch(self, request):
        if (request.headers.get("Upgrade") or "").lower() != "websocket":
            return Response("expected a WebSocket upgrade\n", status=426)
        client, server = WebSocketPair.new()
        # Hibernatable accept: messages go to webSocketMessage / webSocketClose below.
        self.ctx.acceptWebSocket(server)
        return Response(None, status=101, web_socket=client)

    # -- events from the sockets ----------------------------------------------------------
    async def webSocketMessage(self, ws, message):
        if not isinstance(message, str):
            return self._refuse(ws, "bad_message", "messages are JSON text")
        try:
            data = json.loads(message)
        except ValueError:
            return self._refuse(ws, "bad_message", "messages are JSON text")
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "join":
            return self._join(ws, data.get("name"))
        if kind == "message":
            return self._post(ws, data.get("text"))
        return self._refuse(ws, "bad_message", 'unknown "type"; expected "join" or "message"')

    async def webSocketClose(self, ws, code, reason, was_clean):
        self._leave(ws)

    async def webSocketError(self, ws, error):
        self._leave(ws)

    # -- what they do ---------------------------------------------------------------------
    def _join(self, ws, name):
        if user_of(ws) is not None:
            return self._refuse(ws, "already_joined", "this connection has already joined")
        name = name.strip() if isinstance(name, str) else ""
        if not 0 < len(name) <= MAX_NAME_LENGTH or CONTROL_CHARACTERS.search(name):
            return self._refuse(
                ws, "bad_name", f"a name is 1 to {MAX_NAME_LENGTH} printable characters"
            )
        ws.serializeAttachment(json.dumps({"name": name}))
        send(ws, {"type": "history", "messages": self._history()})
        self._broadcast({"type": "presence", "users": self._users(), "joined": name})

    def _post(self, ws, text):
        name = user_of(ws)
        if name is None:
            return self._refuse(ws, "not_joined", 'send {"type": "join", "name": ...} first')
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_LENGTH:
            return self._refuse(ws, "bad_message", f"text is 1 to {MAX_TEXT_LENGTH} characters")
        now = now_ms()
        wait_ms = self._take_rate_slot(name, now)
        if wait_ms:
            return self._refuse(
                ws,
                "rate_limited",
                f"at most {self.rate_limit} messages per 10 seconds",
                retry_after=round(wait_ms / 1000, 3),
            )
        row = self.sql.exec(
            "INSERT INTO messages (name, text, ts) VALUES (?, ?, ?) RETURNING id", name, text, now
        ).one()
        # Keep only the last HISTORY_SIZE messages (ids only grow: the newest row stays).
        self.sql.exec("DELETE FROM messages WHERE id <= ?", row["id"] - self.history_size)
        self._broadcast({"type": "message", "id": row["id"], "name": name, "text": text, "ts": now})

    def _leave(self, ws):
        # With compatibility dates before 2026-04-07 the runtime does not answer the
        # client's close frame by itself: close our end (a no-op if already closed).
        try:
            ws.close(1000, "bye")
        except Exception:  # the connection is gone either way
            pass
        name = user_of(ws)
        if name is None:
            return
        users = self._users()
        presence = {"type": "presence", "users": users}
        if name not in users:  # not still here in another tab
            presence["left"] = name
        self._broadcast(presence)

    # -- helpers --------------------------------------------------------------------------
    def _joined_sockets(self):
        """Open sockets that have joined. The runtime keeps them across hibernation."""
        return [
            ws
            for ws in self.ctx.getWebSockets()
            if ws.readyState == OPEN and user_of(ws) is not None
        ]

    def _users(self):
        return sorted({user_of(ws) for ws in self._joined_sockets()})

    def _broadcast(self, message):
        text = json.dumps(message)
        for ws in self._joined_sockets():
            try:
                ws.send(text)
            except Exception:  # closing under us: its close event follows
                continue

    def _refuse(self, ws, error, detail, **extra):
        send(ws, {"type": "error", "error": error, "detail": detail, **extra})

    def _history(self):
        rows = self.sql.exec(
            "SELECT id, name, text, ts FROM messages ORDER BY id DESC LIMIT ?", self.history_size
        ).toArray()
        return [
            {"type": "message", "id": r["id"], "name": r["name"], "text": r["text"], "ts": r["ts"]}
            for r in reversed(rows)
        ]

    def _take_rate_slot(self, name, now):
        """Record a send by `name` if the window allows it; else return the ms to wait."""
        self.sql.exec("DELETE FROM recent_sends WHERE ts <= ?", now - RATE_WINDOW_MS)
        recent = self.sql.exec(
            "SELECT COUNT(*) AS n, MIN(ts) AS oldest FROM recent_sends WHERE name = ?", name
        ).one()
        if recent["n"] >= self.rate_limit:
            return recent["oldest"] + RATE_WINDOW_MS - now
        self.sql.exec("INSERT INTO recent_sends (name, ts) VALUES (?, ?)", name, now)
        return 0


class Default(WorkerEntrypoint):
    """Serves the page and routes WebSocket upgrades to the room's object."""

    async def fetch(self, request):
        path = urlparse(request.url).path
        if path == "/":
            return self._page()
        route = ROOM_ROUTE.match(path)
        if route is None:
            return Response("not found\n", status=404)
        room, is_socket = route.group(1), route.group(2)
        if not is_socket:
            return self._page()
        if (request.headers.get("Upgrade") or "").lower() != "websocket":
            return Response(
                "expected a WebSocket upgrade\n", status=426, headers={"Upgrade": "websocket"}
            )
        # If the room is reset (a deploy, say) while we connect, retry once through a new
        # stub: the failed upgrade had no effect, so trying again is safe. `stub.fetch`
        # reports every failure as OSError, without the `durableObjectReset`/`retryable`
        # flags that RPC errors carry, so any OSError gets its one retry.
        try:
            return await self.env.ROOMS.getByName(room).fetch(request)
        except OSError:
            return await self.env.ROOMS.getByName(room).fetch(request)

    def _page(self):
        return Response(PAGE, headers={"Content-Type": "text/html; charset=utf-8"})
