// The whole-app playground (entry point; bundled by hooks/sandbox.py, injected on the page
// that holds <div id="dosim-playground">).
//
// An app's files in editors (pg_files.js), "Run app" (op `load`), requests
// (pg_requests.js), WebSocket clients (pg_sockets.js), tests (pg_tests.js) and the Objects
// panel (inspector.js), all talking to the page's one Python worker through
// SandboxClient.playground(op, args) (docs/sandbox/README.md, "Playground"). Nothing runs
// by itself: opening a template, a saved state or a shared link only fills the editors.
// Edits are kept in localStorage per template; Reset goes back to the template.
import "./playground.css";
import { SandboxClient } from "./client.js";
import { el as h } from "./dom.js";
import { renderObjects } from "./inspector.js";
import { encode, decode } from "./share.js";
import { FileSet } from "./pg_files.js";
import { RequestPanel, errorBox } from "./pg_requests.js";
import { SocketPanel } from "./pg_sockets.js";
import { renderTests, summaryText } from "./pg_tests.js";

const mac = /Mac|iPhone|iPad/.test(navigator.platform);
const RUN_KEY = mac ? "⌘↵" : "Ctrl+Enter";
const TAB_KEYS = mac ? "Shift+Alt+M" : "Ctrl+M";
const EDITOR_HINT = `${RUN_KEY} runs the app. Tab indents: to leave the editor press Esc then Tab (or ${TAB_KEYS}).`;
const STORAGE_PREFIX = "dosim-playground:v1:";
const SHARE_PREFIX = "#app=";
const DEFAULT_TEMPLATE = "counter";

/** The files as one comparable string: what was loaded vs what the editors hold now. */
const signature = (files) => JSON.stringify(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)));

/** {template, files} from a "#app=<deflate-raw, base64url JSON>" fragment, or null. */
async function sharedApp() {
  if (!location.hash.startsWith(SHARE_PREFIX)) return null;
  try {
    const data = JSON.parse(await decode(location.hash.slice(SHARE_PREFIX.length)));
    if (typeof data.files !== "object" || !data.files) throw new Error("no files");
    return { template: String(data.template || ""), files: data.files, damaged: false };
  } catch {
    return { damaged: true };
  }
}

class Playground {
  constructor(mount) {
    this.mount = mount;
    this.client = new SandboxClient(new URL("./worker.js", import.meta.url));
    this.templates = [];
    this.template = null; // the chosen template's record
    this.loaded = null; // signature of the files the loaded app was made from
    this.busy = 0;
    this.chain = Promise.resolve();
    // What the reader started and what finished (the browser tests wait on these), and
    // every op sent, in order (a shared link must send none but "templates").
    this.acting = 0;
    this.actionsDone = 0;
    this.ops = [];
    this.build();
    this.client.on((state) => this.clientState(state));
    this.client.onPlaygroundEvent((event) => this.sockets.event(event));
  }

  // -- layout -------------------------------------------------------------------------------

  build() {
    const button = (label, title, onclick, cls = "", extra = {}) =>
      h("button", { type: "button", class: `dosim-btn ${cls}`, title, onclick, ...extra }, label);
    this.picker = h("select", { id: "pg-template", class: "pg-input", disabled: "", onchange: () => this.choose(this.picker.value) },
      h("option", {}, "Loading the templates…"));
    this.runButton = button("▶ Run app", `Load the app from these files (${RUN_KEY})`, () => this.act(() => this.runApp()), "dosim-btn--run pg-run");
    this.testButton = button("Run tests", "Run the app's tests/ with pytest", () => this.act(() => this.runTests()), "pg-runtests");
    this.stopButton = button("■ Stop", "Stop what runs (a handler stuck in a loop)", () => this.client.stop(), "dosim-btn--stop pg-stop", { disabled: "" });
    this.status = h("span", { class: "dosim-status pg-status" });
    this.toolbar = h("div", { class: "dosim-toolbar pg-toolbar", role: "toolbar", "aria-label": "Playground", onkeydown: (e) => this.arrowKeys(e) },
      h("label", { for: "pg-template", class: "pg-label pg-label--inline" }, "Template"), this.picker,
      this.runButton, this.testButton, this.stopButton,
      button("↺ Reset", "Go back to the template's files (your edits are dropped)", () => this.reset(), "pg-reset"),
      button("Share", "Make a link that holds every file (it opens the files, runs nothing)", () => this.share(), "pg-share"),
      button("Download zip", "Download the app as a starter folder (pyproject, src/, tests/)", () => this.act(() => this.download()), "pg-zip"),
      this.status);
    this.notice = h("p", { class: "dosim-notice pg-notice", hidden: "" });
    this.shareBox = h("div", { class: "dosim-share pg-sharebox", hidden: "" });
    this.appState = h("div", { class: "pg-appstate", "aria-live": "polite" }, h("p", { class: "dosim-muted" }, "The app is not loaded: press Run app (or send a request, which loads it first)."));
    this.workspace = h("div", { class: "pg-workspace" });
    this.files = new FileSet(this.workspace, { onChange: () => this.edited(), onRun: () => this.act(() => this.runApp()), say: (t) => this.say(t), hint: EDITOR_HINT });

    // Request, WebSockets and Tests: tabs; the Objects panel beside them.
    const tabs = [["request", "Request"], ["sockets", "WebSockets"], ["tests", "Tests"]];
    this.tabButtons = {};
    this.tabPanels = {};
    const tabList = h("div", { class: "pg-tabs", role: "tablist", "aria-label": "Talk to the app", onkeydown: (e) => this.tabKeys(e) });
    for (const [key, label] of tabs) {
      this.tabButtons[key] = h("button", { type: "button", role: "tab", id: `pg-tab-${key}`, class: "pg-tab", "aria-controls": `pg-panel-${key}`, "aria-selected": "false", tabindex: "-1", onclick: () => this.showTab(key) }, label);
      this.tabPanels[key] = h("div", { role: "tabpanel", id: `pg-panel-${key}`, class: "pg-panel", "aria-labelledby": `pg-tab-${key}`, hidden: "" });
      tabList.append(this.tabButtons[key]);
    }
    this.requests = new RequestPanel(this.tabPanels.request, { send: (r) => this.act(() => this.request(r)), say: (t) => this.say(t), onJump: (f, l) => this.jump(f, l) });
    this.sockets = new SocketPanel(this.tabPanels.sockets, { call: (op, args) => this.act(() => this.appOp(op, args)), say: (t) => this.say(t), onJump: (f, l) => this.jump(f, l), errorBox });
    this.testResults = h("div", { class: "pg-testresults" }, h("p", { class: "dosim-muted" }, "Press Run tests to run the app's tests/ with pytest, here in the page."));
    this.tabPanels.tests.append(this.testResults);
    this.showTab("request");

    this.advanceBy = h("input", { id: "pg-advance", class: "pg-input pg-seconds", type: "number", min: "0", step: "any", value: "10" });
    this.clock = h("form", { class: "pg-clock", onsubmit: (e) => (e.preventDefault(), this.act(() => this.advance(Number(this.advanceBy.value)))) },
      h("label", { for: "pg-advance", class: "pg-label pg-label--inline" }, "Virtual clock: advance by"), this.advanceBy, h("span", {}, "s"),
      h("button", { type: "submit", class: "dosim-btn pg-advance-btn" }, "Advance"));
    this.clockNote = h("p", { class: "dosim-muted pg-clock__note", "aria-live": "polite" });
    this.objects = h("div", { class: "dosim-panel pg-objects", "aria-label": "Objects of the app", hidden: "" });
    this.objectsEmpty = h("p", { class: "dosim-muted" }, "Objects appear here once the app has run.");
    this.announcer = h("div", { class: "dosim-offscreen", role: "status", "aria-live": "polite", "aria-atomic": "true" });

    this.mount.replaceChildren(
      h("div", { class: "pg-root", "data-state": "starting" },
        this.toolbar, this.notice, this.shareBox, this.appState, this.workspace,
        h("div", { class: "pg-bottom" },
          h("section", { class: "pg-talk", "aria-label": "Talk to the app" }, tabList, ...Object.values(this.tabPanels)),
          h("section", { class: "pg-inspect", "aria-labelledby": "pg-objects-heading" },
            h("h3", { class: "pg-heading", id: "pg-objects-heading" }, "Objects and timeline"),
            this.clock, this.clockNote, this.objectsEmpty, this.objects))),
      this.announcer);
    this.root = this.mount.firstChild;
  }

  showTab(key, focus = false) {
    for (const [k, tab] of Object.entries(this.tabButtons)) {
      const on = k === key;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      this.tabPanels[k].hidden = !on;
    }
    if (focus) this.tabButtons[key].focus();
  }

  /** Arrow keys move between tabs (ARIA tabs); Tab goes on to the panel. */
  tabKeys(event) {
    const keys = Object.keys(this.tabButtons);
    const at = keys.findIndex((k) => this.tabButtons[k] === document.activeElement);
    if (at < 0) return;
    const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: keys.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    this.showTab(keys[(to + keys.length) % keys.length], true);
  }

  arrowKeys(event) {
    if (!["ArrowLeft", "ArrowRight"].includes(event.key) || !(document.activeElement instanceof HTMLButtonElement)) return;
    const buttons = [...this.toolbar.querySelectorAll("button:not(:disabled)")];
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    buttons[(at + (event.key === "ArrowLeft" ? -1 : 1) + buttons.length) % buttons.length].focus();
    event.preventDefault();
  }

  // -- status -------------------------------------------------------------------------------

  say(text, announce = true) {
    this.status.textContent = text;
    if (!announce) return;
    this.announcer.textContent = "";
    requestAnimationFrame(() => (this.announcer.textContent = text));
  }

  showNotice(text) {
    this.notice.textContent = text;
    this.notice.hidden = !text;
  }

  clientState(state) {
    if (state.restarted) {
      this.loaded = null;
      this.sockets.forgetAll("Python restarted");
      this.setAppState(h("p", { class: "pg-stopped" }, "Python was restarted: the app is gone. Press Run app to load it again."));
      this.renderSnapshot({ apps: [] });
      return;
    }
    if (state.phase === "loading" || state.phase === "failed") this.say(state.detail, false);
    else if (state.phase === "ready" && !this.busy && this.root.dataset.state === "starting") this.say("Ready", false);
  }

  setBusy(on, text) {
    this.busy += on ? 1 : -1;
    const busy = this.busy > 0;
    this.root.dataset.busy = String(busy);
    const hadFocus = document.activeElement === this.stopButton;
    this.stopButton.disabled = !busy;
    if (hadFocus && !busy) this.runButton.focus();
    if (busy && text) this.say(text, false);
  }

  setAppState(...nodes) {
    this.appState.replaceChildren(...nodes);
  }

  // -- templates, saved edits, shared links -------------------------------------------------

  async start() {
    const shared = await sharedApp();
    try {
      await this.client.ready;
    } catch {
      return; // clientState shows why
    }
    const answer = await this.raw("templates", {}, "Reading the templates…");
    if (!answer.ok) {
      this.setAppState(errorBox(answer));
      this.say("Could not read the templates");
      return;
    }
    this.templates = answer.templates;
    this.picker.replaceChildren(...this.templates.map((t) => h("option", { value: t.name, title: t.description || "" }, t.name === "blank" ? "blank (a minimal app)" : `${t.name}${t.title ? ` — ${t.title}` : ""}`)));
    this.picker.disabled = false;
    const wanted = new URLSearchParams(location.search).get("template");
    if (shared && !shared.damaged) {
      this.use(this.find(shared.template) || this.find("blank"), shared.files);
      this.showNotice("These files come from a shared link. Nothing has run: read them, then press Run app if you want to.");
    } else {
      const template = this.find(wanted) || this.find(DEFAULT_TEMPLATE) || this.templates[0];
      this.use(template, null);
      if (shared?.damaged) this.showNotice("The shared link is damaged; showing the template instead.");
      else if (wanted && !this.find(wanted)) this.showNotice(`There is no template “${wanted}”; showing ${template.name}.`);
    }
    this.root.dataset.state = "ready";
    this.say("Ready: press Run app");
  }

  find(name) {
    return this.templates.find((t) => t.name === name) || null;
  }

  storageKey(name) {
    return STORAGE_PREFIX + name;
  }

  saved(name) {
    try {
      const data = JSON.parse(localStorage.getItem(this.storageKey(name)) || "null");
      return data && typeof data.files === "object" ? data : null;
    } catch {
      return null;
    }
  }

  /** Show `template` with `files` (a shared link's), else its saved edits, else its own. */
  use(template, files) {
    this.template = template;
    this.picker.value = template.name;
    const saved = files ? null : this.saved(template.name);
    this.files.setFiles(files || saved?.files || template.files, saved?.active);
    this.showNotice(saved ? "Your edits from last time are back. Reset returns to the template." : "");
    this.loaded = null;
    this.requests.useReadme(this.files.text("README.md") || template.files["README.md"]);
    this.requests.clear();
    this.sockets.useReadme(this.files.text("README.md") || template.files["README.md"]);
    this.sockets.clear();
    this.testResults.replaceChildren(h("p", { class: "dosim-muted" }, "Press Run tests to run the app's tests/ with pytest, here in the page."));
    this.setAppState(h("p", { class: "dosim-muted" }, `${template.name}: not loaded yet. Press Run app (or send a request, which loads it first).`));
    this.renderSnapshot({ apps: [] });
  }

  choose(name) {
    const template = this.find(name);
    if (!template || template === this.template) return;
    this.flushSave();
    const url = new URL(location.href);
    url.searchParams.set("template", name);
    url.hash = "";
    history.replaceState(null, "", url);
    this.shareBox.hidden = true;
    this.use(template, null);
    this.say(`Template ${name}`);
  }

  edited() {
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.flushSave(), 300);
    if (this.loaded && signature(this.files.files) !== this.loaded) this.root.dataset.stale = "true";
  }

  flushSave() {
    clearTimeout(this.saveTimer);
    if (!this.template) return;
    const files = this.files.files;
    try {
      if (signature(files) === signature(this.template.files)) localStorage.removeItem(this.storageKey(this.template.name));
      else localStorage.setItem(this.storageKey(this.template.name), JSON.stringify({ files, active: this.files.active }));
    } catch {
      this.say("Could not save the edits in this browser (storage full or blocked)");
    }
  }

  reset() {
    if (!this.template) return;
    try {
      localStorage.removeItem(this.storageKey(this.template.name));
    } catch {
      // nothing saved, nothing to remove
    }
    const url = new URL(location.href);
    url.hash = "";
    history.replaceState(null, "", url);
    this.shareBox.hidden = true;
    this.use(this.template, null);
    this.say("Back to the template's files");
  }

  async share() {
    const payload = await encode(JSON.stringify({ template: this.template?.name || "blank", files: this.files.files }));
    const url = new URL(location.href);
    url.search = "";
    url.hash = SHARE_PREFIX.slice(1) + payload;
    const link = url.href;
    const field = h("input", { type: "text", readonly: "", value: link, "aria-label": "Link to these files", class: "dosim-share__link pg-sharelink" });
    this.shareBox.replaceChildren(h("span", {}, `Link with every file (${link.length.toLocaleString("en")} characters; opens them, runs nothing): `), field);
    this.shareBox.hidden = false;
    field.select();
    try {
      await navigator.clipboard.writeText(link);
      this.say("Link copied");
    } catch {
      this.say("Link ready above the files");
    }
  }

  async download() {
    const name = this.template?.name || "app";
    const result = await this.raw("zip", { files: this.files.files, name }, "Making the zip…");
    if (!result.ok) {
      this.setAppState(errorBox(result, (f, l) => this.jump(f, l)));
      this.say("Could not make the zip");
      return;
    }
    const bytes = Uint8Array.from(atob(result.base64), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/zip" }));
    const link = h("a", { href: url, download: result.filename, hidden: "" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    this.say(`Downloaded ${result.filename}`);
  }

  // -- talking to Python --------------------------------------------------------------------

  /** Something the reader started (a click, a key): counted while it runs. */
  async act(job) {
    this.acting += 1;
    try {
      return await job();
    } finally {
      this.acting -= 1;
      this.actionsDone += 1;
    }
  }

  queue(job) {
    const next = this.chain.then(job, job);
    this.chain = next.catch(() => {});
    return next;
  }

  /** Run one op in its turn; the Objects panel follows every answer's snapshot. */
  raw(op, args, busyText) {
    this.ops.push(op);
    return this.queue(async () => {
      this.setBusy(true, busyText);
      let answer;
      try {
        answer = await this.client.playground(op, args);
      } catch (error) {
        answer = { result: { ok: false, error: { type: "PlaygroundError", message: String(error?.message || error) } } };
      } finally {
        this.setBusy(false);
      }
      const result = { ...(answer?.result || answer || {}) };
      const stopped = result.stopped || answer?.stopped;
      if (stopped) result.stopped = stopped === "restarted" ? "restarted" : "interrupted";
      if (answer?.snapshot && result.stopped !== "restarted") this.renderSnapshot(answer.snapshot);
      if (result.stopped) this.say(result.stopped === "restarted" ? "Stopped: Python restarted" : "Stopped");
      return result;
    });
  }

  /** An op that needs the app: loads it first when it is not loaded or the files changed. */
  async appOp(op, args, busyText) {
    if (!(await this.ensureLoaded())) return null;
    return this.raw(op, args, busyText);
  }

  async ensureLoaded() {
    if (this.loaded && this.loaded === signature(this.files.files)) return true;
    return this.runApp({ because: this.loaded ? "The files changed: the app was loaded again (its storage starts empty)." : "" });
  }

  async runApp({ because = "" } = {}) {
    if (!this.template) return false;
    this.flushSave();
    const files = this.files.files;
    const result = await this.raw("load", { files }, "Loading the app…");
    this.files.showLine(null);
    if (!result.ok) {
      this.loaded = null;
      this.setAppState(errorBox(result, (f, l) => this.jump(f, l)));
      const where = result.error?.file ? ` in ${result.error.file}${result.error.line ? `:${result.error.line}` : ""}` : "";
      this.say(result.stopped ? "Stopped" : `The app did not load: ${result.error?.type || "error"}${where}`);
      if (result.error?.file) this.jump(result.error.file, result.error.line, false);
      return false;
    }
    this.loaded = signature(files);
    this.root.dataset.stale = "false";
    this.sockets.forgetAll("the app was loaded again");
    const app = result.app || {};
    // A binding is {binding, class?, type}: "COUNTER (Counter)", "CACHE (kv)".
    const name = (item) => (typeof item === "string" ? item : `${item.binding} (${item.class || item.type})`);
    const list = (items) => (items && items.length ? items.map(name).join(", ") : "none");
    this.setAppState(h("p", { class: "pg-loaded" },
      h("strong", {}, `${app.name || this.template.name} is running`), ` · classes: ${list(app.classes)} · bindings: ${list(app.bindings)}`,
      because ? h("span", { class: "dosim-muted" }, ` · ${because}`) : null));
    this.say("App loaded");
    return true;
  }

  /** Open an error's file at its line (files of the app only). */
  jump(file, line, focus = true) {
    const active = document.activeElement;
    if (!this.files.showLine(file, line)) return;
    if (!focus && active instanceof HTMLElement) active.focus();
  }

  async request(request) {
    this.showTab("request");
    const result = await this.appOp("request", request, `${request.method} ${request.path}…`);
    if (result?.ok) this.say(`${request.method} ${request.path}: ${result.status}`);
    else if (result && !result.stopped) {
      this.say(`${request.method} ${request.path}: ${result.error?.type || "error"}`);
      if (result.error?.file) this.jump(result.error.file, result.error.line, false);
    }
    return result;
  }

  async runTests() {
    this.showTab("tests");
    this.testResults.replaceChildren(h("p", { class: "dosim-muted" }, "Running the tests…"));
    const result = await this.appOp("run_tests", {}, "Running the tests…");
    if (!result) {
      this.testResults.replaceChildren(h("p", { class: "dosim-muted" }, "The app did not load: fix it, then run the tests."));
      return;
    }
    renderTests(this.testResults, result, (r) => errorBox(r, (f, l) => this.jump(f, l)));
    this.say(result.summary ? `Tests: ${summaryText(result.summary)}` : "The tests did not run");
  }

  async advance(seconds) {
    if (!(seconds >= 0)) {
      this.clockNote.textContent = "Give a number of seconds (0 or more).";
      return;
    }
    const before = this.snapshot?.apps?.[0]?.trace_total ?? 0;
    const seq = (this.snapshot?.apps?.[0]?.trace?.at(-1)?.seq ?? -1) + 1;
    const result = await this.appOp("advance", { seconds }, `Advancing ${seconds} s…`);
    if (!result) return;
    if (result.ok) {
      const after = this.snapshot?.apps?.[0]?.trace_total ?? before;
      const fresh = after - before;
      this.clockNote.textContent = `Advanced ${seconds} s: ${fresh} new event${fresh === 1 ? "" : "s"}${result.now ? ` · now ${new Date(result.now).toISOString()}` : ""}.`;
      this.renderSnapshot(this.snapshot, seq);
      this.say(`Advanced ${seconds} s`);
    } else {
      this.clockNote.textContent = result.stopped ? "Stopped." : `${result.error?.type}: ${result.error?.message}`;
    }
  }

  renderSnapshot(snapshot, highlightFrom) {
    this.snapshot = snapshot;
    const refocus = this.objects.contains(document.activeElement);
    renderObjects(this.objects, snapshot, { highlightFrom, busy: false, onAdvance: (_name, seconds) => this.act(() => this.advance(seconds)) });
    this.objectsEmpty.hidden = !this.objects.hidden;
    if (refocus) this.objects.querySelector(".dosim-advance")?.focus();
  }
}

async function main() {
  const mount = document.getElementById("dosim-playground");
  if (!mount) return;
  const page = new Playground(mount);
  window.dosimPlayground = page;
  await page.start();
}

main();
