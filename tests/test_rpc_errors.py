"""Exceptions crossing RPC, as Python code on Cloudflare receives them.

Sources (read at these commits; the behaviour is restated here in our own words):

* W = cloudflare/workerd @ 6552d999c79ef651b5463c6d692d065a8ce6f859
* P = pyodide/pyodide @ fa84565891ce2d3bb58dd04666b2f98af6a33382
* S = workers-runtime-sdk 1.9.5 (the wheel)
* Y = cloudflare/workers-py @ b00837d41fd4d6e8f475a2fe380ee6543344de23

The chain for ``raise ValueError("boom")`` in a Python Durable Object method called by a
Python caller:

1. workerd calls the method from JavaScript (W src/pyodide/python-entrypoint-helper.ts:443-468,
   through ``wrapper_func`` in W src/pyodide/internal/introspection.py). The exception
   leaves Python as Pyodide's JS ``PythonError`` (P src/core/error_handling.ts:313 and
   :370 for its name), whose message is the traceback the interpreter prints, last line
   ``ValueError: boom``, with a final newline (P src/core/error_handling.c:179-188).
2. workerd tunnels the rejection to the caller. The JS error's string form becomes the
   reason; ``PythonError: ...`` does not start with a JS error name workerd recreates, so
   the reason is ``jsg.Error: PythonError: ...`` (W src/workerd/jsg/value.h:1461-1474) and
   the caller gets a plain ``Error`` whose message is ``PythonError: Traceback ...``, with
   ``remote`` set (W src/workerd/jsg/util.c++:221 and :306-316). The SDK's own comment
   describes this shape (S workers/utils.py:186-189).
3. The SDK's stub wrapper does not catch the rejection (S workers/rpc.py:289-298), so the
   Python caller gets ``pyodide.ffi.JsException``; ``str()`` of it is ``"<name>: <message>"``
   (P src/py/_pyodide/_core_docs.py:1276; workers-py's own RPC test matches
   ``^DataCloneError`` against it, Y packages/runtime-sdk/tests/workerd-test/python-rpc/
   worker.py:317).

Inferred, not observed: with the compatibility flag ``enhanced_error_serialization``
(default from 2026-04-21, W src/workerd/io/compatibility-date.capnp:1019) the caller
instead gets the name ``PythonError`` and the bare traceback (W src/workerd/jsg/util.c++:259,
W src/workerd/jsg/ser.c++:557). dosim follows the app's date and flags (dosim.compat).
"""

import os
import sys

import pytest

from dosim import App
from dosim.errors import JsException, network_lost, python_error, python_traceback
from workers import DurableObject, Response


class QuotaError(ValueError):
    pass


class Thrower(DurableObject):
    count = 0

    async def boom(self):
        raise ValueError("boom")

    def sync_boom(self):
        raise KeyError("missing")

    async def custom(self):
        raise QuotaError("over quota")

    async def chained(self):
        try:
            {}["key"]
        except KeyError as error:
            raise RuntimeError("lookup failed") from error

    async def _private(self):
        return "secret"

    async def call_other(self):
        return await self.env.T.getByName("other").boom()

    async def call_other_lost(self):
        return await self.env.T.getByName("other").ping()

    async def ping(self):
        return "pong"

    async def caller(self, func):
        return await func()

    async def adder(self):
        def add(a, b):
            return a + b

        return add

    async def fetch(self, request):
        if request.url.endswith("/fail"):
            raise KeyError("gone")
        return Response("ok")


class NoFetch(DurableObject):
    async def ping(self):
        return "pong"


# Most tests here describe the form for compatibility dates before 2026-04-21 (the legacy
# error serialization, which starters dated 2025-11-01 get); see the enhanced-form test.
LEGACY_DATE = "2026-04-20"


@pytest.fixture
def app():
    return App(None, {"T": Thrower, "N": NoFetch}, compatibility_date=LEGACY_DATE)


def frames(message):
    return [line.strip() for line in message.splitlines() if line.strip().startswith("File ")]


async def test_a_python_exception_arrives_as_a_js_error_carrying_the_traceback(app):
    with pytest.raises(JsException) as caught:
        await app.env.T.getByName("t").boom()
    error = caught.value
    assert not isinstance(error, ValueError)  # `except ValueError` would not catch it
    assert error.name == "Error"
    assert error.message.startswith("PythonError: Traceback (most recent call last):\n")
    assert error.message.endswith("\nValueError: boom\n")
    assert str(error) == f"Error: {error.message}"
    assert error.remote is True
    assert (error.retryable, error.overloaded, error.durableObjectReset) == (False,) * 3


async def test_the_traceback_shows_the_objects_frames_not_dosims(app):
    with pytest.raises(JsException) as caught:
        await app.env.T.getByName("t").boom()
    shown = frames(caught.value.message)
    assert shown and shown[-1].endswith(", in boom")
    assert all(os.path.basename(__file__) in line for line in shown)


@pytest.mark.parametrize(
    ("method", "last_line"),
    [
        ("sync_boom", "KeyError: 'missing'"),
        ("custom", f"{QuotaError.__module__}.QuotaError: over quota"),
        ("chained", "RuntimeError: lookup failed"),
    ],
)
async def test_the_last_line_is_the_exception_as_python_prints_it(app, method, last_line):
    with pytest.raises(JsException) as caught:
        await getattr(app.env.T.getByName("t"), method)()
    assert caught.value.message.splitlines()[-1] == last_line


async def test_a_chained_exception_keeps_its_cause_in_the_text(app):
    with pytest.raises(JsException) as caught:
        await app.env.T.getByName("t").chained()
    message = caught.value.message
    assert "KeyError: 'key'" in message
    assert "The above exception was the direct cause of the following exception:" in message


async def test_an_error_passing_through_another_object_is_wrapped_again(app):
    # A's method lets B's JsException escape: Pyodide wraps it in a new PythonError (it does
    # not rethrow the original JS error, P src/core/error_handling.c:151-196), so the text
    # nests, and the JsException line names Pyodide's class.
    with pytest.raises(JsException) as caught:
        await app.env.T.getByName("a").call_other()
    message = caught.value.message
    assert message.startswith("PythonError: Traceback (most recent call last):\n")
    assert "\npyodide.ffi.JsException: Error: PythonError: Traceback" in message
    # B's message ends with a newline, and the printed exception line adds one.
    assert message.endswith("\nValueError: boom\n\n")


async def test_a_platform_flag_does_not_survive_a_python_caller_that_lets_it_through(app):
    # Inferred: workerd picks the tunneled exception's kind (DISCONNECTED -> retryable)
    # from the thrown value's own `retryable` / `overloaded` properties (W
    # src/workerd/jsg/value.h:1428-1439); a PythonError has neither, so the outer caller
    # sees a plain remote Error. Retry where the JsException is first caught.
    app.faults.lose_connection_on_next_call(app.env.T.getByName("other"))
    with pytest.raises(JsException) as caught:
        await app.env.T.getByName("a").call_other_lost()
    error = caught.value
    assert error.message.endswith("\npyodide.ffi.JsException: Error: Network connection lost.\n")
    assert (error.remote, error.retryable) == (True, False)


async def test_runtime_errors_keep_their_name_message_and_flags(app):
    stub = app.env.T.getByName("t")
    app.faults.lose_connection_on_next_call(stub)
    with pytest.raises(JsException) as caught:
        await stub.ping()
    assert str(caught.value) == str(network_lost()) == "Error: Network connection lost."
    assert caught.value.retryable is True
    app.faults.reset(stub, "deploying")
    with pytest.raises(JsException) as caught:
        await stub.ping()
    assert (caught.value.name, caught.value.message) == ("Error", "deploying")
    assert caught.value.durableObjectReset is True and caught.value.remote is True


@pytest.mark.parametrize("name", ["nope", "count", "ctx"])
async def test_a_missing_or_non_callable_attribute_is_workerds_type_error(app, name):
    # W src/pyodide/python-entrypoint-helper.ts:443-444: the Python entry point answers
    # every name and throws TypeError when the Python instance has nothing callable there.
    with pytest.raises(JsException) as caught:
        await getattr(app.env.T.getByName("t"), name)()
    error = caught.value
    assert (error.name, error.message) == ("TypeError", f"Method {name} does not exist")
    assert str(error) == f"TypeError: Method {name} does not exist"
    assert error.remote is True


async def test_an_underscore_method_is_callable_over_rpc(app):
    # The same proxy calls any callable attribute; workerd applies no naming rule to
    # Python methods (W src/pyodide/python-entrypoint-helper.ts:440-468).
    assert await app.env.T.getByName("t")._private() == "secret"


async def test_stub_fetch_gives_oserror_with_the_tunneled_message(app):
    # Pyodide's pyfetch raises OSError(js_error.message) (P src/py/pyodide/http/_pyfetch.py:397,
    # _exceptions.py:54); the message is the one a method's caller gets. Inferred: a fetch
    # handler's exception is tunneled like an RPC method's (the same value.h conversion).
    stub = app.env.T.getByName("t")
    with pytest.raises(OSError) as caught:
        await stub.fetch("https://do/fail")
    text = str(caught.value)
    assert text.startswith("PythonError: Traceback (most recent call last):\n")
    assert text.endswith("\nKeyError: 'gone'\n")
    assert await (await stub.fetch("https://do/ok")).text() == "ok"


async def test_stub_fetch_to_an_object_without_fetch(app):
    # Inferred from W src/pyodide/python-entrypoint-helper.ts:443-444: `fetch` goes through
    # the same proxy, so a class without it fails like any missing method.
    with pytest.raises(OSError, match="^Method fetch does not exist$"):
        await app.env.N.getByName("n").fetch("https://do/")


class BadStart(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        raise RuntimeError("no config")

    async def ping(self):
        return "pong"


async def test_an_exception_in_the_constructor_arrives_the_same_way():
    # workerd constructs the Python instance with the same call helper as methods (W
    # src/pyodide/python-entrypoint-helper.ts:382-394, initPyInstance).
    stub = App(None, {"B": BadStart}, compatibility_date=LEGACY_DATE).env.B.getByName("b")
    with pytest.raises(JsException) as caught:
        await stub.ping()
    assert caught.value.name == "Error" and caught.value.remote is True
    assert caught.value.message.endswith("\nRuntimeError: no config\n")


async def test_a_function_received_over_rpc_raises_the_same_way(app):
    add = await app.env.T.getByName("t").adder()
    with pytest.raises(JsException) as caught:
        await add(1, "x")
    assert caught.value.name == "Error" and caught.value.remote is True
    assert caught.value.message.splitlines()[-1].startswith("TypeError: unsupported operand")


async def test_the_trace_records_one_line(app):
    with pytest.raises(JsException):
        await app.env.T.getByName("t").boom()
    (event,) = app.trace.filter("rpc.raise")
    assert "\n" not in event.detail["error"]
    assert event.detail["error"].startswith("JsException: Error: PythonError: Traceback")
    assert event.detail["error"].endswith("ValueError: boom")


def test_python_traceback_matches_the_interpreters_text():
    try:
        raise ValueError("boom")
    except ValueError as error:
        text = python_traceback(error)
    assert text.startswith("Traceback (most recent call last):\n") and text.endswith(
        "ValueError: boom\n"
    )


def test_jsexception_text_is_name_colon_message():
    error = JsException("it broke", name="RangeError")
    assert (str(error), error.name, error.message) == (
        "RangeError: it broke",
        "RangeError",
        "it broke",
    )


# -- differential: real Pyodide decides the Python/JavaScript half of the rule ----------------
in_pyodide = pytest.mark.skipif(sys.platform != "emscripten", reason="needs real Pyodide")


def _js_catch(capsys, function):
    # Pyodide reads the traceback the interpreter prints to stderr: pytest's capture must
    # not take it.
    from pyodide.code import run_js

    catcher = run_js(
        "(f) => { try { f(); return null; } catch (e) { return [e.name, e.message]; } }"
    )
    with capsys.disabled():
        return catcher(function).to_py()


@in_pyodide
def test_pyodide_turns_a_python_exception_into_the_python_error_dosim_models(capsys):
    def boom():
        raise ValueError("boom")

    name, message = _js_catch(capsys, boom)
    try:
        boom()
    except ValueError as error:
        modelled = python_error(error)
    assert name == modelled.name == "PythonError"
    assert message.startswith("Traceback (most recent call last):\n")
    assert message.endswith("\nValueError: boom\n") and modelled.message.endswith(
        "\nValueError: boom\n"
    )


@in_pyodide
def test_pyodide_wraps_an_escaping_js_exception_as_dosim_does(capsys):
    from pyodide.code import run_js

    def let_it_through():
        run_js("throw new Error('inner')")

    name, message = _js_catch(capsys, let_it_through)
    assert name == "PythonError"
    last_line = message.splitlines()[-1]
    assert last_line == "pyodide.ffi.JsException: Error: inner"
    assert python_traceback(JsException("inner")).splitlines()[-1] == last_line


@in_pyodide
def test_pyodide_jsexception_text_matches_dosims():
    from pyodide.code import run_js
    from pyodide.ffi import JsException as RealJsException

    with pytest.raises(RealJsException) as caught:
        run_js("throw new RangeError('it broke')")
    real = caught.value
    modelled = JsException("it broke", name="RangeError")
    assert (str(real), real.name, real.message) == (
        str(modelled),
        modelled.name,
        modelled.message,
    )


@pytest.mark.parametrize(
    ("date", "flags", "name"),
    [
        (None, (), "PythonError"),  # dosim's default date, after 2026-04-21
        ("2026-04-21", (), "PythonError"),
        ("2026-04-20", (), "Error"),
        ("2026-11-01", ("legacy_error_serialization",), "Error"),
        ("2025-11-01", ("enhanced_error_serialization",), "PythonError"),
    ],
)
async def test_the_compatibility_date_decides_whether_the_name_survives(date, flags, name):
    # Inferred (see the module docstring): enhanced_error_serialization keeps the name.
    app = App(None, {"T": Thrower}, compatibility_date=date, compatibility_flags=flags)
    with pytest.raises(JsException) as caught:
        await app.env.T.getByName("t").boom()
    error = caught.value
    assert error.name == name and error.remote is True
    prefix = "" if name == "PythonError" else "PythonError: "
    assert error.message.startswith(prefix + "Traceback (most recent call last):\n")
    assert error.message.endswith("\nValueError: boom\n")
