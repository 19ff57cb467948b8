// The playground's request panel: method, path, headers and body; the Response shown as
// the sandboxes show one (response.js); a history of requests (click one to see its
// answer and put it back in the form, "Send again" to repeat it). The README's route
// table gives ready-made requests.
import { el as h } from "./dom.js";
import { renderValue } from "./response.js";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const HISTORY_LIMIT = 50;

/**
 * The requests a README's route table documents: rows such as
 * "| `POST /<game>/<season>/scores` with `{"player": "ann", "score": 50}` | ... |".
 * Placeholders (`<name>`) become "demo"; a JSON body after "with" is kept. WebSocket
 * routes are left to the WebSocket panel (see `socketPaths`).
 */
export function readmeRequests(readme) {
  const found = [];
  for (const line of (readme || "").split("\n")) {
    const match = /^\|\s*`(GET|POST|PUT|PATCH|DELETE)(?:`\/`(?:GET|POST|PUT|PATCH|DELETE))? (\/[^`\s]*)`([^|]*)\|/.exec(line);
    if (!match || /upgrade|websocket/i.test(line)) continue;
    const body = /with `([[{].*?)`/.exec(match[3]);
    const request = { method: match[1], path: fill(match[2]), body: body ? body[1] : "" };
    if (!found.some((r) => r.method === request.method && r.path === request.path)) found.push(request);
  }
  return found;
}

/** Placeholders `<name>` -> "demo", `?limit=10&after=<cursor>` without the unfilled part. */
export function fill(path) {
  const [route, query] = path.split("?");
  const kept = (query || "").split("&").filter((p) => p && !/<[^>]+>/.test(p));
  return route.replace(/<[^>]+>/g, "demo") + (kept.length ? "?" + kept.join("&") : "");
}

/** Headers typed as "Name: value" lines -> [[name, value], ...] (blank lines skipped). */
export function parseHeaders(text) {
  const headers = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const at = line.indexOf(":");
    if (at <= 0) throw new Error(`Header line "${line.trim()}" has no "Name: value" form.`);
    headers.push([line.slice(0, at).trim(), line.slice(at + 1).trim()]);
  }
  return headers;
}

/** The pretty form of a JSON body (what the sandbox shows), or the text as it came. */
function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** A playground `request` result -> the value shape response.js renders. */
export function responseValue(request, result) {
  const body = result.body || { kind: "empty", text: "", size: 0 };
  return {
    kind: "response",
    status: result.status,
    statusText: result.statusText,
    headers: result.headers || [],
    bodyKind: body.kind,
    body: body.kind === "json" ? pretty(body.text) : body.text || "",
    bodyBytes: body.size || 0,
    truncated: false,
    url: `${request.method} ${request.path}`,
  };
}

export class RequestPanel {
  /**
   * `send(request)` -> the op's result (or null when it did not run); see playground.js.
   * `onJump(file, line)` opens an error's place in the editor.
   */
  constructor(host, { send, say, onJump }) {
    this.send = send;
    this.say = say;
    this.onJump = onJump;
    this.history = [];
    const id = (name) => `pg-req-${name}`;
    this.method = h("select", { id: id("method"), class: "pg-input pg-method", name: "method" }, METHODS.map((m) => h("option", { value: m }, m)));
    this.path = h("input", { id: id("path"), class: "pg-input pg-path", name: "path", type: "text", value: "/", spellcheck: "false", autocomplete: "off" });
    this.headers = h("textarea", { id: id("headers"), class: "pg-input pg-textarea", name: "headers", rows: "2", spellcheck: "false", placeholder: "Content-Type: application/json" });
    this.body = h("textarea", { id: id("body"), class: "pg-input pg-textarea", name: "body", rows: "3", spellcheck: "false", placeholder: '{"key": "value"}' });
    this.sendButton = h("button", { type: "submit", class: "dosim-btn dosim-btn--run pg-send" }, "Send");
    this.suggestions = h("div", { class: "pg-suggestions", role: "group", "aria-label": "Requests from the README" });
    this.problem = h("p", { class: "pg-problem", role: "alert" });
    this.result = h("div", { class: "pg-result", "aria-live": "polite" });
    this.historyList = h("ol", { class: "pg-history", reversed: "" });
    const form = h("form", { class: "pg-request", onsubmit: (e) => (e.preventDefault(), this.submit()) },
      h("div", { class: "pg-request__line" },
        h("label", { class: "dosim-offscreen", for: id("method") }, "Method"), this.method,
        h("label", { class: "dosim-offscreen", for: id("path") }, "Path"), this.path,
        this.sendButton),
      h("label", { class: "pg-label", for: id("headers") }, "Headers (one ", h("code", {}, "Name: value"), " a line)"), this.headers,
      h("label", { class: "pg-label", for: id("body") }, "Body"), this.body,
      this.problem);
    host.append(this.suggestions, form, this.result,
      h("h4", { class: "pg-subheading" }, "History"),
      h("p", { class: "dosim-muted pg-history__empty" }, "No requests yet."),
      this.historyList);
  }

  /** Offer the README's requests as one-click fills; the first one fills the form. */
  useReadme(readme) {
    const requests = readmeRequests(readme);
    this.suggestions.replaceChildren(...(requests.length ? [h("span", { class: "pg-label" }, "From the README:")] : []),
      ...requests.map((r) => h("button", { type: "button", class: "pg-chip", title: r.body ? `with body ${r.body}` : "", onclick: () => this.fillForm(r) }, `${r.method} ${r.path}`)));
    const first = requests.find((r) => r.method === "GET") || requests[0];
    this.fillForm(first || { method: "GET", path: "/", body: "" });
  }

  fillForm(request) {
    this.method.value = request.method;
    this.path.value = request.path;
    this.body.value = request.body || "";
    const headers = request.headers || (request.body ? [["Content-Type", "application/json"]] : []);
    this.headers.value = headers.map(([n, v]) => `${n}: ${v}`).join("\n");
    this.problem.textContent = "";
  }

  read() {
    const path = this.path.value.trim() || "/";
    if (!path.startsWith("/")) throw new Error("The path starts with / (such as /api/ping).");
    const body = this.body.value;
    return { method: this.method.value, path, headers: parseHeaders(this.headers.value), body: body === "" ? null : body };
  }

  async submit(request = null) {
    try {
      request = request || this.read();
    } catch (error) {
      this.problem.textContent = error.message;
      return null;
    }
    this.problem.textContent = "";
    const result = await this.send(request);
    if (result) this.show(request, result, true);
    return result;
  }

  /** Show a request's answer; `record` adds it to the history. */
  show(request, result, record) {
    if (result.ok) {
      const box = renderValue(responseValue(request, result));
      box.querySelector(".dosim-response__status")?.append(h("span", { class: "pg-ms" }, ` · ${result.ms ?? "?"} ms`));
      this.result.replaceChildren(box);
    } else {
      this.result.replaceChildren(errorBox(result, this.onJump));
    }
    if (!record) return;
    this.history.unshift({ request, result });
    if (this.history.length > HISTORY_LIMIT) this.history.pop();
    this.renderHistory();
  }

  renderHistory() {
    this.historyList.previousElementSibling.hidden = this.history.length > 0;
    this.historyList.replaceChildren(...this.history.map((entry, i) => {
      const { request, result } = entry;
      const outcome = result.ok ? String(result.status) : result.stopped ? "stopped" : result.error?.type || "error";
      const band = result.ok ? `${Math.floor(result.status / 100)}xx` : "err";
      return h("li", { class: `pg-history__item pg-band--${band}`, "data-index": String(i) },
        h("button", { type: "button", class: "pg-history__show", title: "Show this answer and put the request back in the form", onclick: () => this.restore(entry) },
          h("code", {}, `${request.method} ${request.path}`), h("span", { class: "pg-history__outcome" }, ` → ${outcome}`)),
        h("button", { type: "button", class: "dosim-btn pg-history__again", "aria-label": `Send ${request.method} ${request.path} again`, onclick: () => this.submit(request) }, "Send again"));
    }));
  }

  restore(entry) {
    this.fillForm({ ...entry.request, headers: entry.request.headers, body: entry.request.body ?? "" });
    this.show(entry.request, entry.result, false);
    this.say(`Showing ${entry.request.method} ${entry.request.path}`);
  }

  /** Forget the answer shown and the history (another template, or Reset). */
  clear() {
    this.result.replaceChildren();
    this.history = [];
    this.renderHistory();
  }
}

/** An op's failure as a box: type, message, where (file and line), the traceback. */
export function errorBox(result, onJump) {
  if (result.stopped) {
    const text = result.stopped === "restarted"
      ? "Stopped: Python was restarted; the app is gone. Press Run app to load it again."
      : "Stopped: KeyboardInterrupt raised in the app's code.";
    return h("p", { class: "pg-stopped", "data-error": "stopped" }, text);
  }
  const error = result.error || { type: "Error", message: "failed" };
  const where = error.file ? `${error.file}${error.line ? `, line ${error.line}` : ""}` : null;
  return h("div", { class: "pg-error", "data-error": error.type, role: "alert" },
    h("p", { class: "pg-error__head" }, h("strong", {}, error.type), error.message ? `: ${error.message}` : ""),
    where ? h("p", { class: "pg-error__where" }, "In ",
      onJump ? h("button", { type: "button", class: "pg-link pg-error__jump", "data-file": error.file, "data-line": String(error.line || ""), onclick: () => onJump(error.file, error.line) }, where) : h("code", {}, where)) : null,
    error.traceback ? h("details", { class: "pg-error__tb" }, h("summary", {}, "Traceback"), h("pre", {}, error.traceback)) : null);
}
