"""pytest plugin: async tests without configuration, and the ``dosim_app`` fixture.

Registered through the ``pytest11`` entry point, so installing dosim is enough.

* ``async def test_...`` functions run on a fresh asyncio event loop each (unless another
  async plugin such as pytest-asyncio has claimed the test with its marker).
* ``dosim_app`` — a new :class:`dosim.App` per test, loaded from the app's wrangler config
  (or the path given by ``@pytest.mark.dosim_app("path")``), with in-memory storage, so
  tests never share state. It is closed after the test. The config is the nearest
  ``wrangler.toml``/``.jsonc``/``.json`` in the test file's folder or above it: beside
  the test (a single-folder app) or in the app's root when the tests are in ``tests/``.
"""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import pytest

from ..app import App
from ..config import CONFIG_FILE_NAMES
from ..loader import install_workers_alias

_app_folders: dict[Path, Path] = {}
"""Test folder → its app's folder, found once per session (every test of a file asks)."""


def pytest_configure(config: pytest.Config) -> None:
    """Make ``import workers`` resolve to dosim's facade before test modules import.

    Args:
        config: The pytest configuration.
    """
    install_workers_alias()
    _app_folders.clear()  # one session's answers (pytester runs sessions in one process)
    config.addinivalue_line(
        "markers", "dosim_app(path): load the dosim_app fixture from this wrangler.toml or folder"
    )
    config.addinivalue_line(
        "markers",
        "dosim_bindings(**bindings): env entries for the dosim_app fixture that replace or "
        "add to the config's (test doubles)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run coroutine test functions to completion on a fresh event loop.

    Args:
        pyfuncitem: The test item pytest is about to call.

    Returns:
        True when this plugin ran the test, None to let pytest (or another plugin) do it.
    """
    function = pyfuncitem.obj
    if not inspect.iscoroutinefunction(function):
        return None
    if pyfuncitem.get_closest_marker("asyncio") is not None:
        return None  # pytest-asyncio owns tests it marked
    names = pyfuncitem._fixtureinfo.argnames
    arguments = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(function(**arguments))
    return True


def find_app_folder(start: Path) -> Path:
    """The nearest folder at or above ``start`` that holds a wrangler config.

    An app's tests live beside its config (``worker.py``, ``wrangler.toml`` and
    ``test_app.py`` in one folder) or in a ``tests/`` folder of the app (the layout of
    Cloudflare's Python templates: ``src/entry.py``, ``tests/test_app.py``). The search
    stops at the project's root (the first folder with a ``pyproject.toml``); when no
    folder up to there has a config, ``start`` itself is returned, so that loading it
    reports the missing config.

    Args:
        start: The folder of a test file.

    Returns:
        The app's folder.
    """
    start = start.resolve()
    for folder in (start, *start.parents):
        if any((folder / name).is_file() for name in CONFIG_FILE_NAMES):
            return folder
        if (folder / "pyproject.toml").is_file():
            break
    return start


def _config_path(request: pytest.FixtureRequest) -> Path:
    marker = request.node.get_closest_marker("dosim_app")
    if marker is not None and marker.args:
        return Path(request.path.parent, marker.args[0])
    start = request.path.parent
    folder = _app_folders.get(start)
    if folder is None:
        folder = find_app_folder(start)
        if any((folder / name).is_file() for name in CONFIG_FILE_NAMES):
            _app_folders[start] = folder  # not cached when missing: looked for again
    return folder


@pytest.fixture
def dosim_app(request: pytest.FixtureRequest) -> Any:
    """A fresh app loaded from the app's wrangler config (beside the test file or above it).

    Storage is in memory and private to the test, and so are the app's KV namespaces, D1
    databases and R2 buckets (seed them through ``dosim_app.env``); the app is closed
    afterwards. Mark a test with ``@pytest.mark.dosim_app("path/to/app")`` to load
    another folder, and with ``@pytest.mark.dosim_bindings(NAME=double)`` to put a test
    double in ``env`` (closest marker wins).

    Args:
        request: pytest's fixture request (to find the test file and its markers).

    Yields:
        The :class:`dosim.App`.
    """
    doubles: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("dosim_bindings"))):
        doubles.update(marker.kwargs)
    app = App.from_config(_config_path(request), bindings=doubles)
    yield app
    app.close()
