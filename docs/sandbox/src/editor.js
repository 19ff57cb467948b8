// CodeMirror 6 editor with Python mode (or TOML, or plain text, for the playground's other
// files), coloured with Material's own code colours (CSS variables), so it follows the
// light and dark palettes.
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection, Decoration } from "@codemirror/view";
import { EditorState, Prec, StateEffect, StateField } from "@codemirror/state";
import { defaultKeymap, history, historyKeymap, indentWithTab, simplifySelection, temporarilySetTabFocusMode } from "@codemirror/commands";
import { HighlightStyle, syntaxHighlighting, indentOnInput, bracketMatching, indentUnit, StreamLanguage } from "@codemirror/language";
import { python } from "@codemirror/lang-python";
import { tags as t } from "@lezer/highlight";

const v = (name) => `var(--md-code-hl-${name}-color)`;
const materialColours = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.definitionKeyword, t.moduleKeyword, t.operatorKeyword], color: v("keyword") },
  { tag: [t.string, t.special(t.string), t.regexp], color: v("string") },
  { tag: [t.comment, t.lineComment, t.blockComment], color: v("comment"), fontStyle: "italic" },
  { tag: [t.number, t.bool, t.null, t.atom], color: v("number") },
  { tag: [t.function(t.variableName), t.function(t.propertyName), t.definition(t.function(t.variableName))], color: v("function") },
  { tag: [t.className, t.definition(t.className), t.typeName], color: v("constant") },
  { tag: [t.operator, t.compareOperator, t.arithmeticOperator, t.logicOperator], color: v("operator") },
  { tag: [t.punctuation, t.paren, t.bracket, t.brace, t.separator], color: v("punctuation") },
  { tag: [t.self, t.special(t.variableName)], color: v("special") },
  { tag: [t.propertyName], color: v("variable") },
]);

const theme = EditorView.theme({
  "&": { backgroundColor: "var(--md-code-bg-color)", color: "var(--md-code-fg-color)", fontSize: ".85em" },
  ".cm-content": { fontFamily: "var(--md-code-font-family)", caretColor: "var(--md-code-fg-color)" },
  ".cm-gutters": {
    backgroundColor: "var(--md-code-bg-color)", color: "var(--md-default-fg-color--light)",
    borderRight: "1px solid var(--md-default-fg-color--lightest)",
  },
  ".cm-activeLine": { backgroundColor: "var(--md-code-hl-color--light, rgba(0,0,0,.04))" },
  ".cm-activeLineGutter": { backgroundColor: "transparent", color: "var(--md-default-fg-color)" },
  "&.cm-focused": { outline: "2px solid var(--md-accent-fg-color)", outlineOffset: "-2px" },
  ".cm-cursor": { borderLeftColor: "var(--md-code-fg-color)" },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground": { backgroundColor: "var(--md-accent-fg-color--transparent)" },
  ".cm-line.dosim-error-line": { backgroundColor: "rgba(255, 82, 82, .15)" },
});

// TOML, enough to colour a wrangler.toml or a pyproject.toml: comments, [tables], keys,
// strings, numbers and booleans.
const QUOTES = ['"""', "'''", '"', "'"];
const toml = StreamLanguage.define({
  name: "toml",
  startState: () => ({ quote: null }),
  token(stream, state) {
    if (!state.quote) {
      if (stream.eatSpace()) return null;
      if (stream.peek() === "#") {
        stream.skipToEnd();
        return "comment";
      }
      if (stream.sol() && stream.match(/^\[\[?[^\]]*\]\]?/)) return "heading";
      state.quote = QUOTES.find((q) => stream.match(q)) || null;
      if (!state.quote) {
        if (stream.match(/^(true|false)\b/)) return "bool";
        if (stream.match(/^[+-]?\d[\d_:.eE+-]*(Z|[+-]\d\d:\d\d)?/)) return "number";
        if (stream.match(/^[A-Za-z0-9_.-]+(?=\s*=)/)) return "propertyName";
        stream.next();
        return "punctuation";
      }
    }
    while (!stream.eol()) {
      if (stream.match(state.quote)) {
        state.quote = null;
        break;
      }
      if (stream.next() === "\\") stream.next();
    }
    return "string";
  },
  languageData: { commentTokens: { line: "#" } },
});
const tomlColours = HighlightStyle.define([{ tag: t.heading, color: v("keyword"), fontWeight: "bold" }]);

const LANGUAGES = {
  python: () => [python(), syntaxHighlighting(materialColours)],
  toml: () => [toml, syntaxHighlighting(materialColours), syntaxHighlighting(tomlColours)],
  text: () => [],
};

// One marked line (an error's), drawn with the theme's .dosim-error-line background.
const markEffect = StateEffect.define();
const markedLine = StateField.define({
  create: () => Decoration.none,
  update(marks, tr) {
    marks = marks.map(tr.changes);
    for (const effect of tr.effects) {
      if (!effect.is(markEffect)) continue;
      const line = effect.value;
      marks = line ? Decoration.set([Decoration.line({ class: "dosim-error-line" }).range(tr.state.doc.line(line).from)]) : Decoration.none;
    }
    return marks;
  },
  provide: (field) => EditorView.decorations.from(field),
});

let hints = 0;

/**
 * An editor in `parent`. Tab indents (it is a code editor); CodeMirror's own way out is
 * Escape then Tab (or Ctrl+M / Shift+Alt+M to toggle Tab moving focus). `hint` says so: it
 * is the editor's accessible description, and shown under it while it has focus.
 */
export function createEditor(parent, doc, { onRun, label, hint, language = "python", onChange = null }) {
  const hintId = `dosim-keyhint-${++hints}`;
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightActiveLine(),
        drawSelection(),
        history(),
        indentOnInput(),
        bracketMatching(),
        indentUnit.of("    "),
        EditorState.tabSize.of(4),
        (LANGUAGES[language] || LANGUAGES.text)(),
        theme,
        markedLine,
        onChange ? EditorView.updateListener.of((update) => update.docChanged && onChange()) : [],
        Prec.highest(keymap.of([
          { key: "Mod-Enter", run: () => (onRun(), true) },
          { key: "Shift-Enter", run: () => (onRun(), true) },
          // CodeMirror arms "Escape then Tab leaves" only when nothing else handles Escape,
          // and the default keymap's simplifySelection does whenever text is selected: the
          // way out then needed a second Escape. Do both at once.
          { key: "Escape", run: (view) => (simplifySelection(view), temporarilySetTabFocusMode(view), true) },
        ])),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ "aria-label": label, "aria-describedby": hintId }),
      ],
    }),
  });
  const note = document.createElement("p");
  note.id = hintId;
  note.className = "dosim-keyhint";
  note.textContent = hint;
  parent.append(note);
  return {
    view,
    get code() {
      return view.state.doc.toString();
    },
    set code(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    /** Put the cursor on a line (1-based) and scroll it into view. */
    gotoLine(line) {
      if (!line || line > view.state.doc.lines) return;
      const pos = view.state.doc.line(line).from;
      view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
    },
    /** Mark a line (1-based) as an error's, or clear the mark (`null`). */
    markLine(line) {
      const valid = line && line <= view.state.doc.lines ? line : null;
      view.dispatch({ effects: markEffect.of(valid) });
    },
  };
}
