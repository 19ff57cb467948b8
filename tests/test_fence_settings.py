"""The fence-settings parser shared by the docs tests and the site's hooks, and the hooks'
use of it: which blocks become sandboxes, what the renderer sees."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

if sys.platform == "emscripten":
    pytest.skip("tests tools/, which the Pyodide run does not copy in", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tools package
from tools.fence_settings import (  # noqa: E402
    FENCE_LINE,
    KNOWN_SETTINGS,
    FenceSettingError,
    in_sandbox,
    is_python_fence,
    is_skipped,
    parse_settings,
    remove_settings,
    sandbox_off_reason,
    skip_reason,
)


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ("py", {}),
        ("", {}),
        ('py group="intro"', {"group": "intro"}),
        ("py test='skip: a pytest module'", {"test": "skip: a pytest module"}),
        (
            'py group="a" title="b.py" hl_lines="1 3"',
            {"group": "a", "title": "b.py", "hl_lines": "1 3"},
        ),
        ('{.py title="x"}', {"title": "x"}),
        ("""py title='say "hi"'""", {"title": 'say "hi"'}),
        ('py sandbox="run"', {"sandbox": "run"}),
        ('py group="a" group="b"', {"group": "b"}),
        # A setting written inside another's value is part of that value.
        ("""py title='see group="x"'""", {"title": 'see group="x"'}),
        ('py test=""', {"test": ""}),
        ('py group="unclosed', {}),
        ("py group=bare", {}),
    ],
)
def test_parse_settings(info, expected):
    assert parse_settings(info) == expected


@pytest.mark.parametrize(
    ("info", "names", "expected"),
    [
        ('py group="a" test="skip: b"', ("test", "group"), "py"),
        ('py title="t" group="a" hl_lines="2"', ("test", "group"), 'py title="t" hl_lines="2"'),
        ('python test="skip: x"', ("test", "group"), "python"),
        ("text", ("test", "group"), "text"),
        ('py sandbox="run" group="g"', {"sandbox"}, 'py group="g"'),
        ("""py title='see group="x"'""", ("group",), """py title='see group="x"'"""),
    ],
)
def test_remove_settings(info, names, expected):
    assert remove_settings(info, names) == expected


@pytest.mark.parametrize(
    ("line", "parts"),
    [
        ('```py group="a"', ("", "```", 'py group="a"')),
        ("    ~~~~python", ("    ", "~~~~", "python")),
        ("```", ("", "```", "")),
    ],
)
def test_fence_line_matches_fences(line, parts):
    match = FENCE_LINE.match(line)
    assert match is not None
    assert (match.group("indent"), match.group("ticks"), match.group("info")) == parts


@pytest.mark.parametrize("line", ["``py", "text ```py", "```py `code` inline"])
def test_fence_line_ignores_other_lines(line):
    assert FENCE_LINE.match(line) is None


def test_fence_line_finds_each_fence_of_a_page():
    page = '# Title\n\n```py group="a"\nprint(1)\n```\n\n  ~~~text\nx\n  ~~~\n'
    assert [m.group("info") for m in FENCE_LINE.finditer(page)] == ['py group="a"', "", "text", ""]


@pytest.mark.parametrize(
    ("settings", "skipped"),
    [
        ({}, False),
        ({"test": "skip: why"}, True),
        ({"test": "skip"}, True),
        ({"group": "skip"}, False),
    ],
)
def test_is_skipped(settings, skipped):
    assert is_skipped(settings) is skipped


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({}, None),
        ({"group": "a", "title": "t", "hl_lines": "1", "linenums": "1"}, None),
        ({"test": "skip: a pytest module"}, "a pytest module"),
        ({"test": "skip:  spaced out  "}, "spaced out"),
        ({"test": ""}, None),
        ({"sandbox": "off: starts dosim dev"}, None),  # runs in CI, not in the browser
        ({"sandbox": "run"}, None),
    ],
)
def test_skip_reason(settings, reason):
    assert skip_reason(settings) == reason


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"tset": "skip: typo", "grop": "a"}, "unknown fence settings ['grop', 'tset']"),
        ({"sandbox": "of: typo"}, "unknown sandbox='of: typo' (only 'off: <reason>' or 'run')"),
        ({"sandbox": "offline"}, "unknown sandbox='offline' (only 'off: <reason>' or 'run')"),
        ({"sandbox": "off"}, 'say why in the fence: sandbox="off: <reason>"'),
        ({"sandbox": "off:  "}, 'say why in the fence: sandbox="off: <reason>"'),
        ({"test": "skip"}, 'say why in the fence: test="skip: <reason>"'),
        ({"test": "skip:   "}, 'say why in the fence: test="skip: <reason>"'),
        ({"test": "xfail"}, "unknown test='xfail' (only 'skip: <reason>')"),
    ],
)
def test_skip_reason_rejects_bad_settings(settings, message):
    with pytest.raises(FenceSettingError) as error:
        skip_reason(settings)
    assert str(error.value) == message


def test_known_settings():
    assert KNOWN_SETTINGS == {"test", "group", "sandbox", "title", "hl_lines", "linenums"}


@pytest.mark.parametrize(
    ("info", "python"),
    [
        ("py", True),
        ('py group="a"', True),
        ("  python ", True),
        ('python test="skip: x"', True),
        ("pycon", False),
        ("pyi", False),
        ("toml", False),
        ("", False),
        ("{.py .dosim-run}", False),  # already rewritten by the hook
    ],
)
def test_is_python_fence(info, python):
    assert is_python_fence(info) is python


@pytest.mark.parametrize(
    ("settings", "anywhere", "gallery"),
    [
        ({}, True, False),
        ({"group": "a"}, True, False),
        ({"test": "skip: a pytest module"}, False, False),
        ({"sandbox": "off: starts a subprocess"}, False, False),
        ({"sandbox": "run"}, True, True),
        ({"sandbox": "run", "test": "skip: x"}, False, False),
    ],
)
def test_in_sandbox(settings, anywhere, gallery):
    assert in_sandbox(settings) is anywhere
    assert in_sandbox(settings, opt_in_only=True) is gallery


def test_sandbox_off_reason():
    assert sandbox_off_reason({"sandbox": "off: needs a subprocess "}) == "needs a subprocess"
    assert sandbox_off_reason({"sandbox": "off"}) == ""
    assert sandbox_off_reason({"sandbox": "run"}) is None
    assert sandbox_off_reason({}) is None


# -- the hooks: hooks/sandbox.py marks the sandboxes, hooks/fences.py hides the settings ----


def _hook(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_hook_{name}", ROOT / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PAGE = """\
# A page

```py
print(1)
```

```py group="g" title="a.py"
x = 1
```

```python test="skip: a pytest module"
def test_x(): ...
```

```py sandbox="off: starts dosim dev"
import subprocess
```

- a list item:

    ```py
    print(2)
    ```

````markdown
```py
print("shown as Markdown, not run")
```
````

```toml
a = 1
```
"""


def test_every_python_block_of_a_page_is_a_sandbox_unless_it_opts_out():
    marked, count = _hook("sandbox").mark_sandboxes(PAGE)
    assert count == 3
    fences = [m.group(0).strip() for m in FENCE_LINE.finditer(marked) if m.group("info")]
    assert fences == [
        "```{.py .dosim-run}",
        '```{.py .dosim-run title="a.py" data-dosim-group="g"}',
        "```{.py .dosim-plain}",
        "```{.py .dosim-plain}",
        "```{.py .dosim-run}",
        "````markdown",
        "```py",  # inside the Markdown example: left as written
        "```toml",
    ]


def test_on_a_gallery_page_only_opted_in_blocks_are_sandboxes():
    page = '```py\nprint(1)\n```\n\n```py sandbox="run"\nprint(2)\n```\n'
    marked, count = _hook("sandbox").mark_sandboxes(page, opt_in_only=True)
    assert count == 1
    assert marked == "```py\nprint(1)\n```\n\n```{.py .dosim-run}\nprint(2)\n```\n"


def test_docstring_examples_become_sandboxes_and_marked_blocks_keep_their_kind():
    html = (
        '<div class="language-py highlight"><pre>a</pre></div>'
        '<div class="language-python highlight"><pre>b</pre></div>'
        '<div class="language-py dosim-plain highlight"><pre>c</pre></div>'
        '<div class="language-py dosim-run highlight" data-dosim-group="g"><pre>d</pre></div>'
        '<div class="language-toml highlight"><pre>e</pre></div>'
    )
    marked, count = _hook("sandbox").mark_docstring_sandboxes(html)
    assert count == 2
    assert marked.count('class="language-py dosim-run highlight"') == 3
    assert 'class="language-py dosim-plain highlight"' in marked


def test_fences_hook_hides_every_setting_the_renderer_does_not_know():
    page = '```py group="g" test="skip: x" sandbox="off: y" title="t.py"\nprint(1)\n```\n'
    assert _hook("fences").strip_test_settings(page) == '```py title="t.py"\nprint(1)\n```\n'
