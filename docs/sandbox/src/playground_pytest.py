"""The playground's "Run tests": pytest with dosim's plugin over an app's ``tests/``.

Loaded into the worker as ``_dosim_playground_pytest`` (``_dosim_playground``'s
``run_tests`` op calls it). pytest itself is not in the snapshot: the worker unpacks its
wheels on the first ``run_tests``, so it is imported here only when a run starts.
"""

import io
import os
import sys
from contextlib import redirect_stderr, redirect_stdout


class Collector:
    """A pytest plugin that keeps one outcome per test (and per collection error).

    Args:
        relative: Maps a file name to its path inside the app, or ``None``.
    """

    def __init__(self, relative):
        self.tests = {}
        self.relative = relative  # a file's path inside the app, or None

    def _entry(self, report, outcome):
        entry = {"nodeid": report.nodeid, "outcome": outcome, "message": "", "longrepr": ""}
        if report.failed:
            entry["longrepr"] = report.longreprtext
            crash = getattr(report.longrepr, "reprcrash", None)
            last = report.longreprtext.strip().splitlines()[-1:] or [""]
            entry["message"] = crash.message if crash else last[0]
            if crash is not None:
                entry["file"], entry["line"] = self.relative(crash.path), crash.lineno
        elif report.skipped and isinstance(report.longrepr, tuple):
            entry["message"] = report.longrepr[2]
        return entry

    def pytest_runtest_logreport(self, report):
        """Record a phase's report: a failed setup or teardown is an error."""
        known = self.tests.get(report.nodeid)
        if report.when == "call":
            outcome = "passed" if report.passed else "failed" if report.failed else "skipped"
            self.tests[report.nodeid] = self._entry(report, outcome)
        elif report.failed:
            self.tests[report.nodeid] = self._entry(report, "error")
        elif report.skipped and known is None:
            self.tests[report.nodeid] = self._entry(report, "skipped")

    def pytest_collectreport(self, report):
        """Record a file that could not be collected (a syntax or import error)."""
        if report.failed:
            self.tests[report.nodeid] = self._entry(report, "error")


def run_pytest(folder, collector):
    """Run pytest over ``folder/tests`` with dosim's plugin only; what it printed is kept.

    Args:
        folder: The app's folder (pytest's rootdir).
        collector: A :class:`Collector`, which receives the reports.

    Returns:
        ``(pytest's exit code, its output)``.
    """
    import pytest  # installed on the first run_tests only (worker.js)

    out = io.StringIO()
    previous = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    # Only the dosim plugin: the host's other plugins (this is CPython's test run, or a
    # page) are not the app's.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    args = [
        "-q",
        "-p",
        "dosim.testing.plugin",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:faulthandler",
        "--capture=sys",
        "--import-mode=importlib",
        f"--rootdir={folder}",
        str(folder / "tests"),
    ]
    # importlib mode keeps test modules out of the way of same-named ones already
    # imported (CPython's own test run imports the starters' tests); the tests folder on
    # sys.path still lets a test import a helper module beside it, as ``pytest`` run in
    # the app's folder (prepend mode) does.
    saved_path = list(sys.path)
    sys.path.insert(0, str(folder / "tests"))
    try:
        with redirect_stdout(out), redirect_stderr(out):
            code = pytest.main(args, plugins=[collector])
    finally:
        sys.path[:] = saved_path
        if previous is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = previous
    return int(code), out.getvalue()
