"""tools/deploy_check.py's parsing and bundle rules, offline and without wrangler.

The fixture app (tests/fixtures/deploy_app/) is in the Python Workers template layout the
starters move to. The pywrangler tests run where workers-py is installed (the
``deploy_check`` nox session runs this module too) and skip elsewhere.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

if sys.platform == "emscripten":
    pytest.skip("a host tool (copies folders, runs npm): not for Pyodide", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tools package
from tools import deploy_check as dc  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "deploy_app"

# What wrangler prints for a dry run of the fixture (box-drawn module table).
TABLE = """\
Attaching additional modules:
┌───────────────────┬────────┬──────────┐
│ Name              │ Type   │ Size     │
├───────────────────┼────────┼──────────┤
│ counting.py       │ python │ 0.13 KiB │
├───────────────────┼────────┼──────────┤
│ Vendored Modules  │        │ 0.00 KiB │
├───────────────────┼────────┼──────────┤
│ Total (2 modules) │        │ 0.13 KiB │
└───────────────────┴────────┴──────────┘
Total Upload: 1.00 KiB / gzip: 0.50 KiB
--dry-run: exiting now.
"""


def fake_bundle(app: Path, outdir: Path, extra: dict[str, str] | None = None) -> Path:
    """Write an --outdir as wrangler does for ``app``: entry at the top, siblings below it."""
    src = app / "src"
    for path in src.rglob("*.py"):
        target = outdir / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    (outdir / "README.md").write_text("wrangler's note about this folder\n")
    for name, text in (extra or {}).items():
        (outdir / name).parent.mkdir(parents=True, exist_ok=True)
        (outdir / name).write_text(text)
    return outdir


def row(name: str, kind: str = "python") -> str:
    return f"│ {name:<17} │ {kind:<6} │ 0.01 KiB │\n"


def fixture_config() -> dict:
    return dc.read_wrangler_config(FIXTURE / "wrangler.jsonc")


def test_strip_jsonc_keeps_strings_and_drops_comments_and_trailing_commas():
    text = '{"a": "x // y /* z */", // note\n /* block\n */ "b": [1, 2,],}'
    assert dc.json.loads(dc.strip_jsonc(text)) == {"a": "x // y /* z */", "b": [1, 2]}
    assert dc.json.loads(dc.strip_jsonc('{"q": "say \\"hi\\" // ok"}')) == {"q": 'say "hi" // ok'}


def test_the_fixture_config_reads_and_its_layout_is_the_template_one():
    config = fixture_config()
    assert config["main"] == "src/entry.py"
    assert "python_workers" in config["compatibility_flags"]
    assert dc.layout_problems(FIXTURE, config) == []
    assert dc.app_modules(FIXTURE, config) == {"entry.py", "counting.py"}


def test_toml_config_and_config_lookup(tmp_path):
    with pytest.raises(ValueError, match="found none"):
        dc.find_wrangler_config(tmp_path)
    (tmp_path / "wrangler.toml").write_text('name = "old"\nmain = "worker.py"\n')
    assert dc.read_wrangler_config(dc.find_wrangler_config(tmp_path))["name"] == "old"
    (tmp_path / "wrangler.jsonc").write_text("{}")
    with pytest.raises(ValueError, match="wrangler.jsonc, wrangler.toml"):
        dc.find_wrangler_config(tmp_path)


def test_the_single_folder_layout_is_reported(tmp_path):
    (tmp_path / "worker.py").write_text("")
    problems = dc.layout_problems(tmp_path, {"main": "worker.py"})
    assert any("no pyproject.toml" in p for p in problems)
    assert any("not under src/" in p for p in problems)
    assert dc.layout_problems(tmp_path, {}) == [problems[0], "the wrangler config has no `main`"]


def test_module_table_rows_and_vendored_size():
    assert dc.parse_module_table(TABLE) == [("counting.py", "python")]
    assert dc.vendored_size(TABLE) == "0.00 KiB"
    assert dc.parse_module_table("--dry-run: exiting now.\n") == []
    assert dc.vendored_size("nothing") is None


def test_the_fixture_bundle_passes_and_is_listed(tmp_path):
    outdir = fake_bundle(FIXTURE, tmp_path / "out")
    listing, problems = dc.check_bundle(FIXTURE, fixture_config(), outdir, TABLE)
    assert problems == []
    assert [line.split()[:2] for line in listing] == [
        ["counting.py", "python"],
        ["entry.py", "entry"],
    ]


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("test_counting.py", "a test module"),
        ("tests/helpers.py", "a test module"),
        ("conftest.py", "a test module"),
        (".dosim/state/x.py", "local state"),
        (".venv-workers/lib/site-packages/x.py", "a virtualenv"),
        ("dosim/__init__.py", "dosim itself"),
    ],
)
def test_anything_but_the_apps_modules_fails(tmp_path, extra, reason):
    outdir = fake_bundle(FIXTURE, tmp_path / "out", {extra: "x = 1\n"})
    _, problems = dc.check_bundle(FIXTURE, fixture_config(), outdir, TABLE + row(extra))
    assert any(f"{extra} would be uploaded: {reason}" in p for p in problems)
    assert any(
        f"{extra} is in the bundle but is not one of the app's modules" in p for p in problems
    )


def test_vendored_modules_a_dosim_import_and_a_missing_module_fail(tmp_path):
    outdir = fake_bundle(FIXTURE, tmp_path / "out", {"python_modules/pkg.py": ""})
    (outdir / "counting.py").write_text("from dosim.testing import harness\n")
    table = TABLE.replace(
        "│ Vendored Modules  │        │ 0.00 KiB │", "│ Vendored Modules  │ │ 2.00 KiB │"
    )
    _, problems = dc.check_bundle(FIXTURE, fixture_config(), outdir, table)
    assert any("vendored modules would be uploaded" in p for p in problems)
    assert any("counting.py would be uploaded and imports dosim" in p for p in problems)
    (outdir / "counting.py").unlink()
    _, problems = dc.check_bundle(FIXTURE, fixture_config(), outdir, TABLE)
    assert any("module table" in p and "differs from --outdir" in p for p in problems)
    assert any("the app's module counting.py is not in the bundle" in p for p in problems)


def test_forbidden_reasons():
    assert dc.forbidden_reason("entry.py") is None
    assert dc.forbidden_reason("pkg/contest.py") is None
    assert dc.forbidden_reason("handlers_test.py") == "a test module"
    assert dc.forbidden_reason("__pycache__/entry.cpython-313.pyc") == "a bytecode cache"
    assert dc.forbidden_reason("python_modules/x/__init__.py").startswith("vendored")


def test_imports_dosim():
    assert dc.imports_dosim("import dosim.testing as t")
    assert dc.imports_dosim("def f():\n    from dosim import x\n")
    assert not dc.imports_dosim("from workers import DurableObject\nimport dosimeter\n")
    assert not dc.imports_dosim("from .dosim import x")


def test_stage_copies_the_app_and_plants_clutter(tmp_path):
    staged = dc.stage(FIXTURE, tmp_path / "app")
    assert (staged / "src" / "entry.py").is_file() and (staged / "tests").is_dir()
    assert all((staged / decoy).is_file() for decoy in dc.DECOYS)
    assert dc.app_modules(staged, fixture_config()) == {"entry.py", "counting.py"}


def test_shared_worker_names_are_reported():
    reports = [dc.AppReport(Path("a"), name="x"), dc.AppReport(Path("b"), name="x")]
    assert dc.duplicate_names(reports) == ["Worker name 'x' is used by a, b"]
    assert dc.duplicate_names(reports[:1]) == []


def test_scratch_root_has_no_project_above_it(monkeypatch, tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(dc.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    root = dc.scratch_root()
    assert not any((p / "pyproject.toml").exists() for p in (root, *root.parents))


def test_pywrangler_accepts_the_fixture_and_refuses_the_old_layout(tmp_path):
    pytest.importorskip("pywrangler", reason="workers-py is installed by nox -s deploy_check")
    scratch = Path(dc.tempfile.mkdtemp(dir=dc.scratch_root()))
    try:
        staged = dc.stage(FIXTURE, scratch / "app")
        python, problems = dc.run_pywrangler_checks(staged, ["--dry-run"])
        assert (python, problems) == ("3.13", [])
        (staged / "pyproject.toml").unlink()
        _, problems = dc.run_pywrangler_checks(staged, ["--dry-run"])
        assert any("pyproject.toml not found" in p for p in problems)
        (staged / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n')
        config = staged / "wrangler.jsonc"
        config.write_text(config.read_text().replace('"python_workers"', '"nodejs_compat"'))
        _, problems = dc.run_pywrangler_checks(staged, ["--dry-run"])
        assert any("python_workers" in p for p in problems)
    finally:
        shutil.rmtree(scratch)
