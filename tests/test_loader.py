"""Importing an app's code: the module cache, forgetting it for a reload, both layouts."""

import importlib
import pkgutil
import sys

import pytest

import dosim.workers
import workers
from dosim import App
from dosim.loader import forget_app_modules, load_main_module
from dosim.testing.plugin import find_app_folder


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_forget_drops_the_apps_modules_in_subfolders_but_not_installed_packages(
    tmp_path, monkeypatch
):
    _write(tmp_path / "worker.py", "from lib.helpers import VALUE\nimport vendored\n")
    _write(tmp_path / "lib" / "__init__.py", "")
    _write(tmp_path / "lib" / "helpers.py", "VALUE = 1\n")
    site = tmp_path / ".venv" / "lib" / "python3" / "site-packages"
    _write(site / "vendored.py", "X = 1\n")
    _write(tmp_path / "python_modules" / "pinned.py", "Y = 1\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(tmp_path / "python_modules"))
    import pinned  # noqa: F401 - what pywrangler vendors for the app

    assert load_main_module(tmp_path / "worker.py").VALUE == 1
    assert {"lib.helpers", "vendored", "pinned"} <= set(sys.modules)
    try:
        _write(tmp_path / "lib" / "helpers.py", "VALUE = 2\n")
        forget_app_modules(tmp_path)
        assert "lib.helpers" not in sys.modules and "lib" not in sys.modules
        assert "vendored" in sys.modules and "pinned" in sys.modules
        assert "dosim.loader" in sys.modules
        assert load_main_module(tmp_path / "worker.py").VALUE == 2
    finally:
        for name in ("lib", "lib.helpers", "vendored", "pinned"):
            sys.modules.pop(name, None)


def test_main_module_is_imported_once_per_file_version(tmp_path):
    _write(tmp_path / "worker.py", "import random\nDRAW = random.random()\n")
    first = load_main_module(tmp_path / "worker.py")
    assert load_main_module(tmp_path / "worker.py") is first
    assert load_main_module(tmp_path / "worker.py", fresh=True) is not first


def test_every_workers_submodule_imports_as_the_same_object():
    names = [info.name for info in pkgutil.iter_modules(dosim.workers.__path__)]
    assert {"request", "response", "entrypoints", "fetch"} <= set(names)
    for name in names:
        module = importlib.import_module(f"workers.{name}")
        assert module is importlib.import_module(f"dosim.workers.{name}")
    assert importlib.import_module("workers.request").Request is workers.Request


APP_CONFIG = """\
name = "layout"
main = "{main}"
compatibility_date = "2025-11-01"
compatibility_flags = ["python_workers"]

[[durable_objects.bindings]]
name = "THINGS"
class_name = "Thing"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Thing"]
"""
APP_CODE = """\
from {sibling} import GREETING

from workers import DurableObject, Response, WorkerEntrypoint


class Thing(DurableObject):
    async def hello(self):
        return GREETING


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(await self.env.THINGS.getByName("a").hello())
"""


async def _greeting(folder):
    app = App.from_config(folder)
    try:
        return await (await app.fetch("/")).text()
    finally:
        app.close()


async def test_an_app_in_the_src_layout_imports_its_sibling_modules(tmp_path):
    # Cloudflare's Python templates: wrangler.toml at the root, main = "src/entry.py",
    # other modules beside it in src/ (they are uploaded from main's folder).
    _write(tmp_path / "wrangler.toml", APP_CONFIG.format(main="src/entry.py"))
    _write(tmp_path / "src" / "entry.py", APP_CODE.format(sibling="layout_src_greeting"))
    _write(tmp_path / "src" / "layout_src_greeting.py", 'GREETING = "from src/"\n')
    _write(tmp_path / "tests" / "test_app.py", "")
    try:
        assert await _greeting(tmp_path) == "from src/"
        assert await _greeting(tmp_path / "wrangler.toml") == "from src/"
    finally:
        sys.modules.pop("layout_src_greeting", None)


async def test_an_app_in_one_folder_still_loads(tmp_path):
    _write(tmp_path / "wrangler.toml", APP_CONFIG.format(main="worker.py"))
    _write(tmp_path / "worker.py", APP_CODE.format(sibling="layout_flat_greeting"))
    _write(tmp_path / "layout_flat_greeting.py", 'GREETING = "flat"\n')
    try:
        assert await _greeting(tmp_path) == "flat"
    finally:
        sys.modules.pop("layout_flat_greeting", None)


def test_forget_app_modules_from_the_app_root_covers_src(tmp_path):
    _write(tmp_path / "src" / "entry.py", "from layout_forget_helper import VALUE\n")
    _write(tmp_path / "src" / "layout_forget_helper.py", "VALUE = 1\n")
    try:
        assert load_main_module(tmp_path / "src" / "entry.py").VALUE == 1
        _write(tmp_path / "src" / "layout_forget_helper.py", "VALUE = 22\n")
        forget_app_modules(tmp_path)  # dosim dev watches the app's root
        assert "layout_forget_helper" not in sys.modules
        assert load_main_module(tmp_path / "src" / "entry.py").VALUE == 22
    finally:
        sys.modules.pop("layout_forget_helper", None)


def test_the_fixture_finds_the_config_beside_the_tests_or_above_them(tmp_path):
    _write(tmp_path / "app" / "wrangler.toml", APP_CONFIG.format(main="src/entry.py"))
    (tmp_path / "app" / "tests" / "unit").mkdir(parents=True)
    assert find_app_folder(tmp_path / "app" / "tests") == tmp_path / "app"
    assert find_app_folder(tmp_path / "app" / "tests" / "unit") == tmp_path / "app"
    assert find_app_folder(tmp_path / "app") == tmp_path / "app"
    _write(tmp_path / "flat" / "wrangler.jsonc", "{}")
    assert find_app_folder(tmp_path / "flat") == tmp_path / "flat"


def test_the_fixture_stops_looking_at_the_projects_root(tmp_path):
    _write(tmp_path / "wrangler.toml", APP_CONFIG.format(main="src/entry.py"))
    _write(tmp_path / "other" / "pyproject.toml", "")
    (tmp_path / "other" / "tests").mkdir()
    # No config in the project: the test's folder, which then fails to load, saying so.
    assert find_app_folder(tmp_path / "other" / "tests") == tmp_path / "other" / "tests"


def test_a_binding_to_a_function_says_it_binds_a_function_not_a_class(tmp_path):
    _write(tmp_path / "wrangler.toml", APP_CONFIG.format(main="worker.py"))
    _write(tmp_path / "worker.py", "def Thing(ctx, env):\n    return None\n")
    with pytest.raises(LookupError, match=r"'THINGS' binds a function, not a class") as raised:
        App.from_config(tmp_path)
    assert "worker.py" in str(raised.value) and "def Thing" in str(raised.value)


def test_a_binding_to_some_other_value_names_its_type(tmp_path):
    _write(tmp_path / "wrangler.toml", APP_CONFIG.format(main="worker.py"))
    _write(tmp_path / "worker.py", "Thing = 3\n")
    with pytest.raises(LookupError, match=r"'THINGS' binds an int, not a class"):
        App.from_config(tmp_path)


def test_a_binding_to_a_missing_name_still_says_it_is_not_defined(tmp_path):
    _write(tmp_path / "wrangler.toml", APP_CONFIG.format(main="worker.py"))
    _write(tmp_path / "worker.py", "")
    with pytest.raises(LookupError, match="does not define it"):
        App.from_config(tmp_path)
