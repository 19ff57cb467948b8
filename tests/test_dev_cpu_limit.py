"""`dosim dev` against a handler that never returns: the CPU limit, and stopping the server.

Each server is a subprocess (``python -m dosim.cli dev``): the CPU limit is enforced on
the main thread only, and signals are what is tested. The status of a Worker over its
limit (503, Cloudflare's error page 1102) is inferred.
"""

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

if sys.platform == "emscripten" or not hasattr(signal, "SIGXCPU"):
    pytest.skip("needs subprocesses, signals and threads", allow_module_level=True)
pytest.importorskip("uvicorn")

from dev_helpers import free_port, request, start_dev_subprocess  # noqa: E402

from dosim.errors import MSG_CPU_RESET  # noqa: E402

WRANGLER = """\
name = "spin"
main = "worker.py"
compatibility_date = "2025-11-01"
compatibility_flags = ["python_workers"]

[limits]
cpu_ms = {cpu_ms}

[[durable_objects.bindings]]
name = "BUSY"
class_name = "Busy"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Busy"]
"""

WORKER = """\
import asyncio
from workers import DurableObject, Response, WorkerEntrypoint


class Busy(DurableObject):
    async def spin(self):
        await self.ctx.storage.put("uncommitted", True)
        while True:
            pass

    async def count(self):
        n = (await self.ctx.storage.get("n") or 0) + 1
        await self.ctx.storage.put("n", n)
        return n

    async def get(self, key):
        return await self.ctx.storage.get(key)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3]
        stub = self.env.BUSY.getByName("a")
        if path == "spin":
            while True:
                pass
        if path == "spin-object":
            try:
                await stub.spin()
            except Exception as error:
                return Response(error.message, status=500)
        if path == "wait":
            await asyncio.sleep(0.6)
            return Response("waited")
        if path == "count":
            return Response(str(await stub.count()))
        if path == "uncommitted":
            return Response(str(await stub.get("uncommitted")))
        return Response("?", status=404)
"""


def make_app(folder: Path, cpu_ms: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "wrangler.toml").write_text(WRANGLER.format(cpu_ms=cpu_ms))
    (folder / "worker.py").write_text(WORKER)
    return folder


class Server:
    """``dosim dev`` in a subprocess; always stopped (killed if need be) on exit."""

    def __init__(self, tmp_path: Path, cpu_ms: int) -> None:
        self.app_dir = make_app(tmp_path / "app", cpu_ms)
        self.log = tmp_path / "server.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        self.process = start_dev_subprocess(
            self.app_dir, self.port, self.log, extra_args=("--no-reload",)
        )
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def get(self, path, timeout=10.0):
        return request(self.port, "GET", path, timeout=timeout)

    def start_runaway(self) -> None:
        """Send ``GET /spin`` and return once the Worker is spinning."""

        def send():
            try:
                self.get("/spin", timeout=30)
            except OSError:
                pass  # the server stopped under it

        threading.Thread(target=send, daemon=True).start()
        time.sleep(0.5)
        with pytest.raises(OSError):  # the server is stuck: the inspector does not answer
            self.get("/__dosim/api/app", timeout=0.5)

    def stopped_within(self, seconds: float) -> float:
        started = time.monotonic()
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"still running after {seconds} s:\n{self.log.read_text()}"
            ) from None
        return time.monotonic() - started


def test_a_runaway_handler_gets_the_error_and_the_server_keeps_serving(tmp_path):
    with Server(tmp_path, cpu_ms=200) as server:
        assert server.get("/count")[2] == b"1"
        status, _, body = server.get("/spin")
        assert status == 503 and b"Worker exceeded CPU time limit." in body
        status, _, body = server.get("/spin-object")
        assert (status, body.decode()) == (500, MSG_CPU_RESET)
        assert server.get("/__dosim/api/app")[0] == 200  # the inspector answers
        assert server.get("/uncommitted")[2] == b"None"  # the reset discarded the write
        assert server.get("/count")[2] == b"2"
        assert server.get("/wait")[2] == b"waited"  # waiting longer than the limit is fine
    log = server.log.read_text()
    assert "GET /spin 503" in log and "CpuLimitExceeded" in log


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_during_a_runaway_handler_stops_the_server_within_seconds(tmp_path, sig):
    with Server(tmp_path, cpu_ms=300_000) as server:
        server.start_runaway()
        server.process.send_signal(sig)
        assert server.stopped_within(8) < 6
    assert "kept the server busy" in server.log.read_text()


def test_a_second_sigint_exits_at_once(tmp_path):
    with Server(tmp_path, cpu_ms=300_000) as server:
        server.start_runaway()
        server.process.send_signal(signal.SIGINT)
        time.sleep(0.2)
        server.process.send_signal(signal.SIGINT)
        server.stopped_within(8)
    # The second signal exits before the stuck-loop watcher (2 s) would: its message, not
    # the watcher's, ends the log.
    log = server.log.read_text()
    assert "second stop signal" in log
    assert "kept the server busy" not in log


def test_sigterm_stops_an_idle_server_gracefully(tmp_path):
    with Server(tmp_path, cpu_ms=200) as server:
        assert server.get("/count")[2] == b"1"
        server.process.send_signal(signal.SIGTERM)
        assert server.stopped_within(8) < 5
    assert "dosim dev: stopped" in server.log.read_text()
