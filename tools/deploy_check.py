"""The deploy check: would Cloudflare's own tools accept each app, and upload only its code?

    python tools/deploy_check.py APP_DIR [APP_DIR ...]      (normally via ``nox -s deploy_check``)

For every app folder, in a temporary copy (with the clutter of a working folder planted
beside the code: dosim's state, pywrangler's virtualenv, caches):

1. pywrangler's configuration checks. pywrangler (PyPI ``workers-py``, pinned in
   noxfile.py) is imported and the functions its ``sync`` runs before it downloads a
   Pyodide cross-build environment are *called directly* (nothing is reimplemented):
   ``find_pyproject_toml`` (which must find the app's own ``pyproject.toml``, not one
   further up), ``check_requirements_txt``, ``get_pywrangler_config`` (parses
   ``pyproject.toml``), ``check_wrangler_config`` (``wrangler.jsonc`` or
   ``wrangler.toml`` beside it), ``get_python_version`` (the ``python_workers`` flag, a
   ``YYYY-MM-DD`` compatibility date, the Python it selects), ``parse_requirements``
   and ``find_unsupported_flag`` for the deploy command line. ``pywrangler sync`` itself
   is not run: its next step creates a Pyodide virtualenv with uv, which downloads an
   interpreter from outside the package registries.
2. ``wrangler deploy --dry-run --outdir DIR`` with the pinned npm wrangler
   (tools/wrangler/, installed by ``npm ci``), offline: telemetry, error reports and the
   banner's update check are switched off by environment, and tools/wrangler/offline_guard.cjs
   refuses and records any DNS lookup or TCP connection, which fails the check.
3. The bundle: the files in DIR and the module table wrangler prints must agree, and
   hold exactly the app's own modules (the ``.py`` files under the entry module's folder):
   no tests, no state, no virtualenv, no vendored ``python_modules/``, nothing importing
   ``dosim``.

Everything here is the standard library, except that step 1 imports pywrangler inside
:func:`run_pywrangler_checks` (installed by the nox session). Exit status 0 when every
app passes, 1 when one fails, 2 on a setup error (wrangler or pywrangler missing).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRANGLER_DIR = ROOT / "tools" / "wrangler"
GUARD = WRANGLER_DIR / "offline_guard.cjs"
WORKERS_PY_PIN = "1.17.9"  # keep in step with noxfile.py's WORKERS_PY_PIN

CONFIG_NAMES = ("wrangler.jsonc", "wrangler.json", "wrangler.toml")
OUTDIR_NOTE = "README.md"  # wrangler writes this note into --outdir; it is not uploaded

# What a working copy of an app holds besides its code; planted into every staged copy so
# the bundle check proves the layout keeps it out of the upload.
DECOYS = (
    ".dosim/state/app-Counter/0000.sqlite",
    ".venv-workers/pyodide-venv/lib/python3.13/site-packages/decoy_venv.py",
    ".venv/lib/python3.11/site-packages/decoy_venv.py",
    ".pytest_cache/README.md",
    ".wrangler/tmp/decoy.js",
    "pylock.toml",
)

# Environment for wrangler: no telemetry, no error reports, no banner (whose update check
# asks the npm registry), no colour in the printed table, no credentials, config in the
# temporary folder rather than the user's.
WRANGLER_ENV = {
    "WRANGLER_SEND_METRICS": "false",
    "WRANGLER_SEND_ERROR_REPORTS": "false",
    "WRANGLER_HIDE_BANNER": "true",
    "CI": "true",
    "NO_COLOR": "1",
    "FORCE_COLOR": "0",
}
DROPPED_ENV = (
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_API_KEY",
    "CLOUDFLARE_ACCOUNT_ID",
    "NODE_OPTIONS",
)


class SetupError(Exception):
    """A tool the check needs is missing or is not the pinned version."""


@dataclass
class AppReport:
    """What the check found for one app."""

    app: Path
    name: str = ""
    python: str = ""
    listing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --- wrangler configuration --------------------------------------------------------------


def strip_jsonc(text: str) -> str:
    """Return JSON text from JSONC: drop ``//`` and ``/* */`` comments and trailing commas."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i = end + 1
        elif text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else n
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(char)
            i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def find_wrangler_config(app: Path) -> Path:
    """Return the app's one wrangler config file; raise ValueError if there is none or several."""
    found = [app / name for name in CONFIG_NAMES if (app / name).is_file()]
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise ValueError(f"expected one of {', '.join(CONFIG_NAMES)} in {app}, found {names}")
    return found[0]


def read_wrangler_config(path: Path) -> dict:
    """Parse a ``wrangler.toml``, ``wrangler.json`` or ``wrangler.jsonc`` file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        return tomllib.loads(text)
    return json.loads(strip_jsonc(text))


def layout_problems(app: Path, config: dict) -> list[str]:
    """Check the template layout itself: pyproject beside the config, ``main`` under src/."""
    problems = []
    if not (app / "pyproject.toml").is_file():
        problems.append("no pyproject.toml at the app's root (pywrangler needs it there)")
    main = config.get("main")
    if not isinstance(main, str):
        return [*problems, "the wrangler config has no `main`"]
    if not (app / main).is_file():
        problems.append(f"`main` = {main!r} does not exist")
    if Path(main).parts[:1] != ("src",):
        problems.append(f"`main` = {main!r} is not under src/ (wrangler uploads its folder)")
    return problems


def module_base(app: Path, config: dict) -> Path:
    """The folder wrangler collects modules from: ``base_dir``, else the entry module's folder."""
    base = config.get("base_dir")
    return app / base if isinstance(base, str) else (app / config["main"]).parent


def app_modules(app: Path, config: dict) -> set[str]:
    """The app's own modules: every ``.py`` file under the module base, outside caches."""
    base = module_base(app, config)
    return {
        path.relative_to(base).as_posix()
        for path in base.rglob("*.py")
        if "__pycache__" not in path.relative_to(base).parts
    }


# --- what wrangler would upload ----------------------------------------------------------


def parse_module_table(output: str) -> list[tuple[str, str]]:
    """Return (name, type) for each row of the additional-modules table wrangler prints.

    The rows are box-drawn (``│ name │ type │ size │``); the header and the summary rows
    ("Vendored Modules", "Total (N modules)") are left out. No table means no rows.
    """
    rows = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if not line.strip().startswith("│") or len(cells) != 3:
            continue
        name, kind, _size = cells
        if (
            name == "Name"
            or name == "Vendored Modules"
            or re.fullmatch(r"Total \(\d+ modules?\)", name)
        ):
            continue
        rows.append((name, kind))
    return rows


def vendored_size(output: str) -> str | None:
    """Return the size wrangler prints for vendored modules (``python_modules/``), if any."""
    match = re.search(r"│\s*Vendored Modules\s*│[^│]*│\s*([^│]+?)\s*│", output)
    return match.group(1) if match else None


def outdir_files(outdir: Path) -> list[str]:
    """Every file wrangler wrote to ``--outdir``, relative, without its own README note."""
    return sorted(
        path.relative_to(outdir).as_posix()
        for path in outdir.rglob("*")
        if path.is_file() and path.relative_to(outdir).as_posix() != OUTDIR_NOTE
    )


def forbidden_reason(module: str) -> str | None:
    """Why a bundled path must not be uploaded, or ``None`` if it may be."""
    parts = module.split("/")
    name = parts[-1]
    if parts[0] == "python_modules":
        return "vendored packages (pywrangler sync's output, not the app's code)"
    if any(p in ("tests", "test") for p in parts[:-1]) or name == "conftest.py":
        return "a test module"
    if re.fullmatch(r"test_.*\.py|.*_test\.py", name):
        return "a test module"
    if any(p.startswith((".dosim", ".wrangler")) for p in parts):
        return "local state"
    if any(p.startswith((".venv", "venv")) or p == "site-packages" for p in parts):
        return "a virtualenv"
    if "dosim" in parts[:-1] or name in ("dosim.py",):
        return "dosim itself"
    if "__pycache__" in parts or name.endswith(".pyc"):
        return "a bytecode cache"
    return None


def imports_dosim(source: str) -> bool:
    """True if Python source imports ``dosim`` (or a submodule) anywhere."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(alias.name.split(".")[0] == "dosim" for alias in node.names):
                return True
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            if (node.module or "").split(".")[0] == "dosim":
                return True
    return False


def check_bundle(app: Path, config: dict, outdir: Path, output: str) -> tuple[list[str], list[str]]:
    """Compare what wrangler would upload with the app's own modules.

    Args:
        app: The (staged) app folder wrangler ran in.
        config: Its parsed wrangler config.
        outdir: The ``--outdir`` wrangler wrote.
        output: wrangler's printed output (stdout and stderr).

    Returns:
        (listing, problems): one line per uploaded file, and what is wrong with the bundle.
    """
    problems: list[str] = []
    files = outdir_files(outdir)
    entry = Path(config["main"]).name
    table = parse_module_table(output)
    listed = sorted([entry] + [name for name, _ in table])
    uploaded = [f for f in files if not f.startswith("python_modules/")]
    if listed != uploaded:
        problems.append(f"wrangler's module table {listed} differs from --outdir {uploaded}")
    size = vendored_size(output)
    if any(f.startswith("python_modules/") for f in files) or size not in (None, "0.00 KiB"):
        problems.append(f"vendored modules would be uploaded (python_modules/, {size})")
    expected = app_modules(app, config)
    if entry not in files:
        problems.append(f"the entry module {entry} is not in the bundle")
    for missing in sorted(expected - set(files)):
        problems.append(f"the app's module {missing} is not in the bundle")
    for extra in sorted(set(files) - expected):
        problems.append(f"{extra} is in the bundle but is not one of the app's modules")
    for module in files:
        reason = forbidden_reason(module)
        if reason:
            problems.append(f"{module} would be uploaded: {reason}")
        elif module.endswith(".py") and imports_dosim((outdir / module).read_text("utf-8")):
            problems.append(f"{module} would be uploaded and imports dosim")
    kinds = dict(table)
    listing = [
        f"{f:<40} {kinds.get(f, 'entry' if f == entry else 'vendored'):<8} "
        f"{(outdir / f).stat().st_size:>7} B"
        for f in files
    ]
    return listing, problems


# --- staging and running the tools -------------------------------------------------------


def stage(app: Path, dest: Path) -> Path:
    """Copy the app to ``dest`` (without .git) and plant a working folder's clutter in it."""
    shutil.copytree(app, dest, ignore=shutil.ignore_patterns(".git"))
    for decoy in DECOYS:
        path = dest / decoy
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text("# planted by tools/deploy_check.py; must never be uploaded\n")
    return dest


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """Run the block with ``path`` as the current directory (pywrangler reads Path.cwd())."""
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@contextlib.contextmanager
def pywrangler_log() -> Iterator[list[str]]:
    """Collect what pywrangler logs at WARNING and above (its errors say why it refused)."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("pywrangler")
    handler = Collect(level=logging.WARNING)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def run_pywrangler_checks(app: Path, deploy_args: list[str]) -> tuple[str, list[str]]:
    """Call pywrangler's own pre-download checks in ``app``; return (python version, problems).

    These are pywrangler's functions, imported from the installed ``workers-py`` and
    called in the order its ``sync`` calls them; each reports through pywrangler's
    logger and raises ``click.exceptions.Exit`` on failure.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        have = version("workers-py")
    except PackageNotFoundError:
        raise SetupError(
            f"workers-py=={WORKERS_PY_PIN} is not installed (nox -s deploy_check)"
        ) from None
    if have != WORKERS_PY_PIN:
        raise SetupError(f"workers-py {have} is installed; the check pins {WORKERS_PY_PIN}")
    import click
    from pywrangler import resolve, sync, unsupported_flags, utils

    for cached in (utils.find_pyproject_toml, utils.get_python_version):
        cached.cache_clear()  # both are functools.cache'd on the current directory
    problems: list[str] = []
    python = ""
    with working_directory(app), pywrangler_log() as log:
        try:
            found = utils.find_pyproject_toml()
            if found.resolve() != (app / "pyproject.toml").resolve():
                problems.append(f"pywrangler found {found}, not the app's own pyproject.toml")
            sync.check_requirements_txt()
            utils.get_pywrangler_config()
            utils.check_wrangler_config()
            python = utils.get_python_version()
            resolve.parse_requirements()
        except click.exceptions.Exit as stop:
            said = "; ".join(log) or "no message"
            problems.append(f"pywrangler refused the app (exit {stop.exit_code}): {said}")
        flag = unsupported_flags.find_unsupported_flag("deploy", deploy_args)
        if flag is not None:
            problems.append(flag.error_message())
    return python, problems


def wrangler_command() -> list[str]:
    """The pinned wrangler under its pinned Node.js (or a Node.js 22+ on PATH elsewhere)."""
    script = WRANGLER_DIR / "node_modules" / "wrangler" / "bin" / "wrangler.js"
    if not script.is_file():
        raise SetupError(f"{script} is missing: run `npm ci` in {WRANGLER_DIR}")
    node = WRANGLER_DIR / "node_modules" / ".bin" / "node"
    if not node.exists():
        node = Path(shutil.which("node") or "node")
    return [str(node), str(script)]


def wrangler_version() -> str:
    """The installed wrangler's version, from its package.json (no process, no network)."""
    package = WRANGLER_DIR / "node_modules" / "wrangler" / "package.json"
    return json.loads(package.read_text(encoding="utf-8"))["version"]


def guard_selftest(scratch: Path) -> None:
    """Prove the offline guard refuses and records a fetch under the pinned Node.js.

    The address is in TEST-NET-1 (RFC 5737); the guard refuses before any packet is sent.
    """
    netlog = scratch / "guard-selftest.log"
    env = {**os.environ, "NODE_OPTIONS": f"--require {GUARD}", "DEPLOY_CHECK_NET_LOG": str(netlog)}
    probe = "fetch('http://192.0.2.1/').then(() => process.exit(3), () => process.exit(0))"
    done = subprocess.run(
        [wrangler_command()[0], "-e", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0 or "192.0.2.1:80" not in (
        netlog.read_text() if netlog.exists() else ""
    ):
        raise SetupError(f"the offline guard did not refuse a fetch: {done.stdout}{done.stderr}")


def run_dry_run(app: Path, outdir: Path, scratch: Path) -> tuple[str, list[str]]:
    """Run ``wrangler deploy --dry-run --outdir`` offline in ``app``; return (output, problems)."""
    netlog = scratch / "network-attempts.log"
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env.update(WRANGLER_ENV)
    env.update(
        NODE_OPTIONS=f"--require {GUARD}",
        DEPLOY_CHECK_NET_LOG=str(netlog),
        XDG_CONFIG_HOME=str(scratch / "xdg-config"),
        WRANGLER_LOG_PATH=str(scratch / "wrangler-logs"),
    )
    command = [*wrangler_command(), "deploy", "--dry-run", "--outdir", str(outdir)]
    done = subprocess.run(
        command, cwd=app, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    output = done.stdout + done.stderr
    problems = []
    if done.returncode != 0:
        problems.append(f"wrangler deploy --dry-run exited {done.returncode}:\n{output}")
    if netlog.is_file() and netlog.read_text().strip():
        problems.append(
            "wrangler tried to use the network during the dry run (refused):\n"
            + netlog.read_text().strip()
        )
    return output, problems


def check_app(app: Path, scratch: Path) -> AppReport:
    """Stage one app, run both tools on it and check the bundle."""
    report = AppReport(app=app)
    staged = stage(app, scratch / "app")
    try:
        config = read_wrangler_config(find_wrangler_config(staged))
    except (ValueError, tomllib.TOMLDecodeError) as error:
        report.problems.append(str(error))
        return report
    report.name = str(config.get("name", ""))
    report.problems += layout_problems(staged, config)
    outdir = scratch / "bundle"
    deploy_args = ["--dry-run", "--outdir", str(outdir)]
    report.python, problems = run_pywrangler_checks(staged, deploy_args)
    report.problems += problems
    if not isinstance(config.get("main"), str):
        return report
    output, problems = run_dry_run(staged, outdir, scratch)
    report.problems += problems
    if not problems:
        report.listing, problems = check_bundle(staged, config, outdir, output)
        report.problems += problems
    return report


def scratch_root() -> Path:
    """A temporary folder with no pyproject.toml in it or above it.

    pywrangler looks for ``pyproject.toml`` from the current folder upwards, so a copy
    staged inside a project (nox points TMPDIR into .nox/) would find that project's.
    """
    for candidate in (tempfile.gettempdir(), "/tmp", "/var/tmp"):
        folder = Path(candidate).resolve()
        if folder.is_dir() and not any(
            (p / "pyproject.toml").exists() for p in (folder, *folder.parents)
        ):
            return folder
    raise SetupError("no temporary folder outside a Python project (set TMPDIR)")


def duplicate_names(reports: list[AppReport]) -> list[str]:
    """Worker names shared by several apps (they would deploy over one another)."""
    seen: dict[str, list[Path]] = {}
    for report in reports:
        if report.name:
            seen.setdefault(report.name, []).append(report.app)
    return [
        f"Worker name {name!r} is used by {', '.join(str(a) for a in apps)}"
        for name, apps in sorted(seen.items())
        if len(apps) > 1
    ]


def print_report(report: AppReport) -> None:
    """Print one app's bundle listing and verdict."""
    status = "ok" if not report.problems else "FAILED"
    print(f"\n== {report.app} (Worker {report.name!r}, Python {report.python or '?'}): {status}")
    for line in report.listing:
        print(f"   {line}")
    for problem in report.problems:
        print(f"   ! {problem}")


def main(argv: list[str] | None = None) -> int:
    """Check every app folder given; print listings; 0 if all pass, 1 if not, 2 on setup errors."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("apps", nargs="+", type=Path, help="app folders to check")
    parser.add_argument("--unique-names", action="store_true", help="fail on shared Worker names")
    args = parser.parse_args(argv)
    try:
        print(
            f"deploy check: workers-py {WORKERS_PY_PIN}, wrangler {wrangler_version()}", flush=True
        )
        reports = []
        root = scratch_root()
        with tempfile.TemporaryDirectory(prefix="deploy-check-", dir=root) as scratch:
            guard_selftest(Path(scratch))
        for app in args.apps:
            with tempfile.TemporaryDirectory(prefix="deploy-check-", dir=root) as scratch:
                reports.append(check_app(app.resolve(), Path(scratch)))
            print_report(reports[-1])
            sys.stdout.flush()
    except (SetupError, FileNotFoundError) as error:
        print(f"deploy check: setup error: {error}", file=sys.stderr)
        return 2
    shared = duplicate_names(reports) if args.unique_names else []
    for line in shared:
        print(f"! {line}")
    failed = [r.app for r in reports if r.problems]
    print(f"\ndeploy check: {len(reports) - len(failed)} of {len(reports)} apps pass")
    return 1 if failed or shared else 0


if __name__ == "__main__":
    sys.exit(main())
