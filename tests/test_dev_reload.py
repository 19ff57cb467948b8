"""Which changed files make ``dosim dev`` reload: app sources, never environments or caches."""

import pytest

from dosim.dev.reload import is_app_source


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    return path


@pytest.mark.parametrize(
    "relative",
    ["worker.py", "src/entry.py", "lib/helpers.py", "wrangler.toml", "src/wrangler.jsonc"],
)
def test_app_sources_and_the_config_trigger_a_reload(tmp_path, relative):
    assert is_app_source(_touch(tmp_path / relative), tmp_path, None)


@pytest.mark.parametrize(
    "relative",
    [
        ".venv/lib/python3.12/site-packages/x.py",
        "venv/lib/python3.12/site-packages/x.py",
        ".venv-workers/lib/x.py",
        "python_modules/pkg/x.py",
        "node_modules/pkg/x.py",
        "src/__pycache__/x.py",
        ".hidden/x.py",
        "src/.cache/x.py",
        ".dosim/state/x.py",
    ],
)
def test_virtualenvs_vendored_packages_and_hidden_folders_never_trigger(tmp_path, relative):
    assert not is_app_source(_touch(tmp_path / relative), tmp_path, None)


def test_a_folder_holding_pyvenv_cfg_is_a_virtualenv_whatever_its_name(tmp_path):
    _touch(tmp_path / "env311" / "pyvenv.cfg")
    changed = _touch(tmp_path / "env311" / "lib" / "python3.11" / "site-packages" / "x.py")
    assert not is_app_source(changed, tmp_path, None)
    assert is_app_source(_touch(tmp_path / "env311_notes" / "x.py"), tmp_path, None)


def test_an_app_inside_a_hidden_or_venv_folder_still_reloads(tmp_path):
    # Only folders below the app count: the app itself may live anywhere.
    app = tmp_path / ".work" / "venv" / "app"
    _touch(tmp_path / ".work" / "venv" / "pyvenv.cfg")
    assert is_app_source(_touch(app / "worker.py"), app, None)


def test_the_state_folder_never_triggers(tmp_path):
    state = tmp_path / "state"
    assert not is_app_source(_touch(state / "x.py"), tmp_path, state)


# -- the polling watcher -------------------------------------------------------------------
def test_a_listing_holds_the_app_sources_and_nothing_the_reload_ignores(tmp_path):
    from dosim.dev.reload import snapshot

    kept = ["worker.py", "src/entry.py", "lib/deep/helpers.py", "wrangler.toml"]
    skipped = [
        "notes.txt",
        ".venv/lib/x.py",
        "venv/lib/x.py",
        "node_modules/pkg/x.py",
        "python_modules/pkg/x.py",
        "src/__pycache__/x.py",
        "src/.cache/x.py",
        ".hidden.py",
        "state/objects/x.py",
        "env311/lib/x.py",
    ]
    for relative in kept + skipped:
        _touch(tmp_path / relative)
    _touch(tmp_path / "env311" / "pyvenv.cfg")
    listed = snapshot(tmp_path, tmp_path / "state")
    assert sorted(listed) == sorted(str(tmp_path / relative) for relative in kept)
    # The filter agrees with is_app_source, which the watcher used before.
    for relative in kept + skipped:
        path = tmp_path / relative
        assert (str(path) in listed) == is_app_source(path, tmp_path, tmp_path / "state")


def test_changed_files_are_the_added_modified_and_removed_ones(tmp_path):
    from dosim.dev.reload import changed_files

    before = {"a.py": (1, 10), "b.py": (1, 10), "c.py": (1, 10)}
    after = {"a.py": (1, 10), "b.py": (2, 10), "d.py": (1, 1)}
    assert changed_files(before, after) == {"b.py", "c.py", "d.py"}
    assert changed_files(after, after) == set()


def test_the_watcher_reports_a_burst_of_changes_once_and_stops_when_told(tmp_path, monkeypatch):
    import asyncio
    import threading

    from dosim.dev import reload

    listed = threading.Event()
    real_snapshot = reload.snapshot

    def snapshot(*args):
        found = real_snapshot(*args)
        listed.set()
        return found

    monkeypatch.setattr(reload, "snapshot", snapshot)

    (tmp_path / "worker.py").write_text("VERSION = 1\n")
    (tmp_path / "helpers.py").write_text("X = 1\n")
    calls: list[list[str]] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        reported = asyncio.Event()

        async def on_change(paths: list[str]) -> None:
            calls.append(paths)
            reported.set()

        task = asyncio.ensure_future(
            reload.watch(tmp_path, None, on_change, stop, poll_seconds=0.05)
        )
        while not listed.is_set():  # the listing the changes are compared with
            await asyncio.sleep(0.01)
        (tmp_path / "worker.py").write_text("VERSION = 22\n")
        (tmp_path / "helpers.py").unlink()
        (tmp_path / "new.py").write_text("")
        (tmp_path / "readme.txt").write_text("not a source")
        await asyncio.wait_for(reported.wait(), 10)
        await asyncio.sleep(0.3)  # more listings: nothing else to report
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())
    assert calls == [sorted(str(tmp_path / name) for name in ("helpers.py", "new.py", "worker.py"))]


def test_a_slow_listing_lengthens_the_pause_so_watching_stays_cheap():
    from dosim.dev.reload import POLL_SECONDS, pause_after

    assert pause_after(0.0001) == POLL_SECONDS
    assert pause_after(0.0001, 0.05) == 0.05
    # A listing of 0.1 s (a huge folder): at most 5% of the time is spent listing.
    assert pause_after(0.1) == pytest.approx(1.9)
