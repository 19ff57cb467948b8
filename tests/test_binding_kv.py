"""Workers KV (``dosim.bindings.kv``): values as Python sees them, limits, texts, expiry.

Sources cited below:

* [read]   https://developers.cloudflare.com/kv/api/read-key-value-pairs/
* [write]  https://developers.cloudflare.com/kv/api/write-key-value-pairs/
* [list]   https://developers.cloudflare.com/kv/api/list-keys/
* [limits] https://developers.cloudflare.com/kv/platform/limits/
* [kv.c++] workerd src/workerd/api/kv.c++ (validateKeyName, getBulk, put, list)
* [jsg]    workerd src/workerd/jsg/value.h (int and OneOf argument conversion)
* [mf]     Miniflare packages/miniflare/src/workers/kv/{validator,namespace}.worker.ts and
           packages/miniflare/test/plugins/kv/index.spec.ts (the KV service's texts)
* [sdk]    workers-runtime-sdk 1.9.5 workers/rpc.py (_BindingWrapper, python_from_rpc)
"""

from __future__ import annotations

import base64

import pytest

from dosim import App
from dosim.bindings import KvNamespaceBinding
from dosim.errors import JsException
from dosim.serialization import JsDict
from workers import DurableObject, Response, WorkerEntrypoint

NOW_S = 1_735_689_600  # dosim's default start, 2025-01-01T00:00:00Z


def make_app(**options):
    return App(None, {}, bindings={"CACHE": KvNamespaceBinding("cache-id")}, **options)


@pytest.fixture
def kv():
    return make_app().env.CACHE


async def error_of(awaitable):
    with pytest.raises(JsException) as caught:
        await awaitable
    return caught.value


# --- get: the four types -------------------------------------------------------------------


async def test_missing_key_reads_as_none(kv):
    # [read] "If the key is not found, the promise will resolve with the literal value null."
    assert await kv.get("nothing") is None
    assert await kv.get("nothing", "json") is None


async def test_text_is_the_default_type(kv):
    # [read] type: "text" is the default; a string comes back.
    assert await kv.put("greeting", "héllo") is None
    value = await kv.get("greeting")
    assert value == "héllo" and type(value) is str


async def test_json_type_parses_into_jsdict(kv):
    # [read] json: "An object decoded from a JSON string"; [sdk] objects arrive as JsDict,
    # whole JavaScript numbers as int.
    await kv.put("user", '{"name": "Ada", "langs": ["py", "js"], "score": 2.0, "ratio": 0.5}')
    value = await kv.get("user", "json")
    assert isinstance(value, JsDict) and value.name == "Ada"
    assert value == {"name": "Ada", "langs": ["py", "js"], "score": 2, "ratio": 0.5}
    assert type(value["score"]) is int and type(value["ratio"]) is float


async def test_json_objects_keep_javascript_property_order(kv):
    # JSON.parse gives array-index names first, ascending, then the others in order.
    await kv.put("k", '{"b": 1, "10": 2, "a": 3, "2": 4}')
    assert list(await kv.get("k", "json")) == ["2", "10", "b", "a"]


async def test_json_scalars_and_null(kv):
    await kv.put("n", "12")
    await kv.put("s", '"quoted"')
    await kv.put("z", "null")
    assert await kv.get("n", "json") == 12
    assert await kv.get("s", "json") == "quoted"
    assert await kv.get("z", "json") is None


async def test_json_type_on_text_that_is_not_json_raises_syntax_error(kv):
    # [kv.c++] the json branch parses with JSON.parse, whose failure is a SyntaxError.
    await kv.put("plain", "hello")
    error = await error_of(kv.get("plain", "json"))
    assert error.name == "SyntaxError"


async def test_array_buffer_type_gives_a_memoryview_of_the_bytes(kv):
    # [read] arrayBuffer; [sdk] a JavaScript ArrayBuffer reaches Python as memoryview.
    await kv.put("bin", b"\x00\x01\xfe\xff")
    value = await kv.get("bin", "arrayBuffer")
    assert isinstance(value, memoryview) and value.tobytes() == b"\x00\x01\xfe\xff"


async def test_stream_type_gives_a_readable_stream_a_response_can_carry(kv):
    # [read] stream: "A ReadableStream"; [sdk] ReadableStream passes through unwrapped.
    await kv.put("page", b"<h1>hi</h1>")
    stream = await kv.get("page", "stream")
    assert type(stream).__name__ == "ReadableStream"
    assert await Response(stream).text() == "<h1>hi</h1>"


async def test_text_of_bytes_that_are_not_utf8_has_replacement_characters(kv):
    await kv.put("bad", b"ok\xff")
    assert await kv.get("bad") == "ok\ufffd"


async def test_options_object_and_keyword_arguments_choose_the_type(kv):
    # [read] get(key, options?) with {type, cacheTtl}; keyword arguments become that
    # trailing object (Pyodide's rule for calls into JavaScript).
    await kv.put("k", "[1, 2]")
    assert await kv.get("k", {"type": "json", "cacheTtl": 60}) == [1, 2]
    assert await kv.get("k", type="json", cacheTtl=30) == [1, 2]
    assert await kv.get("k", None) == "[1, 2]"


async def test_unknown_type_is_a_type_error_only_for_an_existing_key(kv):
    # [kv.c++] the type is checked after the service answered; a 404 returns null first.
    await kv.put("k", "v")
    error = await error_of(kv.get("k", "blob"))
    assert error.name == "TypeError"
    assert error.message == (
        'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".'
    )
    assert await kv.get("missing", "blob") is None


async def test_cache_ttl_below_30_seconds_is_refused(kv):
    # [read] cacheTtl minimum 30 s (lowered from 60 on 2026-01-30); [mf] validator text and
    # test "get: validates but ignores cache ttl" (a non-number converts to 0).
    await kv.put("k", "v")
    error = await error_of(kv.get("k", cacheTtl=10))
    assert error.name == "Error"
    assert (
        error.message
        == "KV GET failed: 400 Invalid cache_ttl of 10. Cache TTL must be at least 30."
    )
    error = await error_of(kv.get("k", cacheTtl="not a number"))
    assert (
        error.message == "KV GET failed: 400 Invalid cache_ttl of 0. Cache TTL must be at least 30."
    )
    assert await kv.get("k", cacheTtl=30) == "v"


async def test_a_non_string_key_is_converted_with_javascript_string(kv):
    # [jsg] a kj::String argument takes String(value).
    await kv.put(123, "number key")
    assert await kv.get("123") == "number key"
    await kv.put(1.5, "float key")
    assert await kv.get("1.5") == "float key"


async def test_a_lone_surrogate_in_a_key_becomes_a_replacement_character(kv):
    # inferred: workerd turns the JavaScript string into UTF-8 (kj::String), replacing
    # unpaired surrogates with U+FFFD, as V8's UTF-8 conversion does.
    await kv.put("a\ud800", "v")
    assert await kv.get("a\ufffd") == "v"
    assert [key.name for key in (await kv.list())["keys"]] == ["a\ufffd"]


# --- key validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "label"), [("get", "GET"), ("put", "PUT"), ("delete", "DELETE")]
)
async def test_keys_are_validated_with_workerds_texts(kv, method, label):
    # [kv.c++] validateKeyName; [write] "A key cannot be empty or be exactly equal to . or
    # .."; [limits] key size 512 bytes; [mf] test "testValidatesKey".
    def call(key):
        return getattr(kv, method)(key, "value") if method == "put" else getattr(kv, method)(key)

    error = await error_of(call(""))
    assert (error.name, error.message) == ("TypeError", "Key name cannot be empty.")
    error = await error_of(call("."))
    assert (error.name, error.message) == ("TypeError", '"." is not allowed as a key name.')
    error = await error_of(call(".."))
    assert (error.name, error.message) == ("TypeError", '".." is not allowed as a key name.')
    error = await error_of(call("x" * 513))
    assert error.name == "Error"
    assert error.message == (
        f"KV {label} failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."
    )


async def test_key_length_counts_utf8_bytes(kv):
    # [limits] "Key size 512 bytes": 256 two-byte characters fit, 257 do not.
    await kv.put("é" * 256, "fits")
    assert await kv.get("é" * 256) == "fits"
    error = await error_of(kv.put("é" * 257, "too long"))
    assert "UTF-8 encoded length of 514 exceeds" in error.message


# --- bulk reads -----------------------------------------------------------------------------


async def test_bulk_get_returns_a_map_as_jsdict_with_none_for_missing_keys(kv):
    # [read] "The return value will be a Map of the key-value pairs found, with keys not
    # found having null values"; [sdk] a Map arrives through to_py as a dict (JsDict).
    await kv.put("a", "1")
    await kv.put("b", "2")
    values = await kv.get(["b", "missing", "a"])
    assert isinstance(values, JsDict)
    assert list(values.items()) == [("b", "2"), ("missing", None), ("a", "1")]


async def test_bulk_get_json_and_its_non_json_error(kv):
    # [mf] test "bulk get: request json type".
    await kv.put("obj", '{"x": 1}')
    await kv.put("word", "example")
    assert await kv.get(["obj"], "json") == {"obj": {"x": 1}}
    error = await error_of(kv.get(["obj", "word"], "json"))
    assert error.message == (
        "KV GET_BULK failed: 400 At least one of the requested keys corresponds to a "
        "non-json value"
    )


async def test_bulk_get_limits_and_types(kv):
    # [read] up to 100 keys; [mf] bulk texts ("check max keys", "check minimum keys",
    # "invalid type").
    error = await error_of(kv.get([f"k{i}" for i in range(101)]))
    assert error.message == "KV GET_BULK failed: 400 You can request a maximum of 100 keys"
    error = await error_of(kv.get([]))
    assert error.message == "KV GET_BULK failed: 400 You must request a minimum of 1 key"
    error = await error_of(kv.get(["k"], "arrayBuffer"))
    assert (
        error.message
        == 'KV GET_BULK failed: 400 "arrayBuffer" is not a valid type. Use "json" or "text"'
    )
    assert len(await kv.get([f"k{i}" for i in range(100)])) == 100


async def test_bulk_get_checks_keys_on_the_service_side(kv):
    # [kv.c++] getBulk sends the keys unchecked; [mf] validateKey answers.
    error = await error_of(kv.get(["ok", ""]))
    assert error.message == "KV GET_BULK failed: 400 Key names must not be empty"
    error = await error_of(kv.get([".."]))
    assert (
        error.message
        == 'KV GET_BULK failed: 400 Illegal key name "..". Please use a different name.'
    )


async def test_bulk_get_leaves_out_array_index_keys(kv):
    # [kv.c++] getBulk builds the Map from the JSON object's property names with
    # IndexFilter::SKIP_INDICES: "7" is an array index, "07" and "-1" are not.
    for key in ("7", "07", "-1", "x"):
        await kv.put(key, key)
    assert list(await kv.get(["7", "07", "-1", "x"])) == ["07", "-1", "x"]


async def test_bulk_get_with_metadata_maps_keys_to_value_and_metadata(kv):
    # [mf] tests "bulk get: check metadata" and "get with metadata for 404".
    await kv.put("a", "1", metadata={"testing": True})
    await kv.put("b", "2")
    result = await kv.getWithMetadata(["a", "b", "c"])
    assert result == {
        "a": {"value": "1", "metadata": {"testing": True}},
        "b": {"value": "2", "metadata": None},
        "c": None,
    }
    assert result.a.metadata.testing is True


# --- getWithMetadata ------------------------------------------------------------------------


async def test_get_with_metadata_returns_value_metadata_and_cache_status(kv):
    # [read] getWithMetadata: {value, metadata}; [kv.c++] GetWithMetadataResult also has
    # cacheStatus (null when the service sends no CF-Cache-Status, as locally).
    await kv.put("k", "[1]", metadata={"v": 2})
    result = await kv.getWithMetadata("k", "json")
    assert isinstance(result, JsDict)
    assert result == {"value": [1], "metadata": {"v": 2}, "cacheStatus": None}
    assert await kv.getWithMetadata("none") == {
        "value": None,
        "metadata": None,
        "cacheStatus": None,
    }
    await kv.put("plain", "x")
    assert (await kv.getWithMetadata("plain")).metadata is None


# --- put: values --------------------------------------------------------------------------


async def test_put_converts_primitives_with_javascript_string(kv):
    # [kv.c++] put's value is kj::OneOf<kj::String, jsg::JsObject>: [jsg] a primitive
    # that is not an object takes the string branch, String(value).
    for key, value, stored in [
        ("int", 42, "42"),
        ("float", 1.5, "1.5"),
        ("whole", 2.0, "2"),
        ("bool", True, "true"),
        ("none", None, "null"),
    ]:
        await kv.put(key, value)
        assert await kv.get(key) == stored


@pytest.mark.parametrize("value", [{"a": 1}, ["a"], {1, 2}])
async def test_put_refuses_objects_that_are_not_bytes_or_streams(kv, value):
    # [kv.c++] put: "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and
    # ReadableStreams as values."
    error = await error_of(kv.put("k", value))
    assert error.name == "TypeError"
    assert error.message == (
        "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams "
        "as values."
    )
    assert await kv.get("k") is None


async def test_put_bytes_and_memoryview_store_the_bytes(kv):
    # [sdk] bytes and memoryview become a Uint8Array, an ArrayBufferView.
    await kv.put("b", b"\x01\x02")
    await kv.put("m", memoryview(b"\x03"))
    assert (await kv.get("b", "arrayBuffer")).tobytes() == b"\x01\x02"
    assert (await kv.get("m", "arrayBuffer")).tobytes() == b"\x03"


def test_put_bytearray_is_refused_by_the_sdk(kv):
    # [sdk] _raise_on_disabled_type: bytearray cannot be sent over RPC (raised at the call).
    with pytest.raises(TypeError, match="<class 'bytearray'> cannot be sent over RPC."):
        kv.put("k", bytearray(b"x"))


async def test_put_takes_a_readable_stream(kv):
    # [write] value: string | ReadableStream | ArrayBuffer. A Response body is a stream;
    # called on the JavaScript object itself (see the report: the SDK conversion of a
    # dosim ReadableStream is not modelled yet).
    body = Response("streamed").body
    await kv.js_object.put("s", body)
    assert await kv.get("s") == "streamed"


async def test_empty_value_is_stored(kv):
    # [mf] test "put: puts empty value".
    await kv.put("k", "")
    assert await kv.get("k") == ""


async def test_value_larger_than_25_mib_is_refused(kv):
    # [limits] value size 25 MiB; [mf] "Value length of N exceeds limit of M."
    error = await error_of(kv.put("big", b"x" * (25 * 1024 * 1024 + 1)))
    assert error.message == "KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400."
    await kv.put("max", b"x" * (25 * 1024 * 1024))
    assert await kv.get("big") is None


# --- put: metadata --------------------------------------------------------------------------


async def test_metadata_round_trips_as_json(kv):
    # [write] metadata "must serialize to JSON"; [mf] tests with metadata 123 and "example".
    await kv.put("a", "v", metadata={"n": 1.0, "list": [True, None]})
    await kv.put("b", "v", metadata=123)
    await kv.put("c", "v", metadata="example")
    await kv.put("d", "v", metadata=None)
    assert (await kv.getWithMetadata("a")).metadata == {"n": 1, "list": [True, None]}
    assert (await kv.getWithMetadata("b")).metadata == 123
    assert (await kv.getWithMetadata("c")).metadata == "example"
    assert (await kv.getWithMetadata("d")).metadata is None


async def test_metadata_over_1024_bytes_is_refused(kv):
    # [limits] key metadata 1024 bytes; [mf] test "put: validates metadata size".
    fits = {"key": "x" * (1024 - len('{"key":""}'))}
    await kv.put("ok", "v", metadata=fits)
    error = await error_of(kv.put("k", "v", metadata={"key": "x" * (1025 - len('{"key":""}'))}))
    assert error.message == "KV PUT failed: 413 Metadata length of 1025 exceeds limit of 1024."


async def test_metadata_with_a_bigint_cannot_be_serialised(kv):
    # Pyodide sends an int beyond 2**53 as a BigInt, which JSON.stringify refuses.
    error = await error_of(kv.put("k", "v", metadata={"id": 2**60}))
    assert (error.name, error.message) == ("TypeError", "Do not know how to serialize a BigInt")


# --- put: expiration -------------------------------------------------------------------------


async def test_expiration_ttl_must_be_at_least_60_seconds(kv):
    # [write] "The minimum value is 60."; [mf] test "put: validates expiration ttl".
    error = await error_of(kv.put("k", "v", expirationTtl=30))
    assert error.message == (
        "KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60."
    )
    for ttl, shown in [(0, 0), (-5, -5), ("nan", 0)]:
        error = await error_of(kv.put("k", "v", expirationTtl=ttl))
        assert error.message == (
            f"KV PUT failed: 400 Invalid expiration_ttl of {shown}. "
            "Please specify integer greater than 0."
        )


async def test_expiration_must_be_at_least_60_seconds_ahead(kv):
    # [write] "Expiration targets that are less than 60 seconds into the future are not
    # supported."; [mf] test "put: validates expiration".
    error = await error_of(kv.put("k", "v", expiration=NOW_S))
    assert error.message == (
        f"KV PUT failed: 400 Invalid expiration of {NOW_S}. Please specify integer greater "
        "than the current number of seconds since the UNIX epoch."
    )
    error = await error_of(kv.put("k", "v", expiration=NOW_S + 30))
    assert error.message == (
        f"KV PUT failed: 400 Invalid expiration of {NOW_S + 30}. Expiration times must be at "
        "least 60 seconds in the future."
    )
    await kv.put("k", "v", expiration=NOW_S + 60)
    assert await kv.get("k") == "v"


async def test_expiration_beyond_a_32_bit_int_is_a_type_error(kv):
    # [kv.h] PutOptions.expiration is an int; [jsg] out-of-range numbers are refused.
    error = await error_of(kv.put("k", "v", expiration=2**31))
    assert error.name == "TypeError"
    assert error.message == (
        "Value out of range. Must be between -2147483648 and 2147483647 (inclusive)."
    )


async def test_keys_expire_on_the_virtual_clock():
    # [write] "Once the expiration time of an expiring key is reached ... attempts to read
    # the key will behave as if the key does not exist"; [mf] "get: returns null for
    # expired keys".
    app = make_app()
    kv = app.env.CACHE
    await kv.put("session", "token", expirationTtl=60)
    await app.advance(59)
    assert await kv.get("session") == "token"
    assert [key.name for key in (await kv.list())["keys"]] == ["session"]
    await app.advance(1)
    assert await kv.get("session") is None
    assert (await kv.list())["keys"] == []


async def test_expiration_ttl_wins_over_expiration_and_list_shows_absolute_seconds(kv):
    # [list] "the expiration will be present and in absolute value form (even if it was
    # set in TTL form)"; REST API docs: "If both are set, expiration_ttl is used".
    await kv.put("k", "v", expirationTtl=120, expiration=NOW_S + 9999)
    assert (await kv.list())["keys"] == [{"name": "k", "expiration": NOW_S + 120}]


# --- delete ---------------------------------------------------------------------------------


async def test_delete_removes_a_key_and_ignores_a_missing_one(kv):
    # [mf] tests "delete: deletes existing keys" and "does nothing for non-existent keys".
    await kv.put("k", "v")
    assert await kv.delete("k") is None
    assert await kv.get("k") is None
    assert await kv.delete("never-written") is None


# --- list ---------------------------------------------------------------------------------


async def test_list_result_shape(kv):
    # [list] keys: [{name, expiration?, metadata?}], list_complete; [kv.c++] cacheStatus.
    await kv.put("b", "v", metadata={"m": 1})
    await kv.put("a", "v")
    result = await kv.list()
    assert isinstance(result, JsDict)
    assert result == {
        "keys": [{"name": "a"}, {"name": "b", "metadata": {"m": 1}}],
        "list_complete": True,
        "cacheStatus": None,
    }
    assert result["keys"][1].metadata.m == 1


async def test_list_keys_are_read_by_subscript_as_keys_is_a_dict_method(kv):
    # [sdk] JsDict: "if there is a key that conflicts with a built-in method or attribute
    # of the dict class, it will not be accessible through attribute access".
    await kv.put("k", "v")
    result = await kv.list()
    assert callable(result.keys)
    assert result["keys"] == [{"name": "k"}]


async def test_list_orders_keys_by_utf8_bytes(kv):
    # [list] "Keys are always returned in lexicographically sorted order according to
    # their UTF-8 bytes": U+FFFF (EF BF BF) sorts before U+1F600 (F0 9F 98 80), though
    # JavaScript's UTF-16 order would put the emoji first.
    for key in ["😀", "\uffff", "b", ", ", "!"]:
        await kv.put(key, "v")
    assert [key.name for key in (await kv.list())["keys"]] == ["!", ", ", "b", "\uffff", "😀"]


async def test_list_by_prefix(kv):
    # [list] "List by prefix"; [mf] "list: prefix permits special characters".
    for key in ["user:1:a", "user:1:b", "user:10:a", "user:2:a", "key\\_%1", "key\\a"]:
        await kv.put(key, "v")
    names = [key.name for key in (await kv.list(prefix="user:1:"))["keys"]]
    assert names == ["user:1:a", "user:1:b"]
    assert [key.name for key in (await kv.list(prefix="key\\_%"))["keys"]] == ["key\\_%1"]


async def test_list_paginates_with_an_opaque_cursor(kv):
    # [list] Pagination: list_complete false and a cursor while more keys remain; the last
    # page has no cursor ([kv.c++] KVNamespaceListResult).
    for key in ["k1", "k2", "k3"]:
        await kv.put(key, "v")
    first = await kv.list(limit=2)
    assert [key.name for key in first["keys"]] == ["k1", "k2"]
    assert first.list_complete is False and isinstance(first.cursor, str)
    await kv.put("k2a", "inserted behind the cursor")
    second = await kv.list(limit=2, cursor=first.cursor)
    assert [key.name for key in second["keys"]] == ["k2a", "k3"]
    assert second.list_complete is True and "cursor" not in second


async def test_list_limit_defaults_to_1000_and_refuses_more(kv):
    # [list] "The default is 1,000 keys, which is the maximum"; [kv.c++] a limit <= 0 is not
    # sent; [mf] test "list: validates limit".
    for i in range(1001):
        await kv.put(f"k{i:04}", "v")
    assert len((await kv.list())["keys"]) == 1000
    assert len((await kv.list(limit=0))["keys"]) == 1000
    error = await error_of(kv.list(limit=1001))
    assert error.message == (
        "KV GET failed: 400 Invalid key_count_limit of 1001. Please specify an integer less "
        "than 1000."
    )


async def test_list_prefix_longer_than_a_key_is_refused(kv):
    # [mf] validateListOptions: the prefix is held to the key length limit.
    error = await error_of(kv.list(prefix="p" * 513))
    assert error.message == (
        "KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."
    )


async def test_options_that_are_not_objects_are_type_errors(kv):
    # [jsg] util.c++ typeErrorMessage: a JSG struct parameter given a primitive.
    error = await error_of(kv.list("prefix"))
    assert error.message == (
        "Failed to execute 'list' on 'KvNamespace': parameter 1 is not of type 'ListOptions'."
    )
    error = await error_of(kv.put("k", "v", 60))
    assert error.message == (
        "Failed to execute 'put' on 'KvNamespace': parameter 3 is not of type 'PutOptions'."
    )


async def test_cursor_is_the_last_key_returned(kv):
    # dosim's cursor (opaque to callers, as in Miniflare): the last key, base64-encoded.
    await kv.put("a", "v")
    await kv.put("b", "v")
    cursor = (await kv.list(limit=1)).cursor
    assert base64.b64decode(cursor) == b"a"


# --- sharing, persistence, Workers and Durable Objects ------------------------------------------


async def test_bindings_with_the_same_id_share_data():
    # [limits] a namespace is one store; two bindings of one id see each other's writes.
    app = App(
        None,
        {},
        bindings={
            "A": KvNamespaceBinding("shared"),
            "B": KvNamespaceBinding("shared"),
            "C": KvNamespaceBinding("other"),
        },
    )
    await app.env.A.put("k", "from A")
    assert await app.env.B.get("k") == "from A"
    assert await app.env.C.get("k") is None


async def test_data_persists_under_persist_to(tmp_path):
    first = make_app(persist_to=tmp_path)
    await first.env.CACHE.put("k", "kept", metadata={"v": 1})
    first.binding_host.close()
    assert (tmp_path / "kv" / "cache-id.sqlite").is_file()
    second = make_app(persist_to=tmp_path)
    assert await second.env.CACHE.getWithMetadata("k") == {
        "value": "kept",
        "metadata": {"v": 1},
        "cacheStatus": None,
    }
    second.binding_host.close()


async def test_reading_alone_creates_no_file(tmp_path):
    app = make_app(persist_to=tmp_path)
    assert await app.env.CACHE.get("k") is None
    assert (await app.env.CACHE.list())["keys"] == []
    app.binding_host.close()
    assert not (tmp_path / "kv").exists()


class Counter(DurableObject):
    async def bump(self, page):
        seen = int(await self.env.CACHE.get(page) or 0) + 1
        await self.env.CACHE.put(page, str(seen))
        return seen


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        page = request.url.rsplit("/", 1)[1]
        cached = await self.env.CACHE.get(page, "json")
        if cached is None:
            await self.env.CACHE.put(page, '{"hits": 1}', expirationTtl=300)
            return Response("miss")
        return Response(f"hit {cached.hits}")


async def test_a_worker_reads_and_writes_through_env():
    app = App(Default, {}, bindings={"CACHE": KvNamespaceBinding("cache-id")})
    assert await (await app.fetch("/home")).text() == "miss"
    assert await (await app.fetch("/home")).text() == "hit 1"


async def test_a_durable_object_and_the_test_share_the_namespace():
    app = App(None, {"COUNTERS": Counter}, bindings={"CACHE": KvNamespaceBinding("cache-id")})
    stub = app.env.COUNTERS.getByName("c")
    assert await stub.bump("home") == 1
    assert await stub.bump("home") == 2
    assert await app.env.CACHE.get("home") == "2"


# --- trace, faults, eagerness ----------------------------------------------------------------


async def test_each_call_is_one_binding_event_in_the_trace():
    app = make_app()
    await app.env.CACHE.put("k", "v")
    await app.env.CACHE.get(["k", "j"])
    await app.env.CACHE.list()
    events = [event.detail for event in app.trace if event.kind == "binding"]
    assert events == [
        {"binding": "CACHE", "type": "kv", "op": "put", "key": "k"},
        {"binding": "CACHE", "type": "kv", "op": "get", "keys": 2},
        {"binding": "CACHE", "type": "kv", "op": "list"},
    ]


async def test_an_injected_failure_gives_workerds_service_error():
    # [kv.c++] checkForErrorStatus: "KV <METHOD> failed: <status> <statusText>"; workerd's
    # kv-test.js expects "KV GET failed: 500 Internal Server Error" from a failing service.
    app = make_app()
    kv = app.env.CACHE
    await kv.put("k", "v")
    app.faults.fail_next_binding_call("CACHE", "get")
    error = await error_of(kv.get("k"))
    assert (error.name, error.message) == ("Error", "KV GET failed: 500 Internal Server Error")
    assert await kv.get("k") == "v"
    app.faults.fail_next_binding_call("CACHE", "get")
    assert (
        await error_of(kv.get(["k"]))
    ).message == "KV GET_BULK failed: 500 Internal Server Error"
    app.faults.fail_next_binding_call("CACHE")
    assert (await error_of(kv.put("k", "w"))).message == "KV PUT failed: 500 Internal Server Error"
    assert await kv.get("k") == "v"
    app.faults.fail_next_binding_call("CACHE", "delete", message="KV DELETE failed: 503 down")
    assert (await error_of(kv.delete("k"))).message == "KV DELETE failed: 503 down"


async def test_a_put_that_is_never_awaited_still_writes(kv):
    # [sdk] the wrapper calls the JavaScript method at once and returns a coroutine that
    # only awaits its promise.
    pending = kv.put("k", "written")
    pending.close()
    assert await kv.get("k") == "written"


def test_the_binding_is_a_kv_namespace(kv):
    # [sdk] _EnvWrapper wraps bindings whose constructor name is "KvNamespace".
    assert kv.constructor.name == "KvNamespace"
