"""Helpers shared by the tests that run ``dosim dev`` in this process.

Import only after ``pytest.importorskip("uvicorn")``: this module needs the ``dev`` extra.
"""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from dosim.dev.server import DevServer


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Any, timeout: float = 10.0, step: float = 0.05, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def request(port: int, method: str, path: str, body=None, headers=None, timeout: float = 10.0):
    """Send one HTTP request to 127.0.0.1:``port``; return (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def start_dev_subprocess(
    app_dir: Path,
    port: int,
    log: Path,
    *,
    extra_args: tuple[str, ...] = (),
    preexec_fn: Callable[[], None] | None = None,
    timeout: float = 20.0,
) -> subprocess.Popen:
    """Run ``python -m dosim.cli dev`` in a subprocess, output appended to ``log``.

    Returns once the inspector answers (fails at once if the server exits early).
    """
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "dosim.cli", "dev", str(app_dir), "--port", str(port)]
            + list(extra_args),
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=preexec_fn,  # noqa: PLW1509 - tests pass only setrlimit
        )

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"server exited early:\n{log.read_text()}")
        try:
            return request(port, "GET", "/__dosim/api/app", timeout=1)[0] == 200
        except OSError:
            return False

    wait_until(ready, timeout=timeout, step=0.1, what="the dev server subprocess")
    return process


def stop_dev_subprocess(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the server; kill it if it has not exited after ``grace`` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class ThreadedServer:
    """A ``DevServer`` served by uvicorn in a thread of the test process (a context manager).

    Options go to ``DevServer``; file watching is off unless asked for.
    """

    def __init__(self, app_dir: Path, **options: Any) -> None:
        options.setdefault("watch", False)
        self.port = free_port()
        self.dev = DevServer(app_dir, port=self.port, **options)
        self.uvicorn = uvicorn.Server(self.dev.uvicorn_config())
        self.thread = threading.Thread(target=self.uvicorn.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        wait_until(lambda: self.uvicorn.started, what="the server to start")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.uvicorn.should_exit = True
        self.thread.join(15)
        assert not self.thread.is_alive(), "server thread did not stop"
