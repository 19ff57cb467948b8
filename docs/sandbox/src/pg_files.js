// The playground's files: a tree of the app's paths (add, rename, delete) and one
// CodeMirror editor per file, made when the file is first opened.
import { createEditor } from "./editor.js";
import { el as h } from "./dom.js";

const LANGUAGE = (path) => (path.endsWith(".py") ? "python" : path.endsWith(".toml") ? "toml" : "text");

/**
 * Why `path` cannot be a file of the app, or "" when it can. Paths are relative, with
 * "/" between folders; `taken` is the set of paths already there.
 */
export function pathProblem(path, taken) {
  if (!path) return "Give the file a path, such as src/helpers.py.";
  if (path.startsWith("/") || path.includes("\\")) return "Use a relative path with / between folders (src/helpers.py).";
  if (path.split("/").some((part) => !part || part === "." || part === "..")) return "A path cannot have empty, . or .. parts.";
  if (taken.has(path)) return `${path} already exists.`;
  for (const other of taken) {
    if (other.startsWith(path + "/")) return `${path} is a folder here.`;
    if (path.startsWith(other + "/")) return `${other} is a file, not a folder.`;
  }
  return "";
}

/** The file to show first: the entry module (src/entry.py or the first module of src/). */
export function firstFile(paths) {
  const sorted = [...paths].sort();
  return sorted.find((p) => p === "src/entry.py") || sorted.find((p) => /^src\/[^/]+\.py$/.test(p)) || sorted.find((p) => p.endsWith(".py")) || sorted[0] || null;
}

// Folders first, then files, each alphabetically: the order of a file manager.
function treeOrder(a, b) {
  const pa = a.split("/");
  const pb = b.split("/");
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const lastA = i === pa.length - 1;
    const lastB = i === pb.length - 1;
    if (pa[i] === pb[i]) continue;
    if (lastA !== lastB) return lastA ? 1 : -1;
    return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}

export class FileSet {
  /**
   * `host`: where the tree and the editors go. `onChange()`: a file was edited, added,
   * renamed or deleted. `onRun()`: Ctrl+Enter in an editor. `say(text)`: a short status.
   */
  constructor(host, { onChange, onRun, say, hint }) {
    this.onChange = onChange;
    this.onRun = onRun;
    this.say = say;
    this.hint = hint;
    this.texts = new Map(); // path -> text, for files whose editor is not made yet
    this.editors = new Map(); // path -> editor (createEditor's object) and its host
    this.active = null;
    this.tree = h("ul", { class: "pg-tree", "aria-label": "Files of the app" });
    this.form = h("form", { class: "pg-fileform", hidden: "", onsubmit: (e) => (e.preventDefault(), this.submitForm()) });
    const button = (label, title, onclick, extra = {}) =>
      h("button", { type: "button", class: "dosim-btn", title, onclick, ...extra }, label);
    this.actions = h("div", { class: "pg-fileactions" },
      button("+ New", "Add a file to the app", () => this.showForm("new"), { "data-action": "new" }),
      button("Rename", "Rename or move the open file", () => this.showForm("rename"), { "data-action": "rename" }),
      button("Delete", "Delete the open file", () => this.showForm("delete"), { "data-action": "delete" }));
    this.title = h("p", { class: "pg-editor__title", "aria-live": "off" });
    this.editorHost = h("div", { class: "pg-editors" });
    host.append(
      h("div", { class: "pg-files" }, h("h3", { class: "pg-heading", id: "pg-files-heading" }, "Files"), this.tree, this.actions, this.form),
      h("div", { class: "pg-editor" }, this.title, this.editorHost));
  }

  get paths() {
    return [...new Set([...this.texts.keys(), ...this.editors.keys()])].sort(treeOrder);
  }

  /** Every file, {path: text}. */
  get files() {
    const out = {};
    for (const path of this.paths) out[path] = this.text(path);
    return out;
  }

  text(path) {
    return this.editors.has(path) ? this.editors.get(path).editor.code : this.texts.get(path);
  }

  /** Replace every file (a template, a saved state, a shared link); open `active`. */
  setFiles(files, active) {
    for (const { host } of this.editors.values()) host.remove();
    this.editors.clear();
    this.texts = new Map(Object.entries(files));
    this.active = null;
    this.hideForm();
    this.open(active && this.texts.has(active) ? active : firstFile(this.texts.keys()));
  }

  editorFor(path) {
    if (!this.editors.has(path)) {
      const host = h("div", { class: "pg-editors__one dosim-editor", "data-path": path, hidden: "" });
      this.editorHost.append(host);
      const editor = createEditor(host, this.texts.get(path) ?? "", {
        onRun: () => this.onRun(),
        onChange: () => this.onChange(),
        label: `${path}, a file of the app`,
        hint: this.hint,
        language: LANGUAGE(path),
      });
      this.texts.delete(path);
      this.editors.set(path, { editor, host });
    }
    return this.editors.get(path).editor;
  }

  /** Show `path` in the editor (it must exist); `focus` moves the keyboard there. */
  open(path, { focus = false } = {}) {
    if (path === null || (!this.texts.has(path) && !this.editors.has(path))) {
      this.active = null;
      this.renderTree();
      this.title.textContent = "No file open";
      return null;
    }
    const editor = this.editorFor(path);
    for (const [p, { host }] of this.editors) host.hidden = p !== path;
    this.active = path;
    this.title.replaceChildren(h("code", {}, path));
    this.renderTree();
    if (focus) editor.view.focus();
    return editor;
  }

  /** Open `path`, put the cursor on `line` and mark that line; or clear every mark. */
  showLine(path, line) {
    for (const { editor } of this.editors.values()) editor.markLine(null);
    if (!path || !this.paths.includes(path)) return false;
    const editor = this.open(path);
    if (line) {
      editor.gotoLine(line);
      editor.markLine(line);
    }
    editor.view.focus();
    return true;
  }

  renderTree() {
    const items = [];
    const folders = new Set();
    for (const path of this.paths) {
      const parts = path.split("/");
      for (let depth = 1; depth < parts.length; depth++) {
        const folder = parts.slice(0, depth).join("/");
        if (folders.has(folder)) continue;
        folders.add(folder);
        items.push(h("li", { class: "pg-tree__folder", style: `--depth: ${depth - 1}` }, parts[depth - 1] + "/"));
      }
      const current = path === this.active;
      items.push(h("li", { style: `--depth: ${parts.length - 1}` },
        h("button", {
          type: "button",
          class: "pg-tree__file",
          "data-path": path,
          title: path,
          ...(current ? { "aria-current": "true" } : {}),
          onclick: () => this.open(path, { focus: true }),
        }, parts.at(-1))));
    }
    this.tree.replaceChildren(...items);
    for (const action of ["rename", "delete"]) this.actions.querySelector(`[data-action="${action}"]`).disabled = !this.active;
  }

  // -- add, rename, delete: one small inline form ------------------------------------------

  showForm(mode) {
    this.mode = mode;
    const path = this.active || "";
    const field = h("input", { type: "text", class: "pg-input", name: "path", spellcheck: "false", autocomplete: "off", "aria-label": mode === "new" ? "Path of the new file" : "New path of the file" });
    this.problem = h("p", { class: "pg-problem", role: "alert" });
    const cancel = h("button", { type: "button", class: "dosim-btn", onclick: () => this.hideForm(true) }, "Cancel");
    if (mode === "delete") {
      this.form.replaceChildren(
        h("p", { class: "pg-fileform__ask" }, "Delete ", h("code", {}, path), "?"),
        h("div", { class: "pg-fileform__row" }, h("button", { type: "submit", class: "dosim-btn dosim-btn--danger" }, "Delete"), cancel));
    } else {
      field.value = mode === "new" ? (path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "src/") : path;
      this.form.replaceChildren(
        h("label", { class: "pg-fileform__label" }, mode === "new" ? "New file" : `Rename ${path} to`, field),
        h("div", { class: "pg-fileform__row" }, h("button", { type: "submit", class: "dosim-btn" }, mode === "new" ? "Add" : "Rename"), cancel),
        this.problem);
    }
    // (A handler property that returns false cancels the key: Enter would not submit.)
    this.form.onkeydown = (event) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      this.hideForm(true);
    };
    this.form.hidden = false;
    (mode === "delete" ? this.form.querySelector("[type=submit]") : field).focus();
  }

  hideForm(refocus = false) {
    this.form.hidden = true;
    this.form.replaceChildren();
    if (refocus) this.actions.querySelector(`[data-action="${this.mode || "new"}"]`)?.focus();
  }

  submitForm() {
    const old = this.active;
    if (this.mode === "delete") {
      this.remove(old);
      this.say(`Deleted ${old}`);
      this.hideForm();
      this.actions.querySelector('[data-action="new"]').focus();
      return;
    }
    const path = this.form.querySelector("input").value.trim();
    const taken = new Set(this.paths);
    if (this.mode === "rename") taken.delete(old);
    const problem = pathProblem(path, taken);
    if (problem) {
      this.problem.textContent = problem;
      return;
    }
    if (this.mode === "new") {
      this.texts.set(path, "");
      this.say(`Added ${path}`);
    } else if (path !== old) {
      this.texts.set(path, this.text(old));
      this.drop(old);
      this.say(`Renamed ${old} to ${path}`);
    }
    this.hideForm();
    this.open(path, { focus: true });
    this.onChange();
  }

  drop(path) {
    const made = this.editors.get(path);
    if (made) {
      made.host.remove();
      this.editors.delete(path);
    }
    this.texts.delete(path);
  }

  remove(path) {
    this.drop(path);
    this.open(firstFile(this.paths));
    this.onChange();
  }
}
