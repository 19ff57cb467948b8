// Live sandboxes for the tutorial pages (entry point; bundled by hooks/sandbox.py).
//
// hooks/sandbox.py marks each runnable ```py block of a tutorial as
// <div class="language-py dosim-run highlight" data-dosim-group="...">. Here each one gets
// a CodeMirror editor, Run / Stop / Reset / Copy / Share, an output pane and an Objects
// panel. One module Web Worker (worker.js) owns the page's Python; it starts loading at
// once while the code stays visible and editable.
//
// Blocks of a group share one namespace and continue each other in page order: running a
// block first runs the earlier blocks of its group that have not run yet; running a
// group's first block starts the group afresh. A block without a group runs in a fresh
// namespace each time.
//
// As in a notebook, a block ending in a bare expression shows its value after the output
// (sandbox_helper.py reports it): an HTTP response as a status / headers / body box, any
// other value as its repr.
import "./sandbox.css";
import { SandboxClient } from "./client.js";
import { createEditor } from "./editor.js";
import { el as h } from "./dom.js";
import { renderObjects } from "./inspector.js";
import { linkFor, fromLocation } from "./share.js";
import { renderValue } from "./response.js";

const mac = /Mac|iPhone|iPad/.test(navigator.platform);
const RUN_KEY = mac ? "⌘↵" : "Ctrl+Enter";
const TAB_KEYS = mac ? "Shift+Alt+M" : "Ctrl+M";
const EDITOR_HINT = `${RUN_KEY} runs. Tab indents: to leave the editor press Esc then Tab (or ${TAB_KEYS} to make Tab move focus).`;

// The toolbar's label, explained on hover: how this block shares (or not) its Python.
const GROUP_HINT = (group) =>
  `Blocks of group “${group}” share one Python session and continue each other: Run first runs the group's earlier blocks that have not run yet.`;
const ALONE_HINT = "This block runs on its own, in a fresh Python session, each time you run it.";

class Sandbox {
  constructor(page, source, number) {
    this.page = page;
    this.number = number;
    this.group = source.dataset.dosimGroup || null;
    this.original = source.querySelector("pre code").textContent.replace(/\n$/, "");
    this.key = this.group ? `group:${this.group}` : `block:${number}`;

    const groupNote = this.group ? ` · group “${this.group}”` : "";
    // Visible only: spoken results go through the page's one live region (Page.announce),
    // so loading progress is not read out once per sandbox.
    this.status = h("span", { class: "dosim-status" });
    const button = (label, title, onclick, cls = "") =>
      h("button", { type: "button", class: `dosim-btn ${cls}`, title, "aria-label": title, onclick }, label);
    this.runButton = button("▶ Run", `Run this block (${RUN_KEY})`, () => this.run(), "dosim-btn--run");
    this.stopButton = button("■ Stop", "Stop the running code", () => this.page.client.stop(), "dosim-btn--stop");
    this.stopButton.disabled = true;
    this.toolbar = h("div", { class: "dosim-toolbar", role: "toolbar", "aria-label": `Sandbox ${number} controls`, onkeydown: (e) => this.arrowKeys(e) },
      this.runButton, this.stopButton,
      button("↺ Reset", "Restore the original code", () => this.reset()),
      button("Copy", "Copy the code", () => this.copy()),
      button("Share", "Make a link with this code", () => this.share()),
      h("span", { class: "dosim-label", title: this.group ? GROUP_HINT(this.group) : ALONE_HINT }, `Python${groupNote}`),
      this.status);
    this.editorHost = h("div", { class: "dosim-editor" });
    this.notice = h("p", { class: "dosim-notice", hidden: "" });
    this.shareBox = h("div", { class: "dosim-share", hidden: "" });
    // tabindex: the pane scrolls (max-height), and keyboard users must be able to scroll it.
    this.output = h("div", { class: "dosim-output", role: "log", "aria-live": "polite", "aria-label": `Output of sandbox ${number}`, tabindex: "0", hidden: "" });
    this.objects = h("div", { class: "dosim-panel", "aria-label": `Objects of sandbox ${number}`, hidden: "" });
    this.root = h("div", { class: "dosim-sandbox", id: `sandbox-${number}`, "data-block": String(number), "data-state": "idle" },
      this.toolbar, this.notice, this.editorHost, this.shareBox, this.output, this.objects);
    if (this.group) this.root.dataset.group = this.group;

    // Until the editor is needed, the code MkDocs highlighted stays in its place: building
    // every CodeMirror editor at load would compete with Python's start-up for the CPU.
    // Page creates editors for blocks near the viewport; focus or a click creates one too.
    const rendered = source.querySelector("pre");
    this.editorHost.classList.add("dosim-editor--static");
    this.editorHost.setAttribute("tabindex", "0");
    this.editorHost.setAttribute("aria-label", `Python code, sandbox ${number} (focus to edit)`);
    this.editorHost.append(rendered);
    const activate = () => {
      if (this._editor) return;
      this.editor.view.focus();
    };
    this.editorHost.addEventListener("focus", activate);
    this.editorHost.addEventListener("mousedown", activate);
    source.replaceWith(this.root);
    this.page.client.on((state) => this.showClientState(state));
  }

  /** The block's CodeMirror editor, made on first use (see the constructor). */
  get editor() {
    if (!this._editor) {
      this.editorHost.replaceChildren();
      this.editorHost.classList.remove("dosim-editor--static");
      this.editorHost.removeAttribute("tabindex");
      this.editorHost.removeAttribute("aria-label");
      this._editor = createEditor(this.editorHost, this.original, { onRun: () => this.run(), label: `Python code, sandbox ${this.number}`, hint: EDITOR_HINT });
    }
    return this._editor;
  }

  setState(state) {
    this.root.dataset.state = state;
  }

  /** Show `text` in the toolbar; `announce` also speaks it (results of what the reader did). */
  say(text, announce = true) {
    this.status.textContent = text;
    this.showsProgress = false;
    if (announce) this.page.announce(`Sandbox ${this.number}: ${text}`);
  }

  /** Arrow keys move between the toolbar's buttons (ARIA toolbar); Tab still visits each. */
  arrowKeys(event) {
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
    const buttons = [...this.toolbar.querySelectorAll("button:not(:disabled)")];
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: buttons.length - 1 }[event.key];
    buttons[(to + buttons.length) % buttons.length].focus();
    event.preventDefault();
  }

  /**
   * Python's start-up progress, shown by every block that is not running. When Python is
   * ready, a block that still shows progress says "Ready" (after a restart too, whatever
   * the block did before); one that says something else since (a result) keeps it.
   */
  showClientState(state) {
    if (this.root.dataset.state === "running") return;
    if (state.restarted) return;
    if (state.phase === "loading" || state.phase === "failed") {
      this.say(state.detail, false);
      this.showsProgress = state.phase === "loading";
    } else if (state.phase === "ready" && (this.root.dataset.state === "idle" || this.showsProgress)) {
      this.say("Ready", false);
    }
  }

  showNotice(text) {
    this.notice.textContent = text;
    this.notice.hidden = !text;
  }

  clearOutput() {
    this.output.replaceChildren();
    this.output.classList.remove("dosim-output--stale");
    this.output.hidden = true;
  }

  /**
   * At the start of a run the previous output stays, dimmed, until the run writes or
   * ends: emptying the pane at once would move the rest of the page and make the browser
   * repaint all of it while the run's first output is on its way.
   */
  markOutputStale() {
    if (this.output.hidden) this.output.replaceChildren();
    else this.output.classList.add("dosim-output--stale");
  }

  /** The output pane, shown, without the previous run's output. */
  openOutput() {
    if (this.output.classList.contains("dosim-output--stale")) {
      this.output.classList.remove("dosim-output--stale");
      this.output.replaceChildren();
    }
    this.output.hidden = false;
    return this.output;
  }

  write(stream, text) {
    this.openOutput();
    const last = this.output.lastElementChild;
    if (last && last.dataset.stream === stream && last.tagName === "PRE") last.append(text);
    else this.output.append(h("pre", { class: `dosim-${stream}`, "data-stream": stream }, text));
  }

  note(text, kind = "info") {
    this.openOutput();
    this.output.append(h("p", { class: `dosim-note dosim-note--${kind}` }, text));
  }

  /** Run this block (after the earlier blocks of its group that have not run). */
  run() {
    return this.page.runBlock(this);
  }

  async execute({ asPrerequisiteOf = null } = {}) {
    const client = this.page.client;
    const fresh = !this.group || this.page.isFirstOfGroup(this);
    this.markOutputStale();
    this.showNotice("");
    this.setState("running");
    if (client.state.phase !== "ready") {
      this.say("Waiting for Python to start…");
      try {
        await client.ready;
      } catch {
        this.setState("error");
        this.say("Python could not start");
        return { ok: false };
      }
    }
    if (asPrerequisiteOf) this.note(`Ran first, because block ${asPrerequisiteOf} continues it.`);
    this.say("Running…", false);
    this.page.setBusy(true);
    const t0 = performance.now();
    const result = await client.send("run", { code: this.editor.code, key: this.key, fresh, block: this.number },
      (stream, text) => this.write(stream, text));
    const ms = performance.now() - t0;
    this.page.setBusy(false);
    this.lastRunMs = ms;
    // For the benchmark: when the page sent the run, and the worker's own times.
    this.lastRun = { sent: performance.timeOrigin + t0, ...(result.timing || {}) };
    this.finish(result, ms);
    if (result.ok && this.group) this.page.markRan(this);
    return result;
  }

  finish(result, ms) {
    if (this.output.classList.contains("dosim-output--stale")) this.clearOutput(); // it wrote nothing
    if (result.stopped === "interrupted") {
      this.setState("stopped");
      const how = result.before ? "Stopped before it started" : "Stopped: KeyboardInterrupt raised in your code";
      this.note(`${how}. Python kept its state; you can run again.`, "warn");
      this.say("Stopped");
    } else if (result.stopped === "restarted") {
      this.setState("stopped");
      const why = result.reason === "stopped" ? "" : ` (${result.reason})`;
      this.note(`Stopped: Python was restarted${why}; the objects and variables of earlier blocks are gone. Run again when it is ready.`, "warn");
      this.say("Stopped, restarting Python…");
    } else if (result.ok) {
      this.setState("done");
      if (result.value) this.openOutput().append(renderValue(result.value));
      const took = ms < 1000 ? Math.round(ms) + " ms" : (ms / 1000).toFixed(1) + " s";
      const what = result.value?.kind === "response" ? `, HTTP ${result.value.status}` : "";
      this.say(`Done in ${took}${what}`);
      if (!this.output.childElementCount) this.note("(no output)");
    } else {
      this.setState("error");
      const err = result.error || { type: "Error", text: "failed" };
      this.openOutput().append(h("pre", { class: "dosim-error", "data-error": err.type }, err.text));
      this.say(err.line ? `${err.type} on line ${err.line}` : err.type);
      if (err.line) this.editor.gotoLine(err.line);
    }
    if (result.snapshot) this.renderSnapshot(result.snapshot);
  }

  renderSnapshot(snapshot, highlightFrom) {
    this.snapshot = snapshot;
    renderObjects(this.objects, snapshot, {
      highlightFrom,
      busy: this.page.busy,
      onAdvance: (name, seconds) => this.page.queue(() => this.advance(name, seconds)),
    });
  }

  async advance(name, seconds) {
    const before = this.snapshot?.apps.find((a) => a.var === name)?.trace_total ?? 0;
    const seq = (this.snapshot?.apps.find((a) => a.var === name)?.trace.at(-1)?.seq ?? -1) + 1;
    // The panel is rebuilt afterwards; put keyboard focus back on the new button.
    const refocus = this.objects.contains(document.activeElement);
    this.setState("running");
    this.say(`Advancing ${name} by ${seconds} s…`, false);
    this.page.setBusy(true);
    const result = await this.page.client.send("advance", { key: this.key, var: name, seconds, block: this.number },
      (stream, text) => this.write(stream, text));
    this.page.setBusy(false);
    if (result.ok) {
      this.setState("done");
      const after = result.snapshot?.apps.find((a) => a.var === name);
      const fresh = after ? after.trace_total - before : 0;
      this.note(`Advanced ${name} by ${seconds} s: ${fresh} new event${fresh === 1 ? "" : "s"}${this.summary(after, seq)}.`);
      this.say(`Advanced ${seconds} s`);
      this.renderSnapshot(result.snapshot, seq);
      if (refocus) this.objects.querySelector(`.dosim-advance[data-var="${CSS.escape(name)}"]`)?.focus();
    } else {
      this.finish(result, 0);
    }
  }

  summary(app, seq) {
    if (!app) return "";
    const kinds = {};
    for (const ev of app.trace) if (ev.seq >= seq) kinds[ev.kind] = (kinds[ev.kind] || 0) + 1;
    const parts = Object.entries(kinds).map(([k, n]) => (n > 1 ? `${k} ×${n}` : k));
    return parts.length ? ` (${parts.join(", ")})` : "";
  }

  reset() {
    this.editor.code = this.original;
    this.showNotice("");
    this.say("Code restored");
  }

  async copy() {
    const code = this.editor.code;
    try {
      await navigator.clipboard.writeText(code);
      this.say("Copied");
    } catch {
      const area = h("textarea", { class: "dosim-offscreen", "aria-hidden": "true" });
      area.value = code;
      document.body.append(area);
      area.select();
      const ok = document.execCommand("copy");
      area.remove();
      this.say(ok ? "Copied" : "Could not copy: select the code and copy it");
    }
  }

  async share() {
    const link = await linkFor(this.number, this.editor.code);
    history.replaceState(null, "", link);
    const field = h("input", { type: "text", readonly: "", value: link, "aria-label": "Link to this code", class: "dosim-share__link" });
    this.shareBox.replaceChildren(h("span", {}, "Link (opens this code, does not run it): "), field);
    this.shareBox.hidden = false;
    field.select();
    try {
      await navigator.clipboard.writeText(link);
      this.say("Link copied");
    } catch {
      this.say("Link ready below");
    }
  }
}

class Page {
  constructor(sources) {
    this.announcer = h("div", { class: "dosim-offscreen", role: "status", "aria-live": "polite", "aria-atomic": "true" });
    document.body.append(this.announcer);
    this.client = new SandboxClient(new URL("./worker.js", import.meta.url));
    this.blocks = sources.map((source, i) => new Sandbox(this, source, i + 1));
    this.ran = new Map(); // group -> Set of block numbers run (ok) in its current namespace
    this.busy = false;
    this.chain = Promise.resolve();
    this.client.on((state) => {
      if (state.restarted) this.ran.clear();
    });
    this.makeEditorsNearTheViewport();
  }

  makeEditorsNearTheViewport() {
    if (!("IntersectionObserver" in self)) {
      for (const block of this.blocks) void block.editor;
      return;
    }
    const byRoot = new Map(this.blocks.map((b) => [b.root, b]));
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        observer.unobserve(entry.target);
        void byRoot.get(entry.target).editor;
      }
    }, { rootMargin: "400px 0px" });
    for (const block of this.blocks) observer.observe(block.root);
  }

  /** Speak `text` to screen readers (one polite live region for the whole page). */
  announce(text) {
    // Same text twice (two runs with the same timing) must still be spoken: clear first.
    this.announcer.textContent = "";
    requestAnimationFrame(() => (this.announcer.textContent = text));
  }

  setBusy(busy) {
    this.busy = busy;
    for (const b of this.blocks) {
      // A disabled button drops focus to <body>: a keyboard user who pressed Stop would
      // have to find their way back from the top of the page. Hand focus to Run instead.
      const hadFocus = document.activeElement === b.stopButton;
      b.stopButton.disabled = !busy;
      if (hadFocus && !busy) b.runButton.focus();
      for (const button of b.objects.querySelectorAll(".dosim-advance")) button.disabled = busy;
    }
  }

  groupBlocks(group) {
    return this.blocks.filter((b) => b.group === group);
  }

  isFirstOfGroup(block) {
    return this.groupBlocks(block.group)[0] === block;
  }

  markRan(block) {
    if (!this.ran.has(block.group)) this.ran.set(block.group, new Set());
    this.ran.get(block.group).add(block.number);
  }

  /** Jobs run one after the other (the worker has one interpreter). */
  queue(job) {
    const next = this.chain.then(job, job);
    this.chain = next.catch(() => {});
    return next;
  }

  runBlock(block) {
    return this.queue(async () => {
      if (block.group && !this.isFirstOfGroup(block)) {
        const done = this.ran.get(block.group) || new Set();
        for (const earlier of this.groupBlocks(block.group)) {
          if (earlier === block) break;
          if (done.has(earlier.number)) continue;
          if (earlier === this.groupBlocks(block.group)[0]) this.ran.set(block.group, new Set());
          const result = await earlier.execute({ asPrerequisiteOf: block.number });
          if (!result.ok) {
            block.clearOutput();
            block.note(`Block ${earlier.number}, which this block continues, did not finish; fix or run it first.`, "error");
            block.setState("error");
            block.say("Earlier block failed");
            return result;
          }
        }
      } else if (block.group) {
        this.ran.set(block.group, new Set());
      }
      return block.execute();
    });
  }
}

async function main() {
  const sources = [...document.querySelectorAll("div.dosim-run")].filter((d) => d.querySelector("pre code"));
  if (!sources.length) return;
  const page = new Page(sources);
  window.dosimSandbox = page;
  const shared = await fromLocation();
  if (shared) {
    const block = page.blocks[shared.block - 1];
    if (block && shared.code !== null) {
      block.editor.code = shared.code;
      block.showNotice("This code comes from a shared link. It has not been run: read it, then press Run if you want to.");
      block.root.scrollIntoView({ block: "start" });
    } else if (block) {
      block.showNotice("The shared link is damaged; showing the original code.");
    }
  }
}

main();
