"""``dosim dev`` with bindings: service bindings to a second Worker, secrets, the banner.

Service bindings: https://developers.cloudflare.com/workers/runtime-apis/bindings/service-bindings/
(wrangler dev runs several Workers together with repeated ``-c``; dosim's ``--worker``).
"""

import json
import sys
from pathlib import Path

import pytest

if sys.platform == "emscripten":
    pytest.skip("the dev server needs sockets and threads", allow_module_level=True)
pytest.importorskip("uvicorn")

from dev_helpers import ThreadedServer, request  # noqa: E402

FRONT = """\
name = "front"
main = "worker.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]

[[services]]
binding = "AUTH"
service = "auth"
"""

FRONT_CODE = """\
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        verdict = await self.env.AUTH.check(request.headers.get("x-token") or "")
        upstream = await self.env.AUTH.fetch("https://auth/who")
        return Response.json({"verdict": verdict, "who": await upstream.text(),
                              "secret": self.env.API_KEY})
"""

AUTH = """\
name = "auth"
main = "worker.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]
"""

AUTH_CODE = """\
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("auth worker at " + request.url)

    async def check(self, token):
        return {"ok": token == self.env.EXPECTED}
"""


def write(folder: Path, config: str, code: str, secrets: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "wrangler.toml").write_text(config)
    (folder / "worker.py").write_text(code)
    (folder / ".dev.vars").write_text(secrets)
    return folder


def test_a_service_binding_reaches_a_worker_loaded_with_worker_and_secrets_load(tmp_path):
    front = write(tmp_path / "front", FRONT, FRONT_CODE, "API_KEY=k-123\n")
    auth = write(tmp_path / "auth", AUTH, AUTH_CODE, "EXPECTED=open-sesame\n")
    with ThreadedServer(front, in_memory=True, workers=[auth]) as server:
        banner = server.dev.banner()
        status, _, body = request(server.port, "GET", "/", headers={"x-token": "open-sesame"})
    assert status == 200, body
    assert json.loads(body) == {
        "verdict": {"ok": True},
        "who": "auth worker at https://auth/who",
        "secret": "k-123",
    }
    assert "linked Workers: auth" in banner


NOTES = """\
name = "notes"
main = "worker.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers"]

[[kv_namespaces]]
binding = "NOTES"
id = "notes-ns"
"""

NOTES_CODE = """\
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        key = request.url.rsplit("/", 1)[1]
        if request.method == "PUT":
            await self.env.NOTES.put(key, await request.text())
            return Response("stored")
        value = await self.env.NOTES.get(key)
        return Response(value if value is not None else "missing",
                        status=200 if value is not None else 404)
"""


def test_kv_written_under_dosim_dev_survives_kill_9_and_the_inspector_lists_it(tmp_path):
    import signal

    from dev_helpers import free_port, start_dev_subprocess

    app = tmp_path / "notes"
    app.mkdir()
    (app / "wrangler.toml").write_text(NOTES)
    (app / "worker.py").write_text(NOTES_CODE)
    log = tmp_path / "dev.log"
    port = free_port()
    server = start_dev_subprocess(app, port, log, extra_args=("--no-reload",))
    try:
        answers = [request(port, "PUT", f"/n/k{i}", body=f"v{i}".encode())[0] for i in range(20)]
    finally:
        server.send_signal(signal.SIGKILL)  # no shutdown: only committed writes survive
        server.wait(10)
    assert answers == [200] * 20
    assert (app / ".dosim" / "state" / "kv" / "notes-ns.sqlite").is_file()

    port = free_port()
    server = start_dev_subprocess(app, port, log, extra_args=("--no-reload",))
    try:
        values = [request(port, "GET", f"/n/k{i}")[2] for i in range(20)]
        status, _, body = request(port, "GET", "/__dosim/api/bindings")
        [listed] = json.loads(body)
        status_table, _, page = request(
            port, "GET", f"/__dosim/api/bindings/NOTES/tables/{listed['tables'][0]['name']}"
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
    assert values == [f"v{i}".encode() for i in range(20)], "every acknowledged put survived"
    assert status == 200 and listed["binding"] == "NOTES" and listed["type"] == "kv"
    assert listed["key"] == "notes-ns" and listed["tables"][0]["rows"] == 20
    assert status_table == 200 and json.loads(page)["total"] == 20
