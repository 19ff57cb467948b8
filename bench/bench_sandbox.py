"""Start-up and run times of the docs sandbox in headless Chromium, on 127.0.0.1.

Run: ``python bench/bench_sandbox.py [rounds]`` in an environment with the ``docs`` extra
and Playwright (the ``nox -s sandbox`` virtualenv has both:
``.nox/sandbox/bin/python bench/bench_sandbox.py``). Builds the site into a temporary
folder (or uses ``DOSIM_SITE_DIR``), serves it with ``tools/serve_site.py`` (COOP/COEP on),
and per round, in a fresh browser context (cold HTTP cache):

* navigation → sandbox ready (the worker has restored the build's memory snapshot, or,
  in a second visit with ``?sandbox-boot=plain``, booted Pyodide, installed dosim and
  imported it), with the worker's own marks (snapshot fetched, restored, files written);
* click Run on the first tutorial's block 2 (which first runs block 1) → first output,
  right after ready, and in another visit 1 s after ready (the worker's warm-up done);
* a warm re-run of the same block → first output, and → done;
* the whole-app playground's first request: from a cold navigation, the page's client
  loads the counter starter (``playground("load")``) and sends it ``POST
  /apples/increment`` as soon as ``window.dosimSandbox`` exists → the answer (measured on
  the tutorial page, whose worker is the one the playground page uses).

Prints the figures; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tools package
from tools.chromium import CHROMIUM, launch  # noqa: E402

PAGE = "tutorials/01-first-durable-object/"

# Click Run on block 2 and time it in the page: to the first output, and to done.
TIMED_RUN = """async () => {
  // A reader's click comes after the page has drawn the previous result: let two frames
  // pass so its layout and paint are not counted in this run.
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  for (let i = 0; i < 2; i++) await frame();
  const block = window.dosimSandbox.blocks[1];
  const out = block.output;
  const t0 = performance.now();
  let first = null;
  const seen = new Promise((resolve) => {
    const obs = new MutationObserver(() => {
      if (!out.querySelector("pre.dosim-stdout")) return;
      first = performance.now() - t0;
      obs.disconnect();
      resolve();
    });
    obs.observe(out, { childList: true, subtree: true, characterData: true });
  });
  const clicked = performance.timeOrigin + t0;
  block.runButton.click();
  await seen;
  while (block.root.dataset.state === "running") await new Promise((r) => setTimeout(r, 1));
  const run = block.lastRun;
  return {
    first, done: performance.now() - t0, state: block.root.dataset.state,
    toSend: run.sent - clicked, toWorker: run.started - run.sent,
    python: run.firstOutput - run.started,
  };
}"""


# Start the sandbox's worker from a page with nothing else on it; time to its "ready".
WORKER_ALONE = """async () => {
  const t0 = performance.now();
  const worker = new Worker("worker.js", { type: "module" });
  const ready = await new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => {
      if (data.type === "ready") resolve(data);
      if (data.type === "failed") reject(new Error(data.error));
    };
    worker.postMessage({ type: "init", interruptBuffer: null });
  });
  worker.terminate();
  return { ms: performance.now() - t0, boot: ready.boot };
}"""


# From a page whose client exists: load an app, send it one request; times since navigation.
FIRST_REQUEST = """async (files) => {
  const client = window.dosimSandbox.client;
  const loading = client.playground("load", { files });
  const answer = client.playground("request", { method: "POST", path: "/apples/increment" });
  const loaded = await loading;
  const loadedAt = performance.now();
  const { result } = await answer;
  return {
    answered: performance.now(), loaded: loadedAt, ready: client.readyInfo.readyAt,
    ok: loaded.result.ok && result.ok && result.body.text === "1",
  };
}"""


def counter_files() -> dict[str, str]:
    """The counter starter as the playground's ``templates`` op gives it."""
    app = ROOT / "examples" / "counter"
    paths = [app / "wrangler.toml", app / "pyproject.toml", app / "README.md"]
    paths += sorted((app / "src").rglob("*.py")) + sorted((app / "tests").rglob("*.py"))
    return {p.relative_to(app).as_posix(): p.read_text(encoding="utf-8") for p in paths}


def measure_playground(browser, url: str, files: dict[str, str]) -> dict:
    """One cold visit: navigation -> the playground's first request answered (ms)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(url, wait_until="commit")
    page.wait_for_function("window.dosimSandbox && window.dosimSandbox.client", timeout=120_000)
    row = page.evaluate(FIRST_REQUEST, files)
    context.close()
    if not row["ok"]:
        raise RuntimeError(f"the playground's first request failed: {row}")
    return row


def build_site() -> Path:
    given = os.environ.get("DOSIM_SITE_DIR")
    if given:
        return Path(given)
    out = Path(tempfile.mkdtemp(prefix="dosim-bench-site-"))
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(out)],
        cwd=ROOT,
        check=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    return out


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("bench_sandbox: skipped (needs playwright; use the nox -s sandbox virtualenv)")
        return 0
    if not CHROMIUM.exists():
        print(f"bench_sandbox: skipped ({CHROMIUM} missing)")
        return 0
    from tools.serve_site import serve_in_thread

    site = build_site()
    server = serve_in_thread(site, 0, isolate=True)
    url = f"http://127.0.0.1:{server.server_port}/{PAGE}"
    snapshot_rows, plain_rows, playground_rows = [], [], []
    files = counter_files()
    with sync_playwright() as p:
        browser = launch(p)
        for _ in range(rounds):
            playground_rows.append(measure_playground(browser, url, files))
            snapshot_rows.append(measure(browser, url, runs=True))
            snapshot_rows[-1]["read_first"] = measure(browser, url, runs=False, pause_ms=1000)
            plain_rows.append(measure(browser, url + "?sandbox-boot=plain", runs=False))
        browser.close()
    server.shutdown()

    def line(label: str, values) -> None:
        print(f"{label:36} " + "  ".join(f"{v:8.1f}" for v in values) + " ms")

    print(f"Docs sandbox in headless Chromium ({rounds} rounds, cold cache each, COOP/COEP on)")
    boots = {r["info"]["boot"] for r in snapshot_rows}
    print(f"boot used: {', '.join(sorted(boots))}; plain boot: ?sandbox-boot=plain")
    line("navigation -> ready (snapshot)", [r["info"]["readyAt"] for r in snapshot_rows])
    for what in ("snapshot fetched", "snapshot restored", "files laid down"):
        marks = [dict(r["info"]["marks"]).get(what, float("nan")) for r in snapshot_rows]
        line(f"  {what} (worker clock)", marks)
    line("worker alone (warm cache) -> ready", [r["alone"]["ms"] for r in snapshot_rows])
    line("navigation -> ready (plain boot)", [r["info"]["readyAt"] for r in plain_rows])
    line("click Run -> first output (cold)", [r["cold"]["first"] for r in snapshot_rows])
    line("click Run -> done (cold)", [r["cold"]["done"] for r in snapshot_rows])
    first_later = [r["read_first"]["first"]["first"] for r in snapshot_rows]
    line("first Run 1 s after ready -> output", first_later)
    line("warm re-run -> first output", [r["warm"]["first"] for r in snapshot_rows])
    line("warm re-run -> done", [r["warm"]["done"] for r in snapshot_rows])
    line("  of which click -> message sent", [r["warm"]["toSend"] for r in snapshot_rows])
    line("  message -> worker starts the run", [r["warm"]["toWorker"] for r in snapshot_rows])
    line("  run start -> first print (worker)", [r["warm"]["python"] for r in snapshot_rows])
    line("navigation -> playground's 1st answer", [r["answered"] for r in playground_rows])
    line("  of which -> ready", [r["ready"] for r in playground_rows])
    line("  of which -> app loaded", [r["loaded"] for r in playground_rows])
    ready = statistics.median(r["info"]["readyAt"] for r in snapshot_rows)
    alone = statistics.median(r["alone"]["ms"] for r in snapshot_rows)
    plain = statistics.median(r["info"]["readyAt"] for r in plain_rows)
    cold = statistics.median(r["cold"]["first"] for r in snapshot_rows)
    warm = statistics.median(r["warm"]["first"] for r in snapshot_rows)
    print(
        f"median: ready {ready:.0f} ms (worker alone {alone:.0f} ms, plain boot {plain:.0f} ms), "
        f"cold run {cold:.1f} ms, warm run {warm:.1f} ms"
    )
    answered = [r["answered"] for r in playground_rows]
    print(
        "playground: navigation -> first request answered, median "
        f"{statistics.median(answered):.0f} ms (min {min(answered):.0f}, max {max(answered):.0f})"
    )
    print("goal (issue 5): ready <= 1200 ms cold, warm run <= 50 ms")
    print("goal (issue 16): the playground's first request answered <= 1500 ms cold")
    return 0


def measure(browser, url: str, runs: bool, pause_ms: int = 0) -> dict:
    """One cold visit (fresh context): ready facts, and if ``runs`` a cold and a warm run.

    With ``pause_ms``, the first Run comes that long after ready (a reader reading first);
    its figures are under ``"first"``.
    """
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(
        "window.dosimSandbox && window.dosimSandbox.client.state.phase === 'ready'",
        timeout=120_000,
    )
    row = {"info": page.evaluate("window.dosimSandbox.client.readyInfo")}
    if pause_ms:
        page.wait_for_timeout(pause_ms)
        row["first"] = page.evaluate(TIMED_RUN)

    if runs:
        row["cold"] = page.evaluate(TIMED_RUN)
        row["warm"] = page.evaluate(TIMED_RUN)
        # The worker alone, in a page of the same origin that does nothing else (no
        # Material, no editors): what the boot costs without competition for the CPU.
        # Its files are in the HTTP cache by now, so this is a warm-cache figure.
        page.goto(url.split("tutorials/")[0] + "sandbox/boot.json")
        row["alone"] = page.evaluate(WORKER_ALONE)
    context.close()
    return row


if __name__ == "__main__":
    sys.exit(main())
