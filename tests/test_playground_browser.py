"""The whole-app playground page (``/playground/``), in a real browser.

The site is built once for the browser tests (``tests/browser_site.py``) and served by
``tools/serve_site.py`` on a free 127.0.0.1 port with COOP/COEP; Playwright drives
Debian's Chromium. One page is reused across the tests (Python boots once), and a fresh
context opens each shared link.

For every starter in ``examples/`` (opened from ``?template=`` for the first, from the
template picker for the others): its files are the repository's; Run app loads it; a
request its README documents answers as documented, shown as a Response box; the two
WebSocket starters broadcast between two clients; Run tests passes every test and shows
the counts; Download zip is a starter folder of the same files (for the counter, its
tests pass under CPython's pytest in a subprocess); an edit to ``src/entry.py`` changes
the answer after the app reloads; Share makes a link that, in a fresh context, restores
the same files and runs nothing. Then: a syntax error and a config naming a missing
class are shown with their file and line, and the editor goes there; edits survive a
reload and Reset drops them; Stop ends a handler stuck in ``while True`` without
restarting Python; the keyboard alone sends a request; at 360 px the page does not scroll
sideways. The history shows an answer again and sends it again; the clock control fires
a due alarm. The picker offers what ``dosim new`` offers, and a blank app whose test
passes; files are added, renamed and deleted from the tree (a deleted module's import is
an error at the importing line). Screenshots go to
``artifacts/screenshots/playground-*.png``. No console errors, no request leaves
127.0.0.1.

Runs in ``nox -s sandbox`` (``DOSIM_BROWSER_TESTS`` set: a missing Chromium, Playwright
or MkDocs fails the module); elsewhere it skips.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

if sys.platform == "emscripten":
    pytest.skip("drives Chromium from CPython; not a Pyodide test", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tools and hooks
from browser_site import built_site, open_page, require_browser_tools  # noqa: E402
from hooks.gallery import starter_apps  # noqa: E402
from tools.chromium import launch  # noqa: E402
from tools.serve_site import serve_in_thread  # noqa: E402

from dosim.dev.templates import available_templates  # noqa: E402

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
BOOT_MS = 60_000
RUN_MS = 60_000  # the first Run tests also unpacks pytest's wheels
PG = "window.dosimPlayground"


require_browser_tools()
from playwright.sync_api import sync_playwright  # noqa: E402

STARTERS = [app.name for app in starter_apps(ROOT / "examples")]

# Per starter: a request its README documents and what the answer holds; an edit of
# src/entry.py (old text -> new text) and a request that shows the edited behaviour.
CASES = {
    "chat": {
        "request": ("GET", "/room/demo", None),
        "answer": (200, "<title>Chat</title>"),
        "edit": (
            r'"expected a WebSocket upgrade\n", status=426, headers',
            r'"edited: upgrade please\n", status=426, headers',
        ),
        "edited": ("GET", "/room/demo/ws", None),
        "edited_answer": (426, "edited: upgrade please"),
    },
    "counter": {
        "request": ("POST", "/demo/increment", None),
        "answer": (200, "1"),
        "edit": (
            "return Response(str(await counter.increment()))",
            'return Response("count " + str(await counter.increment()))',
        ),
        "edited": ("POST", "/demo/increment", None),
        "edited_answer": (200, "count 1"),
    },
    "leaderboard": {
        "request": ("POST", "/demo/s1/scores", '{"player": "ann", "score": 50}'),
        "answer": (200, '"rank": 1'),
        "edit": ('_error(404, "no score")', '_error(404, "nobody by that name")'),
        "edited": ("GET", "/demo/s1/players/bob", None),
        "edited_answer": (404, "nobody by that name"),
    },
    "presence": {
        "request": ("GET", "/doc/demo", None),
        "answer": (200, "<title>Presence</title>"),
        "edit": (
            r'"expected a WebSocket upgrade\n", status=426, headers',
            r'"edited: upgrade please\n", status=426, headers',
        ),
        "edited": ("GET", "/doc/demo/ws", None),
        "edited_answer": (426, "edited: upgrade please"),
    },
    "rate_limiter": {
        "request": ("GET", "/api/demo", None),
        "answer": (200, "ok"),
        "edit": ('Response("ok\\n", headers=headers)', 'Response("edited ok\\n", headers=headers)'),
        "edited": ("GET", "/api/demo", None),
        "edited_answer": (200, "edited ok"),
    },
    "scheduler": {
        "request": ("PUT", "/demo/reminders/r1", '{"text": "stretch", "in": 60}'),
        "answer": (200, '"text": "stretch"'),
        "edit": ('_error(404, "not found")', '_error(404, "no such route")'),
        "edited": ("GET", "/demo", None),
        "edited_answer": (404, "no such route"),
    },
    "seat_booking": {
        "request": ("GET", "/demo/seats", None),
        "answer": (200, '"A1": "free"'),
        "edit": ('_json(404, {"error": "not found"})', '_json(404, {"error": "no such route"})'),
        "edited": ("GET", "/demo", None),
        "edited_answer": (404, "no such route"),
    },
    "uploads": {
        "request": ("PUT", "/docs/hello.txt", "hello"),
        "answer": (201, '"size": 5'),
        "edit": ('Response("not found", status=404)', 'Response("no such file", status=404)'),
        "edited": ("GET", "/docs/missing.txt", None),
        "edited_answer": (404, "no such file"),
    },
}

# The WebSocket starters: what client 1 sends, and what each client then hears.
SOCKETS = {
    "chat": {
        "path": "/room/demo/ws",
        "first": '{"type": "join", "name": "alice"}',
        "second": '{"type": "join", "name": "bob"}',
        "then": '{"type": "message", "text": "hi from alice"}',
        "client1_hears": ['"type": "history"', '"joined": "bob"'],
        "client2_hears": ['"text": "hi from alice"'],
    },
    "presence": {
        "path": "/doc/demo/ws?name=alice&role=editor&page=1",
        "first": None,
        "second": None,
        "then": '{"type": "cursor", "x": 0.25, "y": 0.5}',
        "client1_hears": ['"type": "welcome"', '"type": "join"'],
        "client2_hears": ['"type": "cursor"'],
    },
}


def test_every_starter_has_a_case() -> None:
    assert len(STARTERS) == 8, STARTERS
    assert sorted(CASES) == STARTERS


def repository_files(app: str) -> dict[str, str]:
    """What a template holds: config, pyproject, README, src/ and tests/ (no caches)."""
    folder = ROOT / "examples" / app
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or "__pycache__" in rel or rel.startswith("."):
            continue
        if rel.startswith(("src/", "tests/")) or "/" not in rel:
            files[rel] = path.read_text(encoding="utf-8")
    return files


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = serve_in_thread(built_site(), 0, isolate=True)
    yield f"http://127.0.0.1:{server.server_port}/"
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
    page.wait_for_selector(".pg-root[data-state=ready]", timeout=BOOT_MS)


@pytest.fixture(scope="module")
def pg(browser, base, problems) -> Iterator[object]:
    """The playground, opened on the first starter with ?template=, Python ready."""
    page = open_page(
        browser, f"{base}playground/?template={STARTERS[0]}", problems, accept_downloads=True
    )
    wait_ready(page)
    yield page
    page.context.close()


# -- helpers ----------------------------------------------------------------------------


def act(page, do) -> None:
    """Do something the reader would (a click, a key) and wait until it has finished."""
    before = page.evaluate(f"{PG}.actionsDone")
    do()
    page.wait_for_function(f"{PG}.actionsDone > {before} && {PG}.acting === 0", timeout=RUN_MS)


def choose(page, app: str) -> None:
    """Pick a template in the picker."""
    page.select_option("#pg-template", app)
    page.wait_for_function(f"{PG}.template.name === {json.dumps(app)}")


def files(page) -> dict[str, str]:
    return page.evaluate(f"{PG}.files.files")


def set_file(page, path: str, text: str) -> None:
    """Open ``path`` from the file tree and replace its text (as typing would)."""
    page.click(f'.pg-tree__file[data-path="{path}"]')
    page.evaluate(f"([p, t]) => {{ {PG}.files.editorFor(p).code = t; }}", [path, text])


def send(page, method: str, path: str, body: str | None = None, headers: str = "") -> str:
    """Fill the request form, press Send; the answer box's text."""
    page.click("#pg-tab-request")
    page.select_option("#pg-req-method", method)
    page.fill("#pg-req-path", path)
    page.fill("#pg-req-headers", headers)
    page.fill("#pg-req-body", body or "")
    act(page, lambda: page.click(".pg-send"))
    return page.inner_text(".pg-result")


def status_of(answer: str) -> int | None:
    match = re.search(r"HTTP (\d{3})", answer)
    return int(match.group(1)) if match else None


def client_log(page, number: int) -> str:
    return page.inner_text(f'.pg-client[data-client="{number}"] .pg-log')


def ws_send(page, number: int, text: str) -> None:
    card = f'.pg-client[data-client="{number}"]'
    page.fill(f"{card} .pg-client__send input", text)
    act(page, lambda: page.click(f"{card} .pg-client__send button[type=submit]"))


def connect(page, path: str) -> int:
    page.click("#pg-tab-sockets")
    page.fill("#pg-ws-path", path)
    before = page.locator(".pg-client").count()
    act(page, lambda: page.click(".pg-connect"))
    cards = page.locator(".pg-client")
    assert cards.count() == before + 1, page.inner_text(".pg-ws-problem")
    return int(cards.nth(before).get_attribute("data-client"))


# -- every starter ----------------------------------------------------------------------


@pytest.mark.parametrize("app", STARTERS)
def test_starter_runs_answers_tests_shares_and_zips(pg, app, browser, problems, tmp_path) -> None:
    page = pg
    if app != STARTERS[0]:
        choose(page, app)  # the first one came from ?template=
    case = CASES[app]
    # The template is the starter's own files, README, config, src/ and tests/.
    assert files(page) == repository_files(app)
    assert page.input_value("#pg-template") == app

    act(page, lambda: page.click(".pg-run"))
    assert page.locator(".pg-loaded").count() == 1, page.inner_text(".pg-appstate")

    # A documented request, answered as documented, shown as a Response box.
    answer = send(page, *case["request"])
    status, text = case["answer"]
    assert status_of(answer) == status, answer
    assert text in answer
    assert page.locator(".pg-result .dosim-response").count() == 1
    assert page.locator(".pg-history__item").count() >= 1
    # The Objects panel follows the answer's snapshot.
    assert page.locator(".pg-objects .dosim-app").count() == 1
    if app == "counter":
        assert "COUNTER" in page.inner_text(".pg-objects")

    if app in SOCKETS:
        websocket_round_trip(page, SOCKETS[app])

    # The app's tests, in the page: all pass, counts shown.
    act(page, lambda: page.click(".pg-runtests"))
    summary = page.inner_text(".pg-testresults .pg-tests__summary")
    passed = re.search(r"(\d+) passed", summary)
    assert passed and "failed" not in summary and "error" not in summary, page.inner_text(
        ".pg-testresults"
    )[:3000]
    assert page.locator(".pg-test[data-outcome=passed]").count() == int(passed.group(1))
    if app == STARTERS[0]:
        page.evaluate("scrollTo(0, 0)")
        page.screenshot(path=SCREENSHOTS / "playground-tests.png", full_page=True)

    check_zip(page, app, tmp_path)

    # An edit changes the behaviour once the app reloads (a request after an edit reloads).
    old, new = case["edit"]
    entry = files(page)["src/entry.py"]
    assert old in entry
    set_file(page, "src/entry.py", entry.replace(old, new, 1))
    answer = send(page, *case["edited"])
    status, text = case["edited_answer"]
    assert status_of(answer) == status and text in answer, answer
    assert "loaded again" in page.inner_text(".pg-appstate")

    check_share(page, browser, problems)


def websocket_round_trip(page, spec: dict) -> None:
    one = connect(page, spec["path"])
    if spec["first"]:
        ws_send(page, one, spec["first"])
    two = connect(page, spec["path"])
    if spec["second"]:
        ws_send(page, two, spec["second"])
    ws_send(page, one, spec["then"])
    for heard in spec["client1_hears"]:
        assert heard in client_log(page, one), client_log(page, one)
    for heard in spec["client2_hears"]:
        assert heard in client_log(page, two), client_log(page, two)
    act(page, lambda: page.click(f'.pg-client[data-client="{one}"] .pg-client__head button'))
    assert "closed" in client_log(page, one)
    assert page.locator(f'.pg-client[data-client="{two}"] .pg-client__state').inner_text() == "open"
    page.locator(".pg-clients").screenshot(path=SCREENSHOTS / "playground-websockets.png")


def check_zip(page, app: str, tmp_path: Path) -> None:
    """Download zip: the same files in one folder (plus a .gitignore); the counter's tests pass."""
    shown = files(page)
    with page.expect_download() as download:
        act(page, lambda: page.click(".pg-zip"))
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        folder = names[0].split("/")[0]
        assert all(name.startswith(folder + "/") for name in names), names
        inside = {name[len(folder) + 1 :] for name in names}
        assert inside == set(shown) | {".gitignore"}, inside ^ (set(shown) | {".gitignore"})
        assert {"pyproject.toml", "src/entry.py", "README.md"} <= inside
        assert any(name.startswith("tests/test_") for name in inside)
        assert "wrangler.toml" in inside or "wrangler.jsonc" in inside
        if app != "counter":
            return
        archive.extractall(tmp_path / "unzipped")
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path / "unzipped" / folder,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=300,
    )
    assert ran.returncode == 0 and " passed" in ran.stdout, ran.stdout + ran.stderr


def check_share(page, browser, problems) -> None:
    """Share's link, opened in a fresh context, shows the same files and runs nothing."""
    shown = files(page)
    page.click(".pg-share")
    page.wait_for_selector(".pg-sharelink")
    link = page.input_value(".pg-sharelink")
    assert "#app=" in link and "127.0.0.1" in link
    fresh = open_page(browser, link, problems)
    try:
        wait_ready(fresh)
        assert files(fresh) == shown
        assert fresh.evaluate(f"{PG}.ops") == ["templates"]  # nothing ran
        assert fresh.locator(".pg-loaded").count() == 0
        assert "shared link" in fresh.inner_text(".pg-notice")
    finally:
        fresh.context.close()


# -- templates, files, errors, storage, Stop, keyboard, narrow screens ------------------


def test_the_picker_offers_what_dosim_new_offers_and_a_blank_app(pg) -> None:
    page = pg
    options = page.eval_on_selector_all("#pg-template option", "os => os.map(o => o.value)")
    assert sorted(options) == sorted([*available_templates(), "blank"])
    choose(page, "blank")
    act(page, lambda: page.click(".pg-run"))
    assert page.locator(".pg-loaded").count() == 1, page.inner_text(".pg-appstate")
    act(page, lambda: page.click(".pg-runtests"))
    summary = page.inner_text(".pg-testresults .pg-tests__summary")
    assert re.match(r"\d+ passed in ", summary), page.inner_text(".pg-testresults")[:3000]


def file_form(page, action: str, path: str | None = None) -> None:
    """Use the file tree's inline form: "new" or "rename" with a path, or "delete"."""
    page.click(f'.pg-fileactions [data-action="{action}"]')
    if path is None:
        page.click(".pg-fileform [type=submit]")
    else:
        page.fill(".pg-fileform input", path)
        page.press(".pg-fileform input", "Enter")


def test_files_are_added_renamed_and_deleted(pg) -> None:
    page = pg
    choose(page, "counter")
    page.click(".pg-reset")
    file_form(page, "new", "src/helpers.py")
    assert page.evaluate(f"{PG}.files.active") == "src/helpers.py"
    set_file(page, "src/helpers.py", 'GREETING = "hello "\n')
    file_form(page, "new", "src/helpers.py")  # taken: the form says so and stays open
    assert "already exists" in page.inner_text(".pg-fileform .pg-problem")
    page.press(".pg-fileform input", "Escape")
    file_form(page, "rename", "src/greeting.py")
    assert "src/helpers.py" not in files(page)
    assert files(page)["src/greeting.py"] == 'GREETING = "hello "\n'
    entry = files(page)["src/entry.py"]
    edited = entry.replace(
        "return Response(str(await counter.get()))",
        "return Response(GREETING + str(await counter.get()))",
    ).replace("from workers import", "from greeting import GREETING\nfrom workers import")
    set_file(page, "src/entry.py", edited)
    answer = send(page, "GET", "/demo")
    assert status_of(answer) == 200 and "hello 0" in answer, answer
    # Deleting the module breaks the import: the error points at the line that imports it.
    page.click('.pg-tree__file[data-path="src/greeting.py"]')
    file_form(page, "delete")
    assert "src/greeting.py" not in files(page)
    act(page, lambda: page.click(".pg-run"))
    line = edited.split("\n").index("from greeting import GREETING") + 1
    jump = page.locator(".pg-appstate .pg-error__jump")
    assert jump.inner_text() == f"src/entry.py, line {line}", page.inner_text(".pg-appstate")
    assert "ModuleNotFoundError" in page.inner_text(".pg-appstate")
    page.click(".pg-reset")
    assert files(page) == repository_files("counter")


def test_the_history_shows_an_answer_again_and_sends_it_again(pg) -> None:
    page = pg
    choose(page, "counter")
    act(page, lambda: page.click(".pg-run"))
    send(page, "POST", "/likes/increment")
    send(page, "GET", "/likes", headers="X-Trace: 1")
    items = page.locator(".pg-history__item")
    assert items.count() == 2
    assert "POST /likes/increment → 200" in items.nth(1).inner_text()  # newest first
    items.nth(1).locator(".pg-history__show").click()  # the older one: its answer, its form
    assert page.input_value("#pg-req-method") == "POST"
    assert page.input_value("#pg-req-path") == "/likes/increment"
    assert page.inner_text(".pg-result .dosim-response__body").strip() == "1"
    items.nth(0).locator(".pg-history__show").click()
    assert page.input_value("#pg-req-headers") == "X-Trace: 1"
    act(page, lambda: items.nth(1).locator(".pg-history__again").click())
    assert items.count() == 3
    assert page.inner_text(".pg-result .dosim-response__body").strip() == "2"  # sent again


def test_the_clock_control_fires_a_due_alarm(pg) -> None:
    page = pg
    choose(page, "scheduler")
    act(page, lambda: page.click(".pg-run"))
    send(page, "PUT", "/demo/reminders/r1", '{"text": "stretch", "in": 5}')
    timeline = page.locator(".pg-objects .dosim-timeline")
    assert timeline.locator('tr[data-kind="alarm.fire"]').count() == 0
    assert "alarm" in page.inner_text(".pg-objects .dosim-object")  # the alarm is set
    page.fill("#pg-advance", "10")
    act(page, lambda: page.click(".pg-advance-btn"))
    assert re.match(r"Advanced 10 s: [1-9]\d* new events", page.inner_text(".pg-clock__note"))
    assert timeline.locator('tr[data-kind="alarm.fire"]').count() == 1
    assert timeline.locator("tr.dosim-ev--new").count() > 0  # what the advance did stands out
    assert '"text": "stretch"' in send(page, "GET", "/demo/inbox")  # delivered


def test_load_errors_show_file_and_line_and_the_editor_goes_there(pg) -> None:
    page = pg
    choose(page, "counter")
    page.click(".pg-reset")
    entry = files(page)["src/entry.py"]
    lines = entry.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("class "))
    lines.insert(at, "def broken(:")  # before the first class: past the module's docstring
    set_file(page, "src/entry.py", "\n".join(lines))
    page.click('.pg-tree__file[data-path="README.md"]')  # the error must bring the file back
    act(page, lambda: page.click(".pg-run"))
    jump = page.locator(".pg-appstate .pg-error__jump")
    assert jump.inner_text() == f"src/entry.py, line {at + 1}", page.inner_text(".pg-appstate")
    assert "SyntaxError" in page.inner_text(".pg-appstate")
    assert page.evaluate(f"{PG}.files.active") == "src/entry.py"
    marked = page.locator('.pg-editors__one[data-path="src/entry.py"] .cm-line.dosim-error-line')
    assert marked.count() == 1 and marked.inner_text() == "def broken(:"
    page.locator(".pg-appstate").scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOTS / "playground-load-error.png")

    # A class the config names that the code lacks: the config's line that names it.
    set_file(page, "src/entry.py", entry)
    config = files(page)["wrangler.toml"].replace('class_name = "Counter"', 'class_name = "Countr"')
    set_file(page, "wrangler.toml", config)
    page.click('.pg-tree__file[data-path="src/entry.py"]')
    act(page, lambda: page.click(".pg-run"))
    line = config.split("\n").index('class_name = "Countr"') + 1
    assert jump.inner_text() == f"wrangler.toml, line {line}", page.inner_text(".pg-appstate")
    assert page.evaluate(f"{PG}.files.active") == "wrangler.toml"
    page.click(".pg-reset")
    assert files(page) == repository_files("counter")


def test_edits_survive_a_reload_and_reset_drops_them(pg) -> None:
    page = pg
    choose(page, "rate_limiter")
    edited = files(page)["src/entry.py"] + "\n# kept across a reload\n"
    set_file(page, "src/entry.py", edited)
    key = "dosim-playground:v1:rate_limiter"
    page.wait_for_function(
        f"(localStorage.getItem({json.dumps(key)}) || '').includes('kept across')"
    )
    page.reload()
    wait_ready(page)
    assert page.evaluate(f"{PG}.template.name") == "rate_limiter"
    assert files(page)["src/entry.py"] == edited
    assert "edits from last time" in page.inner_text(".pg-notice")
    assert page.evaluate(f"{PG}.ops") == ["templates"]  # a reload runs nothing either
    page.click(".pg-reset")
    assert files(page) == repository_files("rate_limiter")
    assert page.evaluate(f"localStorage.getItem({json.dumps(key)})") is None


def test_stop_ends_a_handler_stuck_in_a_loop(pg) -> None:
    page = pg
    choose(page, "counter")
    entry = files(page)["src/entry.py"]
    stuck = entry.replace(
        'return Response("not found\\n", status=404)',
        "while True:\n            pass",
    )
    assert stuck != entry
    set_file(page, "src/entry.py", stuck)
    act(page, lambda: page.click(".pg-run"))
    page.click("#pg-tab-request")
    page.select_option("#pg-req-method", "GET")
    page.fill("#pg-req-path", "/demo/stuck/here")
    page.fill("#pg-req-body", "")
    before = page.evaluate(f"{PG}.actionsDone")
    page.click(".pg-send")
    page.wait_for_function(f"{PG}.busy > 0")
    page.wait_for_timeout(300)  # well inside the loop
    assert page.evaluate(f"{PG}.acting") == 1  # still stuck
    page.click(".pg-stop")
    page.wait_for_function(f"{PG}.actionsDone > {before} && {PG}.acting === 0", timeout=5_000)
    assert "KeyboardInterrupt" in page.inner_text(".pg-result .pg-stopped")
    assert page.evaluate(f"{PG}.client.restarts") == 0  # interrupted, not restarted
    # The app is still there and answers.
    answer = send(page, "POST", "/demo/increment")
    assert status_of(answer) == 200
    page.click(".pg-reset")


def test_keyboard_alone_sends_a_request(pg) -> None:
    page = pg
    choose(page, "counter")
    page.click("#pg-tab-request")
    page.focus("#pg-req-path")
    page.keyboard.press("Control+A")
    page.keyboard.type("/keys")
    act(page, lambda: page.keyboard.press("Enter"))  # Enter in the form sends
    assert status_of(page.inner_text(".pg-result")) == 200
    # Arrow keys move between the tabs, which then show their panel.
    page.focus("#pg-tab-request")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "pg-tab-sockets"
    assert page.is_visible("#pg-panel-sockets") and not page.is_visible("#pg-panel-request")
    page.keyboard.press("ArrowLeft")
    # Focus is visible on the controls.
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


def test_light_dark_and_narrow_screens(pg) -> None:
    page = pg
    choose(page, "counter")
    act(page, lambda: page.click(".pg-run"))
    send(page, "POST", "/demo/increment")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("scrollTo(0, 0)")  # else Material's sticky header lands mid-picture
    page.screenshot(path=SCREENSHOTS / "playground-light.png", full_page=True)
    page.evaluate("document.body.setAttribute('data-md-color-scheme', 'slate')")
    try:
        page.screenshot(path=SCREENSHOTS / "playground-dark.png", full_page=True)
        page.set_viewport_size({"width": 360, "height": 800})
        page.wait_for_timeout(100)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        # Material clips sideways overflow: nothing of the playground may stick out either.
        assert page.evaluate(
            "(e => e.scrollWidth <= e.clientWidth)(document.querySelector('.pg-root'))"
        )
        page.evaluate("scrollTo(0, 0)")
        page.screenshot(path=SCREENSHOTS / "playground-narrow-dark.png", full_page=True)
    finally:
        page.evaluate("document.body.setAttribute('data-md-color-scheme', 'default')")
        page.set_viewport_size({"width": 1280, "height": 900})


def test_gallery_pages_link_to_the_playground(base, browser, problems) -> None:
    page = open_page(browser, f"{base}examples/chat/", problems)
    try:
        link = page.locator("a", has_text="Open in playground")
        assert link.count() == 1
        link.click()
        wait_ready(page)
        assert page.evaluate(f"{PG}.template.name") == "chat"
    finally:
        page.context.close()


def test_no_console_errors_and_nothing_left_127_0_0_1(problems) -> None:
    assert problems == []
