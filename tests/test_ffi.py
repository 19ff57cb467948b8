"""The model of ``pyodide.ffi`` and of a call into raw JavaScript (dosim.ffi, dosim.boundary).

Each rule names where it comes from. "Pyodide docs" is ``docs/usage/type-conversions.md``
in pyodide/pyodide (mirror commit fa8456589): the tables of implicit conversions, the
``to_js`` section and "Calling JavaScript functions from Python" (borrowed proxies). The
destroyed-proxy texts are in the runtime of the npm ``pyodide`` 314.0.7 the site ships
(``pyodide.asm.wasm`` / ``pyodide.asm.mjs``). tests/test_ffi_pyodide.py checks the same
rules against real Pyodide in the Pyodide run.
"""

import pytest

from dosim import ffi
from dosim.boundary import call_from_js, js_method, relaxed_call, structured_clone
from dosim.errors import JsException


def test_to_js_makes_arrays_maps_and_buffers_and_to_py_undoes_it():
    # Pyodide docs, "to_js": list and tuple -> Array, dict -> Object (since 0.29,
    # pyodide/pyodide#5912; a Map before), bytes -> Uint8Array.
    value = ffi.to_js([1, (2, 3), {"a": b"xy"}])
    assert value.constructor.name == "Array"
    assert value[1].constructor.name == "Array"
    assert value[2].constructor.name == "Object"
    assert value[2].a.constructor.name == "Uint8Array"
    assert value.to_py() == [1, [2, 3], {"a": memoryview(b"xy")}]


def test_a_js_array_never_equals_a_python_list():
    # JsProxy equality is JavaScript identity (Pyodide docs, "JsProxy" comparisons).
    array = ffi.to_js(["a"])
    assert array != ["a"]
    assert list(array) == ["a"] and len(array) == 1 and "a" in array


def test_dict_converter_builds_what_it_is_given():
    # Pyodide docs: ``dict_converter`` receives an iterable of [key, value] entries.
    seen = []

    def converter(entries):
        seen.extend(entry.to_py() for entry in entries)
        return ffi.JsObject(dict(seen))

    value = ffi.to_js({"a": 1, "b": "x"}, dict_converter=converter)
    assert seen == [["a", 1], ["b", "x"]]
    assert value.a == 1 and value.to_py() == {"a": 1, "b": "x"}


def test_a_js_object_has_attributes_but_no_get():
    info = ffi.JsObject({"retryCount": 2})
    assert info.retryCount == 2
    with pytest.raises(AttributeError, match="get"):
        info.get("retryCount")


def test_unconvertible_values_become_proxies_or_fail_when_told_not_to():
    marker = object()
    proxies = []
    value = ffi.to_js([marker], pyproxies=proxies)
    assert value[0] is marker  # a PyProxy comes back to Python as the object itself
    assert len(proxies) == 1
    with pytest.raises(ffi.ConversionError):
        ffi.to_js([marker], create_pyproxies=False)


def test_depth_limits_the_conversion():
    value = ffi.to_js([[1]], depth=1)
    assert value.constructor.name == "Array"
    assert value[0] == [1]  # the inner list crossed as a proxy of itself


def test_implicit_conversion_keeps_primitives_and_proxies_the_rest():
    # Pyodide docs, implicit conversions: only str, int, float, bool, None cross as
    # JavaScript values.
    borrowed = []
    for primitive in ("s", 1, 1.5, True, None):
        assert ffi.into_js(primitive, borrowed=borrowed) == primitive
    for other in ([1], {"a": 1}, b"x", (1,)):
        assert isinstance(ffi.into_js(other, borrowed=borrowed), ffi.PyProxy)
    assert len(borrowed) == 4


class Holder:
    """A raw JavaScript object that keeps a function it is given."""

    @js_method
    def keep(self, function):
        self.function = function

    def call(self):
        return call_from_js(self.function)


def test_a_borrowed_function_dies_when_the_call_returns():
    holder = Holder()
    holder.keep(lambda: "hi")
    with pytest.raises(JsException) as caught:
        holder.call()
    assert caught.value.name == "Error"
    assert caught.value.message == ffi.MSG_BORROWED_DESTROYED + ffi.MSG_DESTROYED_HINT


def test_create_proxy_lives_until_destroyed_and_once_callables_once():
    holder = Holder()
    proxy = ffi.create_proxy(lambda: "hi")
    holder.keep(proxy)
    assert holder.call() == "hi" and holder.call() == "hi"
    proxy.destroy()
    with pytest.raises(JsException):
        holder.call()
    holder.keep(ffi.create_once_callable(lambda: "once"))
    assert holder.call() == "once"
    with pytest.raises(JsException, match="OnceProxy"):
        holder.call()


async def test_a_borrowed_proxy_lives_until_the_returned_promise_settles():
    # Pyodide docs: when the JavaScript function returns a Promise, the borrowed proxies
    # are destroyed when it settles.
    class Later:
        @js_method
        def run(self, function):
            async def settle():
                return call_from_js(function)

            return settle()

    assert await Later().run(lambda: 5) == 5


def test_structured_clone_copies_js_values_and_refuses_proxies():
    value = ffi.to_js({"a": [1, 2]})
    copy = structured_clone(value)
    assert copy is not value and copy.to_py() == {"a": [1, 2]}
    with pytest.raises(JsException) as caught:
        structured_clone(ffi.into_js({"a": 1}))
    assert caught.value.name == "DataCloneError"


def test_relaxed_call_drops_what_the_function_does_not_take():
    # workerd src/pyodide/python-entrypoint-helper.ts (commit 6552d999c, doPyCallHelper
    # with relaxed=true for alarm and the WebSocket handlers).
    assert relaxed_call(lambda: "none", 1, 2) == "none"
    assert relaxed_call(lambda a: a, 1, 2) == 1
    assert relaxed_call(lambda *a: a, 1, 2) == (1, 2)


def test_js_to_string_is_javascripts_string():
    assert ffi.js_to_string(None) == "undefined"
    assert ffi.js_to_string(ffi.jsnull) == "null"
    assert ffi.js_to_string(True) == "true"
    assert ffi.js_to_string(2.0) == "2"
    assert ffi.js_to_string(ffi.into_js(b"hi")) == "b'hi'"


def test_jsnull_is_falsy_and_distinct_from_none():
    assert not ffi.jsnull and ffi.jsnull is not None and repr(ffi.jsnull) == "jsnull"


def test_pyodide_version_is_the_one_the_site_ships():
    import json
    from pathlib import Path

    lock = Path(__file__).resolve().parent.parent / "docs" / "sandbox" / "package.json"
    if not lock.exists():
        pytest.skip("the docs sandbox's package.json is not copied into this run")
    pinned = json.loads(lock.read_text())["dependencies"]["pyodide"]
    assert pinned.lstrip("^~=") == ffi.PYODIDE_VERSION


def test_js_values_cross_rpc_and_storage_as_the_values_they_stand_for():
    # workerd src/workerd/server/tests/python/python-rpc/worker.py (6552d999c): a to_js
    # Array sent over RPC arrives as a Python list; SDK 1.9.5 workers/rpc.py
    # python_to_rpc passes JsProxy values through and python_from_rpc converts back.
    from dosim.serialization import from_wire, to_wire

    sent = [ffi.to_js([1, 2]), ffi.to_js({"a": "b"}), ffi.JsDate(5000), ffi.jsnull]
    received = from_wire(to_wire(sent, functions=True))
    assert received[0] == [1, 2] and received[1] == {"a": "b"} and received[1].a == "b"
    assert received[2].timestamp() == 5 and received[3] is None


async def test_run_sync_waits_for_a_self_contained_awaitable_inside_a_running_loop():
    # workerd src/workerd/server/tests/python/durable-object/worker.py (6552d999c),
    # jspi_method: run_sync(sleep(...)) inside an RPC method.
    import asyncio

    async def later():
        await asyncio.sleep(0)
        return 10

    assert ffi.run_sync(later()) == 10


def test_keyword_arguments_reach_javascript_as_one_object():
    # Pyodide docs, "Calling JavaScript functions from Python": f(a=2, b=3) calls the
    # JavaScript function with the single argument {a: 2, b: 3}.
    class Recorder:
        @js_method
        def call(self, *args):
            self.args = args

    recorder = Recorder()
    recorder.call(1, a=2)
    assert recorder.args[0] == 1 and recorder.args[1].to_py() == {"a": 2}


@pytest.mark.parametrize(
    ("date", "flags", "kind"),
    [
        ("2026-09-08", (), "Object"),
        ("2026-09-07", (), "Map"),
        ("2025-11-01", ("python_workers_314",), "Object"),
        ("2026-11-01", ("no_python_workers_314",), "Map"),
    ],
)
def test_to_js_of_a_dict_follows_the_pyodide_the_date_selects(date, flags, kind):
    # pywrangler 1.17.9 pywrangler/metadata.py: Python 3.14 (Pyodide 314) from 2026-09-08;
    # Pyodide 0.29 changed to_js(dict) from Map to Object (pyodide/pyodide#5912).
    from dosim import compat

    token = compat.activate(compat.Compatibility.of(date, flags))
    try:
        assert ffi.to_js({"a": 1}).constructor.name == kind
    finally:
        compat.restore(token)


async def test_an_app_reads_its_compatibility_from_its_config(tmp_path):
    from dosim import App

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(
        "from workers import DurableObject\n\n"
        "class Box(DurableObject):\n"
        "    async def kind(self):\n"
        "        from pyodide.ffi import to_js\n"
        "        return to_js({'a': 1}).constructor.name\n"
    )
    (tmp_path / "wrangler.toml").write_text(
        'name = "box"\nmain = "src/entry.py"\ncompatibility_date = "2025-11-01"\n'
        'compatibility_flags = ["python_workers"]\n\n'
        '[[durable_objects.bindings]]\nname = "BOX"\nclass_name = "Box"\n\n'
        '[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Box"]\n'
    )
    app = App.from_config(tmp_path)
    assert app.compatibility.date == "2025-11-01"
    # Inside Pyodide app code has the real to_js of the Pyodide it runs on (314: an
    # Object whatever the date; the Differences page says so).
    import sys

    expected = "Object" if sys.platform == "emscripten" else "Map"
    assert await app.env.BOX.getByName("b").kind() == expected
