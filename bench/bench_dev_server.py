"""`dosim dev` over real loopback sockets, beside Miniflare 4 and wrangler dev (issue 3).

Rows (peers measured on a 2-core machine, as the issue gives them):

* HTTP through Worker → object RPC (``POST /bench/increment`` on ``examples/counter``)
  with ``wrk`` at concurrency 1 and 32, ~5 s each, in-memory state and on-disk state;
* chat broadcast (``examples/chat``, rate limit raised): 50 real WebSocket clients in one
  room, 1,000 messages sent in a burst (deliveries/s), then 1,000 closed-loop messages
  (one sender waits for its own echo before sending the next; p50/p99 latency);
* cold start: process launch → first ``200``, median of 3.

Every server is a ``python -m dosim.cli dev`` subprocess on a free 127.0.0.1 port with
its request log sent to /dev/null, stopped with SIGTERM (then SIGKILL) at the end. The
script prints a table and asserts nothing. Without ``wrk`` the HTTP rows say so.

Run: ``python bench/bench_dev_server.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COUNTER = ROOT / "examples" / "counter"
CHAT = ROOT / "examples" / "chat"
WRK_SECONDS = 5
CLIENTS = 50
MESSAGES = 1_000
COLD_STARTS = 3
START_TIMEOUT = 30.0

rows: list[tuple[str, str, str, str]] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(port: int, path: str = "/", timeout: float = 1.0) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        conn.close()


@contextlib.contextmanager
def dev_server(app_dir: Path, *options: str, ready_path: str = "/__dosim/api/app"):
    """Run `dosim dev` in a subprocess; yield (port, seconds from launch to first 200)."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dosim.cli",
            "dev",
            str(app_dir),
            "--port",
            str(port),
            "--no-reload",
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = started + START_TIMEOUT
        while http_status(port, ready_path, timeout=0.5) != 200:
            if process.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"dosim dev did not start (exit code {process.poll()})")
            time.sleep(0.005)
        yield port, time.perf_counter() - started
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


# -- (a) HTTP with wrk ------------------------------------------------------------------------
def wrk_rps(port: int, connections: int, script: Path) -> float:
    threads = min(connections, 2)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{WRK_SECONDS}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/bench/increment",
        ],
        capture_output=True,
        text=True,
        timeout=WRK_SECONDS + 30,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  (wrk saw {errors.group(1)} non-2xx responses)")
    return float(match.group(1)) if match else float("nan")


def bench_http(work: Path) -> None:
    peers = {1: ("≈1,800", "≈680"), 32: ("≈2,500", "≈1,150")}
    if shutil.which("wrk") is None:
        rows.append(
            (
                "HTTP Worker → object RPC",
                "skipped: wrk not installed " "(apt-get install -y wrk)",
                "≈1,800 / ≈2,500",
                "≈680 / ≈1,150",
            )
        )
        return
    script = work / "post.lua"
    script.write_text('wrk.method = "POST"\n')
    for label, options in (
        ("in-memory", ("--in-memory",)),
        ("on-disk", ("--persist-to", str(work / "counter-state"))),
    ):
        with dev_server(COUNTER, *options) as (port, _):
            wrk_rps(port, 1, script)  # ~warm-up is the first second of each run; fine
            for connections in (1, 32):
                rps = wrk_rps(port, connections, script)
                miniflare, wrangler = peers[connections]
                rows.append(
                    (
                        f"HTTP RPC, c={connections}, {label} (req/s)",
                        f"{rps:,.0f}",
                        miniflare,
                        wrangler,
                    )
                )


# -- (b) chat broadcast -------------------------------------------------------------------------
async def chat_run(port: int) -> tuple[float, float, float]:
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{port}/room/bench/ws"
    clients = []
    for index in range(CLIENTS):
        ws = await connect(url, max_size=None, compression=None, open_timeout=10)
        await ws.send(json.dumps({"type": "join", "name": f"user{index}"}))
        clients.append(ws)

    async def drain_presence(ws) -> None:
        # each joiner sees history, then presence for itself and every later joiner
        expected = CLIENTS - clients.index(ws)
        seen = 0
        while seen < expected:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            seen += message["type"] == "presence"

    await asyncio.gather(*(drain_presence(ws) for ws in clients))

    async def count_messages(ws, wanted: int) -> None:
        got = 0
        while got < wanted:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
            got += message["type"] == "message"

    # burst: one sender, 1,000 messages, every client receives all of them
    sender = clients[0]
    started = time.perf_counter()
    receivers = [asyncio.ensure_future(count_messages(ws, MESSAGES)) for ws in clients]
    for index in range(MESSAGES):
        await sender.send(json.dumps({"type": "message", "text": f"burst {index}"}))
    await asyncio.gather(*receivers)
    burst = CLIENTS * MESSAGES / (time.perf_counter() - started)

    # closed loop: wait for the own echo before the next send; the others keep reading
    others = [asyncio.ensure_future(count_messages(ws, MESSAGES)) for ws in clients[1:]]
    latencies = []
    for index in range(MESSAGES):
        sent = time.perf_counter()
        await sender.send(json.dumps({"type": "message", "text": f"loop {index}"}))
        while True:
            message = json.loads(await asyncio.wait_for(sender.recv(), 10))
            if message["type"] == "message":
                break
        latencies.append((time.perf_counter() - sent) * 1000)
    await asyncio.gather(*others)
    for ws in clients:
        await ws.close()
    quantiles = statistics.quantiles(latencies, n=100)
    return burst, quantiles[49], quantiles[98]


def bench_chat(work: Path) -> None:
    app = work / "chat"
    shutil.copytree(CHAT, app, ignore=shutil.ignore_patterns(".dosim", "__pycache__"))
    config = app / "wrangler.toml"
    config.write_text(
        re.sub(r'RATE_LIMIT_PER_10S = "\d+"', 'RATE_LIMIT_PER_10S = "1000000"', config.read_text())
    )
    with dev_server(app, "--in-memory") as (port, _):
        burst, p50, p99 = asyncio.run(chat_run(port))
    rows.append(
        (f"chat broadcast burst, {CLIENTS} clients (deliveries/s)", f"{burst:,.0f}", "≈16,000", "-")
    )
    rows.append(
        ("chat closed-loop latency p50 / p99 (ms)", f"{p50:.1f} / {p99:.1f}", "2.5 / 7.1", "-")
    )


# -- (c) cold start ------------------------------------------------------------------------------
def bench_cold_start(work: Path) -> None:
    times = []
    for run in range(COLD_STARTS):
        state = work / f"cold-{run}"
        with dev_server(COUNTER, "--persist-to", str(state), ready_path="/bench") as (_, took):
            times.append(took)
    rows.append(
        (
            f"cold start → first 200 (s, median of {COLD_STARTS})",
            f"{statistics.median(times):.2f}",
            "0.58",
            "1.18",
        )
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="dosim-bench-") as folder:
        work = Path(folder)
        for bench in (bench_http, bench_chat, bench_cold_start):
            try:
                bench(work)
            except Exception as error:  # noqa: BLE001 - print the row as failed, go on
                rows.append((bench.__name__, f"failed: {type(error).__name__}: {error}", "", ""))
    widths = [max(len(row[i]) for row in rows + [HEADER]) for i in range(4)]
    print("\n`dosim dev` over loopback (this machine) beside the issue's peer figures")
    for row in [HEADER, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


HEADER = ("benchmark", "dosim dev", "Miniflare 4", "wrangler dev")

if __name__ == "__main__":
    main()
