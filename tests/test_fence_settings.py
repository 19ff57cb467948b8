"""The fence-settings parser shared by the docs tests and the site's hooks."""

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
    is_skipped,
    parse_settings,
    remove_settings,
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
    ],
)
def test_skip_reason(settings, reason):
    assert skip_reason(settings) == reason


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"tset": "skip: typo", "grop": "a"}, "unknown fence settings ['grop', 'tset']"),
        ({"sandbox": "run"}, "unknown fence settings ['sandbox']"),
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
    assert KNOWN_SETTINGS == {"test", "group", "title", "hl_lines", "linenums"}
