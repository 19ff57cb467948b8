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
    JS_NAMES,
    KV_MEMBERS,
    NAMESPACE_MEMBERS,
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

    def __init__(self) -> None:
        self.uses: list[tuple[str, str, int]] = []
        self.aliases: dict[str, str] = {}  # local name -> kind

    def kind_of(self, parts: list[str]) -> tuple[str | None, list[str]]:
        """Resolve the leading part of a chain to a kind, returning the members after it."""
        if parts[:2] == ["self", "ctx"] or parts[:1] == ["ctx"]:
            kind, rest = "ctx", parts[2:] if parts[0] == "self" else parts[1:]
        elif ".".join(parts[:2]) in self.aliases:  # self.sql = ctx.storage.sql
            kind, rest = self.aliases[".".join(parts[:2])], parts[2:]
        elif parts[0] in self.aliases:
            kind, rest = self.aliases[parts[0]], parts[1:]
        elif parts[:2] == ["self", "env"] and len(parts) >= 3 and parts[2].isupper():
            return "namespace", parts[3:]
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
    visitor = PlatformUse()
    visitor.visit(ast.parse(path.read_text(), str(path)))
    allowed = {**KINDS, "namespace": NAMESPACE_MEMBERS}
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
