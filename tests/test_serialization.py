import datetime as dt

import pytest

from dosim.errors import JsException
from dosim.serialization import JsDict, decode_value, encode_value, rpc_copy


def test_dict_arrives_as_jsdict_with_attribute_access():
    received = rpc_copy({"name": "ada", "tags": ["x"]})
    assert isinstance(received, JsDict)
    assert received.name == "ada" and received["tags"] == ["x"]


def test_copy_shares_nothing_mutable():
    sent = {"items": [1, 2]}
    received = rpc_copy(sent)
    sent["items"].append(3)
    assert received["items"] == [1, 2]


def test_bytes_arrive_as_memoryview():
    received = rpc_copy(b"\x00\x01")
    assert isinstance(received, memoryview) and received.tobytes() == b"\x00\x01"


def test_datetime_arrives_naive_utc_at_millisecond_precision():
    sent = dt.datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
    assert rpc_copy(sent) == dt.datetime(2025, 3, 1, 12, 0, 0, 123000)


def test_set_round_trips_as_set():
    assert rpc_copy({1, "a"}) == {1, "a"}


def test_non_string_keys_become_js_property_names():
    assert rpc_copy({2: "a", False: "b", None: "c"}) == {"2": "a", "false": "b", "null": "c"}


@pytest.mark.parametrize("value", [(1, 2), bytearray(b"x"), [1, (2,)], {"a": bytearray()}])
def test_tuple_and_bytearray_are_rejected_with_platform_text(value):
    with pytest.raises(TypeError, match=r"^<class '(tuple|bytearray)'> cannot be sent over RPC\.$"):
        rpc_copy(value)


def test_custom_objects_fail_with_data_clone_error():
    class Point:
        pass

    with pytest.raises(JsException) as caught:
        rpc_copy(Point())
    assert caught.value.name == "DataCloneError"


def test_awaitables_are_rejected():
    async def later():
        return 1

    coroutine = later()
    with pytest.raises(TypeError, match="^Awaitable <class 'coroutine'> cannot be sent over RPC.$"):
        rpc_copy([coroutine])
    coroutine.close()


def test_exception_arrives_as_error_text():
    received = rpc_copy(ValueError("bad"))
    assert type(received) is Exception and str(received) == "Error: bad"


@pytest.mark.parametrize(
    "value",
    ["text", "", 0, -(2**70), 2**63, 1.5, True, None, [1, {"a": None}], {"n": {"m": [b"x"]}}],
)
def test_stored_values_round_trip(value):
    decoded = decode_value(encode_value(value))
    assert decoded == rpc_copy(value)
    assert type(decoded) is type(rpc_copy(value))


def test_stored_dicts_come_back_as_jsdict():
    assert isinstance(decode_value(encode_value({"a": 1})), JsDict)


@pytest.mark.parametrize(
    ("number", "spelling"),
    [
        (1.5, "1.5"),
        (100.0, "100"),
        (1e-05, "0.00001"),
        (1e-06, "0.000001"),
        (1e-07, "1e-7"),
        (2.5e-08, "2.5e-8"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (-123.456, "-123.456"),
        (float("nan"), "NaN"),
    ],
)
def test_floats_are_spelled_like_javascript(number, spelling):
    from dosim.serialization import js_number_to_string

    assert js_number_to_string(number) == spelling


# Pyodide converts a JavaScript number that is a safe integer to ``int`` (Pyodide's type
# conversion documentation, "JavaScript to Python": number -> int if Number.isSafeInteger,
# else float; docs/usage/type-conversions.md at tag 0.28.2, lines 109-111). RPC and stored
# values pass through a JS Number, so whole floats come back as ints.
@pytest.mark.parametrize(
    ("sent", "received"),
    [(2.0, 2), (-0.0, 0), (2.0**53 - 1, 2**53 - 1), (2.5, 2.5), (2.0**53, 2.0**53)],
)
def test_whole_floats_come_back_as_ints(sent, received):
    for copy in (rpc_copy(sent), decode_value(encode_value(sent))):
        assert copy == received and type(copy) is type(received)


def test_whole_floats_inside_containers_come_back_as_ints():
    value = {"a": [1.0, 1.5], "b": {"c": 3.0}}
    assert rpc_copy(value) == {"a": [1, 1.5], "b": {"c": 3}}
    assert type(decode_value(encode_value(value))["b"]["c"]) is int


def test_nan_and_infinities_stay_floats():
    copies = [rpc_copy(float("inf")), rpc_copy(float("-inf")), rpc_copy(float("nan"))]
    assert all(type(c) is float for c in copies)
