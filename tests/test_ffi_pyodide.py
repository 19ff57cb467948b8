"""dosim's model of the JavaScript boundary checked against real Pyodide.

These run in the Pyodide job (``nox -s pyodide``, tools/pyodide/run_tests.py), where the
real ``pyodide.ffi`` and ``js`` exist: for each rule the model decides on CPython
(dosim.ffi, dosim.boundary), real Pyodide decides too, and the two must agree. On CPython
there is nothing to compare with, so the module is skipped there.
"""

import sys

import pytest

from dosim import ffi as model
from dosim.boundary import structured_clone
from dosim.errors import JsException

pytestmark = pytest.mark.skipif(
    sys.platform != "emscripten", reason="compares with real Pyodide: runs in the Pyodide job"
)

if sys.platform == "emscripten":
    from pyodide import ffi as real

    import js


SAMPLES = [
    [1, "a", True],
    (1, 2),
    {"a": 1, "b": [2, 3]},
    [{"nested": {"deep": "x"}}],
    b"\x00\x01",
    {"bytes": b"ab"},
]


def _kind(value):
    return value.constructor.name if hasattr(value, "constructor") else type(value).__name__


@pytest.mark.parametrize("sample", SAMPLES, ids=repr)
def test_to_js_makes_the_same_kinds_and_to_py_the_same_values(sample):
    real_value, model_value = real.to_js(sample), model.to_js(sample)
    assert _kind(model_value) == _kind(real_value)
    assert _normal(model_value.to_py()) == _normal(real_value.to_py())


def _normal(value):
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, dict):
        return {key: _normal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normal(item) for item in value]
    return value


def test_an_array_equals_no_list_in_either():
    assert (real.to_js([1]) == [1]) is (model.to_js([1]) == [1]) is False


def test_structured_clone_of_a_python_object_fails_the_same_way():
    with pytest.raises(real.JsException) as real_error:
        js.structuredClone({"a": 1})  # crosses as a PyProxy
    with pytest.raises(JsException) as model_error:
        structured_clone(model.into_js({"a": 1}))
    assert model_error.value.name == real_error.value.name == "DataCloneError"
    assert model_error.value.message == real_error.value.message


def test_structured_clone_of_to_js_values_works_in_both():
    real_copy = js.structuredClone(real.to_js({"a": [1]}))
    model_copy = structured_clone(model.to_js({"a": [1]}))
    assert real_copy.to_py() == model_copy.to_py() == {"a": [1]}


def test_a_kept_borrowed_function_fails_with_the_same_error():
    holder = js.eval("(() => { let f; return { keep(g) { f = g; }, call() { return f(); } }; })()")
    holder.keep(lambda: 1)
    with pytest.raises(real.JsException) as real_error:
        holder.call()
    expected = model.MSG_BORROWED_DESTROYED + model.MSG_DESTROYED_HINT
    assert real_error.value.message == expected
    assert real_error.value.name == "Error"


def test_a_created_proxy_keeps_working_in_both():
    holder = js.eval("(() => { let f; return { keep(g) { f = g; }, call() { return f(); } }; })()")
    proxy = real.create_proxy(lambda: 7)
    holder.keep(proxy)
    assert holder.call() == 7
    proxy.destroy()


def test_javascript_strings_of_python_objects_agree():
    for value in (b"hi", [1, 2], None, True, 2.0):
        assert model.js_to_string(model.into_js(value)) == js.String(value)


def test_null_is_jsnull_in_both():
    assert repr(js.eval("null")) == repr(model.jsnull)
    assert js.eval("undefined") is None


def test_a_python_exception_through_a_javascript_callback_comes_back_as_itself():
    # storage.transactionSync(f) calls back into Python synchronously: a Python exception
    # raised there comes back out of the JavaScript call as the original exception (dosim
    # re-raises it unchanged).
    def fail():
        raise ValueError("insufficient funds")

    call = js.eval("(f) => f()")
    with pytest.raises(ValueError, match="insufficient funds"):
        call(fail)


async def test_a_python_exception_through_a_javascript_promise_comes_back_as_a_python_error():
    # storage.transaction(f) and blockConcurrencyWhile(f) await the callback's Promise:
    # the rejection reaches Python as a JsException named PythonError (dosim models it).
    async def fail():
        raise ValueError("insufficient funds")

    call = js.eval("async (f) => { await f(); }")
    with pytest.raises(real.JsException) as caught:
        await call(fail)
    assert caught.value.name == "PythonError"
