"""The pytest plugin and bindings: a test double for a binding dosim does not simulate."""

import subprocess
import sys

import pytest

if sys.platform == "emscripten":
    pytest.skip("runs pytest in a subprocess", allow_module_level=True)

CONFIG = """\
name = "jobs"
main = "worker.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]

[[queues.producers]]
binding = "JOBS"
queue = "jobs"
"""

WORKER = """\
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        await self.env.JOBS.send({"path": request.url})
        return Response("queued")
"""

TESTS = """\
import pytest
from dosim.bindings.unsupported import BindingNotSimulated


class FakeQueue:
    def __init__(self):
        self.sent = []

    async def send(self, body):
        self.sent.append(body)


QUEUE = FakeQueue()


@pytest.mark.dosim_bindings(JOBS=QUEUE)
async def test_the_double_stands_in(dosim_app):
    response = await dosim_app.fetch("/a")
    assert await response.text() == "queued"
    assert QUEUE.sent == [{"path": "https://example.com/a"}]


@pytest.mark.filterwarnings("ignore::dosim.config.ConfigWarning")
async def test_without_a_double_the_binding_says_it_is_not_simulated(dosim_app):
    with pytest.raises(BindingNotSimulated, match="env.JOBS is a Queue producer"):
        await dosim_app.fetch("/a")
"""


def test_dosim_bindings_marker_puts_a_double_in_env(tmp_path):
    (tmp_path / "wrangler.toml").write_text(CONFIG)
    (tmp_path / "worker.py").write_text(WORKER)
    (tmp_path / "test_app.py").write_text(TESTS)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_app.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
