// The JS twin of examples/chat/worker.py: the same protocol, SQL tables, hibernatable
// sockets (usernames in attachments), rate limit and history.
import { DurableObject } from "cloudflare:workers";

const RATE_WINDOW_MS = 10_000;
const MAX_NAME_LENGTH = 32;
const MAX_TEXT_LENGTH = 2_000;
const OPEN = 1;
const ROOM_ROUTE = /^\/room\/([A-Za-z0-9_-]{1,64})(\/ws)?\/?$/;
const CONTROL_CHARACTERS = /[\x00-\x1f\x7f]/;

function userOf(ws) {
  const attachment = ws.deserializeAttachment();
  return attachment ? JSON.parse(attachment).name : null;
}

export class ChatRoom extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.historySize = Number(env.HISTORY_SIZE);
    this.rateLimit = Number(env.RATE_LIMIT_PER_10S);
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(
        "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, name TEXT NOT NULL," +
          " text TEXT NOT NULL, ts INTEGER NOT NULL);" +
          "CREATE TABLE IF NOT EXISTS recent_sends (name TEXT NOT NULL, ts INTEGER NOT NULL);" +
          "CREATE INDEX IF NOT EXISTS recent_sends_by_time ON recent_sends (ts)",
      );
    });
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  async fetch(request) {
    if ((request.headers.get("Upgrade") ?? "").toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade\n", { status: 426 });
    }
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws, message) {
    if (typeof message !== "string") return this.refuse(ws, "bad_message", "messages are JSON text");
    let data;
    try {
      data = JSON.parse(message);
    } catch {
      return this.refuse(ws, "bad_message", "messages are JSON text");
    }
    const kind = data && typeof data === "object" ? data.type : null;
    if (kind === "join") return this.join(ws, data.name);
    if (kind === "message") return this.post(ws, data.text);
    return this.refuse(ws, "bad_message", 'unknown "type"; expected "join" or "message"');
  }

  async webSocketClose(ws) {
    this.leave(ws);
  }

  async webSocketError(ws) {
    this.leave(ws);
  }

  join(ws, name) {
    if (userOf(ws) !== null) return this.refuse(ws, "already_joined", "already joined");
    name = typeof name === "string" ? name.trim() : "";
    if (!(name.length > 0 && name.length <= MAX_NAME_LENGTH) || CONTROL_CHARACTERS.test(name)) {
      return this.refuse(ws, "bad_name", `a name is 1 to ${MAX_NAME_LENGTH} printable characters`);
    }
    ws.serializeAttachment(JSON.stringify({ name }));
    ws.send(JSON.stringify({ type: "history", messages: this.history() }));
    this.broadcast({ type: "presence", users: this.users(), joined: name });
  }

  post(ws, text) {
    const name = userOf(ws);
    if (name === null) return this.refuse(ws, "not_joined", "join first");
    if (typeof text !== "string" || !text.trim() || text.length > MAX_TEXT_LENGTH) {
      return this.refuse(ws, "bad_message", `text is 1 to ${MAX_TEXT_LENGTH} characters`);
    }
    const now = Date.now();
    const waitMs = this.takeRateSlot(name, now);
    if (waitMs) {
      return this.refuse(ws, "rate_limited", `at most ${this.rateLimit} messages per 10 seconds`, {
        retry_after: Math.round(waitMs) / 1000,
      });
    }
    const row = this.sql
      .exec("INSERT INTO messages (name, text, ts) VALUES (?, ?, ?) RETURNING id", name, text, now)
      .one();
    this.sql.exec("DELETE FROM messages WHERE id <= ?", row.id - this.historySize);
    this.broadcast({ type: "message", id: row.id, name, text, ts: now });
  }

  leave(ws) {
    try {
      ws.close(1000, "bye");
    } catch {}
    const name = userOf(ws);
    if (name === null) return;
    const users = this.users();
    const presence = { type: "presence", users };
    if (!users.includes(name)) presence.left = name;
    this.broadcast(presence);
  }

  joinedSockets() {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === OPEN && userOf(ws) !== null);
  }

  users() {
    return [...new Set(this.joinedSockets().map(userOf))].sort();
  }

  broadcast(message) {
    const text = JSON.stringify(message);
    for (const ws of this.joinedSockets()) {
      try {
        ws.send(text);
      } catch {}
    }
  }

  refuse(ws, error, detail, extra = {}) {
    ws.send(JSON.stringify({ type: "error", error, detail, ...extra }));
  }

  history() {
    const rows = this.sql
      .exec("SELECT id, name, text, ts FROM messages ORDER BY id DESC LIMIT ?", this.historySize)
      .toArray();
    return rows.reverse().map((r) => ({ type: "message", id: r.id, name: r.name, text: r.text, ts: r.ts }));
  }

  takeRateSlot(name, now) {
    this.sql.exec("DELETE FROM recent_sends WHERE ts <= ?", now - RATE_WINDOW_MS);
    const recent = this.sql
      .exec("SELECT COUNT(*) AS n, MIN(ts) AS oldest FROM recent_sends WHERE name = ?", name)
      .one();
    if (recent.n >= this.rateLimit) return recent.oldest + RATE_WINDOW_MS - now;
    this.sql.exec("INSERT INTO recent_sends (name, ts) VALUES (?, ?)", name, now);
    return 0;
  }
}

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    const route = ROOM_ROUTE.exec(path);
    if (path !== "/" && route === null) return new Response("not found\n", { status: 404 });
    if (path === "/" || !route[2]) {
      return new Response("chat (bench twin: no page)\n", { headers: { "Content-Type": "text/plain" } });
    }
    if ((request.headers.get("Upgrade") ?? "").toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade\n", { status: 426 });
    }
    return env.ROOMS.getByName(route[1]).fetch(request);
  },
};
