"""Idioms Cloudflare's own Python Durable Objects code relies on, run under dosim.

Each app below is written here, in our words, to exercise what a piece of Cloudflare's
code does; the comment above it names the file and commit it learned the behaviour from.
Nothing is copied: the point is that code shaped like Cloudflare's runs unchanged.

- workerd ``src/workerd/server/tests/python/durable-object/worker.py`` (6552d999c)
- workerd ``src/workerd/server/tests/python/durable-object-websocket/worker.py`` (6552d999c)
- workerd ``src/workerd/server/tests/python/python-rpc/worker.py`` (6552d999c)
- workers-py ``packages/runtime-sdk/tests/workerd-test/python-rpc/worker.py`` (b00837d41fd4)
"""

import asyncio
import datetime
import json

import pytest
from pyodide.ffi import JsProxy, run_sync, to_js

import js
from dosim import App
from dosim.errors import JsException
from js import Date, WebSocketPair
from workers import DurableObject, FetchResponse, Request, Response, WorkerEntrypoint


# --- durable-object/worker.py: constructor, RPC, fetch, an un-awaited setAlarm ----------
class Extra:
    def from_mixin(self):
        return "mixin"


class Ticker(DurableObject, Extra):
    def __init__(self, state, env):
        super().__init__(state, env)
        self.storage = state.storage  # the test keeps the raw state's storage
        self.hits = 0
        self.rang = False

        async def prepare():
            await self.storage.put("ready", True)

        self.ctx.blockConcurrencyWhile(prepare)  # not awaited: it still runs first

    async def fetch(self, request):
        assert isinstance(request, Request)
        if not await self.storage.getAlarm():
            self.storage.setAlarm(Date.now() + 100)  # not awaited, as the test does
        if request.url.endswith("/hit"):
            self.hits += 1
            return Response(f"hit {self.hits}")
        return Response(str(self.rang))

    async def alarm(self, alarm_info):
        self.rang = True

    async def plain(self):
        return "plain"

    async def echo(self, text):
        return "echo " + text

    async def was_ready(self):
        return await self.storage.get("ready")

    async def in_a_block(self):
        async def work():
            await self.storage.put("inside", "yes")
            return 42

        return await self.ctx.blockConcurrencyWhile(work)

    def blocking_wait(self, number):
        run_sync(asyncio.sleep(0))
        return number + 1


async def test_the_durable_object_idioms_of_workerds_python_test():
    app = App(None, {"TICKER": Ticker})
    stub = app.env.TICKER.get(app.env.TICKER.idFromName("A"))
    first = await stub.fetch("http://do/hit")
    assert isinstance(first, FetchResponse) and await first.text() == "hit 1"
    assert await (await stub.fetch("http://do/hit")).text() == "hit 2"
    assert await stub.plain() == "plain"
    assert await stub.echo("x") == "echo x"
    assert await stub.was_ready() is True
    assert await stub.in_a_block() == 42
    assert await stub.blocking_wait(9) == 10
    assert await stub.from_mixin() == "mixin"
    await app.advance(0.2)
    assert await (await stub.fetch("http://do/state")).text() == "True"


# --- durable-object-websocket/worker.py: hibernation through a Worker ----------------------
class Socketed(DurableObject):
    async def fetch(self, request):
        assert isinstance(request, Request)
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        print("got", message)
        ws.send("hello")

    async def webSocketClose(self, ws, code, reason, wasClean):
        print("closed", code)


class Front(WorkerEntrypoint):
    async def fetch(self, request):
        if request.headers.get("Upgrade") != "websocket":
            return Response(None, status=426, status_text="Expected Upgrade")
        return await self.env.SOCKETED.getByName("A").fetch(request)


async def test_the_websocket_idioms_of_workerds_python_test(capsys):
    app = App(Front, {"SOCKETED": Socketed})
    refused = await app.fetch("http://w/")
    assert refused.status == 426
    client = await app.connect("http://w/ws")
    client.send("hi")
    assert await client.receive() == "hello"
    await client.close()
    assert "got hi" in capsys.readouterr().out


# --- python-rpc/worker.py: values crossing RPC arrive as Python values ---------------------
class Mirror(DurableObject):
    async def identity(self, value):
        assert not isinstance(value, JsProxy)
        return value


@pytest.mark.parametrize(
    "value", ["text", [1, 2, 3], {"key": 42}, 42, 1.5, False, True, None], ids=repr
)
async def test_python_values_come_back_as_python_values(value):
    stub = App(None, {"M": Mirror}).env.M.getByName("m")
    received = await stub.identity(value)
    assert not isinstance(received, JsProxy)
    assert json.dumps(received) == json.dumps(value)


async def test_js_values_sent_over_rpc_arrive_as_python_values():
    stub = App(None, {"M": Mirror}).env.M.getByName("m")
    assert await stub.identity(to_js([1, 2, 3, 4])) == [1, 2, 3, 4]
    assert await stub.identity(js.Number.new("1234")) == 1234
    assert isinstance(await stub.identity(js.ArrayBuffer.new(8)), memoryview)
    mapped = await stub.identity(js.Map.new(to_js([[1, "one"], [2, "two"]])))
    # The callee receives {1: "one"}; returning that dict, SDK 1.9.5's python_to_rpc
    # makes a plain object of it (dict_converter=Object.fromEntries), whose keys are
    # strings. workerd's test expects mapped[1]; its bundled SDK may keep the Map. dosim
    # follows the pinned SDK (listed on the Differences page).
    assert isinstance(mapped, dict) and mapped["1"] == "one"
    assert await stub.identity(js.Set.new(to_js([1, 2]))) == {1, 2}
    assert await stub.identity(js.undefined) is None
    assert isinstance(await stub.identity(js.Date.new()), datetime.datetime)
    assert isinstance(await stub.identity(js.Error.new("message")), Exception)
    as_object = await stub.identity(to_js({"foo": 42}, dict_converter=js.Object.fromEntries))
    assert isinstance(as_object, dict) and as_object["foo"] == 42
    received = await stub.identity(to_js({"foo": 42}))
    assert isinstance(received, dict) and received["foo"] == 42
    assert (await stub.identity(b"binary")).tobytes() == b"binary"
    assert await stub.identity({1, 2}) == {1, 2}


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ((1, 2, 3), TypeError),
        ([(1, 2, 3)], TypeError),
        ({"test": (1, 2, 3)}, TypeError),
        (bytearray(b"x"), TypeError),
        (complex(1, 2), JsException),
        (range(3), JsException),
    ],
    ids=repr,
)
async def test_values_rpc_refuses_fail_as_the_test_expects(value, error):
    stub = App(None, {"M": Mirror}).env.M.getByName("m")
    with pytest.raises(error) as caught:
        await stub.identity(value)
    if error is JsException:
        assert str(caught.value).startswith("DataCloneError")
