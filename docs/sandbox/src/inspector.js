// The Objects panel: each app of a block's namespace, its objects (class, name, id,
// KV entries, SQL tables, alarm, sockets), its KV/D1/R2 bindings, and a timeline of its
// trace, plus a clock control that advances the app's virtual time.
import { el } from "./dom.js";

const iso = (ms) => new Date(ms).toISOString().replace(".000Z", "Z");

function since(ms, start) {
  const s = (ms - start) / 1000;
  return `+${s.toFixed(s % 1 ? 3 : 0)} s`;
}

const CATEGORY = [
  [/^alarm/, "alarm"], [/^(eviction|reset|abort|construct|instance)/, "life"], [/^(commit|storage|sql|kv|txn|binding)/, "storage"],
  [/^(rpc|call|fetch|request|response)/, "request"], [/^(websocket|socket|ws)/, "socket"],
];
const category = (kind) => (CATEGORY.find(([re]) => re.test(kind)) || [null, "other"])[1];

function detailText(detail) {
  const parts = [];
  for (const [k, val] of Object.entries(detail || {})) {
    parts.push(`${k}=${typeof val === "string" ? val : JSON.stringify(val)}`);
  }
  const text = parts.join(" ");
  return text.length > 140 ? text.slice(0, 139) + "…" : text;
}

function objectCard(ns, obj) {
  const title = obj.name ? `“${obj.name}”` : "(unnamed)";
  const state = obj.live ? "in memory" : "evicted";
  const facts = [
    el("span", { class: "dosim-badge" }, state),
    obj.alarm ? el("span", { class: "dosim-badge dosim-badge--alarm" }, `alarm ${iso(obj.alarm)}`) : null,
    obj.sockets ? el("span", { class: "dosim-badge" }, `${obj.sockets} socket${obj.sockets > 1 ? "s" : ""}`) : null,
  ];
  // In a scrolling box: a long key or value must scroll there, not widen a narrow page.
  const kv = obj.kv.length
    ? el("div", { class: "dosim-scroll", tabindex: "0", role: "region", "aria-label": `Stored keys of ${title}` },
        el("table", { class: "dosim-kv" },
          el("thead", {}, el("tr", {}, el("th", {}, "key"), el("th", {}, "value"))),
          el("tbody", {}, obj.kv.map((e) => el("tr", {}, el("td", {}, el("code", {}, e.key)), el("td", {}, el("code", {}, e.value)))))))
    : null;
  const more = obj.kv_total > obj.kv.length ? el("p", { class: "dosim-muted" }, `… ${obj.kv_total - obj.kv.length} more keys`) : null;
  const tables = obj.tables.length
    ? el("p", { class: "dosim-tables" }, "SQL tables: ", obj.tables.map((tb, i) => [i ? ", " : "", el("code", {}, tb.name), ` (${tb.rows} row${tb.rows === 1 ? "" : "s"})`]))
    : null;
  const empty = !kv && !tables ? el("p", { class: "dosim-muted" }, "no stored data") : null;
  return el("li", { class: "dosim-object", "data-object": obj.name || obj.id },
    el("div", { class: "dosim-object__head" },
      el("strong", {}, `${ns.binding} · ${obj.class} ${title}`), " ",
      el("code", { class: "dosim-id", title: obj.id }, obj.id.slice(0, 12) + "…"), " ", facts),
    kv, more, tables, empty);
}

const cell = (v) => (v === null ? "NULL" : String(v));

function bindingCard(b) {
  const tables = (b.tables || []).filter((t) => t.total);
  const shown = tables.map((t) =>
    el("div", { class: "dosim-scroll", tabindex: "0", role: "region", "aria-label": `${b.binding} ${t.name}` },
      el("p", { class: "dosim-tables" }, el("code", {}, t.name), ` (${t.total} row${t.total === 1 ? "" : "s"})`),
      el("table", { class: "dosim-kv" },
        el("thead", {}, el("tr", {}, t.columns.map((c) => el("th", {}, c)))),
        el("tbody", {}, t.rows.map((r) => el("tr", {}, r.map((v) => el("td", {}, el("code", {}, cell(v))))))))));
  return el("li", { class: "dosim-object", "data-binding": b.binding },
    el("div", { class: "dosim-object__head" },
      el("strong", {}, `env.${b.binding} · ${b.type.toUpperCase()}`), " ",
      el("code", { class: "dosim-id" }, b.key)),
    shown.length ? shown : el("p", { class: "dosim-muted" }, b.error || "nothing stored"));
}

function timeline(app, highlightFrom) {
  if (!app.trace.length) return el("p", { class: "dosim-muted" }, "no events yet");
  const start = app.trace[0].time;
  const rows = app.trace.map((ev) =>
    el("tr", { class: `dosim-ev dosim-ev--${category(ev.kind)}${ev.seq >= highlightFrom ? " dosim-ev--new" : ""}`, "data-kind": ev.kind },
      el("td", { class: "dosim-ev__t" }, since(ev.time, start)),
      el("td", {}, el("span", { class: "dosim-kind" }, ev.kind)),
      el("td", { class: "dosim-ev__o" }, ev.name || (ev.object_id ? ev.object_id.slice(0, 8) + "…" : ev.namespace ? ev.namespace : "worker")),
      el("td", { class: "dosim-ev__d" }, detailText(ev.detail))));
  const skipped = app.trace_total - app.trace.length;
  // Focusable: it scrolls both ways and keyboard users must be able to scroll it.
  return el("div", { class: "dosim-timeline-wrap dosim-scroll", tabindex: "0", role: "region", "aria-label": `Timeline of ${app.var}` },
    skipped > 0 ? el("p", { class: "dosim-muted" }, `(${skipped} earlier events not shown)`) : null,
    el("table", { class: "dosim-timeline" },
      el("thead", {}, el("tr", {}, el("th", {}, "time"), el("th", {}, "event"), el("th", {}, "object"), el("th", {}, "detail"))),
      el("tbody", {}, rows)));
}

/**
 * Render `snapshot` into `root`. `onAdvance(var, seconds)` runs the clock control.
 * `highlightFrom` marks trace events with seq >= it as new (after an advance).
 */
export function renderObjects(root, snapshot, { onAdvance, highlightFrom = Infinity, busy = false }) {
  root.replaceChildren();
  const apps = snapshot?.apps || [];
  if (!apps.length) {
    root.hidden = true;
    return;
  }
  root.hidden = false;
  for (const app of apps) {
    const objects = app.namespaces.flatMap((ns) => ns.objects.map((obj) => objectCard(ns, obj)));
    const button = el("button", { type: "button", class: "md-button dosim-advance", "data-var": app.var, onclick: () => onAdvance(app.var, 10) }, "Advance 10 s");
    button.disabled = busy;
    root.append(
      el("section", { class: "dosim-app", "data-app": app.var },
        el("div", { class: "dosim-app__head" },
          el("span", {}, el("code", {}, app.var), ` · virtual time ${iso(app.now)}`),
          button),
        el("h4", {}, "Objects"),
        objects.length ? el("ul", { class: "dosim-objects" }, objects) : el("p", { class: "dosim-muted" }, "no objects yet"),
        app.bindings && app.bindings.length ? el("h4", {}, "Bindings") : null,
        app.bindings && app.bindings.length ? el("ul", { class: "dosim-objects" }, app.bindings.map(bindingCard)) : null,
        el("h4", {}, `Timeline (${app.trace_total} event${app.trace_total === 1 ? "" : "s"})`),
        timeline(app, highlightFrom)));
  }
  // Show the newest events: the first new one after an advance, else the end.
  for (const wrap of root.querySelectorAll(".dosim-timeline-wrap")) {
    const fresh = wrap.querySelector(".dosim-ev--new");
    wrap.scrollTop = fresh ? fresh.offsetTop - 24 : wrap.scrollHeight;
  }
}
