"""`dosim dev` with many objects on disk: file descriptors, damaged files, the inspector's list.

* Thousands of objects under ``ulimit -n 256``: the server (a subprocess with that limit)
  creates a file per written object, none for objects only read, keeps its open files
  bounded, and starts again on the same folder under the same limit. The object count is
  :data:`OBJECTS`: ``DOSIM_FD_TEST_OBJECTS`` (``nox -s tests`` sets 10,000), 500 by
  default, because each new object costs about 30 ms of fsyncs on a small VM (its file
  created with a durable first commit, and the least recently used file checkpointed as
  it closes), so 10,000 took 411 s there.
* A damaged object file no longer stops start-up: it is named in the log and moved to
  ``<state>/corrupt/<time>/``, and the other objects are served.
* Objects with stored data stay listed by the inspector after eviction and a restart;
  objects that were only read leave nothing behind.
"""

import http.client
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

if sys.platform == "emscripten":
    pytest.skip("the dev server needs sockets and threads", allow_module_level=True)
pytest.importorskip("uvicorn")
resource = pytest.importorskip("resource")

import dev_helpers  # noqa: E402
from dev_helpers import free_port, request  # noqa: E402

OBJECTS = int(os.environ.get("DOSIM_FD_TEST_OBJECTS", "500"))
"""How many objects the file-descriptor test creates (see the module docstring)."""

FILE_LIMIT = 256

WRANGLER = """\
name = "fdtest"
main = "worker.py"
compatibility_date = "2025-11-01"
compatibility_flags = ["python_workers"]

[[durable_objects.bindings]]
name = "BOX"
class_name = "Box"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Box"]
"""

WORKER = """\
from urllib.parse import urlparse

from workers import DurableObject, Response, WorkerEntrypoint


class Box(DurableObject):
    async def put(self, value):
        await self.ctx.storage.put("value", value)
        return "stored"

    async def get(self):
        return await self.ctx.storage.get("value")


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        verb, name = [p for p in urlparse(request.url).path.split("/") if p][:2]
        box = self.env.BOX.getByName(name)
        if verb == "put":
            return Response(await box.put(name))
        return Response(str(await box.get()))
"""


@pytest.fixture
def app_dir(tmp_path):
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "wrangler.toml").write_text(WRANGLER)
    (folder / "worker.py").write_text(WORKER)
    return folder


def _namespace_folder(app_dir: Path) -> Path:
    return app_dir / ".dosim" / "state" / "fdtest-Box"


# -- many objects under ulimit -n 256 --------------------------------------------------------
def _limit_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


def _start(app_dir: Path, port: int, log: Path) -> subprocess.Popen:
    return dev_helpers.start_dev_subprocess(
        app_dir, port, log, extra_args=("--no-reload",), preexec_fn=_limit_files, timeout=120
    )


def _stop(process: subprocess.Popen) -> None:
    dev_helpers.stop_dev_subprocess(process, grace=30)


def _open_fds(process: subprocess.Popen) -> int:
    return len(os.listdir(f"/proc/{process.pid}/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files in /proc")
def test_thousands_of_objects_under_ulimit_256_then_a_restart(app_dir, tmp_path):
    log = tmp_path / "server.log"
    port = free_port()
    process = _start(app_dir, port, log)
    failures: list[tuple[str, int, bytes]] = []
    most_fds = 0
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for n in range(OBJECTS):
            paths = [f"/put/w{n}"] + ([f"/get/r{n}"] if n % 10 == 0 else [])
            for path in paths:
                conn.request("POST" if path.startswith("/put") else "GET", path)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    failures.append((path, response.status, body[:300]))
            if n % 100 == 0:
                most_fds = max(most_fds, _open_fds(process))
        conn.close()
        assert failures == [], f"{len(failures)} failed, first: {failures[:3]}"
        assert most_fds < FILE_LIMIT - 32, most_fds
    finally:
        _stop(process)
    files = sorted(path.name for path in _namespace_folder(app_dir).glob("*.sqlite"))
    assert len(files) == OBJECTS  # one per written object, none for the ones only read

    port = free_port()
    process = _start(app_dir, port, log)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for n in range(0, OBJECTS, max(1, OBJECTS // 100)):
            conn.request("GET", f"/get/w{n}")
            assert conn.getresponse().read() == f"w{n}".encode()
        conn.request("POST", f"/put/w{OBJECTS}")
        assert conn.getresponse().read() == b"stored"
        conn.request("GET", "/__dosim/api/namespaces")
        listed = json.loads(conn.getresponse().read())
        conn.close()
        assert listed[0]["objects"] == OBJECTS + 1
        assert _open_fds(process) < FILE_LIMIT - 32
    finally:
        _stop(process)
    assert "unable to open" not in log.read_text()


# -- a damaged object file -------------------------------------------------------------------
class ThreadedServer(dev_helpers.ThreadedServer):
    def api(self, path):
        status, _, body = request(self.port, "GET", "/__dosim/api" + path)
        assert status == 200, (path, status, body)
        return json.loads(body)


def test_a_damaged_object_file_is_named_set_aside_and_the_rest_served(app_dir, caplog):
    with ThreadedServer(app_dir) as server:
        assert request(server.port, "POST", "/put/good")[2] == b"stored"
        assert request(server.port, "POST", "/put/bad")[2] == b"stored"
        bad_hex = server.dev.app.env.BOX.idFromName("bad").toString()
    folder = _namespace_folder(app_dir)
    bad = folder / f"{bad_hex}.sqlite"
    bad.write_bytes(b"this is not an SQLite database, whatever its name says" * 100)
    state = app_dir / ".dosim" / "state"

    with caplog.at_level(logging.INFO, logger="dosim.dev"), ThreadedServer(app_dir) as server:
        assert request(server.port, "GET", "/get/good")[2] == b"good"
        assert request(server.port, "GET", "/get/bad")[2] == b"None"  # starts empty
        assert request(server.port, "POST", "/put/bad")[2] == b"stored"
        assert len(server.api("/namespaces/BOX/objects")) == 2
    moved = list((state / "corrupt").glob(f"*/fdtest-Box/{bad_hex}.sqlite"))
    assert len(moved) == 1
    assert moved[0].read_bytes().startswith(b"this is not an SQLite database")
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(str(bad) in line and str(moved[0]) in line for line in errors), errors
    assert "reopened 1 stored object(s)" in caplog.text


# -- the inspector's list --------------------------------------------------------------------
def test_objects_with_stored_data_stay_listed_after_eviction_and_a_restart(app_dir):
    with ThreadedServer(app_dir) as server:
        assert request(server.port, "POST", "/put/kept")[2] == b"stored"
        assert request(server.port, "GET", "/get/glance")[2] == b"None"
        listed = {o["name"]: o["live"] for o in server.api("/namespaces/BOX/objects")}
        assert listed == {"kept": True, "glance": True}
        app = server.dev.app
        assert app.evict(("BOX", "kept")) and app.evict(("BOX", "glance"))
        listed = {o["name"]: o["live"] for o in server.api("/namespaces/BOX/objects")}
        assert listed == {"kept": False}  # "glance" was only read: nothing stored
        kept = server.api("/namespaces/BOX/objects")[0]["id"]
        assert server.api(f"/namespaces/BOX/objects/{kept}/kv")["entries"][0]["value"] == ('"kept"')
    assert len(list(_namespace_folder(app_dir).glob("*.sqlite"))) == 1
    with ThreadedServer(app_dir) as server:
        listed = {o["name"]: o["live"] for o in server.api("/namespaces/BOX/objects")}
        assert listed == {"kept": False}
