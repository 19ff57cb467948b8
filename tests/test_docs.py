"""Every ```py block of the site is a test: linted with ruff, run, its output checked.

Blocks come from ``docs/``, ``tutorials/`` and ``examples/*/README.md`` (found with
pytest-examples' ``find_examples``, which sees only fences whose info string starts with
``py``). Each block

* is linted with ruff (the version pinned in ``noxfile.py``; top-level ``await`` allowed);
* runs as the browser sandbox runs it: compiled with ``ast.PyCF_ALLOW_TOP_LEVEL_AWAIT`` and
  awaited on an asyncio event loop;
* prints what its ``#>`` lines say, in order (a diff is shown on mismatch;
  ``pytest --update-examples`` rewrites the ``#>`` lines from what the block printed).

The fence line carries the policy, as ``key="value"`` settings (read by
``tools/fence_settings.py``, as the site's hooks read them):

* ``group="name"`` — blocks of one page with the same group run in page order, share
  their globals and their event loop, so a tutorial can build one app step by step;
* ``test="skip: reason"`` — the block is shown but never run (the reason is required).

The docs tests need Python >= 3.12 and the ``docs`` extra; ``nox -s docs_tests`` provides
both. Elsewhere this module skips itself.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import copy
import difflib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

if sys.version_info < (3, 12):  # pytest-examples' traceback code crashes on 3.11
    pytest.skip("the docs tests run on Python >= 3.12 (nox -s docs_tests)", allow_module_level=True)

pytest_examples = pytest.importorskip("pytest_examples")
from pytest_examples import CodeExample, EvalExample, find_examples  # noqa: E402
from pytest_examples.lint import FormatError, ruff_check  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tools package
from tools.fence_settings import FenceSettingError, parse_settings, skip_reason  # noqa: E402

SOURCES = [
    ROOT / "docs",
    ROOT / "tutorials",
    *sorted(ROOT.glob("examples/*/README.md")),
    ROOT / "src" / "dosim",  # docstrings: they become the API reference
]
TIMEOUT_SECONDS = 60
LINE_LENGTH = 80  # what a code block shows without scrolling on a 1280 px wide page
OUTPUT_LINE = re.compile(r"^\s*#>(?: (.*))?$")

# Lint rules for examples: pyflakes, pycodestyle, bugbear, pyupgrade, as for the package.
# F704 is "await outside function": top-level await is how the pages are meant to run.
RUFF_SELECT = ["E", "F", "W", "B", "UP"]
RUFF_IGNORE = ["F704", "PLE1142"]
# A block that continues a group uses names an earlier block defined (F821), and a group's
# first block may import what only later blocks use (F401).
RUFF_IGNORE_IN_GROUP = ["F821", "F401", "F811"]


def _collect() -> list[CodeExample]:
    found: list[CodeExample] = []
    for source in SOURCES:
        if source.exists():
            found.extend(find_examples(source))
    return sorted(found, key=lambda ex: (str(ex.path), ex.start_line))


EXAMPLES = [
    ex
    for ex in _collect()
    if not any(part == "sandbox" for part in ex.path.relative_to(ROOT).parts[:2])
]


def _example_id(example: CodeExample) -> str:
    return f"{example.path.relative_to(ROOT).as_posix()}:{example.start_line}"


# -- groups: shared globals and one event loop per (page, group) ---------------------------


@dataclass
class GroupState:
    """The running state of one group: which of its blocks ran, their globals and loop."""

    runner: asyncio.Runner
    globals: dict[str, Any]
    ran: list[int] = field(default_factory=list)


_groups: dict[tuple[Path, str], GroupState] = {}


def _group_members(example: CodeExample, group: str) -> list[CodeExample]:
    return [
        ex
        for ex in EXAMPLES
        if ex.path == example.path and parse_settings(ex.prefix).get("group") == group
    ]


@pytest.fixture(scope="module", autouse=True)
def _close_group_loops():
    yield
    for state in _groups.values():
        state.runner.close()
    _groups.clear()


# -- running one block -----------------------------------------------------------------


@dataclass
class Printed:
    """What one ``print`` call wrote, and the block line it was called from (or None)."""

    line: int | None
    text: str


def _compile(example: CodeExample) -> Any:
    tree = ast.parse(example.source, filename=str(example.path))
    # The block's first line is the line after the fence: tracebacks point into the page.
    ast.increment_lineno(tree, example.start_line)
    return compile(
        tree, str(example.path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )


def _run_block(example: CodeExample, state: GroupState) -> list[Printed]:
    """Run one block in ``state``'s globals and loop; return what it printed."""
    __tracebackhide__ = True
    printed: list[Printed] = []
    filename = str(example.path)
    real_print = builtins.print

    def capture(*args: Any, sep: str | None = " ", end: str | None = "\n", **_: Any) -> None:
        # Output goes under the top-level statement that caused it (a print inside a method
        # shows under the call), else under the innermost line of the block on the stack.
        frame, innermost, top = sys._getframe(1), None, None
        while frame is not None:
            if frame.f_code.co_filename == filename:
                innermost = innermost or frame
                if frame.f_code.co_name == "<module>":
                    top = frame
            frame = frame.f_back
        chosen = top or innermost
        line = chosen.f_lineno - example.start_line if chosen is not None else None
        text = (" " if sep is None else sep).join(map(str, args)) + ("\n" if end is None else end)
        printed.append(Printed(line, text))

    code = _compile(example)
    builtins.print = capture
    try:
        result = eval(code, state.globals)  # noqa: S307 - running the docs is the point
        if asyncio.iscoroutine(result):
            state.runner.run(asyncio.wait_for(result, TIMEOUT_SECONDS))
    finally:
        builtins.print = real_print
    return printed


def _output_lines(printed: list[Printed]) -> list[str]:
    return "".join(p.text for p in printed).splitlines()


def _expected_lines(source: str) -> list[str]:
    return [m.group(1) or "" for line in source.splitlines() if (m := OUTPUT_LINE.match(line))]


def _with_output(source: str, printed: list[Printed]) -> str:
    """``source`` with its ``#>`` lines replaced by what the block printed."""
    tree = ast.parse(source)
    statements = [node for node in ast.walk(tree) if isinstance(node, ast.stmt)]
    lines = source.splitlines()
    inserts: dict[int, tuple[int, list[str]]] = {}
    for item in printed:
        line = item.line if item.line is not None else len(lines)
        around = [s for s in statements if s.lineno <= line <= (s.end_lineno or s.lineno)]
        if around:
            innermost = max(around, key=lambda s: s.lineno)
            after, col = innermost.end_lineno or innermost.lineno, innermost.col_offset
        else:
            after, col = len(lines), 0
        inserts.setdefault(after, (col, []))[1].extend(item.text.splitlines() or [""])
    out: list[str] = []
    for number, text in enumerate(lines, start=1):
        if not OUTPUT_LINE.match(text):
            out.append(text)
        if number in inserts:
            col, texts = inserts[number]
            out.extend(" " * col + (f"#> {t}" if t else "#>") for t in texts)
    return "\n".join(out) + "\n"


def _lint(example: CodeExample, eval_example: EvalExample, grouped: bool) -> None:
    __tracebackhide__ = True
    ignore = RUFF_IGNORE + (RUFF_IGNORE_IN_GROUP if grouped else [])
    eval_example.set_config(
        ruff_line_length=LINE_LENGTH,
        ruff_select=RUFF_SELECT,
        ruff_ignore=ignore,
        target_version="py311",
    )
    # Printed output may be as wide as it is; the line limit is for code.
    checked = copy.copy(example)
    checked.source = (
        "\n".join(
            line[: len(line) - len(line.lstrip())] + "#>" if OUTPUT_LINE.match(line) else line
            for line in example.source.splitlines()
        )
        + "\n"
    )
    try:  # --isolated: the examples follow their own rules, not pyproject's (D, I, ...)
        ruff_check(checked, eval_example.config, extra_ruff_args=("--isolated",))
    except FormatError as error:
        problem = str(error)
    else:
        return
    pytest.fail(f"{_example_id(example)}: {problem}", pytrace=False)


@pytest.mark.parametrize("example", EXAMPLES, ids=_example_id)
def test_docs_example(example: CodeExample, eval_example: EvalExample) -> None:
    settings = parse_settings(example.prefix)
    try:
        reason, problem = skip_reason(settings), None
    except FenceSettingError as error:
        reason, problem = None, str(error)
    if problem:  # failed outside the except block: the report shows no chained traceback
        pytest.fail(f"{_example_id(example)}: {problem}")
    if reason is not None:
        pytest.skip(reason)

    group = settings.get("group")
    _lint(example, eval_example, grouped=group is not None)

    if group is None:
        state = GroupState(asyncio.Runner(), {"__name__": example.module_name})
        try:
            printed = _run_block(example, state)
        finally:
            state.runner.close()
    else:
        members = _group_members(example, group)
        position = next(i for i, ex in enumerate(members) if ex.start_line == example.start_line)
        key = (example.path, group)
        state = _groups.get(key)
        if state is None or state.ran != list(range(position)):
            # Run (or re-run) the earlier blocks first, e.g. when this one was picked with -k.
            if state is not None:
                state.runner.close()
            state = GroupState(asyncio.Runner(), {"__name__": f"{example.path.stem}_{group}"})
            _groups[key] = state
            for index, earlier in enumerate(members[:position]):
                _run_block(earlier, state)
                state.ran.append(index)
        printed = _run_block(example, state)
        state.ran.append(position)

    actual, expected = _output_lines(printed), _expected_lines(example.source)
    if actual == expected:
        return
    if eval_example.update_examples:
        example.source = _with_output(example.source, printed)
        eval_example.to_update.append(example)
        return
    diff = "\n".join(
        difflib.unified_diff(
            [f"#> {line}" for line in expected],
            [f"#> {line}" for line in actual],
            fromfile=f"{_example_id(example)} (the #> lines)",
            tofile="what the block printed",
            lineterm="",
        )
    )
    pytest.fail(
        f"printed output differs from the #> lines:\n{diff}\n"
        "(pytest tests/test_docs.py --update-examples rewrites them)",
        pytrace=False,
    )
