"""dosim.dev.web: the dev server's ASGI layer, driven directly with ASGI messages."""

import asyncio
import contextlib
import json

import pytest

from dosim.dev.web import (
    AsgiApp,
    Headers,
    JSONResponse,
    PlainTextResponse,
    Request,
    Response,
    Route,
)


def _http(app, method, path, body=b"", headers=(), query=b""):
    """Run one HTTP request through ``app``; return (status, headers dict, body, error)."""
    sent = []
    incoming = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": list(headers),
    }
    error = None
    try:
        asyncio.run(app(scope, receive, send))
    except Exception as raised:  # noqa: BLE001 - returned for the test to check
        error = raised
    start, body_message = sent
    return start["status"], dict(start["headers"]), body_message["body"], error


@contextlib.asynccontextmanager
async def _no_lifespan(app):
    yield


def _app(fallback_methods=("GET", "POST", "PURGE")):
    async def item(request):
        return JSONResponse({"params": request.path_params, "q": request.query_params})

    async def other(request):
        body = b"".join([chunk async for chunk in request.stream()])
        return PlainTextResponse(f"{request.method} {request.path} {body.decode()}")

    async def websocket(socket):  # pragma: no cover - not reached by these tests
        await socket.close()

    return AsgiApp(
        [Route("/api/{kind}/items/{id}", item)],
        fallback=other,
        fallback_methods=fallback_methods,
        websocket=websocket,
        lifespan=_no_lifespan,
    )


def test_a_route_gets_its_path_parameters_and_the_last_value_of_a_query_parameter():
    status, headers, body, _ = _http(_app(), "GET", "/api/kv/items/7", query=b"a=1&a=2&b=")
    assert status == 200
    assert json.loads(body) == {"params": {"kind": "kv", "id": "7"}, "q": {"a": "2", "b": ""}}
    assert headers[b"content-type"] == b"application/json"


def test_a_parameter_is_one_segment_and_other_paths_and_methods_go_to_the_fallback():
    app = _app()
    assert _http(app, "GET", "/api/kv/items/7/more")[2] == b"GET /api/kv/items/7/more "
    assert _http(app, "POST", "/api/kv/items/7", body=b"hi")[2] == b"POST /api/kv/items/7 hi"


def test_a_method_nobody_takes_gets_405_with_the_methods_allowed():
    app = _app(fallback_methods=("POST",))
    at_route = _http(app, "DELETE", "/api/kv/items/7")
    elsewhere = _http(app, "DELETE", "/x")
    assert (at_route[0], at_route[1][b"allow"], at_route[2]) == (
        405,
        b"GET, HEAD",
        b"Method Not Allowed",
    )
    assert (elsewhere[0], elsewhere[1][b"allow"]) == (405, b"POST")


def test_a_handler_that_raises_gets_500_and_the_error_goes_on_to_the_server():
    async def boom(request):
        raise ValueError("boom")

    app = AsgiApp([], boom, ("GET",), websocket=None, lifespan=_no_lifespan)
    status, headers, body, error = _http(app, "GET", "/")
    assert (status, body) == (500, b"Internal Server Error")
    assert isinstance(error, ValueError)


def test_responses_frame_their_body_and_name_their_text_charset():
    text = PlainTextResponse("é")
    assert text.raw_headers == [
        (b"content-length", b"2"),
        (b"content-type", b"text/plain; charset=utf-8"),
    ]
    assert Response(b"", status_code=204).raw_headers == []
    given = Response(b"abc", headers={"Content-Type": "x/y", "X-A": "1"})
    assert given.raw_headers == [
        (b"content-type", b"x/y"),
        (b"x-a", b"1"),
        (b"content-length", b"3"),
    ]
    assert JSONResponse({"a": "é", "b": [1, 2]}).body == '{"a":"é","b":[1,2]}'.encode()
    with pytest.raises(ValueError):
        JSONResponse(float("nan"))


def test_headers_are_read_case_insensitively_first_value_first():
    headers = Headers([(b"host", b"a"), (b"X-Two", b"1"), (b"x-two", b"2")])
    assert (headers.get("HOST"), headers.get("x-two"), headers.get("none", "-")) == ("a", "1", "-")
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": headers.raw}, None)
    assert request.headers.get("X-TWO") == "1"


def _lifespan_run(lifespan):
    sent = []
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message["type"])

    app = AsgiApp([], None, (), websocket=None, lifespan=lifespan)
    with contextlib.suppress(RuntimeError):
        asyncio.run(app({"type": "lifespan"}, receive, send))
    return sent


def test_the_lifespan_is_entered_at_startup_and_left_at_shutdown():
    seen = []

    @contextlib.asynccontextmanager
    async def lifespan(app):
        seen.append("enter")
        yield
        seen.append("exit")

    @contextlib.asynccontextmanager
    async def failing(app):
        raise RuntimeError("no start")
        yield

    assert _lifespan_run(lifespan) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert seen == ["enter", "exit"]
    assert _lifespan_run(failing) == ["lifespan.startup.failed"]
