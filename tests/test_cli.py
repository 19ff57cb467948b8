"""The `dosim` command: arguments, `dosim new`, `dosim migrate --check`, `dosim dev` refusing."""

import os
import subprocess
import sys

import pytest

from dosim.cli import build_parser, main
from dosim.dev.templates import available_templates, templates_root

needs_templates = pytest.mark.skipif(
    templates_root() is None or sys.platform == "emscripten",
    reason="dosim was installed without the examples/ folder",
)


@needs_templates
def test_new_copies_a_template_with_its_tests_and_they_pass(tmp_path, capsys):
    target = tmp_path / "my-counter"
    assert main(["new", "counter", str(target)]) == 0
    names = sorted(p.name for p in target.iterdir())
    assert names == ["README.md", "test_counter.py", "worker.py", "wrangler.toml"]
    assert "created" in capsys.readouterr().out
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target)],
        cwd=target,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert " passed" in run.stdout


@needs_templates
def test_new_accepts_an_existing_empty_folder(tmp_path):
    target = tmp_path / "empty"
    target.mkdir()
    assert main(["new", "counter", str(target)]) == 0
    assert (target / "wrangler.toml").is_file()


@needs_templates
def test_new_refuses_to_overwrite_a_non_empty_folder(tmp_path, capsys):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    assert main(["new", "counter", str(target)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in target.iterdir()] == ["mine.txt"]


@needs_templates
def test_new_names_the_templates_when_one_is_unknown(tmp_path, capsys):
    assert main(["new", "nope", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert "unknown template 'nope'" in err and "counter" in err
    assert not (tmp_path / "x").exists()


@needs_templates
def test_new_without_arguments_lists_templates_with_a_summary(capsys):
    assert main(["new"]) == 0
    out = capsys.readouterr().out
    assert "counter" in out
    assert available_templates()["counter"]


def test_dev_reports_an_app_it_cannot_load_and_exits_1(tmp_path, caplog):
    pytest.importorskip("uvicorn")
    assert main(["dev", str(tmp_path), "--port", "1"]) == 1
    assert "cannot load the app" in caplog.text and "no wrangler config file" in caplog.text


def test_dev_takes_either_persist_to_or_in_memory():
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["dev", "--persist-to", "x", "--in-memory"])
    assert info.value.code == 2


def test_dev_defaults_to_loopback_port_8787_and_the_current_folder():
    args = build_parser().parse_args(["dev"])
    assert (args.path, args.host, args.port) == (".", "127.0.0.1", 8787)
    assert (args.persist_to, args.in_memory, args.no_reload) == (None, False, False)


def test_migrate_requires_check():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["migrate"])


SHOP = """\
name = "shop"
main = "worker.py"
compatibility_date = "2025-11-01"
compatibility_flags = ["python_workers"]

[[durable_objects.bindings]]
name = "CART"
class_name = "Cart"
"""
SHOP_CODE = "from workers import DurableObject\n\n\nclass Cart(DurableObject):\n    pass\n"
CART_V1 = '\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Cart"]\n'


def shop(folder, migrations: str = ""):
    (folder / "wrangler.toml").write_text(SHOP + migrations)
    (folder / "worker.py").write_text(SHOP_CODE)
    return folder


def test_migrate_check_prints_the_report_and_exits_1_on_errors(tmp_path, capsys):
    assert main(["migrate", "--check", str(shop(tmp_path))]) == 1
    out = capsys.readouterr().out
    assert "error: durable_objects.bindings[0] (CART → Cart)" in out
    assert "a deploy would refuse this" in out


def test_migrate_check_exits_0_when_a_deploy_would_accept(tmp_path, capsys):
    assert main(["migrate", "--check", str(shop(tmp_path, CART_V1))]) == 0
    assert "OK" in capsys.readouterr().out


def test_migrate_check_reports_a_missing_config(tmp_path, capsys):
    assert main(["migrate", "--check", str(tmp_path / "nothing")]) == 1
    assert "config file not found" in capsys.readouterr().out


@pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses in Pyodide")
def test_module_runs_as_a_command():
    run = subprocess.run(
        [sys.executable, "-m", "dosim.cli", "--help"], capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 0
    assert all(word in run.stdout for word in ("dev", "new", "migrate"))


@pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses in Pyodide")
def test_new_and_migrate_do_not_need_the_dev_server_packages():
    code = (
        "import sys, dosim.cli, dosim.dev.templates, dosim.migrations; "
        "print(sorted(m for m in ('starlette', 'uvicorn', 'watchfiles') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert run.stdout.strip() == "[]", run.stderr
