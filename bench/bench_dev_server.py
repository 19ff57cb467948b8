"""`dosim dev` over real loopback sockets, beside Miniflare 4 and wrangler dev in the same run.

Rows (each a ratio dosim / peer; peers from bench/peers/, see bench/common.py):

* HTTP through Worker → object RPC (``POST /bench/increment`` on ``examples/counter`` and
  its JS twin bench/peers/apps/counter) with ``wrk`` at concurrency 1 and 32: in memory
  (``dosim dev --in-memory`` beside Miniflare 4, whose state is in memory by default) and
  on disk (``dosim dev --persist-to``, every acknowledged write durable, beside
  ``wrangler dev --persist-to``);
* chat broadcast (``examples/chat`` and bench/peers/apps/chat, rate limit raised): 50 real
  WebSocket clients in one room, 1,000 messages sent in a burst (deliveries/s), then 1,000
  closed-loop messages (one sender waits for its own echo before sending the next;
  p50/p99 latency), dosim beside Miniflare 4;
* cold start: process launch → first ``200``.

All servers run at once, each on a free 127.0.0.1 port in its own process group (stopped
with SIGTERM, then SIGKILL), and the measurements alternate between them round by round,
so the machine's noise falls on every side. Every server gets a warm-up before the first
round. The script prints a table and asserts nothing. Without ``wrk`` the HTTP rows say so.

Run: ``python bench/bench_dev_server.py`` (``DOSIM_BENCH_SHORT=1``: one short round).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (
    ROOT,
    SHORT,
    Row,
    free_port,
    miniflare_command,
    peer_env,
    peers,
    print_rows,
    record,
    server,
    wrangler_command,
)

COUNTER = ROOT / "examples" / "counter"
CHAT = ROOT / "examples" / "chat"
ROUNDS = 1 if SHORT else 3
WRK_SECONDS = 2 if SHORT else 4
CLIENTS = 50
MESSAGES = 300 if SHORT else 1_000
COLD_STARTS = 1 if SHORT else 3

rows: list[Row] = []


def dosim_command(app_dir: Path, port: int, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dosim.cli",
        "dev",
        str(app_dir),
        "--port",
        str(port),
        "--no-reload",
        *options,
    ]


def dosim_server(app_dir: Path, port: int, *options: str, ready_path="/__dosim/api/app"):
    return server(dosim_command(app_dir, port, *options), port, ready_path)


def miniflare_server(app: str, port: int):
    ready = "/" if app == "chat" else "/bench"
    return server(miniflare_command(app, port), port, ready, env=peer_env())


def wrangler_server(app: str, port: int, state: Path):
    return server(
        wrangler_command(app, port, state), port, "/bench", env=peer_env(), cwd=state.parent
    )


# -- HTTP with wrk ------------------------------------------------------------------------------
def wrk_rps(port: int, connections: int, script: Path, seconds: int = WRK_SECONDS) -> float:
    threads = min(connections, 2)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/bench/increment",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  (wrk saw {errors.group(1)} non-2xx responses on port {port})")
    return float(match.group(1)) if match else float("nan")


def bench_http(work: Path, usable: bool, note: str) -> None:
    groups = [
        ("in memory", "Miniflare 4", None),
        ("on disk, every ack durable", "wrangler dev", 1.0),
    ]
    table = {
        (group, c): Row(
            f"HTTP → Worker → RPC, c={c}, {group}",
            "req/s",
            "higher",
            peer,
            goal=goal if c == 32 else None,
            goal_text=">= 1.0x" if c == 32 else "-",
            peer_note=note,
        )
        for group, peer, goal in groups
        for c in (1, 32)
    }
    table["in memory", 32].goal = 1.0
    table["in memory", 32].goal_text = ">= 1.0x"
    rows.extend(table.values())
    if shutil.which("wrk") is None:
        for row in table.values():
            row.peer_note = "skipped: wrk not installed (apt-get install -y wrk)"
        return
    script = work / "post.lua"
    script.write_text('wrk.method = "POST"\n')
    with contextlib.ExitStack() as stack:
        ports: dict[tuple[str, str], int] = {}
        ports["in memory", "dosim"] = free_port()
        stack.enter_context(dosim_server(COUNTER, ports["in memory", "dosim"], "--in-memory"))
        ports["on disk, every ack durable", "dosim"] = port = free_port()
        stack.enter_context(dosim_server(COUNTER, port, "--persist-to", str(work / "dosim-state")))
        if usable:
            ports["in memory", "peer"] = port = free_port()
            stack.enter_context(miniflare_server("counter", port))
            ports["on disk, every ack durable", "peer"] = port = free_port()
            stack.enter_context(wrangler_server("counter", port, work / "wrangler-state"))
        for port in ports.values():
            wrk_rps(port, 32, script, seconds=2)  # warm-up: imports, JIT, caches
        for _ in range(ROUNDS):
            for connections in (1, 32):
                for (group, side), port in ports.items():
                    row = table[group, connections]
                    figures = row.dosim if side == "dosim" else row.peer
                    figures.append(wrk_rps(port, connections, script))


# -- chat broadcast -----------------------------------------------------------------------------
async def chat_run(port: int, room: str) -> tuple[float, float, float]:
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{port}/room/{room}/ws"
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


def bench_chat(work: Path, usable: bool, note: str) -> None:
    app = work / "chat"
    shutil.copytree(CHAT, app, ignore=shutil.ignore_patterns(".dosim", "__pycache__"))
    config = app / "wrangler.toml"
    config.write_text(
        re.sub(r'RATE_LIMIT_PER_10S = "\d+"', 'RATE_LIMIT_PER_10S = "1000000"', config.read_text())
    )
    burst = Row(f"chat burst, {CLIENTS} clients", "deliveries/s", "higher", "Miniflare 4")
    p50 = Row("chat closed loop p50", "ms", "lower", "Miniflare 4", 1.0, "<= 1.0x")
    p99 = Row("chat closed loop p99", "ms", "lower", "Miniflare 4", 1.0, "<= 1.0x")
    for row in (burst, p50, p99):
        row.peer_note = note
    rows.extend((burst, p50, p99))
    with contextlib.ExitStack() as stack:
        ports = {"dosim": free_port()}
        stack.enter_context(dosim_server(app, ports["dosim"], "--in-memory"))
        if usable:
            ports["peer"] = free_port()
            stack.enter_context(miniflare_server("chat", ports["peer"]))
        for round_ in range(ROUNDS):
            for side, port in ports.items():
                figures = asyncio.run(chat_run(port, f"bench{round_}"))
                for row, figure in zip((burst, p50, p99), figures, strict=True):
                    (row.dosim if side == "dosim" else row.peer).append(figure)


# -- cold start ---------------------------------------------------------------------------------
def bench_cold_start(work: Path, usable: bool, note: str) -> None:
    vs_miniflare = Row("cold start → first 200, in memory", "s", "lower", "Miniflare 4")
    vs_wrangler = Row("cold start → first 200, on disk", "s", "lower", "wrangler dev")
    in_memory: list[float] = []
    on_disk: list[float] = []
    for run in range(COLD_STARTS):
        port = free_port()
        with dosim_server(COUNTER, port, "--in-memory", ready_path="/bench") as took:
            in_memory.append(took)
        port = free_port()
        state = work / f"cold-{run}"
        with dosim_server(COUNTER, port, "--persist-to", str(state), ready_path="/bench") as took:
            on_disk.append(took)
        if usable:
            port = free_port()
            with miniflare_server("counter", port) as took:
                vs_miniflare.peer.append(took)
            port = free_port()
            with wrangler_server("counter", port, work / f"wrangler-cold-{run}") as took:
                vs_wrangler.peer.append(took)
    vs_miniflare.dosim, vs_wrangler.dosim = in_memory, on_disk
    for row in (vs_miniflare, vs_wrangler):
        row.peer_note = note
    rows.extend((vs_miniflare, vs_wrangler))


def main() -> None:
    usable, versions = peers()
    note = "" if usable else f"peer could not run: {versions}"
    with tempfile.TemporaryDirectory(prefix="dosim-bench-") as folder:
        work = Path(folder)
        for bench in (bench_http, bench_chat, bench_cold_start):
            try:
                bench(work, usable, note)
            except Exception as error:  # noqa: BLE001 - print the row as failed, go on
                rows.append(Row(bench.__name__, "-", "higher", "-", peer_note=f"failed: {error!r}"))
    print_rows(
        f"`dosim dev` over loopback, {ROUNDS} interleaved round(s); peers: {versions}",
        [r for r in rows if r.unit not in ("s", "ms")],
    )
    print_rows("latencies and start-up", [r for r in rows if r.unit in ("s", "ms")], digits=2)
    record("dev_server", rows, peers=versions, wrk_seconds=WRK_SECONDS, messages=MESSAGES)


if __name__ == "__main__":
    main()
