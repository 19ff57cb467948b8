"""Importing an app's code: its wrangler config and main module, with ``workers`` and ``js``.

App code imports ``workers`` and ``js`` as it does on Cloudflare;
:func:`install_workers_alias` makes those names resolve to dosim's. The main module is
imported once per file version (:func:`load_main_module`), with its folder on
``sys.path`` while it imports so sibling modules import as they do on Cloudflare;
:func:`forget_app_modules` makes the next load import everything afresh (``dosim dev``'s
reload). Configs are parsed once per file version too (:func:`load_config_cached`).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

from . import ffi, workers
from . import js as js_names
from .boundary import relaxed_call
from .clock import install_time_patch
from .config import load_config
from .js.facade import APP_OVERRIDES, JsFacade

__all__ = [
    "load_main_module",
    "forget_app_modules",
    "install_workers_alias",
    "load_config_cached",
]

_loaded_modules: dict[tuple[str, float], Any] = {}
_loaded_configs: dict[tuple[str, str | None], Any] = {}
_resolved_mains: dict[str, Path] = {}
"""A main file's path as given → resolved: a test suite loads the same app per test, and
resolving walks every folder of the path (an ``lstat`` each). Forgotten on reload."""


def load_config_cached(path: Path, environment: str | None) -> Any:
    """Parse a config once per file version (a test suite loads the same app per test).

    Args:
        path: The config file or the folder holding it.
        environment: A ``[env.<name>]`` section to apply, or ``None``.
    """
    # The absolute path, not the resolved one, keys the cache: resolving costs a system
    # call per folder, and two spellings of one file at worst parse it twice.
    key = (str(path.absolute()), environment)
    cached = _loaded_configs.get(key)
    if cached is not None:
        config, stamp = cached
        try:
            if config.path.stat().st_mtime_ns == stamp:
                return config
        except OSError:
            pass
    config = load_config(path, env=environment) if environment else load_config(path)
    _loaded_configs[key] = (config, config.path.stat().st_mtime_ns)
    return config


def load_main_module(path: Path, *, fresh: bool = False) -> Any:
    """Import a Worker's main module (once per file version) with ``workers`` available.

    The module's folder is put on ``sys.path`` while it imports, so sibling modules import
    as they do on Cloudflare (``from helpers import x``).

    Args:
        path: The ``main`` file from ``wrangler.toml``.
        fresh: Import again even if the file did not change, and forget the modules
            imported from its folder (a reload after a sibling module changed).

    Returns:
        The imported module.
    """
    given = str(path.absolute())
    resolved = _resolved_mains.get(given)
    if resolved is None or fresh:
        resolved = _resolved_mains[given] = path.resolve()
    path = resolved
    key = (str(path), path.stat().st_mtime)
    if fresh:
        forget_app_modules(path.parent)
    cached = _loaded_modules.get(key)
    if cached is not None:
        return cached
    install_workers_alias()
    install_time_patch()
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    module_name = f"_dosim_app_{digest}_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    folder = str(path.parent)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    finally:
        sys.path.remove(folder)
    _loaded_modules[key] = module
    return module


_NOT_APP_CODE = frozenset({"site-packages", "dist-packages", "python_modules", "node_modules"})
"""Folders inside an app's folder that hold installed packages, not the app's own code."""


def _is_app_code(file: Path, folder: Path) -> bool:
    # Decided by the path inside the app's folder only: Pyodide's sys.prefix is "/", which
    # holds every folder, so "under the interpreter's prefix" cannot tell code apart.
    if not file.is_relative_to(folder):
        return False
    parts = file.relative_to(folder).parts[:-1]
    return not any(part.startswith(".") or part in _NOT_APP_CODE for part in parts)


def forget_app_modules(folder: Path) -> None:
    """Make an app's code import afresh: forget the modules imported from under ``folder``.

    Drops the cached main modules and every module in :data:`sys.modules` that is the
    app's own code: its file is in ``folder`` or below it, but not in an environment
    (a virtualenv, ``site-packages``, pywrangler's ``python_modules``, a hidden folder
    such as ``.venv``) and not dosim's own (nor the ``workers``/``js`` names it
    provides). The next :meth:`App.from_config` then re-imports siblings too (``from
    helpers import x``). Used by ``dosim dev`` when a source file changes.

    Args:
        folder: The app's folder.
    """
    folder = folder.resolve()
    _resolved_mains.clear()
    for key in [k for k in _loaded_modules if Path(k[0]).is_relative_to(folder)]:
        del _loaded_modules[key]
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("dosim", "workers", "js", "pyodide"):
            continue
        file = getattr(module, "__file__", None)
        if not file:
            continue
        try:
            if _is_app_code(Path(file).resolve(), folder):
                del sys.modules[name]
        except (OSError, ValueError):
            continue


class _AsgiAlias:
    """Finds ``asgi`` when nothing on ``sys.path`` does: it is :mod:`dosim.workers.asgi`."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "asgi":
            return None
        return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec: Any) -> None:
        return None  # the default module; exec_module swaps in the real one

    def exec_module(self, module: Any) -> None:
        sys.modules["asgi"] = workers.asgi  # what ``import asgi`` then returns


def install_workers_alias() -> None:
    """Make ``import workers`` (and ``from js import WebSocketPair``) work for app code.

    ``workers`` and its submodules (``workers.request``, ``workers.entrypoints``, ...)
    resolve to :mod:`dosim.workers` and its modules. Outside Pyodide, ``js`` resolves to
    :mod:`dosim.js`; inside Pyodide only the Workers-only names
    (:data:`dosim.js.PYODIDE_ADDITIONS`) are added to the real ``js``, whose globals
    (``Date``, ``JSON``, ...) Pyodide itself relies on.
    """
    sys.modules["workers"] = workers
    # Submodules too, as the same objects: ``import workers.request`` would otherwise load
    # dosim's file a second time under another name (and fail on its relative imports).
    for name, module in list(sys.modules.items()):
        if name.startswith("dosim.workers."):
            sys.modules["workers." + name.removeprefix("dosim.workers.")] = module
    # The SDK also ships its ASGI adapter as a top-level ``asgi`` module; an ``asgi``
    # module of the app's own still wins, so the alias is found last.
    if not any(isinstance(finder, _AsgiAlias) for finder in sys.meta_path):
        sys.meta_path.append(_AsgiAlias())
    if sys.platform == "emscripten":
        real = sys.modules.get("js")
        if isinstance(real, JsFacade):
            return
        import js  # type: ignore[import-not-found]

        for name in js_names.PYODIDE_ADDITIONS:  # Pyodide uses the real globals itself
            setattr(js, name, getattr(js_names, name))
        overrides = {name: getattr(js_names, name) for name in APP_OVERRIDES}
        sys.modules["js"] = JsFacade(js, overrides)
    else:
        sys.modules.setdefault("js", js_names)
        _install_pyodide_alias()


def _install_pyodide_alias() -> None:
    """Outside Pyodide, ``pyodide`` and ``pyodide.ffi`` resolve to dosim's model of them.

    A real ``pyodide`` package on the path (unlikely outside Pyodide) is left alone.
    """
    if "pyodide" in sys.modules or importlib.util.find_spec("pyodide") is not None:
        return
    package = types.ModuleType("pyodide", "dosim's stand-in for Pyodide's package (CPython).")
    package.__path__ = []  # a package, so ``import pyodide.ffi`` looks in sys.modules
    package.__version__ = ffi.PYODIDE_VERSION  # type: ignore[attr-defined]
    package.ffi = ffi  # type: ignore[attr-defined]
    code = types.ModuleType("pyodide.code", "dosim's stand-in for pyodide.code (CPython).")
    code.relaxed_call = relaxed_call  # type: ignore[attr-defined]
    package.code = code  # type: ignore[attr-defined]
    sys.modules["pyodide"] = package
    sys.modules["pyodide.ffi"] = ffi
    sys.modules["pyodide.code"] = code
