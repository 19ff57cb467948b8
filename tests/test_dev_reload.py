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
