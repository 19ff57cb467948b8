// How a value is shown: an HTTP response as a box (status line, headers, body: JSON
// pretty-printed, text, or a note for binary and empty bodies), anything else as its repr.
// Shared by the sandboxes (a block's last expression) and the playground's request panel.
import { el as h } from "./dom.js";

const BODY_NOTES = {
  empty: "(empty body)",
  used: "(body already read by your code)",
  websocket: "(WebSocket handshake: no body)",
};

/** The value a block ended with (see describe_value in sandbox_helper.py), as a node. */
export function renderValue(value) {
  if (value.kind !== "response") {
    const cut = value.truncated ? h("p", { class: "dosim-note" }, "(repr cut)") : null;
    return h("div", { class: "dosim-value dosim-value--repr", "data-value": "repr" },
      h("span", { class: "dosim-value__mark", "aria-hidden": "true" }, "→"),
      h("pre", { class: "dosim-value__text" }, value.text), cut);
  }
  const status = `HTTP ${value.status}${value.statusText ? " " + value.statusText : ""}`;
  const headers = value.headers.length
    ? h("dl", { class: "dosim-response__headers" },
        ...value.headers.map(([name, text]) => h("div", {}, h("dt", {}, name), h("dd", {}, text))))
    : null;
  let body;
  if (value.bodyKind === "json" || value.bodyKind === "text") {
    body = h("pre", { class: "dosim-response__body", "data-body-kind": value.bodyKind }, value.body);
  } else {
    const words = value.bodyKind === "binary" ? `(binary body: ${value.bodyBytes.toLocaleString("en")} bytes)` : BODY_NOTES[value.bodyKind] || "";
    body = h("p", { class: "dosim-response__note", "data-body-kind": value.bodyKind }, words);
  }
  const cut = value.truncated
    ? h("p", { class: "dosim-response__note" }, `(body cut: first ${value.body.length.toLocaleString("en")} characters of ${value.bodyBytes.toLocaleString("en")} bytes shown)`)
    : null;
  const band = Math.floor(value.status / 100);
  return h("section", { class: `dosim-value dosim-response dosim-response--${band}xx`, "data-value": "response", "aria-label": `HTTP response, status ${value.status}` },
    h("div", { class: "dosim-response__status" }, status, value.url ? h("span", { class: "dosim-response__url" }, ` · ${value.url}`) : null),
    headers, body, cut);
}
