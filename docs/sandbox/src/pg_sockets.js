// The playground's WebSocket panel: connect several clients to a path, send from each,
// see each client's messages (sent, received, the close), close them. Messages the app
// sends arrive as worker events ({kind: "ws-message" | "ws-close", client, ...}).
import { el as h } from "./dom.js";
import { fill } from "./pg_requests.js";

/** The WebSocket paths a README's route table documents (rows that mention an upgrade). */
export function socketPaths(readme) {
  const paths = [];
  for (const line of (readme || "").split("\n")) {
    const match = /^\|\s*`GET (\/[^`\s]*)`([^|]*)\|/.exec(line);
    if (match && /upgrade: websocket/i.test(line) && !/without/i.test(match[2])) paths.push(fill(match[1]));
  }
  return [...new Set(paths)];
}

/** The client messages a README documents: first cells of its "| message | meaning |" table. */
export function socketMessages(readme) {
  const found = [];
  let inTable = false;
  for (const line of (readme || "").split("\n")) {
    if (/^\|\s*message\s*\|\s*meaning\s*\|/.test(line)) inTable = true;
    else if (!line.startsWith("|")) inTable = false;
    else if (inTable) {
      const match = /^\|\s*`([^`]+)`/.exec(line);
      if (match) found.push(match[1]);
    }
  }
  return found;
}

const shown = (data) => (typeof data === "string" ? data : data && data.binary !== undefined ? `(binary, ${data.binary} bytes)` : JSON.stringify(data));

export class SocketPanel {
  /** `call(op, args)` runs a playground op (through the page's queue) -> result or null. */
  constructor(host, { call, say, onJump, errorBox }) {
    this.call = call;
    this.say = say;
    this.onJump = onJump;
    this.errorBox = errorBox;
    this.clients = new Map(); // number -> {card, log, state}
    // Events for a client whose card is not made yet: what the app sends on connect
    // arrives before ws_connect's answer.
    this.early = new Map(); // number -> [event]
    this.path = h("input", { id: "pg-ws-path", class: "pg-input pg-path", type: "text", value: "/", spellcheck: "false", autocomplete: "off" });
    this.problem = h("div", { class: "pg-ws-problem", "aria-live": "polite" });
    this.list = h("div", { class: "pg-clients" });
    this.messages = [];
    host.append(
      h("form", { class: "pg-request__line", onsubmit: (e) => (e.preventDefault(), this.connect()) },
        h("label", { for: "pg-ws-path", class: "pg-label pg-label--inline" }, "Path"), this.path,
        h("button", { type: "submit", class: "dosim-btn dosim-btn--run pg-connect" }, "Connect")),
      this.problem,
      h("p", { class: "dosim-muted pg-clients__empty" }, "No clients yet: each Connect opens one more."),
      this.list);
  }

  useReadme(readme) {
    const paths = socketPaths(readme);
    this.path.value = paths[0] || "/";
    this.messages = socketMessages(readme);
  }

  async connect() {
    const path = this.path.value.trim() || "/";
    this.problem.replaceChildren();
    const result = await this.call("ws_connect", { path, headers: [] });
    if (!result) return;
    if (!result.ok) {
      this.problem.replaceChildren(this.errorBox(result, this.onJump));
      this.say("The app refused the WebSocket");
      return;
    }
    this.addClient(result.client, path);
    this.say(`Client ${result.client} connected`);
  }

  addClient(number, path) {
    const log = h("ol", { class: "pg-log", "aria-label": `Messages of client ${number}`, tabindex: "0" });
    const input = h("input", { type: "text", class: "pg-input", spellcheck: "false", autocomplete: "off", "aria-label": `Message to send from client ${number}`, value: this.messages[0] || "" });
    const state = h("span", { class: "dosim-badge pg-client__state" }, "open");
    const closeButton = h("button", { type: "button", class: "dosim-btn", onclick: () => this.close(number) }, "Close");
    const sendButton = h("button", { type: "submit", class: "dosim-btn" }, "Send");
    const chips = this.messages.length > 1
      ? h("div", { class: "pg-suggestions" }, this.messages.map((m) => h("button", { type: "button", class: "pg-chip", onclick: () => ((input.value = m), input.focus()) }, m.length > 40 ? m.slice(0, 39) + "…" : m)))
      : null;
    const card = h("section", { class: "pg-client", "data-client": String(number), "aria-label": `WebSocket client ${number}` },
      h("div", { class: "pg-client__head" }, h("strong", {}, `Client ${number}`), " ", h("code", {}, path), " ", state, closeButton),
      log,
      chips,
      h("form", { class: "pg-client__send", onsubmit: (e) => (e.preventDefault(), this.send(number)) }, input, sendButton));
    this.clients.set(number, { card, log, state, input, closeButton, sendButton, open: true });
    this.list.append(card);
    this.list.previousElementSibling.hidden = true;
    for (const event of this.early.get(number) || []) this.event(event);
    this.early.delete(number);
  }

  logLine(number, direction, text) {
    const client = this.clients.get(number);
    if (!client) return;
    const mark = { out: "→", in: "←", note: "•" }[direction];
    client.log.append(h("li", { class: `pg-log__${direction}` }, h("span", { class: "pg-log__mark", "aria-label": { out: "sent", in: "received", note: "" }[direction] }, mark), " ", h("code", {}, text)));
    client.log.scrollTop = client.log.scrollHeight;
  }

  async send(number) {
    const client = this.clients.get(number);
    if (!client?.open) return;
    const data = client.input.value;
    this.logLine(number, "out", data);
    const result = await this.call("ws_send", { client: number, data });
    if (result && !result.ok) this.logLine(number, "note", `not sent: ${result.error?.message || result.error?.type || "stopped"}`);
  }

  async close(number) {
    const client = this.clients.get(number);
    if (!client?.open) return;
    const result = await this.call("ws_close", { client: number, code: 1000, reason: "closed from the playground" });
    if (result?.ok) this.closed(number, 1000, "closed from the playground");
  }

  closed(number, code, reason) {
    const client = this.clients.get(number);
    if (!client || !client.open) return;
    client.open = false;
    client.state.textContent = "closed";
    client.card.classList.add("pg-client--closed");
    for (const control of [client.input, client.sendButton, client.closeButton]) control.disabled = true;
    this.logLine(number, "note", `closed${code ? ` (${code}${reason ? " " + reason : ""})` : ""}`);
  }

  /** A worker event: a message from the app to a client, or a close. */
  event(event) {
    if (!this.clients.has(event.client)) {
      if (!this.early.has(event.client)) this.early.set(event.client, []);
      this.early.get(event.client).push(event);
      return;
    }
    if (event.kind === "ws-message") this.logLine(event.client, "in", shown(event.data));
    else if (event.kind === "ws-close") this.closed(event.client, event.code, event.reason);
  }

  /** The app was loaded again (or Python restarted): every client is gone. */
  forgetAll(why) {
    for (const number of this.clients.keys()) this.closed(number, 0, "");
    if (why) for (const number of this.clients.keys()) this.logLine(number, "note", why);
  }

  /** Remove every client card (another template). */
  clear() {
    this.clients.clear();
    this.early.clear();
    this.list.replaceChildren();
    this.list.previousElementSibling.hidden = false;
    this.problem.replaceChildren();
  }
}
