"""Importing an app's code: the module cache and forgetting it for a reload."""

import importlib
import pkgutil
import sys

import dosim.workers
import workers
from dosim.loader import forget_app_modules, load_main_module


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
