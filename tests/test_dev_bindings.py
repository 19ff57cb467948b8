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
pytest.importorskip("starlette")
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
