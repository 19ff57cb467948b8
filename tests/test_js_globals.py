"""The ``js`` globals dosim gives Python Workers code on CPython (``dosim.js``).

Most tests use ``dosim.js`` directly, so they run in the Pyodide job too (dosim's model,
not the browser's globals). Tests that go through app code's ``import js`` are skipped
inside Pyodide, where ``js`` is the real module and dosim leaves its globals alone.

Where a rule comes from the platform the test says where from. "Observed" means run in
Pyodide 314.0.7 (the version dosim's sandbox ships, ``tools/pyodide``) under Node.js 20,
whose V8 implements the same ECMAScript built-ins as workerd's.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import re
import sys
import uuid

import pytest

from dosim import App
from dosim import js as djs
from dosim.clock import DEFAULT_START_MS
from dosim.errors import JsException
from dosim.ffi import JsArray, JsDate, JsMap, JsObject, create_once_callable, jsnull, to_js
from dosim.workers import Response as WorkersResponse
from dosim.workers.fetch import set_outbound_handler
from dosim.workers.headers import HeaderList

IN_PYODIDE = sys.platform == "emscripten"
app_code_js = pytest.mark.skipif(
    IN_PYODIDE, reason="inside Pyodide app code's `import js` is the real module"
)


def obj(**props):
    """A JavaScript object, built the way Cloudflare's Python examples build one."""
    return to_js(props, dict_converter=djs.Object.fromEntries)


# -- Date ------------------------------------------------------------------------------------
def test_date_outside_a_simulation_reads_the_real_clock():
    # A fresh context: no simulation's clock is active in it.
    now = contextvars.Context().run(djs.Date.now)
    assert now > 1_750_000_000_000
    assert isinstance(now, int)  # a JS number that is an integer arrives as int


def test_date_constructor_forms():
    # ECMAScript Date constructor and Date.parse; results observed in Pyodide.
    assert djs.Date.new(0).toISOString() == "1970-01-01T00:00:00.000Z"
    assert djs.Date.new("2025-01-01").getTime() == DEFAULT_START_MS  # date-only is UTC
    assert djs.Date.new("2025-01-01T10:00:00").toISOString() == "2025-01-01T10:00:00.000Z"
    assert djs.Date.new("2025-01-01T10:00:00+02:00").toISOString() == "2025-01-01T08:00:00.000Z"
    assert djs.Date.new("Wed, 01 Jan 2025 00:00:00 GMT").getTime() == DEFAULT_START_MS
    assert djs.Date.new(2025, 0, 1).getTime() == DEFAULT_START_MS  # parts: UTC in Pyodide
    assert djs.Date.UTC(2025, 0, 1) == DEFAULT_START_MS
    assert djs.Date.parse("2025-01-01T00:00:00.000Z") == DEFAULT_START_MS
    assert djs.Date.new(djs.Date.new(5)).getTime() == 5
    assert djs.Date.new(1.7).getTime() == 1  # TimeClip truncates


def test_an_invalid_date():
    date = djs.Date.new("garbage")
    assert math.isnan(date.getTime())
    assert str(date) == "Invalid Date"
    with pytest.raises(JsException) as caught:
        date.toISOString()
    assert (caught.value.name, caught.value.message) == ("RangeError", "Invalid time value")


def test_date_strings_are_v8_forms_in_utc():
    date = djs.Date.new(DEFAULT_START_MS)
    assert isinstance(date, JsDate) and date.constructor.name == "Date"
    assert str(date) == "Wed Jan 01 2025 00:00:00 GMT+0000 (Coordinated Universal Time)"
    assert date.toUTCString() == "Wed, 01 Jan 2025 00:00:00 GMT"
    assert djs.JSON.stringify(date) == '"2025-01-01T00:00:00.000Z"'  # Date.prototype.toJSON


class Clocked:
    """A Durable Object class whose methods read the js globals as app code does."""

    def __init__(self, ctx, env):
        self.ctx = ctx

    async def times(self):
        import js  # app code's import: dosim.js on CPython

        return [js.Date.now(), js.Date.new().getTime()]

    async def shout(self, text):
        import js

        js.console.log("said", text, obj(n=1))
        js.console.error("oops")

    async def uuids(self):
        import js

        return [js.crypto.randomUUID() for _ in range(2)]


def _clocked_app(seed=0):
    from workers import DurableObject

    cls = type("Clocked", (DurableObject,), dict(Clocked.__dict__))
    return App(None, {"CLOCKED": cls}, seed=seed)


@app_code_js
async def test_date_inside_a_simulation_reads_the_virtual_clock():
    app = _clocked_app()
    stub = app.env.CLOCKED.getByName("a")
    assert await stub.times() == [DEFAULT_START_MS, DEFAULT_START_MS]
    await app.advance(10)
    assert await stub.times() == [DEFAULT_START_MS + 10_000] * 2


# -- JSON --------------------------------------------------------------------------------------
def test_stringify_js_values():
    value = obj(a={"b": [1, {"c": 2}]}, d=1.5, e=1e21, f=float("nan"), g=None)
    # ECMAScript JSON.stringify: undefined members dropped, NaN as null, Number::toString.
    assert djs.JSON.stringify(value) == '{"a":{"b":[1,{"c":2}]},"d":1.5,"e":1e+21,"f":null}'
    assert djs.JSON.stringify(obj(a=[1])) == '{"a":[1]}'
    assert djs.JSON.stringify(obj(a=1), None, 2) == '{\n  "a": 1\n}'
    assert djs.JSON.stringify(djs.Map.new(to_js([["a", 1]]))) == "{}"  # no own properties
    assert djs.JSON.stringify(to_js({1, 2})) == "{}"
    assert djs.JSON.stringify(to_js(b"ab")) == '{"0":97,"1":98}'  # a Uint8Array
    assert djs.JSON.stringify(1e-7) == "1e-7"
    assert djs.JSON.stringify("é\n") == '"é\\n"'
    assert djs.JSON.stringify(None) is None  # undefined has no JSON form
    assert djs.JSON.stringify(jsnull) == "null"


def test_stringify_of_python_values_is_what_pyodide_gives():
    # Observed in Pyodide 314.0.7: a PyProxy of a dict serialises by its keys, a list of
    # primitives as an array, a list holding containers fails, other objects give {}.
    assert djs.JSON.stringify({"a": 1, "b": None, 2: [1]}) == '{"a":1,"2":[1]}'
    assert djs.JSON.stringify((1, "x", None, True)) == '[1,"x",null,true]'
    assert djs.JSON.stringify(b"ab") == "[97,98]"
    assert djs.JSON.stringify({1, 2}) == "{}"
    assert djs.JSON.stringify(object()) == "{}"
    assert djs.JSON.stringify(lambda: 1) is None
    with pytest.raises(JsException, match="destroyed when an iterator was exhausted"):
        djs.JSON.stringify([[1], 2])


def test_stringify_errors_and_options():
    with pytest.raises(JsException, match="serialize a BigInt") as caught:
        djs.JSON.stringify(2**60)  # Pyodide sends an int beyond 2**53 as a BigInt
    assert caught.value.name == "TypeError"
    loop = JsObject()
    loop.me = loop
    with pytest.raises(JsException, match="circular structure") as caught:
        djs.JSON.stringify(loop)
    assert caught.value.name == "TypeError"
    keep = to_js(["a"])
    assert djs.JSON.stringify(obj(a=1, b=2), keep) == '{"a":1}'
    doubled = djs.JSON.stringify(obj(a=1), lambda key, value: value * 2 if key else value)
    assert doubled == '{"a":2}'


def test_parse_returns_js_values():
    value = djs.JSON.parse('{"a": [1, {"b": null}], "c": 1.5, "d": 2.0, "e": 1e300}')
    assert isinstance(value, JsObject) and isinstance(value.a, JsArray)
    assert value.a[1].b is jsnull
    assert value.to_py() == {"a": [1, {"b": jsnull}], "c": 1.5, "d": 2, "e": 1e300}
    assert type(value.d) is int  # Pyodide: a JS number that is a safe integer is an int
    assert not hasattr(value, "get")  # a JS object, not a dict
    assert djs.JSON.parse('"x"') == "x"
    revived = djs.JSON.parse('{"a": 1, "b": 2}', lambda key, v: None if key == "b" else v)
    assert revived.to_py() == {"a": 1}


def test_parse_errors_are_syntax_errors():
    with pytest.raises(JsException) as caught:
        djs.JSON.parse("{bad")
    assert caught.value.name == "SyntaxError"
    with pytest.raises(JsException):
        djs.JSON.parse("NaN")  # JSON has no NaN, unlike Python's json module


# -- Object, Error ---------------------------------------------------------------------------
def test_object_from_entries_is_the_dict_converter():
    # Cloudflare's Python examples build JS objects this way, e.g.
    # https://developers.cloudflare.com/workers/languages/python/ffi/
    value = to_js({"status": 200, "nested": {"a": 1}}, dict_converter=djs.Object.fromEntries)
    assert isinstance(value, JsObject) and value.status == 200
    assert isinstance(value.nested, JsObject) and value.nested.a == 1
    assert djs.Object.fromEntries([["a", 1]]).a == 1  # a Python list of pairs is iterable
    assert djs.Object.fromEntries(djs.Map.new([["a", 1]])).a == 1  # a Map yields entries
    with pytest.raises(JsException, match="Iterator value a is not an entry object"):
        djs.Object.fromEntries({"a": 1})  # observed: a dict iterates its keys


def test_object_keys_values_entries():
    value = obj(a=1, b="x")
    assert djs.Object.keys(value).to_py() == ["a", "b"]
    assert djs.Object.values(value).to_py() == [1, "x"]
    assert djs.Object.entries(value).to_py() == [["a", 1], ["b", "x"]]
    assert djs.Object.keys(to_js([5, 6])).to_py() == ["0", "1"]
    assert djs.Object.keys(JsMap([("a", 1)])).to_py() == []  # entries are not properties
    # Observed: a PyProxy of a dict has its keys as properties, of a list none.
    assert djs.Object.keys({"a": 1, 2: 3}).to_py() == ["a", "2"]
    assert djs.Object.keys([5, 6]).to_py() == []
    with pytest.raises(JsException, match="Cannot convert undefined or null to object"):
        djs.Object.keys(None)


def test_error_new_is_a_js_exception():
    # Observed: js.Error.new("boom") is a pyodide.ffi.JsException named Error.
    error = djs.Error.new("boom")
    assert isinstance(error, JsException)
    assert (error.name, error.message, str(error)) == ("Error", "boom", "Error: boom")
    assert str(djs.Error.new()) == "Error"
    assert djs.TypeError.new("bad").name == "TypeError"
    with pytest.raises(JsException, match="boom"):
        raise djs.Error.new("boom")


# -- console ---------------------------------------------------------------------------------
def test_console_writes_lines_as_print_does(capsys):
    djs.console.log("a", 1, True, None, obj(k=[1]), {"d": 1})
    djs.console.warn("careful")
    out, err = capsys.readouterr()
    assert out == 'a 1 true undefined {"k":[1]} {"d":1}\n'
    assert err == "careful\n"


@app_code_js
async def test_console_inside_an_object_goes_to_its_trace(capsys):
    app = _clocked_app()
    await app.env.CLOCKED.getByName("a").shout("hi")
    events = app.trace.filter("console")
    assert [(e.name, e.detail) for e in events] == [
        ("a", {"level": "log", "message": 'said hi {"n":1}'}),
        ("a", {"level": "error", "message": "oops"}),
    ]
    assert capsys.readouterr().out == 'said hi {"n":1}\n'


# -- crypto ----------------------------------------------------------------------------------
def test_random_uuid_is_a_version_4_uuid():
    text = djs.crypto.randomUUID()
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", text
    )
    assert uuid.UUID(text).version == 4


@app_code_js
async def test_random_values_inside_an_object_follow_the_apps_seed():
    first = await _clocked_app(seed=1).env.CLOCKED.getByName("a").uuids()
    again = await _clocked_app(seed=1).env.CLOCKED.getByName("a").uuids()
    other = await _clocked_app(seed=2).env.CLOCKED.getByName("a").uuids()
    assert first == again and first != other and first[0] != first[1]


def test_get_random_values_fills_an_integer_typed_array():
    array = djs.Uint8Array.new(16)
    assert djs.crypto.getRandomValues(array) is array
    assert array.to_bytes() != bytes(16)
    assert djs.crypto.getRandomValues(to_js(bytearray(4))).byteLength == 4


def test_get_random_values_refuses_what_the_platform_refuses():
    # Observed (Node's WebCrypto, same DOMException names as workerd): a bytearray or list
    # crosses as a PyProxy, not a typed array; at most 65,536 bytes.
    for value in (bytearray(4), [0, 0]):
        with pytest.raises(JsException) as caught:
            djs.crypto.getRandomValues(value)
        assert caught.value.name == "TypeMismatchError"
    with pytest.raises(JsException) as caught:
        djs.crypto.getRandomValues(djs.Uint8Array.new(70_000))
    assert caught.value.name == "QuotaExceededError"


# -- Response, Request, Headers, WebSocketPair -----------------------------------------------
def test_response_new_takes_a_js_init_object():
    # https://developers.cloudflare.com/workers/languages/python/ffi/ (Response.new with
    # an init object made by to_js(..., dict_converter=Object.fromEntries)).
    response = djs.Response.new("body", obj(status=201, headers={"x-a": "1"}))
    assert isinstance(response, WorkersResponse)
    assert response.status == 201 and response.headers["x-a"] == "1"
    assert response.headers["content-type"] == "text/plain;charset=UTF-8"
    # A Map has no properties: its members are ignored.
    as_map = to_js({"status": 201}, dict_converter=djs.Map.new)
    assert isinstance(as_map, JsMap) and djs.Response.new("x", as_map).status == 200
    # Observed: a dict's keys read as properties, so a plain dict init works.
    assert djs.Response.new("x", {"status": 202}).status == 202
    with pytest.raises(JsException) as caught:
        djs.Response.new("x", obj(status=99))
    assert caught.value.name == "RangeError"


async def test_request_and_headers_new():
    request = djs.Request.new("https://a.com", obj(method="POST", body="x"))
    assert (request.method, request.url, await request.text()) == ("POST", "https://a.com/", "x")
    headers = djs.Headers.new(obj(A="b"))
    assert isinstance(headers, HeaderList) and headers.get("a") == "b"
    assert djs.Headers.new(to_js([["a", "b"]])).get("a") == "b"
    response = djs.Response.new(None, obj(headers=headers))
    assert response.headers["a"] == "b"
    # Observed: a dict PyProxy is iterable over its keys, so as headers it fails.
    with pytest.raises(JsException, match=r'init\[0\] \("a"\) is not iterable') as caught:
        djs.Headers.new({"a": "b"})
    assert caught.value.name == "TypeError"


def test_websocket_pair_object_values():
    # https://developers.cloudflare.com/durable-objects/best-practices/websockets/ (Python
    # tab): client, server = WebSocketPair.new().object_values()
    client, server = djs.WebSocketPair.new().object_values()
    assert client._peer is server


@app_code_js
async def test_a_worker_can_return_a_js_response():
    from workers import WorkerEntrypoint

    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            import js

            return js.Response.new("made in js", obj(status=203))

    response = await App(Default).fetch("/")
    assert (response.status, await response.text()) == (203, "made in js")


# -- URL -------------------------------------------------------------------------------------
def test_url_properties():
    # WHATWG URL; values observed in Pyodide.
    url = djs.URL.new("https://Ex.com:8443/a/../b?a=1&a=2#f")
    assert url.href == str(url) == "https://ex.com:8443/b?a=1&a=2#f"
    assert (url.protocol, url.host, url.hostname, url.port) == (
        "https:",
        "ex.com:8443",
        "ex.com",
        "8443",
    )
    assert (url.pathname, url.search, url.hash, url.origin) == (
        "/b",
        "?a=1&a=2",
        "#f",
        "https://ex.com:8443",
    )
    assert url.searchParams.get("a") == "1"
    assert url.searchParams.get("zz") is jsnull
    assert url.searchParams.getAll("a").to_py() == ["1", "2"]
    assert url.searchParams.has("a") and "a" in url.searchParams
    url.searchParams.set("c", "d e")
    assert url.href == "https://ex.com:8443/b?a=1&a=2&c=d+e#f"
    assert djs.URL.new("/x", "https://a.com/y/z").href == "https://a.com/x"
    assert djs.JSON.stringify(djs.URL.new("https://a.com")) == '"https://a.com/"'


def test_an_invalid_url():
    with pytest.raises(JsException) as caught:
        djs.URL.new("nope")
    assert (caught.value.name, caught.value.message) == ("TypeError", "Invalid URL")
    assert djs.URL.canParse("nope") is False


# -- network ---------------------------------------------------------------------------------
async def test_fetch_without_an_outbound_handler_is_refused():
    with pytest.raises(JsException, match="outbound network access is disabled") as caught:
        await djs.fetch("https://example.com/")
    assert caught.value.name == "TypeError"


async def test_fetch_goes_to_the_outbound_handler():
    seen = []

    def upstream(request):
        seen.append((request.method, request.url, request.headers["x-a"]))
        return WorkersResponse("pong", status=201)

    previous = set_outbound_handler(upstream)
    try:
        init = obj(method="POST", headers={"x-a": "1"}, body="ping")
        response = await djs.fetch("https://up.example/p", init)
    finally:
        set_outbound_handler(previous)
    assert seen == [("POST", "https://up.example/p", "1")]
    assert (response.status, await response.text()) == (201, "pong")


def test_an_outgoing_websocket_is_not_simulated():
    with pytest.raises(JsException, match="outgoing WebSockets are not simulated"):
        djs.WebSocket.new("wss://example.com/")


# -- timers ----------------------------------------------------------------------------------
async def test_queue_microtask_and_set_timeout():
    ran = []
    djs.queueMicrotask(create_once_callable(lambda: ran.append("micro")))
    djs.setTimeout(create_once_callable(lambda x: ran.append(x)), 1, "timeout")
    cancelled = djs.setTimeout(create_once_callable(lambda: ran.append("no")), 1)
    djs.clearTimeout(cancelled)
    await asyncio.sleep(0.05)
    assert ran == ["micro", "timeout"]


async def test_a_plain_function_callback_is_destroyed_before_it_runs():
    # Pyodide docs, "Calling JavaScript functions from Python": an implicit PyProxy is
    # borrowed and destroyed when the call returns.
    errors = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: errors.append(context["exception"]))
    try:
        djs.queueMicrotask(lambda: None)
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert len(errors) == 1 and "borrowed proxy was automatically destroyed" in str(errors[0])


# -- what dosim lacks, and where js comes from -----------------------------------------------
def test_a_missing_global_says_dosim_does_not_simulate_it():
    with pytest.raises(AttributeError, match="dosim does not simulate") as caught:
        djs.indexedDB  # noqa: B018
    assert "docs/differences.md" in str(caught.value)
    assert not hasattr(djs, "caches")


@app_code_js
def test_app_code_js_is_dosim_js_on_cpython():
    import js

    assert js is djs


@pytest.mark.skipif(not IN_PYODIDE, reason="the real js module exists only inside Pyodide")
def test_inside_pyodide_app_code_gets_dosims_date_and_javascript_keeps_its_own():
    import sys

    from dosim.loader import install_workers_alias

    install_workers_alias()
    import js  # what app code imports from now on: the facade

    assert js.Date is djs.Date  # on the virtual clock, as on CPython
    assert js.JSON is not djs.JSON  # everything else is the real global, read through
    assert js.WebSocketPair is djs.WebSocketPair
    real = sys.modules["js"]._real
    assert real.Date is not djs.Date  # JavaScript's own Date is untouched
    assert real.eval("typeof Date.now()") == "number"


# -- classes called without new --------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: djs.Response("body"),
        lambda: djs.Request("https://example.com"),
        lambda: djs.Headers(),
        lambda: djs.URL("https://example.com"),
        lambda: djs.WebSocketPair(),
        lambda: djs.WebSocketRequestResponsePair("ping", "pong"),
    ],
    ids=["Response", "Request", "Headers", "URL", "WebSocketPair", "WebSocketRequestResponsePair"],
)
def test_a_workerd_class_called_without_new_raises_workerds_type_error(call):
    # workerd src/workerd/jsg/resource.c++ throwIfConstructorCalledAsFunction; Python's
    # WebSocketPair() calls the JavaScript class as a function, as Pyodide does.
    with pytest.raises(JsException) as caught:
        call()
    name = caught.value.message.split("'")[1]
    assert caught.value.name == "TypeError"
    assert caught.value.message == (
        f"Failed to construct '{name}': Please use the 'new' operator, this object "
        "constructor cannot be called as a function."
    )


@pytest.mark.parametrize("name", ["Map", "Set", "ArrayBuffer", "Uint8Array"])
def test_a_builtin_class_called_without_new_raises_v8s_type_error(name):
    # V8's text (observed under Node.js 20, whose V8 builds these built-ins as workerd's).
    with pytest.raises(JsException, match=f"TypeError: Constructor {name} requires 'new'"):
        getattr(djs, name)()


def test_new_still_builds_them():
    client, server = djs.WebSocketPair.new()
    assert client is not server
    assert djs.Map.new().size == 0
