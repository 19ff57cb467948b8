"""Stubs and RPC: conversions, reserved names, errors crossing the boundary."""

import datetime as dt

import pytest

from dosim import App
from dosim.errors import JsException
from dosim.serialization import FunctionStub, JsDict, rpc_copy
from workers import DurableObject, Response


class Echo(DurableObject):
    count = 0

    async def echo(self, *values):
        return values[0] if len(values) == 1 else list(values)

    def sync_add(self, a, b):
        return a + b

    async def mutate(self, items):
        items.append("changed inside")
        return items

    async def whoami(self):
        return self.ctx.id.name

    async def fetch(self, request):
        return Response(f"{request.method} {request.url} {await request.text()}")


@pytest.fixture
def stub():
    return App(None, {"ECHO": Echo}).env.ECHO.getByName("e")


async def test_rpc_result_dict_has_attribute_access(stub):
    result = await stub.echo({"a": {"b": 1}})
    assert isinstance(result, JsDict) and result.a.b == 1


async def test_rpc_arguments_are_copied(stub):
    sent = ["original"]
    received = await stub.mutate(sent)
    assert sent == ["original"] and received == ["original", "changed inside"]


async def test_bytes_and_datetimes_follow_python_workers_rules(stub):
    assert isinstance(await stub.echo(b"ab"), memoryview)
    moment = dt.datetime(2025, 1, 2, 3, 4, 5, 678999)
    assert await stub.echo(moment) == dt.datetime(2025, 1, 2, 3, 4, 5, 678000)


async def test_whole_floats_cross_rpc_as_ints_both_ways(stub):
    # Arguments and results travel as JS Numbers; Pyodide turns a whole one into int.
    assert await stub.sync_add(1.5, 0.5) == 2
    assert type(await stub.sync_add(1.5, 0.5)) is int
    assert type(await stub.echo(3.0)) is int and type(await stub.echo(3.25)) is float


async def test_sync_methods_are_callable(stub):
    assert await stub.sync_add(2, 3) == 5


async def test_keyword_arguments_arrive_as_trailing_dict(stub):
    assert await stub.echo(1, by=2) == [1, {"by": 2}]


async def test_tuple_argument_is_rejected_before_sending(stub):
    with pytest.raises(TypeError, match=r"^<class 'tuple'> cannot be sent over RPC\.$"):
        await stub.echo((1, 2))


@pytest.mark.parametrize(
    "name", ["alarm", "webSocketMessage", "webSocketClose", "webSocketError", "dup", "constructor"]
)
async def test_reserved_names_cannot_be_called(stub, name):
    # The stub is a raw JavaScript object behind the SDK's wrapper, which passes the
    # runtime's TypeError on as a JsException (SDK 1.9.5 workers/rpc.py _BindingWrapper).
    with pytest.raises(
        JsException, match=f"^TypeError: '{name}' is a reserved method and cannot be called"
    ):
        await getattr(stub, name)()


# Exceptions, unknown methods and stub.fetch failures: tests/test_rpc_errors.py.


async def test_stub_fetch_reaches_fetch_handler(stub):
    response = await stub.fetch("https://do/path", method="POST", body="hi")
    assert await response.text() == "POST https://do/path hi"


async def test_stub_fetch_requires_absolute_url(stub):
    with pytest.raises(OSError, match="^Invalid URL: /relative$"):
        await stub.fetch("/relative")


async def test_object_sees_its_name_when_reached_by_name(stub):
    assert await stub.whoami() == "e"


async def test_object_reached_by_id_string_has_no_name():
    app = App(None, {"ECHO": Echo})
    text = app.env.ECHO.idFromName("e").toString()
    stub = app.env.ECHO.get(app.env.ECHO.idFromString(text))
    assert stub.name is None and await stub.whoami() is None


def test_get_rejects_id_from_another_namespace():
    app = App(None, {"A": Echo, "B": type("Other", (Echo,), {})})
    with pytest.raises(JsException, match="^TypeError: .*not valid for this namespace"):
        app.env.A.get(app.env.B.idFromName("x"))


def test_unknown_routing_mode_is_a_range_error():
    app = App(None, {"ECHO": Echo})
    with pytest.raises(JsException, match="^RangeError: unknown routingMode: fastest$"):
        app.env.ECHO.getByName("x", {"routingMode": "fastest"})


def test_creating_a_stub_does_not_create_the_object():
    app = App(None, {"ECHO": Echo})
    app.env.ECHO.getByName("lazy")
    assert app.object_ids("ECHO") == [] and len(app.trace) == 0


def test_jurisdiction_subnamespace_is_rejected_locally():
    app = App(None, {"ECHO": Echo})
    with pytest.raises(JsException, match="not implemented in workerd"):
        app.env.ECHO.jurisdiction("eu")


# Callables cross RPC as stubs the other side can call, both ways, and can be forwarded
# (workers-py, packages/runtime-sdk/tests/workerd-test/python-rpc/worker.py: ``caller``,
# ``new_counter`` and ``use_counter``, at commit b00837d41fd4).
class Calls(DurableObject):
    async def caller(self, func):
        return await func()

    async def new_counter(self):
        value = 0

        def increment(amount=0):
            nonlocal value
            value += amount
            return value

        return increment

    async def use_counter(self, counter):
        return await counter(10)

    async def keep(self, func):
        await self.ctx.storage.put("f", func)  # a function cannot be stored


async def test_functions_cross_rpc_as_callable_stubs():
    calls = App(None, {"C": Calls}).env.C.getByName("c")
    hits = []

    def inc():
        hits.append(1)
        return len(hits)

    assert await calls.caller(lambda: "test") == "test"
    assert await calls.caller(inc) == 1 and await calls.caller(inc) == 2
    counter = await calls.new_counter()
    assert callable(counter) and bool(counter)
    assert [await counter(2), await counter(1), await counter(-5)] == [2, 3, -2]
    with pytest.raises(TypeError, match="has no len"):
        len(counter)
    with pytest.raises(TypeError):
        list(counter)
    assert await calls.use_counter(await calls.new_counter()) == 10  # forwarded


async def test_a_function_stub_copies_arguments_and_results():
    calls = App(None, {"C": Calls}).env.C.getByName("c")
    seen = []

    def record(items):
        seen.append(items)
        items.append("mutated by the callee")
        return {"n": 1.0}

    sent = ["a"]
    record_stub = await calls.caller(lambda: record)  # the object hands back a function
    result = await record_stub(sent)
    assert seen == [["a", "mutated by the callee"]] and sent == ["a"]  # a copy was changed
    assert result == {"n": 1} and type(result["n"]) is int


async def test_a_function_sent_on_stays_one_stub_and_classes_do_not_cross():
    def original():
        return 1

    once = rpc_copy(original)
    assert isinstance(once, FunctionStub)
    again = rpc_copy(rpc_copy(once))  # forwarded twice
    assert repr(again) == repr(once) and repr(once).endswith(".original)")
    assert await again() == 1
    with pytest.raises(JsException, match="DataCloneError"):
        rpc_copy(ValueError)  # a class is not sent as a function (the SDK refuses it too)


async def test_functions_cannot_be_stored():
    calls = App(None, {"C": Calls}).env.C.getByName("c")
    with pytest.raises(JsException, match="DataCloneError"):
        await calls.keep(lambda: 1)
