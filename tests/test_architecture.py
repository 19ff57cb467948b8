"""The shape of the package, guarded: layers, no import cycles, adapters use public names.

The picture these tests hold the code to is ARCHITECTURE.md at the top of the repository.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import dosim

ROOT = Path(__file__).resolve().parent.parent
# The installed package: src/dosim here, site-packages inside Pyodide (whose run copies only
# tests/ and examples/), so the layer checks run on both.
PACKAGE = Path(dosim.__file__).resolve().parent

# The picture in ARCHITECTURE.md, top to bottom. A module imports only modules below it
# (a package's modules import each other freely; a package counts as one entry).
PICTURE = {
    "app": ("dosim.app", "dosim.objects", "dosim.loader"),
    "runtime": (
        "dosim.js",
        "dosim.bindings",
        "dosim.namespaces",
        "dosim.stubs",
        "dosim.host",
        "dosim.context",
        "dosim.alarms",
        "dosim.websockets",
        "dosim.faults",
    ),
    "platform": ("dosim.workers",),
    "leaves": (
        "dosim.storage",
        "dosim.config",
        "dosim.migrations",
        "dosim.bindingconfig",
        "dosim.cpulimit",
        "dosim.serialization",
        "dosim.ids",
        "dosim.clock",
        "dosim.gates",
        "dosim.trace",
        "dosim.current",
        "dosim.settle",
        "dosim.eager",
        "dosim.boundary",
        "dosim.ffi",
        "dosim.errors",
        "dosim.compat",
    ),
}
ADAPTERS = ("dosim.cli", "dosim.dev", "dosim.testing")
ORDER = [name for names in PICTURE.values() for name in names]
LAYER = {name: layer for layer, names in PICTURE.items() for name in names}

# Private names of other libraries that adapters rely on, with the reason.
FOREIGN_PRIVATES = {
    "_fixtureinfo": "pytest's item attribute; pytest plugins read fixture names from it",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    # A wheel also carries the starter apps (dosim/_examples, for ``dosim new``): app code,
    # not part of the package's layers.
    return {
        _module_name(path): path
        for path in sorted(PACKAGE.rglob("*.py"))
        if "_examples" not in path.relative_to(PACKAGE).parts
    }


def _is_adapter(module: str) -> bool:
    return any(module == a or module.startswith(a + ".") for a in ADAPTERS)


def _entry(module: str) -> str:
    """The picture's entry for a module (its package's entry for a submodule)."""
    if module == "dosim":
        return "dosim.app"  # the package's __init__ re-exports the app layer
    for entry in sorted(ORDER, key=len, reverse=True):
        if module == entry or module.startswith(entry + "."):
            return entry
    raise AssertionError(f"{module} is not in the picture: add it to PICTURE and ARCHITECTURE.md")


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside.update(id(child) for child in ast.walk(node))
    return inside


def _function_nodes(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inside.update(id(child) for child in ast.walk(node) if child is not node)
    return inside


def _imported(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The dosim modules an import statement loads (most specific name that is a module)."""
    known = _modules()
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == "dosim"]
    if node.level:
        base = module.split(".")
        if path.name != "__init__.py":
            base = base[:-1]
        base = base[: len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "dosim":
        return []
    found = []
    for alias in node.names:
        candidate = f"{target}.{alias.name}"
        found.append(candidate if candidate in known else target)
    return found


def _imports(module: str, path: Path) -> list[tuple[str, bool, int]]:
    """(imported dosim module, at function level?, line) for each runtime import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = _type_checking_nodes(tree)
    in_function = _function_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in typing_only:
            for target in _imported(module, path, node):
                found.append((target, id(node) in in_function, node.lineno))
    return found


def _core() -> dict[str, Path]:
    return {name: path for name, path in _modules().items() if not _is_adapter(name)}


def test_the_core_has_no_function_level_dosim_imports():
    hidden = [
        f"{name} (line {line}) imports {target}"
        for name, path in _core().items()
        for target, nested, line in _imports(name, path)
        if nested
    ]
    assert hidden == []


def test_core_imports_point_down_the_picture():
    upward = []
    for name, path in _core().items():
        source = _entry(name)
        for target, _, _ in _imports(name, path):
            if name == "dosim":
                continue  # the package's __init__ may re-export any public module
            destination = _entry(target)
            if destination != source and ORDER.index(destination) < ORDER.index(source):
                upward.append(
                    f"{name} ({LAYER[source]}) -> {target} ({LAYER[destination]}), "
                    "which is above it"
                )
    assert upward == []


def test_the_core_never_imports_an_adapter():
    wrong = [
        f"{name} -> {target}"
        for name, path in _core().items()
        for target, _, _ in _imports(name, path)
        if _is_adapter(target)
    ]
    assert wrong == []


def test_core_modules_form_a_dag():
    graph = {
        name: {t for t, nested, _ in _imports(name, path) if not nested and t != name}
        for name, path in _core().items()
    }
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == "done":
            return
        if state.get(node) == "open":
            cycle = trail[trail.index(node) :] + [node]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            # A package imports its submodules; a submodule importing its package's
            # __init__ only to reach a sibling is the same edge seen from below.
            if node.startswith(target + "."):
                continue
            visit(target, [*trail, node])
        state[node] = "done"

    for name in sorted(graph):
        visit(name, [])


def test_the_core_imports_only_the_standard_library():
    outside = []
    for name, path in _core().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                tops = [(node.module or "").split(".")[0]]
            else:
                continue
            for top in tops:
                if top not in sys.stdlib_module_names and top not in ("dosim", "js"):
                    outside.append(f"{name}: {top}")
    # ``js`` is Pyodide's own module, imported only when running inside Pyodide.
    assert outside == []


@pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses inside Pyodide")
def test_importing_dosim_loads_nothing_outside_the_standard_library():
    script = (
        "import sys; before = set(sys.modules); import dosim; "
        "print('\\n'.join(sorted(set(sys.modules) - before)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    # workers, js, asgi and pyodide are dosim's own aliases for app code (dosim.loader).
    allowed = set(sys.stdlib_module_names) | {"dosim", "workers", "js", "asgi", "pyodide"}
    foreign = sorted(m for m in loaded if m.split(".")[0] not in allowed)
    assert "dosim.app" in loaded  # the import really happened in the child
    assert foreign == []


def _adapter_files() -> list[Path]:
    files = [path for name, path in _modules().items() if _is_adapter(name)]
    for folder in ("docs/sandbox/src", "hooks", "tools", "bench"):
        files.extend(sorted((ROOT / folder).rglob("*.py")))
    # Installed JavaScript tooling (npm packages under tools/) is not ours to check.
    return [path for path in files if path.exists() and "node_modules" not in path.parts]


def _private_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Attribute):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls", "sys", "os")):
                name = node.attr
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
            "getattr",
            "setattr",
            "hasattr",
        ):
            if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                name = node.args[1].value if isinstance(node.args[1].value, str) else None
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dosim"):
            found.extend(
                f"{path.relative_to(ROOT)}:{node.lineno} imports {a.name}"
                for a in node.names
                if a.name.startswith("_")
            )
        if name and name.startswith("_") and not name.startswith("__"):
            if name not in FOREIGN_PRIVATES:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} uses .{name}")
    return found


@pytest.mark.skipif(
    not (ROOT / "docs").is_dir(), reason="the Pyodide run copies only tests/ and examples/"
)
def test_no_adapter_touches_a_private_name():
    uses = [use for path in _adapter_files() for use in _private_uses(path)]
    assert uses == []


def test_every_core_module_is_in_the_picture():
    core = _core()
    assert {"dosim.app", "dosim.host", "dosim.websockets.sockets"} <= set(core)
    for name in core:
        _entry(name)
