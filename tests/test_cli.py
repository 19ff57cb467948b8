"""The `dosim` command: arguments, `new`, `migrate --check`, `run`, `dev` refusing."""

import datetime
import os
import re
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from dosim import App
from dosim.cli import build_parser, main
from dosim.config import load_config
from dosim.dev.templates import (
    TemplateError,
    available_templates,
    create_app,
    templates_root,
    worker_name,
)

ONE_DAY = datetime.timedelta(days=1)  # the test may straddle midnight

needs_templates = pytest.mark.skipif(
    templates_root() is None or sys.platform == "emscripten",
    reason="dosim was installed without the examples/ folder",
)


@needs_templates
def test_new_writes_the_layout_of_cloudflares_python_templates_and_its_tests_pass(tmp_path, capsys):
    target = tmp_path / "my-counter"
    assert main(["new", str(target)]) == 0  # the default template: counter
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert files == [
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "src/entry.py",
        "tests/test_counter.py",
        "wrangler.toml",
    ]
    config = load_config(target)
    assert config.main == target / "src" / "entry.py"
    assert "python_workers" in config.compatibility_flags
    ignored = (target / ".gitignore").read_text().split()
    assert {".venv-workers/", "python_modules/", "pylock.toml", ".dosim/"} <= set(ignored)
    out = capsys.readouterr().out
    assert "created" in out and "'my-counter'" in out
    # The README's command, in the new folder: pytest finds tests/ (pyproject.toml's
    # testpaths) and the fixture finds wrangler.toml above it.
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=target,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert " passed" in run.stdout


@needs_templates
def test_new_names_the_worker_and_project_after_the_folder_and_dates_it_today(tmp_path):
    target = tmp_path / "Shop_Front.v2"
    assert main(["new", str(target), "--template", "seat_booking"]) == 0
    config = load_config(target)
    today = datetime.datetime.now(datetime.UTC).date()
    assert config.name == "shop-front-v2"
    assert config.compatibility_date in {today.isoformat(), (today - ONE_DAY).isoformat()}
    project = tomllib.loads((target / "pyproject.toml").read_text())
    assert project["project"]["name"] == "shop-front-v2"
    assert project["project"]["dependencies"] == ["marshmallow>=4"]
    assert "dosim[dev]" in project["dependency-groups"]["dev"]


@needs_templates
def test_new_points_uv_at_the_dosim_checkout_it_runs_from(tmp_path):
    target = tmp_path / "app"
    assert main(["new", str(target)]) == 0
    project = tomllib.loads((target / "pyproject.toml").read_text())
    source = project["tool"]["uv"]["sources"]["dosim"]
    root = templates_root()
    if root.name == "examples":  # a source checkout: its root
        assert Path(source["path"]) == root.parent
    else:  # an installed wheel has no checkout: the line is left commented out
        assert "dosim" not in project.get("tool", {}).get("uv", {}).get("sources", {})


@needs_templates
def test_every_template_loads_once_copied_under_its_new_name(tmp_path):
    for number, template in enumerate(available_templates()):
        target = create_app(template, tmp_path / f"app{number}", today=datetime.date(2026, 1, 2))
        config = load_config(target)
        assert (config.name, config.compatibility_date) == (f"app{number}", "2026-01-02")
        assert config.main.parent == target / "src", template
        assert (target / "tests" / f"test_{template}.py").is_file(), template
        assert "python_workers" in config.compatibility_flags, template
        App.from_config(target).close()


def test_worker_names_are_what_cloudflare_accepts():
    assert worker_name("apps/My Counter!") == "my-counter"
    assert worker_name("x" * 80) == "x" * 63
    with pytest.raises(TemplateError, match="Worker name"):
        worker_name("__")


@needs_templates
def test_new_still_accepts_template_then_folder(tmp_path):
    target = tmp_path / "old-style"
    assert main(["new", "rate_limiter", str(target)]) == 0
    assert load_config(target).name == "old-style"
    assert (target / "tests" / "test_rate_limiter.py").is_file()


@needs_templates
def test_new_accepts_an_existing_empty_folder(tmp_path):
    target = tmp_path / "empty"
    target.mkdir()
    assert main(["new", str(target)]) == 0
    assert (target / "wrangler.toml").is_file()


@needs_templates
def test_new_refuses_to_overwrite_a_non_empty_folder(tmp_path, capsys):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    assert main(["new", str(target), "--template", "chat"]) == 1
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in target.iterdir()] == ["mine.txt"]


@needs_templates
def test_new_names_the_templates_when_one_is_unknown(tmp_path, capsys):
    assert main(["new", str(tmp_path / "x"), "--template", "nope"]) == 1
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
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["dev", str(tmp_path), "--port", str(port)]) == 1
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
@pytest.mark.parametrize("package", ["uvicorn", "websockets"])
def test_dev_names_a_missing_dev_extra_package(package):
    app = Path(__file__).resolve().parent.parent / "examples" / "counter"
    code = (
        f"import sys; sys.modules[{package!r}] = None; from dosim.cli import main; "
        f"sys.exit(main(['dev', {str(app)!r}, '--port', '1']))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert run.returncode == 2
    assert f"dosim dev needs the dev extra ({package} is missing)" in run.stderr


@pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses in Pyodide")
def test_new_and_migrate_do_not_need_the_dev_server_packages():
    code = (
        "import sys, dosim.cli, dosim.dev.templates, dosim.migrations; "
        "print(sorted(m for m in ('uvicorn', 'websockets', 'h11') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert run.stdout.strip() == "[]", run.stderr


@needs_templates
def test_new_writes_into_the_current_folder_when_it_is_empty(tmp_path, monkeypatch):
    folder = tmp_path / "here-app"
    folder.mkdir()
    monkeypatch.chdir(folder)
    assert main(["new", "."]) == 0
    assert load_config(folder).name == "here-app"


def test_migrate_check_reads_an_app_in_the_src_layout(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    (tmp_path / "wrangler.toml").write_text(
        SHOP.replace('main = "worker.py"', 'main = "src/entry.py"') + CART_V1
    )
    (tmp_path / "src" / "entry.py").write_text(SHOP_CODE)
    assert main(["migrate", "--check", str(tmp_path)]) == 0
    assert "OK" in capsys.readouterr().out
    (tmp_path / "src" / "entry.py").write_text(SHOP_CODE.replace("Cart", "Basket"))
    assert main(["migrate", "--check", str(tmp_path)]) == 1


@needs_templates
@pytest.mark.parametrize("template", sorted(available_templates()))
def test_migrate_check_passes_on_every_starter(template, capsys):
    assert main(["migrate", "--check", str(templates_root() / template)]) == 0, template


@needs_templates
def test_dev_says_the_port_is_taken_before_any_banner_and_exits_1(tmp_path):
    pytest.importorskip("uvicorn")
    app = create_app("counter", tmp_path / "app")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "dosim.cli", "dev", str(app), "--port", str(port)]
            + ["--in-memory", "--no-reload"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 1, run.stderr
    assert "serving" not in run.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in run.stderr
    assert "--port" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.skipif(sys.platform == "emscripten", reason="no listening sockets in Pyodide")
def test_the_port_check_suggests_a_free_port_next_to_the_taken_one():
    from dosim.dev.ports import PortUnavailable, check_port

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(PortUnavailable) as info:
            check_port("127.0.0.1", port)
    suggested = info.value.suggestion
    assert suggested is not None and port < suggested <= port + 20
    assert f"--port {suggested}" in str(info.value)
    check_port("127.0.0.1", suggested)  # nothing listens there: no error


# -- dosim run ----------------------------------------------------------------------------

no_event_loop_of_its_own = pytest.mark.skipif(
    sys.platform == "emscripten", reason="Pyodide's event loop is always running"
)
ROOT = Path(__file__).resolve().parent.parent
OUTPUT_LINE = re.compile(r"^\s*#> ?(.*)$", re.MULTILINE)


@no_event_loop_of_its_own
def test_run_awaits_at_the_top_level_as_main_with_argv_and_workers(tmp_path, capsys):
    script = tmp_path / "block.py"
    script.write_text(
        "import asyncio, sys\n"
        "import dosim\n"
        "from workers import DurableObject\n\n\n"
        "class Counter(DurableObject):\n"
        "    async def increment(self):\n"
        '        value = (await self.ctx.storage.get("n") or 0) + 1\n'
        '        await self.ctx.storage.put("n", value)\n'
        "        return value\n\n\n"
        'app = dosim.App(None, {"COUNTER": Counter})\n'
        'stub = app.env.COUNTER.getByName("a")\n'
        "await stub.increment()\n"
        "print(__name__, sys.argv[1:], await stub.increment())\n"
        "print(sys.path[0] == str(__import__('pathlib').Path(__file__).parent))\n"
    )
    assert main(["run", str(script), "one", "--two"]) == 0
    assert capsys.readouterr().out == "__main__ ['one', '--two'] 2\nTrue\n"
    assert sys.modules["__main__"].__name__ == "__main__"  # put back afterwards


@no_event_loop_of_its_own
def test_run_runs_a_file_without_await_as_python_would(tmp_path, capsys):
    script = tmp_path / "plain.py"
    script.write_text(
        "import asyncio\n\n\nasync def main():\n    return 42\n\n\n"
        'if __name__ == "__main__":\n    print(asyncio.run(main()))\n'
    )
    assert main(["run", str(script)]) == 0
    assert capsys.readouterr().out == "42\n"


@no_event_loop_of_its_own
def test_run_prints_a_traceback_of_the_files_own_code_and_exits_1(tmp_path, capsys):
    script = tmp_path / "broken.py"
    script.write_text(
        "import asyncio\n\n\ndef boom():\n    return 1 / 0\n\n\nawait asyncio.sleep(0)\nboom()\n"
    )
    assert main(["run", str(script)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1] == f'  File "{script}", line 9, in <module>'
    assert lines[-1] == "ZeroDivisionError: division by zero"
    assert "runner.py" not in captured.err and "asyncio" not in captured.err


@no_event_loop_of_its_own
def test_run_reports_a_syntax_error_a_missing_file_and_sys_exit(tmp_path, capsys):
    script = tmp_path / "bad.py"
    script.write_text("x = (\n")
    assert main(["run", str(script)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "SyntaxError: '(' was never closed"
    assert "Traceback" not in err
    assert main(["run", str(tmp_path / "missing.py")]) == 2
    assert "dosim run: cannot read" in capsys.readouterr().err
    script.write_text("import sys\nawait __import__('asyncio').sleep(0)\nsys.exit(3)\n")
    assert main(["run", str(script)]) == 3
    script.write_text("raise SystemExit('stopped: no input')\n")
    assert main(["run", str(script)]) == 1
    assert capsys.readouterr().err == "stopped: no input\n"


def _fenced_blocks(page: Path, group: str | None = None) -> list[str]:
    """The ```py blocks of a docs page (top level, not indented), or one group's."""
    found = re.findall(r"^```py([^\n]*)\n(.*?)^```$", page.read_text(), re.MULTILINE | re.DOTALL)
    wanted = f'group="{group}"'
    return [body for info, body in found if (wanted in info if group else "group=" not in info)]


@pytest.mark.skipif(
    sys.platform == "emscripten" or not (ROOT / "docs").is_dir(),
    reason="runs the docs' blocks in a subprocess, from a checkout",
)
@pytest.mark.parametrize(
    ("page", "group"), [("docs/index.md", None), ("docs/get-started.md", "first")]
)
def test_run_runs_a_docs_block_saved_to_a_file(page, group, tmp_path):
    """A reader saves a block (or a group's blocks, one after the other) and runs it."""
    blocks = _fenced_blocks(ROOT / page, group)
    code = blocks[0] if group is None else "\n".join(blocks)
    script = tmp_path / "x.py"
    script.write_text(code)
    run = subprocess.run(
        [sys.executable, "-m", "dosim.cli", "run", str(script)],
        cwd=ROOT,  # blocks that load an app by path (examples/...) run from the checkout
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == OUTPUT_LINE.findall(code)
