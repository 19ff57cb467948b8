"""Every starter is laid out as Cloudflare's Python templates are, so pywrangler takes it.

``wrangler.toml`` at the app's root with ``main = "src/entry.py"`` (wrangler uploads the
modules of main's folder, so tests and local state stay out of the bundle), a
``pyproject.toml`` beside it (pywrangler looks for it first, and vendors its
``dependencies``), tests in ``tests/``, a ``.gitignore`` for what pywrangler and dosim
write, and a README whose commands run in the app's own folder.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from dosim.config import load_config

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
APPS = sorted(path.parent for path in EXAMPLES.glob("*/wrangler.toml"))
IGNORED = {".venv-workers/", "python_modules/", "pylock.toml", ".dosim/"}


def test_there_are_starters():
    assert len(APPS) >= 7


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.name)
def test_the_entry_module_is_src_entry_py_and_only_app_code_is_beside_it(app):
    config = load_config(app)
    assert config.main == app / "src" / "entry.py"
    assert "python_workers" in config.compatibility_flags
    uploaded = sorted(p.name for p in config.main.parent.rglob("*") if p.is_file())
    assert not [name for name in uploaded if name.startswith("test_") or name == "conftest.py"]
    assert [p.name for p in app.glob("*.py")] == []  # nothing left at the root


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.name)
def test_tests_live_in_tests(app):
    assert (app / "tests" / f"test_{app.name}.py").is_file()


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.name)
def test_pyproject_declares_the_project_and_a_dev_group(app):
    project = tomllib.loads((app / "pyproject.toml").read_text())
    assert project["project"]["name"] == load_config(app).name
    assert isinstance(project["project"]["dependencies"], list)
    dev = " ".join(project["dependency-groups"]["dev"])
    assert "dosim" in dev and "pytest" in dev and "workers-py" in dev
    assert project["tool"]["uv"]["sources"]["dosim"]["path"] == "../.."
    assert project["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.name)
def test_gitignore_keeps_out_what_pywrangler_and_dosim_write(app):
    assert IGNORED <= set((app / ".gitignore").read_text().split())


@pytest.mark.parametrize("app", APPS, ids=lambda p: p.name)
def test_readme_commands_run_in_the_apps_own_folder(app):
    readme = (app / "README.md").read_text()
    assert not re.search(r"\bexamples/", readme), "commands must not name examples/<app>"
    assert "uv run pytest" in readme and "uv run pywrangler deploy" in readme
    assert "pip install dosim" not in readme  # dosim is not on PyPI yet


def test_one_starter_declares_a_registry_package_and_imports_it():
    declared = {
        app.name: tomllib.loads((app / "pyproject.toml").read_text())["project"]["dependencies"]
        for app in APPS
    }
    assert declared["seat_booking"] == ["marshmallow>=4"]
    assert "from marshmallow import" in (EXAMPLES / "seat_booking/src/entry.py").read_text()
