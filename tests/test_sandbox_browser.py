"""The live sandboxes of the site's pages, in a real browser.

The site is built once (``mkdocs build --strict`` into a temporary folder, or the folder
named by ``DOSIM_SITE_DIR``) and served by ``tools/serve_site.py`` on a free 127.0.0.1
port, with COOP/COEP headers (and once without, for the restart fallback). Playwright
drives Debian's Chromium (``/usr/bin/chromium``; never ``playwright install``).

Checked: every page that has sandboxes (every ``py`` block of ``docs/`` and
``tutorials/`` not opted out, and the docstrings' examples on the reference pages) is
loaded once and each of its blocks is run once, in page order, and prints what its ``#>``
lines say (per page: blocks, how many ran as documented and the seconds taken go to
``artifacts/sandbox-pages.json``); ``import numpy`` says which packages the sandbox has;
the toolbar's label explains on hover how a block shares its Python; the counter's
gallery page has an "Open in sandbox" block that loads ``examples/counter`` and prints
the response's status (and every app's generated driver runs, on CPython and on its
gallery page); the Objects panel shows the counter's storage; advancing the clock fires
an alarm; Stop ends
``while True: pass`` (interrupt with isolation, restart without) and the next Run works,
and with isolation 100 Stops each of two busy loops all interrupt (no restart, namespace
kept; the latencies are printed), while code that never reaches a check restarts after
1 s; after a restart every block that is not running says "Ready"; a
syntax error is a short message with the editor's line number; a shared link restores code
without running it; a block ending in an expression shows its value (an HTTP response as
status, headers and pretty JSON, without using up its body; anything else as its repr, on
CPython too); the keyboard alone runs, stops and leaves the editor, and results are
announced; at 360 px the page does not scroll sideways; no console errors and no request
leaves 127.0.0.1. Screenshots go to ``artifacts/screenshots/sandbox-*.png``.

Runs in ``nox -s sandbox``, which sets ``DOSIM_BROWSER_TESTS``: there a missing Chromium,
Playwright or MkDocs fails the module. Elsewhere (``nox -s tests`` has neither) it skips.
"""

from __future__ import annotations

import difflib
import gzip
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

if sys.platform == "emscripten":
    pytest.skip("drives Chromium from CPython; not a Pyodide test", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tools package
from browser_site import built_site, open_page, require_browser_tools  # noqa: E402
from tools.chromium import launch  # noqa: E402
from tools.fence_settings import (  # noqa: E402
    FENCE_LINE,
    in_sandbox,
    is_python_fence,
    parse_settings,
)
from tools.serve_site import serve_in_thread  # noqa: E402

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
BOOT_MS = 60_000
RUN_MS = 30_000
COUNTER = "tutorials/01-first-durable-object/"
ALARMS = "tutorials/02-alarms/"
KV_ROOMS = "tutorials/04-kv-from-a-durable-object/"
GALLERY_COUNTER = "examples/counter/"


require_browser_tools()
from playwright.sync_api import sync_playwright  # noqa: E402


def output_lines(code: str) -> str:
    """The ``#>`` lines of a block's code, without the marks: what it says it prints."""
    return "\n".join(re.findall(r"^\s*#> ?(.*)$", code, re.MULTILINE))


def documented_output(tutorial: str, number: int) -> str:
    """The ``#>`` lines of the ``number``-th runnable ``py`` block of a tutorial."""
    text = (ROOT / "tutorials" / tutorial).read_text(encoding="utf-8")
    blocks = re.findall(r"^```py([^\n]*)\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    runnable = [body for info, body in blocks if in_sandbox(parse_settings(info))]
    return output_lines(runnable[number - 1])


# -- the pages that have sandboxes, found from their Markdown sources ---------------------


def page_sources() -> list[Path]:
    """Every page written by hand: ``docs/**/*.md`` (not the sandbox's own folder) and the
    published tutorials (``tutorials/*.md`` but ``_template.md``), in a stable order."""
    docs = sorted(
        p for p in (ROOT / "docs").rglob("*.md") if "sandbox" not in p.relative_to(ROOT).parts
    )
    tutorials = sorted(p for p in (ROOT / "tutorials").glob("**/*.md") if not p.name[0] == "_")
    return docs + tutorials


def page_url(source: Path) -> str:
    """The site path of a page's source: ``docs/concepts/kv.md`` -> ``concepts/kv/``."""
    rel = source.relative_to(ROOT)
    parts = rel.with_suffix("").parts
    parts = parts[1:] if parts[0] == "docs" else parts
    if parts[-1] == "index":
        parts = parts[:-1]
    return "".join(f"{part}/" for part in parts)


def markdown_sandboxes(source: Path) -> list[str]:
    """The code of the page's blocks that hooks/sandbox.py makes sandboxes, in page order.

    The fences are read as the hook reads them (top-level fences only, not those shown
    inside a longer fence), with the same settings parser.
    """
    blocks, fence, info, body = [], None, "", []
    for line in source.read_text(encoding="utf-8").split("\n"):
        match = FENCE_LINE.match(line)
        if fence is None:
            if match:
                fence, info, body = match, match.group("info"), []
            continue
        closing = match and not match.group("info").strip()
        if closing and match.group("ticks").startswith(fence.group("ticks")[0]):
            if len(match.group("ticks")) >= len(fence.group("ticks")):
                if is_python_fence(info) and in_sandbox(parse_settings(info)):
                    indent = len(fence.group("indent"))
                    blocks.append("\n".join(b[indent:] for b in body))
                fence = None
                continue
        body.append(line)
    return blocks


def _has_api_reference(source: Path) -> bool:
    """Whether mkdocstrings renders docstrings on the page (their examples are sandboxes)."""
    return bool(re.search(r"^::: ", source.read_text(encoding="utf-8"), re.MULTILINE))


SANDBOX_PAGES = [p for p in page_sources() if markdown_sandboxes(p) or _has_api_reference(p)]
PAGE_REPORT = ROOT / "artifacts" / "sandbox-pages.json"


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Path:
    return built_site()


@pytest.fixture(scope="module")
def servers(site: Path) -> Iterator[dict[str, str]]:
    isolated = serve_in_thread(site, 0, isolate=True)
    plain = serve_in_thread(site, 0, isolate=False)
    yield {
        "isolated": f"http://127.0.0.1:{isolated.server_port}/",
        "plain": f"http://127.0.0.1:{plain.server_port}/",
    }
    for server in (isolated, plain):
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def problems() -> list[str]:
    return []


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


def wait_ready(page) -> None:
    page.wait_for_function(
        "window.dosimSandbox && window.dosimSandbox.client.state.phase === 'ready'",
        timeout=BOOT_MS,
    )


def set_code(page, block: int, code: str) -> None:
    script = "([i, c]) => { window.dosimSandbox.blocks[i - 1].editor.code = c; }"
    page.evaluate(script, [block, code])


def run_block(page, block: int, timeout: int = RUN_MS) -> str:
    """Click Run on a block, wait until it finishes; return its state."""
    page.click(f"#sandbox-{block} .dosim-btn--run")
    page.wait_for_function(
        f"!['running', 'idle'].includes(document.querySelector('#sandbox-{block}').dataset.state)",
        timeout=timeout,
    )
    return page.get_attribute(f"#sandbox-{block}", "data-state")


def output(page, block: int) -> str:
    """What the block's code wrote to stdout/stderr (not its value, not an error)."""
    return page.evaluate(
        f"""[...document.querySelectorAll('#sandbox-{block} .dosim-output pre[data-stream]')]
            .map(p => p.textContent).join('')"""
    ).strip("\n")  # leading spaces of the first line are output too


def ready_counter_page(browser, servers, problems) -> Iterator[object]:
    """The first tutorial's page, isolated, with Python ready; closed afterwards."""
    page = open_page(browser, servers["isolated"] + COUNTER, problems)
    wait_ready(page)
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def counter_page(browser, servers, problems):
    yield from ready_counter_page(browser, servers, problems)


# -- tests --------------------------------------------------------------------------------


def test_boots_from_the_site_and_is_isolated(counter_page) -> None:
    state = counter_page.evaluate("window.dosimSandbox.client.readyInfo")
    assert state["isolated"] and state["interrupt"]
    blocks = counter_page.evaluate("window.dosimSandbox.blocks.length")
    assert blocks >= 7
    # Editors are made for blocks near the viewport; the last block's once it is shown.
    assert counter_page.locator("#sandbox-1 .cm-editor").count() == 1
    last = f"#sandbox-{blocks}"
    counter_page.locator(last).scroll_into_view_if_needed()
    counter_page.wait_for_selector(f"{last} .cm-editor", timeout=5_000)
    counter_page.locator("#sandbox-1").scroll_into_view_if_needed()


def test_boots_from_the_memory_snapshot(counter_page) -> None:
    state = counter_page.evaluate("window.dosimSandbox.client.readyInfo")
    assert state["boot"] == "snapshot", state
    assert state["fallback"] is None
    # The page's <head> started the worker; the client adopted it.
    assert counter_page.evaluate("window.dosimSandbox.client.phases[0].early") is True
    # The 18 MiB download reported its progress (in steps of 10 %).
    phases = counter_page.evaluate("window.dosimSandbox.client.phases.map(p => p.phase)")
    assert "download" in phases, phases


# What a snapshot cannot hold: files, names on JavaScript's globals, a fresh random state.
RESTORE_PROBE = """\
from js import WebSocketPair
import importlib.metadata
import random
import inspect
import dosim
print(WebSocketPair.__name__, importlib.metadata.version("dosim"))
print(inspect.getsource(dosim.App).splitlines()[0])
print(random.random())
"""


def test_restored_interpreter_redoes_what_a_snapshot_cannot_hold(
    browser, servers, problems
) -> None:
    import importlib.metadata

    lines = []
    for _ in range(2):
        page = open_page(browser, servers["isolated"] + COUNTER, problems)
        wait_ready(page)
        assert page.evaluate("window.dosimSandbox.client.readyInfo.boot") == "snapshot"
        set_code(page, 1, RESTORE_PROBE)
        assert run_block(page, 1) == "done", page.inner_text("#sandbox-1 .dosim-output")
        lines.append(output(page, 1).splitlines())
        page.context.close()
    assert lines[0][0] == f"WebSocketPair {importlib.metadata.version('dosim')}"
    assert lines[0][1].startswith("class App")  # dosim's source files were written back
    assert lines[0][2] != lines[1][2], "two pages drew the same random number"


def test_snapshot_inflated_by_the_host_still_restores(site, browser, servers, problems) -> None:
    # A host may send the .gz with Content-Encoding: gzip; the browser then hands the
    # worker inflated bytes, which must not be gunzipped a second time.
    boot = json.loads((site / "sandbox" / "boot.json").read_text(encoding="utf-8"))
    packed = gzip.decompress((site / "sandbox" / "pyodide" / boot["snapshot"]["file"]).read_bytes())

    def inflated(route) -> None:
        route.fulfill(
            status=200, body=packed, headers={"Cross-Origin-Resource-Policy": "same-origin"}
        )

    page = open_page(
        browser,
        servers["isolated"] + COUNTER,
        problems,
        routes=[("**/snapshot-*.bin.gz", inflated)],
    )
    wait_ready(page)
    state = page.evaluate("window.dosimSandbox.client.readyInfo")
    assert (state["boot"], state["fallback"]) == ("snapshot", None)
    page.context.close()


def test_damaged_snapshot_falls_back_to_a_plain_boot(site, browser, servers, problems) -> None:
    boot = json.loads((site / "sandbox" / "boot.json").read_text(encoding="utf-8"))
    size = boot["snapshot"]["bytes"]

    def damaged(route) -> None:
        # The announced size, but not the format: an HTML error page padded out.
        page = b"<!doctype html><title>Not the snapshot</title>"
        route.fulfill(status=200, body=gzip.compress(page + b" " * (size - len(page))))

    page = open_page(
        browser, servers["isolated"] + COUNTER, problems, routes=[("**/snapshot-*.bin.gz", damaged)]
    )
    wait_ready(page)
    state = page.evaluate("window.dosimSandbox.client.readyInfo")
    assert state["boot"] == "plain"
    assert state["fallback"] == "not a dosim memory snapshot"
    assert run_block(page, 1) == "done"
    assert output(page, 1) == documented_output("01-first-durable-object.md", 1)
    page.context.close()


def test_tutorial_block_prints_documented_output(counter_page) -> None:
    # Block 2 continues block 1 (group "counter"): Run runs block 1 first.
    assert run_block(counter_page, 2) == "done"
    assert output(counter_page, 2) == documented_output("01-first-durable-object.md", 2)
    assert "Ran first" in counter_page.inner_text("#sandbox-1 .dosim-output")


def test_objects_panel_shows_counter_storage(counter_page) -> None:
    assert run_block(counter_page, 4) == "done"
    assert output(counter_page, 4) == documented_output("01-first-durable-object.md", 4)
    panel = counter_page.locator("#sandbox-4 .dosim-panel")
    apples = panel.locator('.dosim-object[data-object="apples"]')
    assert apples.locator(".dosim-kv td").all_inner_texts() == ["value", "3"]
    assert panel.locator('.dosim-ev[data-kind="eviction"]').count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    counter_page.locator("#sandbox-4").screenshot(path=SCREENSHOTS / "sandbox-objects.png")


def test_stop_interrupts_and_keeps_the_interpreter(counter_page) -> None:
    set_code(counter_page, 5, "spins = 0\nwhile True:\n    spins += 1\n")
    counter_page.click("#sandbox-5 .dosim-btn--run")
    counter_page.wait_for_function("window.dosimSandbox.client.busy", timeout=RUN_MS)
    counter_page.wait_for_timeout(300)
    started = counter_page.evaluate("performance.now()")
    counter_page.click("#sandbox-5 .dosim-btn--stop")
    counter_page.wait_for_selector("#sandbox-5[data-state=stopped]", timeout=1000)
    assert counter_page.evaluate("performance.now()") - started < 1000
    assert "KeyboardInterrupt" in counter_page.inner_text("#sandbox-5 .dosim-output")
    set_code(counter_page, 5, "print('still here:', spins > 0, await apples.get())")
    assert run_block(counter_page, 5) == "done"
    assert output(counter_page, 5) == "still here: True 3"


# Stop, many times over: each Stop must interrupt the loop (KeyboardInterrupt), never
# restart Python. The page drives itself (no round trip to Playwright per Stop): it runs
# block 2 of the counter group, waits until the block prints that its loop starts, lets
# it spin a few ms, clicks Stop and times how long the run takes to end. Block 2 counts
# its runs in the group's namespace, so a single restart (which loses the namespace)
# shows as a NameError at the end.
STOPS = 100
STOP_MANY_TIMES = """async ([code, stops]) => {
  const page = window.dosimSandbox;
  const client = page.client;
  const block = page.blocks[1];
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const generation = client.generation;
  const restarts = client.restarts;
  const latencies = [];
  const outcomes = {};
  let spinning = false;
  const write = block.write;
  block.write = (stream, text) => {
    spinning = true;
    write.call(block, stream, text);
  };
  for (let i = 0; i < stops; i++) {
    block.editor.code = code;
    spinning = false;
    let result = null;
    const run = block.run().then((r) => (result = r));
    const since = performance.now();
    while (!spinning && !result && performance.now() - since < 10000) await sleep(1);
    await sleep(i % 10); // stop it at various points of the loop
    const clicked = performance.now();
    block.stopButton.click();
    while (!result) {
      await Promise.race([run, sleep(3000)]);
      if (!result) block.stopButton.click(); // not stopped: let the page restart Python
    }
    latencies.push(performance.now() - clicked);
    const outcome = result.stopped || (result.ok ? "ok" : result.error?.type || "error");
    outcomes[outcome] = (outcomes[outcome] || 0) + 1;
  }
  block.write = write;
  return {
    latencies, outcomes,
    resent: client.stopLog.slice(-stops).filter((stop) => stop.resent).length,
    restarts: client.restarts - restarts,
    generations: client.generation - generation,
  };
}"""


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@pytest.mark.parametrize("interrupt", ["exact", "plain"])
def test_stop_interrupts_every_time_and_never_restarts(browser, servers, problems, interrupt):
    # "plain": the worker hands Pyodide the shared buffer itself, whose check can lose a
    # SIGINT (read, then cleared); the page's re-sending alone must make up for it.
    query = "" if interrupt == "exact" else "?sandbox-interrupt=plain"
    page = open_page(browser, servers["isolated"] + COUNTER + query, problems)
    try:
        wait_ready(page)
        assert page.evaluate("window.dosimSandbox.client.readyInfo.interrupt") == interrupt
        set_code(page, 1, "kept = 'namespace kept'\nruns = 0")
        assert run_block(page, 1) == "done"
        start = "runs += 1\nprint('spinning', flush=True)\n"
        loops = {
            "pass": start + "while True:\n    pass\n",
            "work": start + "while True:\n    x = sum(range(100))\n",
        }
        latencies = []
        for name, code in loops.items():
            got = page.evaluate(STOP_MANY_TIMES, [code, STOPS])
            ms = got["latencies"]
            latencies += ms
            print(
                f"\nStop x{STOPS} on {name!r} ({interrupt}): {got['outcomes']}, "
                f"restarts {got['restarts']}, SIGINT re-sent in {got['resent']}, "
                f"latency ms median {_percentile(ms, 0.5):.1f}, "
                f"p90 {_percentile(ms, 0.9):.1f}, max {max(ms):.1f}"
            )
            assert got["outcomes"] == {"interrupted": STOPS}, got["outcomes"]
            assert (got["restarts"], got["generations"]) == (0, 0), got
        assert _percentile(latencies, 0.5) < 100, sorted(latencies)
        if interrupt == "exact":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.locator("#sandbox-2").screenshot(path=SCREENSHOTS / "sandbox-stopped.png")
        # The namespace survived every Stop: block 1's variable, and one run counted per Stop.
        set_code(page, 2, "print(kept, runs)")
        assert run_block(page, 2) == "done"
        assert output(page, 2) == f"namespace kept {2 * STOPS}"
    finally:
        page.context.close()


def test_stop_restarts_python_only_for_code_that_never_reaches_a_check(
    browser, servers, problems
) -> None:
    # Python checks for SIGINT only while it runs bytecode: code waiting for something
    # that never comes cannot be interrupted, so the page restarts Python after 1 s.
    page = open_page(browser, servers["isolated"] + COUNTER, problems)
    try:
        wait_ready(page)
        assert run_block(page, 1) == "done"  # the worker's warm-up is over
        set_code(page, 1, "import asyncio\nawait asyncio.sleep(3600)\n")
        page.click("#sandbox-1 .dosim-btn--run")
        page.wait_for_function("window.dosimSandbox.client.busy", timeout=RUN_MS)
        page.wait_for_timeout(100)
        page.click("#sandbox-1 .dosim-btn--stop")
        page.wait_for_selector("#sandbox-1[data-state=stopped]", timeout=3000)
        assert "restarted (did not stop within 1 s)" in page.inner_text("#sandbox-1 .dosim-output")
        stops = page.evaluate("window.dosimSandbox.client.stopLog")
        assert [(s["how"], s["reason"]) for s in stops] == [
            ("restarted", "did not stop within 1 s")
        ]
        assert 1000 <= stops[0]["ms"] < 1500, stops
        assert page.evaluate("window.dosimSandbox.client.restarts") == 1
        set_code(page, 1, "print('back')")
        assert run_block(page, 1, timeout=BOOT_MS) == "done"
        assert output(page, 1) == "back"
    finally:
        page.context.close()


def test_syntax_error_is_one_clean_message(counter_page) -> None:
    editor = counter_page.locator("#sandbox-5 .cm-content")
    editor.click()
    counter_page.keyboard.press("Control+A")
    counter_page.keyboard.press("Delete")
    counter_page.keyboard.type("x = 1\nif x\nprint(x)\n")
    counter_page.keyboard.press("Control+Enter")
    counter_page.wait_for_selector("#sandbox-5[data-state=error]", timeout=RUN_MS)
    message = counter_page.inner_text("#sandbox-5 .dosim-error")
    assert message.startswith("SyntaxError: expected ':' (line 2)"), message
    assert len(message.splitlines()) <= 4
    assert "File" not in message and "<block" not in message
    counter_page.screenshot(path=SCREENSHOTS / "sandbox-tutorial.png", full_page=False)


def test_runtime_error_traceback_is_trimmed(counter_page) -> None:
    set_code(counter_page, 5, "def boom():\n    return 1 / 0\n\nboom()\n")
    assert run_block(counter_page, 5) == "error"
    message = counter_page.inner_text("#sandbox-5 .dosim-error")
    assert message.splitlines() == [
        "Traceback (your code, most recent call last):",
        "  line 4",
        "    boom()",
        "  line 2, in boom",
        "    return 1 / 0",
        "ZeroDivisionError: division by zero",
    ]


def test_a_missing_package_says_which_packages_the_sandbox_has(counter_page) -> None:
    set_code(counter_page, 5, "import numpy")
    assert run_block(counter_page, 5) == "error"
    message = counter_page.inner_text("#sandbox-5 .dosim-error").splitlines()
    assert message[-2] == "ModuleNotFoundError: No module named 'numpy'"
    assert message[-1].startswith(
        "The sandbox has Python's standard library and these packages only: dosim "
        "(with its workers and js modules), "
    ), message[-1]
    assert "marshmallow" in message[-1]  # what an example app declares is laid down
    assert message[-1].endswith("(save it as x.py, then: dosim run x.py).")
    counter_page.locator("#sandbox-5").screenshot(path=SCREENSHOTS / "sandbox-no-numpy.png")


def test_the_label_says_how_a_block_shares_its_python(counter_page, browser, servers, problems):
    label = counter_page.locator("#sandbox-2 .dosim-label")
    assert label.inner_text() == "Python · group “counter”"
    assert label.get_attribute("title").startswith("Blocks of group “counter” share one Python")
    page = open_page(browser, servers["isolated"] + "get-started/", problems)
    try:
        page.wait_for_selector("#sandbox-3")
        alone = page.locator("#sandbox-3 .dosim-label")
        assert alone.inner_text() == "Python"
        assert alone.get_attribute("title").startswith("This block runs on its own")
    finally:
        page.context.close()


def test_advancing_the_clock_fires_an_alarm(browser, servers, problems) -> None:
    page = open_page(browser, servers["isolated"] + ALARMS, problems)
    try:
        wait_ready(page)
        # Block 2 of the alarms tutorial, cut short: one event, then 55 of the 60 s pass.
        set_code(
            page,
            2,
            'app = dosim.App(None, {"DIGESTS": Digest})\n'
            'inbox = app.env.DIGESTS.getByName("team-inbox")\n'
            'await inbox.record("build failed")\n'
            "await app.advance(55)\n"
            "print(await inbox.sent())\n",
        )
        assert run_block(page, 2) == "done"
        assert output(page, 2) == "[]"
        panel = page.locator("#sandbox-2 .dosim-panel")
        assert panel.locator(".dosim-badge--alarm").count() == 1
        assert panel.locator('.dosim-ev[data-kind="alarm.fire"]').count() == 0
        panel.locator('.dosim-advance[data-var="app"]').click()
        page.wait_for_selector('#sandbox-2 .dosim-ev--new[data-kind="alarm.fire"]', timeout=RUN_MS)
        assert panel.locator(".dosim-badge--alarm").count() == 0
        assert "alarm.fire" in page.inner_text("#sandbox-2 .dosim-output")
        page.locator("#sandbox-2").screenshot(path=SCREENSHOTS / "sandbox-alarm.png")
    finally:
        page.context.close()


def test_kv_tutorial_runs_and_the_panel_shows_the_namespace(browser, servers, problems) -> None:
    page = open_page(browser, servers["isolated"] + KV_ROOMS, problems)
    try:
        wait_ready(page)
        # Block 2 (the lost update through KV) runs block 1 first (same group).
        assert run_block(page, 2) == "done"
        assert output(page, 2) == documented_output("04-kv-from-a-durable-object.md", 2)
        panel = page.locator("#sandbox-2 .dosim-panel")
        namespace = panel.locator('.dosim-object[data-binding="ROOMS_KV"]')
        assert "KV" in namespace.inner_text()
        assert "visits:lobby" in namespace.inner_text()
        assert panel.locator('.dosim-ev[data-kind="binding"]').count() >= 10
        assert run_block(page, 4) == "done"
        assert output(page, 4) == documented_output("04-kv-from-a-durable-object.md", 4)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#sandbox-2").screenshot(path=SCREENSHOTS / "sandbox-kv.png")
    finally:
        page.context.close()


def test_shared_link_restores_code_without_running_it(counter_page, browser, problems) -> None:
    set_code(counter_page, 3, "print('from a shared link')")
    counter_page.click("#sandbox-3 button[title='Make a link with this code']")
    link = counter_page.locator("#sandbox-3 .dosim-share__link").input_value()
    assert "#sandbox-3=" in link
    page = open_page(browser, link, problems, color_scheme="dark")
    try:
        page.wait_for_selector("#sandbox-3 .dosim-notice:not([hidden])")
        page.wait_for_timeout(500)
        code = page.evaluate("window.dosimSandbox.blocks[2].editor.code")
        assert code == "print('from a shared link')"
        assert page.get_attribute("#sandbox-3", "data-state") == "idle"
        assert page.locator("#sandbox-3 .dosim-output").is_hidden()
        assert "has not been run" in page.inner_text("#sandbox-3 .dosim-notice")
        page.screenshot(path=SCREENSHOTS / "sandbox-shared-dark.png")
    finally:
        page.context.close()


def test_stop_without_isolation_restarts_python(browser, servers, problems) -> None:
    page = open_page(
        browser, servers["plain"] + COUNTER, problems, viewport={"width": 390, "height": 844}
    )
    try:
        wait_ready(page)
        assert page.evaluate("window.dosimSandbox.client.readyInfo.isolated") is False
        assert run_block(page, 3) == "done"  # blocks 1 to 3 now say "Done in ..."
        set_code(page, 1, "while True:\n    pass\n")
        page.click("#sandbox-1 .dosim-btn--run")
        page.wait_for_function("window.dosimSandbox.client.busy", timeout=RUN_MS)
        page.wait_for_timeout(200)
        page.click("#sandbox-1 .dosim-btn--stop")
        page.wait_for_selector("#sandbox-1[data-state=stopped]", timeout=1000)
        assert "restarted" in page.inner_text("#sandbox-1 .dosim-output")
        assert page.evaluate("window.dosimSandbox.client.restarts") == 1
        # Once the new Python is ready, no block still shows start-up progress ("Ready…").
        wait_ready(page)
        statuses = page.evaluate("window.dosimSandbox.blocks.map(b => b.status.textContent)")
        assert set(statuses) == {"Ready"}, statuses
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#sandbox-2").screenshot(path=SCREENSHOTS / "sandbox-after-restart.png")
        set_code(page, 1, "import dosim\nprint('fresh', dosim.App)")
        assert run_block(page, 1, timeout=BOOT_MS) == "done"
        assert output(page, 1) == "fresh <class 'dosim.app.App'>"
        page.locator("#sandbox-1").screenshot(path=SCREENSHOTS / "sandbox-narrow.png")
    finally:
        page.context.close()


# -- the value of a block's last expression -------------------------------------------------

WORKER_BLOCK = """\
import dosim
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response.json(
            {"path": "/hello", "items": [1, 2]}, status=201, headers={"x-request-id": "abc123"}
        )


app = dosim.App(Default, {})
resp = await app.fetch("/hello")
print("fetched")
resp
"""
SENT_BODY = json.dumps({"path": "/hello", "items": [1, 2]})  # as Response.json sends it
PRETTY_BODY = json.dumps({"path": "/hello", "items": [1, 2]}, indent=2)


def _helper(name: str = "sandbox_helper.py"):
    """A module of docs/sandbox/src/, loaded on CPython under a name of its own."""
    import importlib.util

    path = ROOT / "docs" / "sandbox" / "src" / name
    spec = importlib.util.spec_from_file_location(f"_cpython_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_worker_warm_up_runs_its_app_and_leaves_nothing_on_cpython(monkeypatch) -> None:
    """The worker ignores a failing warm-up (only the first run is slower): check it here."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    helper = _helper()
    monkeypatch.setitem(sys.modules, "_dosim_sandbox", helper)  # as the worker names it
    boot = _helper("sandbox_boot.py")
    with ThreadPoolExecutor(1) as pool:  # Playwright keeps a loop running in this thread
        pool.submit(asyncio.run, boot.warm_up()).result(timeout=60)  # raises if it failed
    assert "warm-up" not in helper._namespaces


def test_worker_warm_up_cut_short_leaves_nothing_on_cpython(monkeypatch) -> None:
    """A warm-up stopped after two steps (a reader's Run arrived) drops its namespace too."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    helper = _helper()
    monkeypatch.setitem(sys.modules, "_dosim_sandbox", helper)
    boot = _helper("sandbox_boot.py")

    async def two_steps() -> int:
        await boot.warm_up_step(0)
        await boot.warm_up_step(1)
        return len(helper._namespaces["warm-up"]["app"].env.WARM.getByName("a").id.toString())

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, two_steps()).result(timeout=60) == 64  # the app ran
    assert "warm-up" in helper._namespaces
    boot.warm_up_end(collect=False)
    assert "warm-up" not in helper._namespaces


def test_helper_reports_a_blocks_value_on_cpython(capsys) -> None:
    """run() on CPython: the last expression's value, described; the body left unread."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    helper = _helper()

    async def blocks() -> list[dict]:
        codes = [
            WORKER_BLOCK,
            "print(await resp.text())",  # the box read a clone: this still works
            'answer = {"a": 1}\nanswer["a"] + 41',
            "x = 5",
            'print("hi")',
            "resp",  # now read by the reader's code
            'Response(b"\\x00\\x01\\x02", headers={"content-type": "application/octet-stream"})',
            'Response("z" * 20_000)',
            "y = 1\n\ny / 0",
        ]
        return [json.loads(await helper.run(c, "k", i == 0, i + 1)) for i, c in enumerate(codes)]

    # Playwright's sync API keeps an event loop running in this thread: use another one.
    with ThreadPoolExecutor(1) as pool:
        reports = pool.submit(asyncio.run, blocks()).result(timeout=60)
    response, read, answer, assigned, printed, used, binary, long, error = reports
    assert response["ok"] and response["value"]["kind"] == "response"
    value = response["value"]
    assert (value["status"], value["statusText"]) == (201, "Created")
    assert ["x-request-id", "abc123"] in value["headers"]
    assert (value["bodyKind"], value["body"], value["truncated"]) == ("json", PRETTY_BODY, False)
    assert read == {"ok": True}
    assert answer["value"] == {"kind": "repr", "text": "42", "truncated": False}
    assert assigned == {"ok": True} and printed == {"ok": True}
    assert used["value"]["bodyKind"] == "used"
    assert binary["value"]["bodyKind"] == "binary" and binary["value"]["bodyBytes"] == 3
    assert long["value"]["truncated"] and len(long["value"]["body"]) < 20_000
    assert error["error"]["line"] == 3  # the split-off expression keeps the editor's lines
    assert capsys.readouterr().out == f"fetched\n{SENT_BODY}\nhi\n"


@pytest.fixture(scope="module")
def value_page(browser, servers, problems):
    """A second counter tutorial page whose blocks these tests rewrite freely."""
    yield from ready_counter_page(browser, servers, problems)


def test_response_value_is_a_box_and_its_body_stays_readable(value_page) -> None:
    page = value_page
    set_code(page, 1, WORKER_BLOCK)
    set_code(page, 2, "print(await resp.text())")
    assert run_block(page, 2) == "done"  # runs block 1 first
    box = page.locator("#sandbox-1 .dosim-response")
    assert box.count() == 1
    assert box.locator(".dosim-response__status").inner_text() == "HTTP 201 Created"
    headers = dict(
        zip(
            box.locator("dt").all_inner_texts(),
            box.locator("dd").all_inner_texts(),
            strict=True,
        )
    )
    assert headers["x-request-id"] == "abc123"
    assert headers["content-type"] == "application/json"
    body = box.locator("pre.dosim-response__body")
    assert body.get_attribute("data-body-kind") == "json"
    assert body.evaluate("e => e.textContent") == PRETTY_BODY
    assert output(page, 1) == "fetched"  # the box is not part of what the code printed
    assert output(page, 2) == SENT_BODY
    assert "HTTP 201" in page.inner_text("#sandbox-1 .dosim-status")
    page.locator("#sandbox-1 .dosim-output").screenshot(path=SCREENSHOTS / "sandbox-response.png")
    set_scheme(page, "slate")
    try:
        page.locator("#sandbox-1").screenshot(path=SCREENSHOTS / "sandbox-response-dark.png")
    finally:
        set_scheme(page, "default")


def test_bare_expression_shows_its_repr_and_statements_show_nothing(value_page) -> None:
    page = value_page
    set_code(page, 3, 'answer = {"a": 1}\nanswer["a"] + 41')
    assert run_block(page, 3) == "done"
    assert page.locator("#sandbox-3 .dosim-value--repr pre").inner_text() == "42"
    set_code(page, 4, "x = answer")
    assert run_block(page, 4) == "done"
    assert page.locator("#sandbox-4 .dosim-value").count() == 0
    assert page.inner_text("#sandbox-4 .dosim-output").strip().endswith("(no output)")
    set_code(page, 5, "print(x)")
    assert run_block(page, 5) == "done"
    assert page.locator("#sandbox-5 .dosim-value").count() == 0
    assert output(page, 5) == "{'a': 1}"


def set_scheme(page, scheme: str) -> None:
    """Switch Material's palette ("default" or "slate") the way its toggle does.

    Emulating ``prefers-color-scheme`` after load would not do: Material applies the
    media query's palette once, at load.
    """
    page.evaluate("s => document.body.setAttribute('data-md-color-scheme', s)", scheme)


def _focused(page) -> str:
    """A short description of the focused element: ``#sandbox-N <what>``."""
    return page.evaluate(
        """(() => {
            const a = document.activeElement;
            const box = a.closest('.dosim-sandbox');
            const what = a.classList.contains('cm-content') ? 'editor'
              : a.classList.contains('dosim-output') ? 'output'
              : a.getAttribute('aria-label') || a.textContent.trim();
            return `${box ? '#' + box.id : '(page)'} ${what}`;
        })()"""
    )


def test_keyboard_alone_runs_stops_and_leaves_the_editor(value_page) -> None:
    page = value_page
    set_code(page, 6, 'print("via keyboard")')
    page.locator("#sandbox-6 .cm-content").click()
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#sandbox-6[data-state=done]", timeout=RUN_MS)
    assert output(page, 6) == "via keyboard"
    # Screen readers hear the result from the page's one live region.
    page.wait_for_function(
        "document.querySelector('.dosim-offscreen[role=status]').textContent"
        ".startsWith('Sandbox 6: Done in')"
    )
    # Tab indents in the editor; Escape then Tab leaves it, even with text selected.
    page.keyboard.press("Control+A")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert _focused(page) == "#sandbox-6 output"
    assert page.evaluate("window.dosimSandbox.blocks[5].editor.code") == 'print("via keyboard")'
    assert (
        page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    )  # focus is visible
    # Tab from Run visits the toolbar (Stop is disabled while nothing runs), then the editor.
    page.focus("#sandbox-6 .dosim-btn--run")
    seen = []
    for _ in range(4):
        page.keyboard.press("Tab")
        seen.append(_focused(page))
    assert seen == [
        "#sandbox-6 Restore the original code",
        "#sandbox-6 Copy the code",
        "#sandbox-6 Make a link with this code",
        "#sandbox-6 editor",
    ]
    # Enter on Run starts a run; Tab then reaches Stop, and Enter stops it.
    set_code(page, 6, "n = 0\nwhile True:\n    n += 1\n")
    page.focus("#sandbox-6 .dosim-btn--run")
    page.keyboard.press("Enter")
    page.wait_for_function("window.dosimSandbox.client.busy", timeout=RUN_MS)
    page.keyboard.press("Tab")
    assert _focused(page) == "#sandbox-6 Stop the running code"
    page.keyboard.press("Enter")
    page.wait_for_selector("#sandbox-6[data-state=stopped]", timeout=2000)
    # Stop is disabled again: focus goes back to Run, not to the top of the page.
    assert _focused(page) == "#sandbox-6 Run this block (Ctrl+Enter)"
    set_code(page, 6, "print(n > 0)")
    assert run_block(page, 6) == "done"
    assert output(page, 6) == "True"
    # The Objects panel's clock control works from the keyboard and keeps the focus.
    advance = '#sandbox-6 .dosim-advance[data-var="app"]'
    page.focus(advance)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelector('#sandbox-6 .dosim-output').textContent"
        ".includes('Advanced app by 10 s')",
        timeout=RUN_MS,
    )
    page.wait_for_function(f"document.activeElement === document.querySelector('{advance}')")


NARROW_BLOCK = """\
import dosim
from workers import DurableObject, Response


class Counter(DurableObject):
    async def increment(self):
        await self.ctx.storage.put("a-long-key-" + "k" * 60, "v" * 250)
        value = (await self.ctx.storage.get("value") or 0) + 1
        await self.ctx.storage.put("value", value)
        return value


app = dosim.App(None, {"COUNTER": Counter})
apples = app.env.COUNTER.getByName("apples")
print(await apples.increment(), "x" * 120)
await app.advance(10)
await apples.increment()
Response.json({"long": "y" * 300}, headers={"x-long": "q" * 200})
"""


def test_narrow_screen_does_not_scroll_sideways(value_page) -> None:
    page = value_page
    page.set_viewport_size({"width": 360, "height": 800})
    set_scheme(page, "slate")
    try:
        set_code(page, 1, NARROW_BLOCK)  # first of its group: runs alone, afresh
        assert run_block(page, 1) == "done"
        panel = page.locator("#sandbox-1 .dosim-panel")
        assert panel.locator(".dosim-timeline tr.dosim-ev").count() > 3
        assert page.locator("#sandbox-1 .dosim-response").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        # Material clips the page sideways (html overflow-x: hidden): check nothing in the
        # sandbox sticks out of it either, which would be cut off rather than scroll.
        assert page.evaluate(
            "(e => e.scrollWidth <= e.clientWidth)(document.getElementById('sandbox-1'))"
        )
        # Wide content scrolls inside its own box instead.
        wrap = panel.locator(".dosim-timeline-wrap")
        assert wrap.evaluate("e => e.scrollWidth > e.clientWidth")
        page.locator("#sandbox-1").screenshot(path=SCREENSHOTS / "sandbox-narrow-dark.png")
    finally:
        set_scheme(page, "default")
        page.set_viewport_size({"width": 1280, "height": 900})


def _gallery():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_dosim_gallery", ROOT / "hooks" / "gallery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GALLERY_APPS = sorted(
    p.name
    for p in (ROOT / "examples").iterdir()
    if p.is_dir() and not p.name.startswith(("_", ".")) and (p / "README.md").is_file()
)


def demo_output(code: str) -> str:
    """The ``#>`` lines of a gallery demo: what its block prints."""
    lines = [m.group(1) or "" for m in re.finditer(r"^\s*#>(?: (.*))?$", code, re.MULTILINE)]
    return "\n".join(lines)


def test_gallery_page_opens_counter_in_sandbox(browser, servers, problems) -> None:
    page = open_page(browser, servers["isolated"] + GALLERY_COUNTER, problems)
    try:
        wait_ready(page)
        # One sandbox on the page: the README's and the source files' blocks stay plain.
        assert page.locator(".dosim-sandbox").count() == 1
        heading = page.locator("h2#open-in-sandbox")
        assert heading.count() == 1
        code = page.evaluate("window.dosimSandbox.blocks[0].editor.code")
        assert code == _gallery().sandbox_snippet(ROOT / "examples" / "counter")
        assert 'app = dosim.App.from_config("examples/counter")' in code
        assert run_block(page, 1) == "done"
        assert output(page, 1) == demo_output(code)
        panel = page.locator("#sandbox-1 .dosim-panel")
        for name in ("visits", "likes", "race"):
            assert panel.locator(f'.dosim-object[data-object="{name}"]').count() == 1, name
        page.locator("#sandbox-1").screenshot(path=SCREENSHOTS / "sandbox-gallery-counter.png")
    finally:
        page.context.close()


def test_every_gallery_page_runs_its_demo(browser, servers, problems) -> None:
    # tests/test_gallery_demos.py runs the same demos on CPython.
    for app in GALLERY_APPS:
        page = open_page(browser, f"{servers['isolated']}examples/{app}/", problems)
        try:
            wait_ready(page)
            code = page.evaluate("window.dosimSandbox.blocks[0].editor.code")
            assert code == _gallery().sandbox_snippet(ROOT / "examples" / app), app
            assert f'dosim.App.from_config("examples/{app}")' in code, app
            assert run_block(page, 1) == "done", (app, page.inner_text("#sandbox-1"))
            assert output(page, 1) == demo_output(code), app
        finally:
            page.context.close()


# -- every block of every page -------------------------------------------------------------


@pytest.fixture(scope="module")
def page_report() -> Iterator[dict[str, dict]]:
    """Per page: its blocks, how many ran as documented, the seconds it took (saved as JSON)."""
    report: dict[str, dict] = {}
    yield report
    if report:
        PAGE_REPORT.parent.mkdir(parents=True, exist_ok=True)
        PAGE_REPORT.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def _built_sandboxes(site: Path, url: str) -> int:
    html = (site / url / "index.html").read_text(encoding="utf-8")
    return len(re.findall(r'<div class="language-py dosim-run[ "]', html))


def _block_problem(page, number: int, code: str) -> str | None:
    """Run block ``number`` (its group's earlier blocks have run); what went wrong, if any."""
    try:
        state = run_block(page, number)
    except Exception as error:  # noqa: BLE001 - a timeout: report it with the others
        return f"block {number}: did not finish ({type(error).__name__})"
    if state != "done":
        shown = page.inner_text(f"#sandbox-{number} .dosim-output")
        return f"block {number} ended {state!r}:\n{shown}"
    printed, expected = output(page, number), output_lines(code)
    if printed != expected:
        diff = difflib.unified_diff(
            expected.splitlines(), printed.splitlines(), "#> lines", "printed", lineterm=""
        )
        return f"block {number} printed other output:\n" + "\n".join(diff)
    return None


@pytest.mark.parametrize(
    "source", SANDBOX_PAGES, ids=[p.relative_to(ROOT).as_posix() for p in SANDBOX_PAGES]
)
def test_every_block_of_the_page_runs_as_documented(
    source, site, browser, servers, problems, page_report
) -> None:
    """One page load, then each sandbox's Run once, in page order: each block prints its
    ``#>`` lines. In page order the earlier blocks of a block's group have run, so every
    block runs exactly once; a block without a group runs alone."""
    url = page_url(source)
    written = markdown_sandboxes(source)
    built = _built_sandboxes(site, url)
    # Docstrings add blocks on reference pages; elsewhere the page has exactly the fences'.
    if _has_api_reference(source):
        assert built >= len(written), (url, built, len(written))
    else:
        assert built == len(written), (url, built, len(written))
    if not built:
        return
    started = time.monotonic()
    page = open_page(browser, servers["isolated"] + url, problems)
    try:
        wait_ready(page)
        codes = page.evaluate("window.dosimSandbox.blocks.map((b) => b.original)")
        assert len(codes) == built
        # The page shows the blocks the Markdown has, in its order (docstrings' aside).
        shown = [code for code in codes if code in written]
        assert shown == [code.rstrip("\n") for code in written] or len(written) == 0, url
        found = [_block_problem(page, n, code) for n, code in enumerate(codes, start=1)]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        slug = url.strip("/").replace("/", "-") or "home"
        page.locator("#sandbox-1").screenshot(path=SCREENSHOTS / f"sandbox-page-{slug}.png")
    finally:
        page.context.close()
    failed = [problem for problem in found if problem]
    page_report[url or "/"] = {
        "blocks": built,
        "ran": built - len(failed),
        "seconds": round(time.monotonic() - started, 1),
    }
    assert not failed, f"{url}:\n" + "\n\n".join(failed)


def test_every_page_with_sandboxes_is_checked(site) -> None:
    """No page of the built site has sandboxes the test above does not visit (the gallery
    pages have their own test)."""
    checked = {page_url(p) for p in SANDBOX_PAGES}
    pages = {
        ("" if html.parent == site else html.parent.relative_to(site).as_posix() + "/")
        for html in site.rglob("index.html")
    }
    pages = {page for page in pages if _built_sandboxes(site, page)}
    assert "" in pages and "tutorials/01-first-durable-object/" in pages
    unchecked = sorted(page for page in pages - checked if not page.startswith("examples/"))
    assert unchecked == []


def test_no_console_errors_and_nothing_left_127_0_0_1(problems) -> None:
    assert problems == []
