// The playground's test results: a summary line, then each test with its outcome; a
// failure's text folds open under it.
import { el as h } from "./dom.js";

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "3 passed, 1 failed in 0.4 s" from a run_tests summary. */
export function summaryText(summary) {
  const parts = [];
  for (const key of ["passed", "failed", "errors", "skipped"]) {
    if (summary[key]) parts.push(key === "errors" ? plural(summary[key], "error") : `${summary[key]} ${key}`);
  }
  const seconds = summary.seconds !== undefined ? ` in ${Number(summary.seconds).toFixed(2)} s` : "";
  return (parts.join(", ") || "no tests ran") + seconds;
}

/** Render a run_tests result (or its failure to run) into `host`. */
export function renderTests(host, result, errorBox) {
  if (!result.ok && !result.summary) {
    host.replaceChildren(errorBox(result));
    return;
  }
  const { summary, tests } = result;
  const failing = summary.failed + (summary.errors || 0);
  let firstFailure = true; // only the first failure's text is open: a page of them is a wall
  let file = null; // tests come file by file: each file's name once, above its tests
  const items = tests.flatMap((test) => {
    const outcome = test.outcome;
    const detail = test.longrepr || test.message;
    const at = test.nodeid.indexOf("::");
    const [testFile, name] = at < 0 ? [test.nodeid, test.nodeid] : [test.nodeid.slice(0, at), test.nodeid.slice(at + 2)];
    const heading = testFile !== file ? h("li", { class: "pg-tests__file" }, h("code", {}, testFile)) : null;
    file = testFile;
    return [heading, h("li", { class: `pg-test pg-test--${outcome}`, "data-outcome": outcome, "data-nodeid": test.nodeid },
      h("span", { class: `pg-test__badge pg-test__badge--${outcome}` }, outcome),
      h("code", { class: "pg-test__id", title: test.nodeid }, name),
      detail && outcome !== "passed"
        ? h("details", { class: "pg-test__detail", ...(["failed", "error"].includes(outcome) && firstFailure && !(firstFailure = false) ? { open: "" } : {}) },
            h("summary", {}, test.message ? test.message.split("\n")[0].slice(0, 200) : "details"),
            h("pre", {}, detail))
        : null)].filter(Boolean);
  });
  host.replaceChildren(
    h("p", { class: `pg-tests__summary ${failing ? "pg-tests__summary--failed" : "pg-tests__summary--passed"}`, role: "status" }, summaryText(summary)),
    h("ul", { class: "pg-tests" }, items));
}
