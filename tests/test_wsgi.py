"""workers.wsgi: WSGI apps served from a Worker, as the SDK serves them.

Behaviour learned from workers-runtime-sdk 1.9.5 (PyPI wheel), ``workers/wsgi.py``:
``build_environ`` (lines 125-196: the environ keys, ``PATH_INFO`` as a native string,
header folding, ``workers.env``), ``process_request`` (lines 300-377: ``start_response``
and ``write`` per PEP 3333, the first non-empty chunk pulled before the response is built,
``close()``), ``_make_streaming_response`` (lines 225-297: status line split, repeated
headers appended, null-body statuses) and ``entrypoint`` (lines 402-409). The apps here
are tiny hand-written WSGI callables; no framework is needed.
"""

import io
import json

import pytest

from dosim import App
from workers import Request, WorkerEntrypoint, wsgi


class Bindings:
    LABEL = "blue"


def echo_app(environ, start_response):
    """Answer with the environ's interesting keys, as JSON."""
    body = environ["wsgi.input"].read()
    keys = [
        "REQUEST_METHOD",
        "SCRIPT_NAME",
        "PATH_INFO",
        "QUERY_STRING",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "HTTP_X_NAME",
        "wsgi.url_scheme",
    ]
    seen = {key: environ.get(key) for key in keys}
    seen["body"] = body.decode()
    seen["env"] = environ["workers.env"].LABEL
    seen["version"] = list(environ["wsgi.version"])
    seen["flags"] = [environ[f"wsgi.{k}"] for k in ("multithread", "multiprocess", "run_once")]
    start_response(
        "201 Created",
        [("Content-Type", "application/json"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
    )
    return [json.dumps(seen).encode()]


async def test_fetch_builds_the_environ_the_sdk_builds():
    request = Request(
        "https://example.com:8443/caf%C3%A9/a%20b?q=%20x&y=1",
        method="POST",
        headers={"X-Name": "ada", "Content-Type": "text/plain"},
        body="hello",
    )
    response = await wsgi.fetch(echo_app, request, Bindings())
    assert response.status == 201
    assert response.status_text == "Created"
    seen = await response.json()
    assert seen == {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        # Decoded, then UTF-8 bytes read as Latin-1 (PEP 3333 native string).
        "PATH_INFO": "/café/a b".encode().decode("latin-1"),
        "QUERY_STRING": "q=%20x&y=1",
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "8443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "text/plain",
        # The SDK streams the body and does not count it: no CONTENT_LENGTH unless sent.
        "CONTENT_LENGTH": None,
        "HTTP_X_NAME": "ada",
        "wsgi.url_scheme": "https",
        "body": "hello",
        "env": "blue",
        "version": [1, 0],
        "flags": [False, False, False],
    }
    assert response.headers.get_all("set-cookie") == ["a=1", "b=2"]


def test_build_environ_defaults_the_port_and_counts_a_bytes_body():
    environ = wsgi.build_environ(Request("http://example.com"), None, b"abc")
    assert environ["SERVER_PORT"] == "80"
    assert environ["PATH_INFO"] == "/"
    assert environ["CONTENT_LENGTH"] == "3"
    assert environ["wsgi.input"].read() == b"abc"
    assert wsgi.build_environ(Request("https://example.com"), None, b"")["SERVER_PORT"] == "443"


def test_build_environ_keeps_a_sent_content_length_and_folds_repeated_headers():
    request = Request(
        "https://example.com/",
        method="POST",
        headers=[("Content-Length", "2"), ("X-A", "1")],
        body=b"hi",
    )
    environ = wsgi.build_environ(request, None, io.BytesIO(b"hi"))
    assert environ["CONTENT_LENGTH"] == "2"
    assert environ["HTTP_X_A"] == "1"


async def test_write_output_comes_before_the_iterable_and_close_is_called():
    closed = []

    class Body:
        def __iter__(self):
            yield b""
            yield b"-tail"

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        write = start_response("200 OK", [])
        write(b"head")
        return Body()

    response = await wsgi.fetch(app, Request("https://example.com/"), None)
    assert await response.text() == "head-tail"
    assert closed == [True]


async def test_start_response_may_wait_for_the_first_chunk():
    def app(environ, start_response):
        yield b""  # empty chunks before start_response are allowed
        start_response("202 Accepted", [("X-Late", "yes")])
        yield b"ok"

    response = await wsgi.fetch(app, Request("https://example.com/"), None)
    assert (response.status, response.headers["x-late"]) == (202, "yes")
    assert await response.text() == "ok"


async def test_an_app_that_never_starts_the_response_fails():
    def app(environ, start_response):
        return [b"no status"]

    with pytest.raises(RuntimeError, match=r"did not call start_response\(\)"):
        await wsgi.fetch(app, Request("https://example.com/"), None)


async def test_start_response_twice_without_exc_info_is_an_error():
    def app(environ, start_response):
        start_response("200 OK", [])
        start_response("500 Oops", [])
        return [b""]

    with pytest.raises(AssertionError, match="more than once"):
        await wsgi.fetch(app, Request("https://example.com/"), None)


async def test_start_response_with_exc_info_after_a_status_raises_the_error():
    # The SDK re-raises as soon as a status was given, even before any body (wsgi.py:322-330).
    def app(environ, start_response):
        start_response("200 OK", [])
        try:
            raise ValueError("boom")
        except ValueError as error:
            start_response("500 Internal Server Error", [], (type(error), error, None))
        return [b"failed"]

    with pytest.raises(ValueError, match="boom"):
        await wsgi.fetch(app, Request("https://example.com/"), None)


async def test_start_response_with_exc_info_as_the_first_call_is_a_status():
    def app(environ, start_response):
        try:
            raise ValueError("boom")
        except ValueError as error:
            start_response("500 Internal Server Error", [], (type(error), error, None))
        return [b"failed"]

    response = await wsgi.fetch(app, Request("https://example.com/"), None)
    assert (response.status, await response.text()) == (500, "failed")


async def test_a_null_body_status_sends_no_body():
    def app(environ, start_response):
        start_response("204 No Content", [])
        return [b"ignored"]

    response = await wsgi.fetch(app, Request("https://example.com/"), None)
    assert response.status == 204
    assert response.body is None


async def test_options_are_checked_as_the_sdk_checks_them():
    # workers-runtime-sdk 1.9.5, workers/gateway/options.py:7-30.
    assert wsgi.Options(encode_body="manual").response_init() == {"encodeBody": "manual"}
    assert wsgi.DEFAULT_OPTIONS.response_init() == {}
    with pytest.raises(ValueError, match="encode_body must be one of"):
        wsgi.Options(encode_body="gzip")


async def test_entrypoint_serves_the_app_from_a_worker():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{environ['PATH_INFO']} {environ['workers.env'].LABEL}".encode()]

    Default = wsgi.entrypoint(app, options=wsgi.Options(encode_body="manual"))
    assert issubclass(Default, WorkerEntrypoint)
    response = await App(Default, vars={"LABEL": "green"}).fetch("/hello")
    assert await response.text() == "/hello green"


async def test_a_wsgi_app_can_serve_from_a_durable_object_too():
    from workers import DurableObject

    def app(environ, start_response):
        start_response("200 OK", [])
        return [environ["REQUEST_METHOD"].encode()]

    class Site(DurableObject):
        async def fetch(self, request):
            return await wsgi.fetch(app, request, self.env)

    app_ = App(None, {"SITE": Site})
    response = await app_.env.SITE.getByName("s").fetch("https://example.com/", method="PUT")
    assert await response.text() == "PUT"
