"""tools/new_tutorial.py: the ``nox -s new-tutorial`` scaffold."""

import re
import shutil
import sys
from pathlib import Path

import pytest

if sys.platform == "emscripten":
    pytest.skip("a repository tool, not part of dosim", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tools package
from tools import new_tutorial  # noqa: E402


@pytest.fixture
def folder(tmp_path):
    shutil.copy(ROOT / "tutorials" / "_template.md", tmp_path / "_template.md")
    (tmp_path / "01-first.md").write_text("# 01 — First\n")
    (tmp_path / "07-seventh.md").write_text("# 07 — Seventh\n")
    return tmp_path


def test_it_takes_the_next_number_and_makes_a_slug(folder):
    path = new_tutorial.scaffold("Rate limits, the hard way!", folder)
    assert path.name == "08-rate-limits-the-hard-way.md"
    text = path.read_text()
    assert text.startswith("# 08 — Rate limits, the hard way!\n")
    assert "Copy this file" not in text  # the template's own instructions are gone
    fences = re.findall(r"^```py(.*)$", text, re.MULTILINE)
    assert fences and all('group="rate-limits-the-hard-way"' in f for f in fences)
    assert new_tutorial.scaffold("Again", folder).name == "09-again.md"


def test_it_never_overwrites(folder, monkeypatch):
    (folder / "08-taken.md").write_text("mine")
    monkeypatch.setattr(new_tutorial, "next_number", lambda _folder: 8)
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        new_tutorial.scaffold("Taken", folder)
    assert (folder / "08-taken.md").read_text() == "mine"


def test_a_title_without_letters_is_refused(folder):
    with pytest.raises(ValueError, match="cannot make a file name"):
        new_tutorial.scaffold("!!!", folder)


def test_the_command_line_reports_refusals(folder, monkeypatch, capsys):
    monkeypatch.setattr(new_tutorial, "TUTORIALS", folder)
    assert new_tutorial.main(["???"]) == 1
    assert "new-tutorial: cannot make a file name" in capsys.readouterr().err
