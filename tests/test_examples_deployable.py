"""Every starter app uses only names the platform has, so it deploys unchanged.

Names imported from ``workers`` must be exports of the published ``workers-runtime-sdk``;
names from ``js`` must be JavaScript globals Python Workers use; calls on ``self.ctx``,
``ctx.storage`` (and its ``sql`` / ``kv``) and on namespaces in ``self.env`` must be
platform APIs (spec). App modules must not import ``dosim`` at all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from platform_surface import (
    CTX_MEMBERS,
    D1_DATABASE_MEMBERS,
    JS_NAMES,
    KV_MEMBERS,
    KV_NAMESPACE_MEMBERS,
    NAMESPACE_MEMBERS,
    R2_BUCKET_MEMBERS,
    SDK_NAMES,
    SQL_MEMBERS,
    STORAGE_MEMBERS,
)

from dosim.config import load_config

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# What wrangler uploads: the Python modules of the folder of `main` (src/ in every starter).
APP_MODULES = sorted(
    path
    for app in EXAMPLES.iterdir()
    if (app / "wrangler.toml").is_file()
    for path in load_config(app).main.parent.rglob("*.py")
    if not path.name.startswith("test_") and path.name != "conftest.py"
)
KINDS = {"ctx": CTX_MEMBERS, "storage": STORAGE_MEMBERS, "sql": SQL_MEMBERS, "kv": KV_MEMBERS}
BINDING_KINDS = {"kv": KV_NAMESPACE_MEMBERS, "r2": R2_BUCKET_MEMBERS, "d1": D1_DATABASE_MEMBERS}


def env_kinds(path: Path) -> dict[str, str]:
    """Binding name -> kind (``"kv"``, ``"r2"``, ``"d1"``) for the app holding ``path``."""
    app = next(parent for parent in path.parents if (parent / "wrangler.toml").is_file())
    return {b.name: b.type for b in load_config(app).other_bindings if b.type in BINDING_KINDS}


def chain(node: ast.AST) -> list[str] | None:
    """``self.ctx.storage.get`` -> ``["self", "ctx", "storage", "get"]``."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


class PlatformUse(ast.NodeVisitor):
    """Collects (kind, member, line) for every platform object member an app touches."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.uses: list[tuple[str, str, int]] = []
        self.aliases: dict[str, str] = {}  # local name -> kind
        self.env = env or {}  # binding name -> "kv" / "r2" / "d1"; other names: namespaces

    def kind_of(self, parts: list[str]) -> tuple[str | None, list[str]]:
        """Resolve the leading part of a chain to a kind, returning the members after it."""
        if parts[:2] == ["self", "ctx"] or parts[:1] == ["ctx"]:
            kind, rest = "ctx", parts[2:] if parts[0] == "self" else parts[1:]
        elif ".".join(parts[:2]) in self.aliases:  # self.sql = ctx.storage.sql
            kind, rest = self.aliases[".".join(parts[:2])], parts[2:]
        elif parts[0] in self.aliases:
            kind, rest = self.aliases[parts[0]], parts[1:]
        elif parts[:2] == ["self", "env"] and len(parts) >= 3 and parts[2].isupper():
            return "binding:" + self.env.get(parts[2], "namespace"), parts[3:]
        else:
            return None, []
        while rest and kind in ("ctx", "storage") and rest[0] in ("storage", "sql", "kv"):
            if kind == "ctx" and rest[0] != "storage":
                break
            self.uses.append((kind, rest[0], 0))
            kind, rest = rest[0], rest[1:]
        return kind, rest

    def visit_Assign(self, node: ast.Assign) -> None:
        parts = chain(node.value)
        target = chain(node.targets[0]) if len(node.targets) == 1 else None
        if parts and target and (len(target) == 1 or target[0] == "self"):
            kind, rest = self.kind_of(parts)
            if kind in KINDS and not rest:
                self.aliases[".".join(target)] = kind
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        parts = chain(node)
        if parts:
            kind, rest = self.kind_of(parts)
            if kind is not None and rest:
                self.uses.append((kind, rest[0], node.lineno))
            return  # the whole chain is handled; do not revisit its prefixes
        self.generic_visit(node)


def imported(tree: ast.Module, module: str) -> list[tuple[str, int]]:
    return [
        (alias.name, node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == module
        for alias in node.names
    ]


def test_there_are_apps_to_check():
    assert len({path.parent for path in APP_MODULES}) >= 2


@pytest.mark.parametrize("path", APP_MODULES, ids=lambda p: p.relative_to(EXAMPLES).as_posix())
def test_app_imports_only_platform_names(path):
    tree = ast.parse(path.read_text(), str(path))
    unknown = [f"workers.{n} (line {line})" for n, line in imported(tree, "workers")]
    unknown = [u for u in unknown if u.split(" ")[0][len("workers.") :] not in SDK_NAMES]
    unknown += [f"js.{n} (line {line})" for n, line in imported(tree, "js") if n not in JS_NAMES]
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        unknown += [f"{n} (line {node.lineno})" for n in names if n.split(".")[0] == "dosim"]
    assert unknown == [], f"{path}: names Cloudflare does not have: {unknown}"


@pytest.mark.parametrize("path", APP_MODULES, ids=lambda p: p.relative_to(EXAMPLES).as_posix())
def test_app_calls_only_platform_apis(path):
    visitor = PlatformUse(env_kinds(path))
    visitor.visit(ast.parse(path.read_text(), str(path)))
    allowed = {**KINDS, "binding:namespace": NAMESPACE_MEMBERS}
    allowed |= {f"binding:{kind}": members for kind, members in BINDING_KINDS.items()}
    wrong = [
        f"{kind}.{member} (line {line})"
        for kind, member, line in visitor.uses
        if member not in allowed[kind]
    ]
    assert wrong == [], f"{path}: not platform APIs: {wrong}"


def test_checker_catches_a_dosim_only_name():
    visitor = PlatformUse()
    visitor.visit(ast.parse("class A:\n    def f(self):\n        self.ctx.storage.snapshot()\n"))
    assert ("storage", "snapshot", 3) in visitor.uses


def test_checker_follows_aliases_on_self():
    source = "def f(self, ctx):\n    self.sql = ctx.storage.sql\n    self.sql.run('x')\n"
    visitor = PlatformUse()
    visitor.visit(ast.parse(source))
    assert ("sql", "run", 3) in visitor.uses


def test_checker_reads_each_binding_by_its_kind():
    source = "def f(self):\n    self.env.FILES.upload('k')\n    self.env.ROOMS.getByName('a')\n"
    visitor = PlatformUse({"FILES": "r2"})
    visitor.visit(ast.parse(source))
    assert visitor.uses == [("binding:r2", "upload", 2), ("binding:namespace", "getByName", 3)]
    assert "upload" not in R2_BUCKET_MEMBERS
