"""workers.asgi: ASGI apps served from a Worker, as the SDK serves them.

Behaviour learned from workers-runtime-sdk 1.9.5, ``workers/asgi.py`` (``request_to_scope``,
``start_application``, ``process_request``, ``entrypoint``): the scope's fields, lifespan
around each request, ``scope["env"]``, null-body statuses, the top-level ``asgi`` alias.
"""

import asyncio
import importlib
import json
import sys

import pytest

from dosim import App
from workers import Request, WorkerEntrypoint, asgi


def recording_app(seen):
    """A bare ASGI 3 app: records scope and events, answers with JSON."""

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                seen.append(message["type"])
                if message["type"] == "lifespan.startup":
                    scope["state"]["greeting"] = "hello"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        request = await receive()
        seen.append("request")
        body = {
            "method": scope["method"],
            "path": scope["path"],
            "raw_path": scope["raw_path"].decode(),
            "query": scope["query_string"].decode(),
            "scheme": scope["scheme"],
            "header": dict(scope["headers"]).get(b"x-name", b"").decode(),
            "body": request["body"].decode(),
            "env": scope["env"].LABEL,
            "state": scope["state"]["greeting"],
            "asgi": scope["asgi"],
        }
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"content-type", b"application/json"), (b"set-cookie", b"a=1")],
            }
        )
        await send(
            {
                "type": "http.response.body",
                "body": json.dumps(body)[:10].encode(),
                "more_body": True,
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(body)[10:].encode()})

    return app


class Env:
    LABEL = "blue"


async def test_a_request_becomes_an_asgi_scope_inside_a_lifespan():
    seen = []
    request = Request(
        "https://example.com/a%20b/c?x=1&y=2", method="POST", headers={"X-Name": "ada"}, body="hi"
    )
    response = await asgi.fetch(recording_app(seen), request, Env())
    assert response.status == 201
    assert response.headers.get("set-cookie") == "a=1"
    assert await response.json() == {
        "method": "POST",
        "path": "/a b/c",
        "raw_path": "/a%20b/c",
        "query": "x=1&y=2",
        "scheme": "https",
        "header": "ada",
        "body": "hi",
        "env": "blue",
        "state": "hello",
        "asgi": {"spec_version": "2.0", "version": "3.0"},
    }
    assert seen == ["lifespan.startup", "request", "lifespan.shutdown"]


async def test_an_app_without_lifespan_is_served_and_null_body_statuses_send_none():
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            raise ValueError("no lifespan here")  # the spec's way to say "not supported"
        assert "state" not in scope
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b"ignored"})

    response = await asgi.fetch(app, Request("https://example.com/"), Env())
    assert response.status == 204 and response.body is None


async def test_errors_before_the_response_reach_the_worker():
    async def app(scope, receive, send):
        if scope["type"] == "http":
            raise KeyError("boom")

    with pytest.raises(KeyError):
        await asgi.fetch(app, Request("https://example.com/"), Env())


async def test_entrypoint_serves_every_request_and_the_top_level_alias_is_the_module():
    assert importlib.import_module("asgi") is asgi  # the SDK's top-level alias
    Default = asgi.entrypoint(recording_app([]))
    assert issubclass(Default, WorkerEntrypoint)
    app = App(Default, {}, vars={"LABEL": "green"})
    response = await app.fetch("/hello?z=9")
    body = await response.json()
    assert (body["path"], body["query"], body["env"]) == ("/hello", "z=9", "green")


async def test_a_starlette_app_runs_unchanged():
    starlette = pytest.importorskip("starlette.applications")
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hello(request):
        return JSONResponse(
            {"name": request.path_params["name"], "env": request.scope["env"].LABEL}
        )

    app = starlette.Starlette(routes=[Route("/hello/{name}", hello)])
    response = await asgi.fetch(app, Request("https://example.com/hello/ada"), Env())
    assert response.status == 200
    assert await response.json() == {"name": "ada", "env": "blue"}
    missing = await asgi.fetch(app, Request("https://example.com/nope"), Env())
    assert missing.status == 404


async def test_cloudflares_example_shape_runs_js_object_and_all():
    # python-workers-examples' FastAPI Worker hands ``request.js_object`` to asgi.fetch.
    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            return await asgi.fetch(recording_app([]), request.js_object, self.env)

    response = await App(Default, {}, vars={"LABEL": "teal"}).fetch("/x")
    assert (await response.json())["env"] == "teal"


def test_an_asgi_module_of_the_app_wins_over_the_alias(tmp_path, monkeypatch):
    (tmp_path / "asgi.py").write_text("MINE = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "asgi", raising=False)
    assert importlib.import_module("asgi").MINE is True
    sys.modules.pop("asgi")
    monkeypatch.undo()  # the app's folder leaves sys.path
    sys.modules.pop("asgi", None)
    assert importlib.import_module("asgi") is asgi  # found by the alias, last


async def test_an_error_after_the_response_is_logged_and_the_response_kept(caplog):
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            raise ValueError("no lifespan")
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b"Internal Server Error"})
        raise ValueError("raised after the 500, as Starlette's error middleware does")

    response = await asgi.fetch(app, Request("https://example.com/"), Env())
    assert response.status == 500 and await response.text() == "Internal Server Error"
    assert "raised after its response" in caplog.text


async def test_a_lifespan_that_keeps_running_is_cancelled_after_the_request():
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            await asyncio.Event().wait()  # never returns
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    before = len(asyncio.all_tasks())
    for _ in range(3):
        assert (await asgi.fetch(app, Request("https://example.com/"), Env())).status == 200
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == before
