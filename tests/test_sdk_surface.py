"""dosim's ``workers`` module against the real SDK's source: same modules, names, methods.

The pinned SDK is ``workers-runtime-sdk`` 1.9.5 from PyPI (wheel
``workers_runtime_sdk-1.9.5-py3-none-any.whl``, sha256 ``f2b91266...287fef``, the hash
``nox -s sdk_surface`` checks when it downloads it). Point ``DOSIM_SDK_DIR`` at the
unzipped wheel (the folder holding ``workers/``) to run these tests; the nox session does
that, and sets ``DOSIM_SDK_REQUIRED=1`` so that a missing folder fails instead of
skipping. The tests stay offline.

The SDK's modules import ``js`` and ``pyodide`` and only run inside Pyodide on workerd, so
they are read with ``ast`` and never imported. For every module ``workers/<m>.py`` the
tests check that:

* every public name it defines (functions, classes, assignments, names its module
  ``__getattr__`` answers) and every name in its ``__all__`` exists on dosim's
  ``workers.<m>``;
* every public class's methods and properties exist on dosim's class of the same name,
  with the same kind (property or method, ``async`` or not) and compatible parameters
  (the same names in the same positions, defaults where the SDK has them, keyword-only
  parameters accepted); ``TypedDict`` keys and dataclass fields match.

Deliberate differences are listed below (:data:`MISSING_NAMES`, :data:`MEMBER_DIFFERENCES`),
each with its reason, and on the Differences page (docs/differences.md, "The ``workers``
module"). An entry that stops being needed fails the test too, so the lists stay exact.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import sys
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path

import pytest

import dosim.workers  # noqa: F401 - installs nothing; the alias below needs the package
from dosim.loader import install_workers_alias

SDK_DIR_ENV = "DOSIM_SDK_DIR"
REQUIRED_ENV = "DOSIM_SDK_REQUIRED"
SDK_VERSION = "1.9.5"


def _sdk_root() -> Path | None:
    value = os.environ.get(SDK_DIR_ENV)
    root = Path(value) if value else None
    if root is not None and (root / "workers" / "__init__.py").is_file():
        return root
    if os.environ.get(REQUIRED_ENV) == "1":
        pytest.fail(
            f"{SDK_DIR_ENV}={value!r} does not hold the unzipped workers-runtime-sdk "
            f"{SDK_VERSION} wheel (no workers/__init__.py there); run `nox -s sdk_surface`",
            pytrace=False,
        )
    return None


SDK_ROOT = _sdk_root()
needs_sdk = pytest.mark.skipif(
    SDK_ROOT is None,
    reason=(
        f"set {SDK_DIR_ENV} to the unzipped workers-runtime-sdk {SDK_VERSION} wheel "
        "(`nox -s sdk_surface` downloads it and runs these tests)"
    ),
)

# -- deliberate differences ---------------------------------------------------------------
# (module, name): why dosim's workers.<module> does not have it. Mirrored on
# docs/differences.md.
MISSING_NAMES: dict[tuple[str, str], str] = {
    ("asgi", "env"): (
        "a FastAPI dependency built on first access; providing it would make dosim import "
        "FastAPI. Read request.scope['env'] instead"
    ),
    ("asgi", "logger"): "the SDK's logger object; dosim logs to 'dosim.asgi'",
    ("asgi", "run_in_background"): "an internal step of the SDK's streaming response",
    ("asgi", "close_stream_quietly"): "an internal step of the SDK's streaming response",
    ("asgi", "acquire_js_buffer"): "copies a Python buffer into JavaScript memory; no JS here",
    ("asgi", "request_to_scope"): "an internal step; dosim builds the same scope privately",
    ("asgi", "start_application"): "an internal step; lifespan runs inside asgi.fetch",
    ("asgi", "process_request"): "an internal step; the request runs inside asgi.fetch",
    ("asgi", "process_websocket"): "ASGI WebSocket routes are not simulated yet",
    ("wsgi", "logger"): "the SDK's logger object; dosim logs to 'dosim.wsgi'",
    ("asgi", "background_tasks"): "the SDK's set of running stream tasks (internal)",
    ("utils", "RESPONSE_ACCEPTED_TYPES"): "names of JavaScript body types; no JS here",
    ("utils", "import_sdk_javascript_module_async"): "loads the SDK's own .js files",
    ("utils", "get_compat_flag"): (
        "reads workerd's compatibility-flag module, whose values depend on the "
        "compatibility date; dosim does not model flags it does not use"
    ),
}

# (module, class, member): why dosim's class differs there. Mirrored on docs/differences.md.
JS_ONLY_REQUEST = (
    "workerd does not implement this CORS-related Request property (workerd "
    "src/workerd/api/http.h:819-828 at 6552d999c79ef651b5463c6d692d065a8ce6f859), so the "
    "SDK's property fails there; dosim leaves it out"
)
MEMBER_DIFFERENCES: dict[tuple[str, str, str], str] = {
    ("request", "Request", "credentials"): JS_ONLY_REQUEST,
    ("request", "Request", "destination"): JS_ONLY_REQUEST,
    ("request", "Request", "mode"): JS_ONLY_REQUEST,
    ("request", "Request", "referrer"): JS_ONLY_REQUEST,
    ("request", "Request", "referrer_policy"): JS_ONLY_REQUEST,
    ("request", "Request", "is_history_navigation"): JS_ONLY_REQUEST,
    ("entrypoints", "DurableObjectContext", "__init__"): (
        "the SDK wraps workerd's state object; dosim's runtime builds the context itself "
        "(DurableObjectState, a subclass), so app code never constructs one"
    ),
    ("entrypoints", "DurableObjectContext", "__getattr__"): (
        "the SDK forwards to the JavaScript state object; dosim's context has its members"
    ),
}

# Dunder methods whose presence matters to callers (the rest are implementation).
CHECKED_DUNDERS = frozenset(
    {
        "__init__",
        "__getitem__",
        "__setitem__",
        "__delitem__",
        "__contains__",
        "__iter__",
        "__len__",
        "__bool__",
        "__call__",
    }
)


# -- reading the SDK ----------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "positional_only", "positional", "var_positional", "keyword_only", "var_keyword"
    has_default: bool


@dataclass(frozen=True)
class Member:
    name: str
    kind: str  # "property", "method", "staticmethod", "classmethod"
    is_async: bool
    params: tuple[Param, ...]


@dataclass(frozen=True)
class SdkClass:
    name: str
    members: dict[str, Member]
    typed_keys: tuple[str, ...] | None  # TypedDict keys or dataclass fields, else None


def _module_names() -> list[str]:
    if SDK_ROOT is None:
        return []
    names = []
    for path in sorted((SDK_ROOT / "workers").rglob("*.py")):
        parts = path.relative_to(SDK_ROOT / "workers").with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _path(module: str) -> Path:
    assert SDK_ROOT is not None
    base = SDK_ROOT / "workers" / Path(*module.split(".")) if module else SDK_ROOT / "workers"
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _tree(module: str) -> ast.Module:
    return ast.parse(_path(module).read_text(encoding="utf-8"))


def _top_level(tree: ast.Module) -> list[ast.stmt]:
    """Module-level statements, looking into if/try blocks but not into functions."""
    found: list[ast.stmt] = []
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.If):
            pending[:0] = node.body + node.orelse
        elif isinstance(node, ast.Try):
            pending[:0] = node.body + [s for h in node.handlers for s in h.body] + node.orelse
        else:
            found.append(node)
    return found


def _getattr_names(function: ast.FunctionDef) -> set[str]:
    """The names a module-level ``__getattr__`` answers (string constants it compares to)."""
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Compare):
            for part in [node.left, *node.comparators]:
                for const in ast.walk(part):
                    if isinstance(const, ast.Constant) and isinstance(const.value, str):
                        names.add(const.value)
    return names


def _defined_names(module: str) -> set[str]:
    names: set[str] = set()
    for node in _top_level(_tree(module)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == "__getattr__":
                names |= _getattr_names(node)  # type: ignore[arg-type]
            else:
                names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names.add(target.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


def _dunder_all(module: str) -> list[str]:
    for node in _top_level(_tree(module)):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    return []


def _params(args: ast.arguments) -> tuple[Param, ...]:
    positional = [*args.posonlyargs, *args.args]
    defaults_from = len(positional) - len(args.defaults)
    params = [
        Param(
            arg.arg,
            "positional_only" if i < len(args.posonlyargs) else "positional",
            i >= defaults_from,
        )
        for i, arg in enumerate(positional)
    ]
    if args.vararg:
        params.append(Param(args.vararg.arg, "var_positional", False))
    params += [
        Param(arg.arg, "keyword_only", default is not None)
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    ]
    if args.kwarg:
        params.append(Param(args.kwarg.arg, "var_keyword", False))
    return tuple(params)


def _decorators(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    return {ast.unparse(d).split(".")[-1] for d in node.decorator_list}


def _classes(module: str) -> list[SdkClass]:
    found = []
    for node in _top_level(_tree(module)):
        if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
            continue
        members: dict[str, Member] = {}
        annotated = [
            s.target.id
            for s in node.body
            if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
        ]
        for item in node.body:
            if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if item.name.startswith("_") and item.name not in CHECKED_DUNDERS | {"__getattr__"}:
                continue
            decorators = _decorators(item)
            kind = next(
                (k for k in ("property", "staticmethod", "classmethod") if k in decorators),
                "method",
            )
            if "setter" in decorators:
                continue
            members[item.name] = Member(
                item.name,
                kind,
                isinstance(item, ast.AsyncFunctionDef),
                _params(item.args),
            )
        bases = {ast.unparse(b) for b in node.bases}
        dataclass_like = "dataclass" in {ast.unparse(d).split("(")[0] for d in node.decorator_list}
        typed_keys = tuple(annotated) if ("TypedDict" in bases or dataclass_like) else None
        found.append(SdkClass(node.name, members, typed_keys))
    return found


# -- reading dosim ------------------------------------------------------------------------
def _dosim_module(module: str):
    install_workers_alias()
    return importlib.import_module(f"workers.{module}" if module else "workers")


def _dosim_member(cls: type, name: str) -> Member | None:
    try:
        raw = inspect.getattr_static(cls, name)
    except AttributeError:
        return None
    if isinstance(raw, property):
        return Member(name, "property", False, ())
    kind = {staticmethod: "staticmethod", classmethod: "classmethod"}.get(type(raw), "method")
    function = raw.__func__ if kind != "method" else raw
    if not callable(function):
        return Member(name, "attribute", False, ())
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return Member(name, kind, inspect.iscoroutinefunction(function), ())
    params = []
    kinds = {
        inspect.Parameter.POSITIONAL_ONLY: "positional_only",
        inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
        inspect.Parameter.VAR_POSITIONAL: "var_positional",
        inspect.Parameter.KEYWORD_ONLY: "keyword_only",
        inspect.Parameter.VAR_KEYWORD: "var_keyword",
    }
    for p in signature.parameters.values():
        params.append(Param(p.name, kinds[p.kind], p.default is not inspect.Parameter.empty))
    return Member(name, kind, inspect.iscoroutinefunction(function), tuple(params))


def _incompatibilities(sdk: Member, ours: Member) -> list[str]:
    """Why a call written for the SDK's member could fail on dosim's (empty: compatible)."""
    if sdk.kind != ours.kind:
        return [f"is a {ours.kind} in dosim, a {sdk.kind} in the SDK"]
    if sdk.kind == "property":
        return []
    problems = []
    if sdk.is_async != ours.is_async:
        problems.append(("async" if sdk.is_async else "not async") + " in the SDK only")
    ours_positional = [p for p in ours.params if p.kind in ("positional_only", "positional")]
    ours_names = {p.name: p for p in ours.params}
    has_var_positional = any(p.kind == "var_positional" for p in ours.params)
    has_var_keyword = any(p.kind == "var_keyword" for p in ours.params)
    index = 0
    for param in sdk.params:
        if param.kind in ("positional_only", "positional"):
            mine = ours_positional[index] if index < len(ours_positional) else None
            index += 1
            if mine is None:
                if not has_var_positional:
                    problems.append(f"no positional parameter for {param.name!r}")
                continue
            if param.kind == "positional" and mine.name != param.name and not has_var_keyword:
                problems.append(f"parameter {index} is {mine.name!r}, the SDK's {param.name!r}")
            if param.kind == "positional" and mine.kind == "positional_only":
                if not has_var_keyword:
                    problems.append(f"{mine.name!r} is positional-only in dosim")
            if param.has_default and not mine.has_default:
                problems.append(f"{mine.name!r} has no default (the SDK's has one)")
        elif param.kind == "keyword_only":
            mine = ours_names.get(param.name)
            if (mine is None or mine.kind == "positional_only") and not has_var_keyword:
                problems.append(f"keyword {param.name!r} not accepted")
            elif mine is not None and param.has_default and not mine.has_default:
                problems.append(f"{param.name!r} has no default (the SDK's has one)")
        elif param.kind == "var_positional" and not has_var_positional:
            problems.append(f"no *{param.name}")
        elif param.kind == "var_keyword" and not has_var_keyword:
            problems.append(f"no **{param.name}")
    for extra in ours_positional[index:]:
        if not extra.has_default:
            problems.append(f"extra required parameter {extra.name!r}")
    for extra in ours.params:
        if extra.kind == "keyword_only" and not extra.has_default:
            if extra.name not in {p.name for p in sdk.params}:
                problems.append(f"extra required keyword {extra.name!r}")
    return problems


# -- the tests ----------------------------------------------------------------------------
MODULES = _module_names()


@needs_sdk
def test_the_sdk_folder_is_the_pinned_release():
    assert SDK_ROOT is not None
    infos = sorted(p.name for p in SDK_ROOT.glob("workers_runtime_sdk-*.dist-info"))
    assert infos == [f"workers_runtime_sdk-{SDK_VERSION}.dist-info"]
    assert {"", "asgi", "entrypoints", "workflows", "wsgi", "gateway.options"} <= set(MODULES)


@needs_sdk
@pytest.mark.parametrize("module", MODULES)
def test_every_public_name_of_the_sdk_module_exists_in_dosim(module):
    ours = _dosim_module(module)
    wanted = _defined_names(module) | set(_dunder_all(module))
    missing = sorted(
        name
        for name in wanted
        if not hasattr(ours, name) and (module or "workers", name) not in MISSING_NAMES
    )
    assert missing == [], f"workers.{module} lacks {missing}"


@needs_sdk
def test_the_missing_names_list_is_exact():
    stale = []
    for (module, name), _reason in MISSING_NAMES.items():
        sdk_module = "" if module == "workers" else module
        if name not in _defined_names(sdk_module) | set(_dunder_all(sdk_module)):
            stale.append(f"{module}.{name}: no longer in the SDK")
        elif hasattr(_dosim_module(sdk_module), name):
            stale.append(f"{module}.{name}: dosim has it now")
    assert stale == []


@needs_sdk
def test_the_top_level_asgi_module_is_workers_asgi():
    # The wheel's top-level asgi.py replaces itself with workers.asgi in sys.modules.
    assert "from workers import asgi" in (SDK_ROOT / "asgi.py").read_text(encoding="utf-8")
    _dosim_module("")
    sys.modules.pop("asgi", None)
    assert importlib.import_module("asgi") is _dosim_module("asgi")


def _functions(module: str) -> list[Member]:
    """The public module-level functions of an SDK module, as members."""
    return [
        Member(node.name, "method", isinstance(node, ast.AsyncFunctionDef), _params(node.args))
        for node in _top_level(_tree(module))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and not node.name.startswith("_")
    ]


def _function_cases() -> list[tuple[str, Member]]:
    return [
        (module, function)
        for module in MODULES
        for function in _functions(module)
        if (module or "workers", function.name) not in MISSING_NAMES
    ]


@needs_sdk
@pytest.mark.parametrize(
    ("module", "function"),
    _function_cases(),
    ids=[f"{m or 'workers'}.{f.name}" for m, f in _function_cases()],
)
def test_module_functions_take_the_sdks_parameters(module, function):
    ours = getattr(_dosim_module(module), function.name)
    holder = type("Holder", (), {function.name: staticmethod(ours)})
    mine = _dosim_member(holder, function.name)
    assert mine is not None
    mine = Member(mine.name, "method", mine.is_async, mine.params)
    assert _incompatibilities(function, mine) == [], f"workers.{module}.{function.name}"


def _class_cases() -> list[tuple[str, SdkClass]]:
    return [(module, cls) for module in MODULES for cls in _classes(module)]


@needs_sdk
@pytest.mark.parametrize(
    ("module", "sdk_class"),
    _class_cases(),
    ids=[f"{m or 'workers'}.{c.name}" for m, c in _class_cases()],
)
def test_public_class_members_match_the_sdk(module, sdk_class):
    ours = getattr(_dosim_module(module), sdk_class.name, None)
    if ours is None:
        pytest.skip(f"workers.{module}.{sdk_class.name} is a listed difference")
    problems = []
    for name, member in sdk_class.members.items():
        key = (module, sdk_class.name, name)
        if key in MEMBER_DIFFERENCES:
            continue
        if not isinstance(ours, type):
            problems.append(f"{name}: dosim's {sdk_class.name} is not a class")
            continue
        mine = _dosim_member(ours, name)
        if mine is None:
            problems.append(f"{name}: missing")
            continue
        problems += [f"{name}: {text}" for text in _incompatibilities(member, mine)]
    if sdk_class.typed_keys is not None:
        # Fields declared in this class's body: a dataclass also inherits its bases' fields,
        # so those must be among dosim's; TypedDict keys must be exactly the same.
        if is_dataclass(ours):
            keys = {f.name for f in fields(ours)}
            if not set(sdk_class.typed_keys) <= keys:
                problems.append(f"fields {sorted(keys)} lack some of {sdk_class.typed_keys}")
        elif set(getattr(ours, "__annotations__", {})) != set(sdk_class.typed_keys):
            problems.append(f"keys differ from the SDK's {sorted(sdk_class.typed_keys)}")
    assert problems == [], f"workers.{module}.{sdk_class.name}: {problems}"


@needs_sdk
def test_the_member_differences_list_is_exact():
    stale = []
    classes = {(m, c.name): c for m, c in _class_cases()}
    for module, cls, name in MEMBER_DIFFERENCES:
        sdk_class = classes.get((module, cls))
        if sdk_class is None or name not in sdk_class.members:
            stale.append(f"{module}.{cls}.{name}: no longer in the SDK")
            continue
        ours = getattr(_dosim_module(module), cls)
        mine = _dosim_member(ours, name)
        if mine is not None and not _incompatibilities(sdk_class.members[name], mine):
            if name != "__init__":
                stale.append(f"{module}.{cls}.{name}: dosim matches the SDK now")
    assert stale == []


@needs_sdk
@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("request", "Request"),
        ("response", "Response"),
        ("response", "FetchResponse"),
        ("formdata", "FormData"),
        ("blob", "Blob"),
        ("blob", "File"),
        ("entrypoints", "DurableObject"),
        ("entrypoints", "WorkerEntrypoint"),
        ("entrypoints", "WorkflowEntrypoint"),
        ("entrypoints", "DurableObjectContext"),
        ("utils", "HTTPMessageMapping"),
    ],
)
def test_the_classes_the_brief_names_are_read_from_the_sdk(module, name):
    # Guards the parser: a class the surface test is meant to cover must be seen in the SDK
    # and must exist in dosim (a refactor of the SDK that hides one would fail here).
    assert name in {c.name for c in _classes(module)}
    assert isinstance(getattr(_dosim_module(module), name), type)


# -- the checker itself (runs without the SDK) ---------------------------------------------
def _member(source: str) -> Member:
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    return Member(node.name, "method", isinstance(node, ast.AsyncFunctionDef), _params(node.args))


def _ours(function) -> Member:
    found = _dosim_member(type("Holder", (), {"f": function}), "f")
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("sdk", "ours", "problem"),
    [
        ("def f(self, a, b=1): ...", lambda self, a, b=1: None, None),
        ("def f(self, a, b=1): ...", lambda self, a, c=1: None, "parameter 3 is 'c'"),
        ("def f(self, a, b=1): ...", lambda self, a, b: None, "'b' has no default"),
        ("def f(self, a, /): ...", lambda self, other, /: None, None),
        ("def f(self, a): ...", lambda self, a, /: None, "positional-only"),
        ("def f(self, *, opt=None): ...", lambda self: None, "keyword 'opt' not accepted"),
        ("def f(self, *, opt=None): ...", lambda self, **kw: None, None),
        ("def f(self, *args): ...", lambda self, a: None, "no *args"),
        ("def f(self): ...", lambda self, extra: None, "extra required parameter 'extra'"),
        ("async def f(self): ...", lambda self: None, "async in the SDK only"),
    ],
)
def test_the_checker_flags_what_would_break_a_call(sdk, ours, problem):
    found = _incompatibilities(_member(sdk), _ours(ours))
    if problem is None:
        assert found == []
    else:
        assert any(problem in text for text in found), found
