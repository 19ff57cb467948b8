"""The R2 bucket binding, as Python Workers code reaches it through the SDK's wrapper.

Sources cited per test:

* workerd ``src/workerd/api/r2-bucket.c++``, ``r2-bucket.h``, ``r2-multipart.c++``,
  ``r2-rpc.c++`` (commit 6552d999c79e) -- "workerd" below, with the function named;
* R2 docs: "Workers API reference" (developers.cloudflare.com/r2/api/workers/
  workers-api-reference/), "Limits" (/r2/platform/limits/), "Error codes"
  (/r2/api/error-codes/);
* Miniflare 4's R2 simulator and its tests (workers-sdk commit f8308360283f,
  ``packages/miniflare/src/workers/r2/``, ``packages/miniflare/test/plugins/r2/
  index.spec.ts``) for R2's messages the docs do not quote;
* workers-runtime-sdk 1.9.5 ``workers/rpc.py`` for what Python code receives.
"""

import asyncio
import datetime as dt
import hashlib
import sqlite3

import pytest

from dosim import App
from dosim.bindings import R2BucketBinding, r2_store
from dosim.bindings.wrapper import RawJsObject
from dosim.errors import JsException
from dosim.serialization import JsDict, wire_date
from dosim.workers.blob import Blob
from dosim.workers.body import ArrayBuffer
from dosim.workers.headers import HeaderList
from workers import DurableObject, Response, WorkerEntrypoint

MiB = 2**20
START = dt.datetime(2025, 1, 1)  # dosim's default virtual start


def make_app(**options):
    return App(None, {}, bindings={"BUCKET": R2BucketBinding("photos")}, **options)


@pytest.fixture
def app():
    app = make_app()
    yield app
    app.binding_host.close()


@pytest.fixture
def bucket(app):
    return app.env.BUCKET


@pytest.fixture
def js_bucket(app):
    # The R2Bucket as JavaScript holds it: wire values in, platform objects out.
    return app.env.BUCKET.js_object


def md5(data):
    return hashlib.md5(data).hexdigest()


async def error_of(awaitable):
    with pytest.raises(JsException) as caught:
        await awaitable
    return caught.value


# --- put / get / head -----------------------------------------------------------------


async def test_put_returns_the_objects_metadata(bucket):
    # Workers API reference, R2Object definition; etag = MD5 of a single upload
    # (Miniflare r2Object.worker.ts; docs "Checksums": MD5 included by default).
    obj = await bucket.put("notes/a.txt", "hello")
    assert obj.key == "notes/a.txt" and obj.size == 5
    assert obj.etag == md5(b"hello") and obj.httpEtag == f'"{md5(b"hello")}"'
    assert obj.uploaded == START and obj.storageClass == "Standard"
    assert obj.httpMetadata == {} and obj.customMetadata == {} and obj.range is None
    assert len(obj.version) == 32 and obj.ssecKeyMd5 is None


async def test_uploaded_follows_the_virtual_clock(app, bucket):
    await app.advance(90)
    obj = await bucket.put("k", "v")
    assert obj.uploaded == START + dt.timedelta(seconds=90)
    assert (await bucket.head("k")).uploaded == START + dt.timedelta(seconds=90)


async def test_get_returns_body_and_metadata(bucket):
    await bucket.put("k", "hello", customMetadata={"owner": "ada"})
    obj = await bucket.get("k")
    assert type(obj.customMetadata) is JsDict and obj.customMetadata.owner == "ada"
    assert obj.range == {"offset": 0, "length": 5}
    assert await obj.text() == "hello"


async def test_missing_keys_give_none(bucket):
    # Workers API reference: head/get resolve to null for a missing key.
    assert await bucket.get("missing") is None
    assert await bucket.head("missing") is None


async def test_head_has_metadata_but_no_body(bucket):
    await bucket.put("k", "hello", httpMetadata={"contentType": "text/plain"})
    obj = await bucket.head("k")
    assert obj.httpMetadata.contentType == "text/plain" and obj.size == 5
    with pytest.raises(AttributeError):
        obj.body  # noqa: B018 - an R2Object has no body property


async def test_result_classes_report_workerds_constructor_names(bucket):
    # jsg names a class after its C++ type, namespaces stripped (jsg/util.c++ typeName):
    # R2Bucket::HeadResult / GetResult / Checksums.
    await bucket.put("k", "v")
    assert (await bucket.head("k")).constructor.name == "HeadResult"
    assert (await bucket.get("k")).constructor.name == "GetResult"
    assert (await bucket.head("k")).checksums.constructor.name == "Checksums"
    assert bucket.constructor.name == "R2Bucket"


async def test_overwrite_replaces_value_and_version(bucket):
    first = await bucket.put("k", "one")
    second = await bucket.put("k", "two")
    assert first.version != second.version
    assert await (await bucket.get("k")).text() == "two"


async def test_non_string_keys_are_converted_as_javascript_does(bucket):
    # workerd: ``kj::String key`` -- JavaScript's String(value).
    await bucket.put(5, "five")
    assert (await bucket.head("5")).key == "5"


# --- values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, stored",
    [
        ("héllo", "héllo".encode()),
        (b"\x00\xff", b"\x00\xff"),
        (memoryview(b"mv"), b"mv"),
        (ArrayBuffer(b"ab"), b"ab"),
        (Blob(["blob"]), b"blob"),
        (None, b""),
    ],
)
async def test_put_accepts_every_r2_value_type(bucket, value, stored):
    # Workers API reference: put value is ReadableStream | ArrayBuffer | ArrayBufferView
    # | string | null | Blob.
    obj = await bucket.put("k", value)
    assert obj.size == len(stored) and obj.etag == md5(stored)
    assert (await (await bucket.get("k")).arrayBuffer()).tobytes() == stored


async def test_put_rejects_other_value_types(bucket):
    error = await error_of(bucket.put("k", 42))
    assert error.name == "TypeError"
    assert "parameter 2 is not of type" in error.message


async def test_put_reads_a_readable_stream_from_javascript(js_bucket):
    # r2-rpc.c++ doR2HTTPPutRequest: a request/response body has a known length.
    stream = Response("streamed").body
    await js_bucket.put("k", stream)
    assert await (await js_bucket.get("k")).text() == "streamed"
    error = await error_of(js_bucket.put("k2", stream))
    assert error.name == "TypeError" and "disturbed" in error.message


async def test_put_takes_a_request_body_from_python(bucket):
    # The pattern of the docs' Worker: await env.MY_BUCKET.put(key, request.body).
    await bucket.put("k", Response("streamed").body)
    assert await (await bucket.get("k")).text() == "streamed"


async def test_an_unawaited_put_still_stores(bucket):
    # As on Cloudflare, the call is made when made; awaiting only collects the result.
    pending = bucket.put("k", "v")
    assert (await bucket.head("k")).size == 1
    await pending


async def test_awaiting_an_r2_call_lets_other_tasks_run(bucket):
    # R2 is reached over the network: awaiting a call yields to the event loop.
    ran = []

    async def other():
        ran.append("other")

    task = asyncio.ensure_future(other())
    await bucket.put("k", "v")
    assert ran == ["other"]
    await task


# --- bodies ---------------------------------------------------------------------------


async def test_response_takes_the_body_stream(bucket):
    # The docs' pattern: return new Response(object.body).
    await bucket.put("k", "streamed")
    obj = await bucket.get("k")
    assert await Response(obj.body).text() == "streamed"
    assert obj.js_object.bodyUsed is True
    error = await error_of(obj.text())
    assert error.name == "TypeError"
    assert error.message.startswith("Body has already been used.")


async def test_body_can_be_read_once(bucket):
    # workerd GetResult::text: a disturbed body is a TypeError.
    await bucket.put("k", "once")
    obj = await bucket.get("k")
    assert await obj.text() == "once"
    with pytest.raises(JsException, match="Body has already been used"):
        await obj.arrayBuffer()


async def test_body_used_is_cached_by_the_wrapper(bucket):
    # rpc.py _BindingWrapper.__getattr__ caches every attribute after its first read.
    await bucket.put("k", "v")
    obj = await bucket.get("k")
    assert obj.bodyUsed is False
    await obj.text()
    assert obj.bodyUsed is False  # the cached first read
    assert obj.js_object.bodyUsed is True


async def test_body_readers_convert_like_python_from_rpc(bucket):
    await bucket.put("j", '{"n": 1.0, "items": [1, 2.5]}', httpMetadata={"contentType": "X/Y"})
    data = await (await bucket.get("j")).json()
    assert data == {"n": 1, "items": [1, 2.5]} and type(data) is JsDict
    assert type(data["n"]) is int  # a JS number that is a safe integer
    assert isinstance(await (await bucket.get("j")).bytes(), memoryview)
    blob = await (await bucket.get("j")).blob()
    # GetResult::blob keeps the stored contentType as it is.
    assert isinstance(blob, Blob) and blob.content_type == "X/Y"


async def test_json_reports_a_syntax_error(bucket):
    await bucket.put("k", "not json")
    error = await error_of((await bucket.get("k")).json())
    assert error.name == "SyntaxError"


# --- ranges ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "range_, text, reported",
    [
        ({"offset": 3}, "3456789", {"offset": 3, "length": 7}),
        ({"length": 3}, "012", {"offset": 0, "length": 3}),
        ({"offset": 2, "length": 3}, "234", {"offset": 2, "length": 3}),
        ({"length": 42}, "0123456789", {"offset": 0, "length": 10}),
        ({"suffix": 3}, "789", {"offset": 7, "length": 3}),
        ({"suffix": 42}, "0123456789", {"offset": 0, "length": 10}),
    ],
)
async def test_ranged_reads(bucket, range_, text, reported):
    # Workers API reference, "Ranged reads"; clamping as Miniflare's validator.range.
    await bucket.put("k", "0123456789")
    obj = await bucket.get("k", range=range_)
    assert obj.range == reported and obj.size == 10
    assert await obj.text() == text


@pytest.mark.parametrize(
    "range_, name, message",
    [
        (
            {"offset": -1},
            "RangeError",
            "Invalid range. Starting offset (-1) must be greater than or equal to 0.",
        ),
        (
            {"offset": 1.5},
            "RangeError",
            "Invalid range. Starting offset (1.5) must be an integer, not floating point.",
        ),
        (
            {"length": -2},
            "RangeError",
            "Invalid range. Length (-2) must be greater than or equal to 0.",
        ),
        ({"suffix": 2, "offset": 1}, "TypeError", "Suffix is incompatible with offset."),
        ({"suffix": 2, "length": 1}, "TypeError", "Suffix is incompatible with length."),
        (
            {"suffix": -1},
            "RangeError",
            "Invalid suffix. Suffix (-1) must be greater than or equal to 0.",
        ),
    ],
)
async def test_invalid_ranges_fail_in_the_runtime(bucket, range_, name, message):
    # workerd initGetOptions.
    await bucket.put("k", "0123456789")
    error = await error_of(bucket.get("k", range=range_))
    assert (error.name, error.message) == (name, message)


@pytest.mark.parametrize("range_", [{"offset": 11}, {"length": 0}, {"suffix": 0}])
async def test_unsatisfiable_ranges_fail_in_r2(bucket, range_):
    # Miniflare index.spec.ts "get: range using object"; Error codes page: 10039.
    await bucket.put("k", "0123456789")
    error = await error_of(bucket.get("k", range=range_))
    assert str(error) == "Error: get: The requested range is not satisfiable (10039)"


@pytest.mark.parametrize(
    "header, text",
    [
        ("bytes=3-6", "3456"),
        ("bytes=7-", "789"),
        ("bytes=-2", "89"),
        ("bytes=1-2,5-6", "0123456789"),  # several ranges: the whole object
        ("bytes=20-", "0123456789"),  # unsatisfiable in a header: the whole object
    ],
)
async def test_range_from_headers(js_bucket, header, text):
    # R2GetOptions.range may be a Headers with Range (workerd initGetOptions).
    await js_bucket.put("k", "0123456789")
    obj = await js_bucket.get("k", {"range": HeaderList([("range", header)])})
    assert await obj.text() == text


# --- conditional operations -----------------------------------------------------------


async def test_put_only_if_absent_with_etag_does_not_match_wildcard(bucket):
    # Conditional operations (docs); RFC 7232 If-None-Match: * on a missing object.
    assert await bucket.put("k", "first", onlyIf={"etagDoesNotMatch": "*"}) is not None
    assert await bucket.put("k", "second", onlyIf={"etagDoesNotMatch": "*"}) is None
    assert await (await bucket.get("k")).text() == "first"


async def test_put_compare_and_swap_on_etag(bucket):
    # Docs: "If the condition check for put() fails, null will be returned".
    obj = await bucket.put("k", "v1")
    assert await bucket.put("k", "v2", onlyIf={"etagMatches": "stale"}) is None
    assert await bucket.put("k", "v2", onlyIf={"etagMatches": obj.etag}) is not None
    assert await bucket.put("missing", "v", onlyIf={"etagMatches": "*"}) is None


async def test_get_with_failed_precondition_returns_metadata_only(bucket):
    # Workers API reference: get returns an R2Object with body undefined.
    obj = await bucket.put("k", "v")
    result = await bucket.get("k", onlyIf={"etagDoesNotMatch": obj.etag})
    assert result.constructor.name == "HeadResult" and result.etag == obj.etag
    assert not hasattr(result, "body")


async def test_upload_date_conditions(app, bucket):
    await bucket.put("k", "v")  # uploaded at START
    later = START + dt.timedelta(hours=1)
    assert await bucket.get("k", onlyIf={"uploadedBefore": later}) is not None
    assert not hasattr(await bucket.get("k", onlyIf={"uploadedAfter": later}), "body")
    assert hasattr(await bucket.get("k", onlyIf={"uploadedAfter": START - dt.timedelta(1)}), "body")


async def test_quoted_etags_are_refused(bucket):
    # workerd UnwrappedConditional(const Conditional&).
    error = await error_of(bucket.get("k", onlyIf={"etagMatches": '"abc"'}))
    assert (error.name, error.message) == (
        "TypeError",
        'Conditional ETag should not be wrapped in quotes ("abc").',
    )


async def test_conditional_headers(js_bucket):
    # docs: a Headers with conditional headers may stand for R2Conditional.
    obj = await js_bucket.put("k", "v")
    fresh = HeaderList([("if-none-match", f'"{obj.etag}"')])
    assert not hasattr(await js_bucket.get("k", {"onlyIf": fresh}), "body")
    weak = HeaderList([("if-match", f'W/"{obj.etag}"')])  # If-Match compares strongly
    assert await js_bucket.put("k", "w", {"onlyIf": weak}) is None
    either = HeaderList([("if-match", f'"nope", "{obj.etag}"')])
    assert await js_bucket.put("k", "w", {"onlyIf": either}) is not None


@pytest.mark.parametrize(
    "value, message",
    [
        ('"a" "b"', "Comma was expected to separate etags."),
        ('"open', "Unclosed double quote for Etag"),
        ("W/x", "Weak etags must start with W/ and their value must be quoted"),
        ("nonsense", "Invalid ETag in if-match header"),
    ],
)
async def test_malformed_if_match_headers(js_bucket, value, message):
    # workerd parseConditionalEtagHeader.
    error = await error_of(js_bucket.get("k", {"onlyIf": HeaderList([("if-match", value)])}))
    assert error.name == "Error" and error.message.startswith(message)


async def test_conditional_headers_from_python(bucket):
    # What js.Headers.new() gives Python code under dosim on CPython.
    await bucket.put("k", "v")
    headers = HeaderList([("if-none-match", "*")])
    assert await bucket.put("k", "w", onlyIf=headers) is None


# --- checksums ------------------------------------------------------------------------


async def test_checksums_are_stored_and_exposed(bucket):
    # Docs "Checksums"; workerd Checksums::toJSON.
    data = b"value"
    obj = await bucket.put("k", data, sha256=hashlib.sha256(data).hexdigest().upper())
    assert obj.checksums.md5.tobytes() == hashlib.md5(data).digest()
    assert obj.checksums.sha256.tobytes() == hashlib.sha256(data).digest()
    assert obj.checksums.sha1 is None
    stored = (await bucket.head("k")).checksums.toJSON()
    assert stored == {"md5": md5(data), "sha256": hashlib.sha256(data).hexdigest()}


async def test_checksum_given_as_bytes(bucket):
    obj = await bucket.put("k", b"v", sha1=hashlib.sha1(b"v").digest())
    assert obj.checksums.toJSON()["sha1"] == hashlib.sha1(b"v").hexdigest()


async def test_mismatched_checksum_is_refused(bucket):
    # Miniflare index.spec.ts "put: validates checksums"; Error codes: BadDigest 10037.
    bad = "0" * 32
    error = await error_of(bucket.put("k", "value", md5=bad))
    assert str(error) == (
        "Error: put: The MD5 checksum you specified did not match what we received.\n"
        f"You provided a MD5 checksum with value: {bad}\n"
        f"Actual MD5 was: {md5(b'value')} (10037)"
    )
    assert await bucket.head("k") is None


@pytest.mark.parametrize(
    "options, message",
    [
        ({"md5": "ab"}, "MD5 is 32 hex characters, not 2"),
        ({"sha1": b"x"}, "SHA-1 is 20 bytes, not 1"),
        ({"sha256": "zz" * 32}, "Provided SHA-256 wasn't a valid hex string"),
        ({"md5": "0" * 32, "sha1": "0" * 40}, "You cannot specify multiple hashing algorithms."),
    ],
)
async def test_checksum_shape_is_checked_by_the_runtime(bucket, options, message):
    # workerd R2Bucket::put.
    error = await error_of(bucket.put("k", "v", options))
    assert (error.name, error.message) == ("TypeError", message)


# --- metadata -------------------------------------------------------------------------


async def test_http_metadata_round_trips(bucket):
    expiry = dt.datetime(2030, 2, 24)
    meta = {
        "contentType": "text/plain",
        "contentLanguage": "en-GB",
        "contentDisposition": 'attachment; filename="a.txt"',
        "contentEncoding": "gzip",
        "cacheControl": "max-age=3600",
        "cacheExpiry": expiry,
    }
    await bucket.put("k", "v", httpMetadata=meta)
    assert (await bucket.get("k")).httpMetadata == meta


async def test_http_metadata_from_headers_keeps_only_r2_fields(js_bucket):
    # workerd HttpMetadata::fromRequestHeaders.
    headers = HeaderList(
        [
            ("content-type", "image/png"),
            ("expires", "Wed, 21 Oct 2037 07:28:00 GMT"),
            ("x-other", "dropped"),
        ]
    )
    obj = await js_bucket.put("k", "v", {"httpMetadata": headers})
    meta = obj.httpMetadata
    assert meta["contentType"] == "image/png" and set(meta) == {"contentType", "cacheExpiry"}


async def test_write_http_metadata_sets_headers(js_bucket):
    # workerd HeadResult::writeHttpMetadata; Expires as Date.toUTCString.
    expiry = wire_date(int(dt.datetime(2037, 2, 24, tzinfo=dt.UTC).timestamp() * 1000))
    await js_bucket.put(
        "k", "v", {"httpMetadata": {"contentType": "text/plain", "cacheExpiry": expiry}}
    )
    headers = HeaderList([("x-kept", "yes")])
    (await js_bucket.get("k")).writeHttpMetadata(headers)
    assert headers.entries() == [
        ("content-type", "text/plain"),
        ("expires", "Tue, 24 Feb 2037 00:00:00 GMT"),
        ("x-kept", "yes"),
    ]


async def test_write_http_metadata_refuses_invalid_header_values(js_bucket):
    # workerd r2-write-http-metadata-validation-test.js: CR/LF/NUL are a TypeError.
    await js_bucket.put("k", "v", {"httpMetadata": {"contentType": "text/plain\r\nX: y"}})
    with pytest.raises(JsException, match="TypeError: Invalid header value"):
        (await js_bucket.get("k")).writeHttpMetadata(HeaderList())


async def test_write_http_metadata_from_python(bucket):
    await bucket.put("k", "v", httpMetadata={"contentType": "text/plain"})
    headers = HeaderList()
    (await bucket.get("k")).writeHttpMetadata(headers)
    assert headers.get("content-type") == "text/plain"


async def test_custom_metadata_limit_is_8192_bytes(bucket):
    # R2 Limits: object metadata size 8,192 bytes; Error codes: MetadataTooLarge 10012;
    # counted as R2's gateway counts (Miniflare validator.metadataSize).
    await bucket.put("k", "v", customMetadata={"key": "x" * (8192 - 3)})
    error = await error_of(bucket.put("k", "v", customMetadata={"key": "x" * (8192 - 2)}))
    assert str(error) == (
        "Error: put: Your metadata headers exceed the maximum allowed metadata size. (10012)"
    )
    # A string with a code unit above 255 counts two bytes for each of its units.
    await bucket.put("k", "v", customMetadata={"k": "€" * 4095})  # 1 + 8190
    with pytest.raises(JsException, match="10012"):
        await bucket.put("k", "v", customMetadata={"k": "€" * 4095 + "."})  # 1 + 8192


async def test_custom_metadata_values_become_strings(bucket):
    obj = await bucket.put("k", "v", customMetadata={"n": 5, "flag": True})
    assert obj.customMetadata == {"n": "5", "flag": "true"}


async def test_key_limit_is_1024_bytes(bucket):
    # R2 Limits: object key length 1,024 bytes; Miniflare testValidatesKey.
    await bucket.put("é" * 512, "v")
    for method in ("put", "get", "head"):
        args = ("é" * 512 + "x", "v") if method == "put" else ("é" * 512 + "x",)
        error = await error_of(getattr(bucket, method)(*args))
        assert str(error) == f"Error: {method}: The specified object name is not valid. (10020)"


async def test_storage_class(bucket):
    # Workers API reference, "Storage Class".
    assert (await bucket.put("k", "v", storageClass="InfrequentAccess")).storageClass == (
        "InfrequentAccess"
    )
    assert (await bucket.head("k")).storageClass == "InfrequentAccess"
    with pytest.raises(JsException, match="The storage class you specified is not valid"):
        await bucket.put("k", "v", storageClass="Glacier")


async def test_ssec_is_not_simulated(bucket):
    with pytest.raises(JsException, match="does not simulate SSE-C"):
        await bucket.put("k", "v", ssecKey="0" * 64)


# --- delete ---------------------------------------------------------------------------


async def test_delete_one_or_many_keys(bucket):
    for key in ("a", "b", "c"):
        await bucket.put(key, key)
    assert await bucket.delete("a") is None
    await bucket.delete(["b", "missing"])
    assert [o.key for o in (await bucket.list()).objects] == ["c"]


async def test_delete_takes_one_to_1000_keys(bucket):
    # Workers API reference: up to 1000 keys per call; the production error quoted in
    # AdiRishi/turborepo-remote-cache-cloudflare#43.
    await bucket.delete([f"k{i}" for i in range(1000)])
    error = await error_of(bucket.delete([f"k{i}" for i in range(1001)]))
    assert str(error) == (
        "Error: delete: The number of keys in the request must be between 1 and 1000 "
        "inclusive. (10027)"
    )


# --- list -----------------------------------------------------------------------------


async def seed(bucket, keys):
    for key in keys:
        await bucket.put(key, key)


async def test_list_orders_keys_and_filters_by_prefix(bucket):
    await seed(bucket, ["b", "a/2", "a/1", "!"])
    listing = await bucket.list()
    assert [o.key for o in listing.objects] == ["!", "a/1", "a/2", "b"]
    assert listing.truncated is False and listing.delimitedPrefixes == []
    assert "cursor" not in listing  # R2Objects: cursor only when truncated
    assert [o.key for o in (await bucket.list(prefix="a/")).objects] == ["a/1", "a/2"]


async def test_listed_objects_arrive_as_raw_proxies(bucket):
    # rpc.py: only a result or its top-level list items are wrapped; objects nested in
    # the listing reach Python unconverted.
    await bucket.put("k", "v")
    listed = (await bucket.list()).objects[0]
    assert isinstance(listed, RawJsObject) and listed.key == "k" and listed.size == 1
    assert listed.uploaded.getTime() == START.replace(tzinfo=dt.UTC).timestamp() * 1000


async def test_list_pages_with_cursor(bucket):
    await seed(bucket, ["k1", "k2", "k3"])
    first = await bucket.list(limit=2)
    assert [o.key for o in first.objects] == ["k1", "k2"] and first.truncated
    await bucket.put("k0", "inserted behind the cursor")
    second = await bucket.list(limit=2, cursor=first.cursor)
    assert [o.key for o in second.objects] == ["k3"] and not second.truncated


async def test_list_start_after(bucket):
    await seed(bucket, ["k1", "k2", "k3"])
    assert [o.key for o in (await bucket.list(startAfter="k1")).objects] == ["k2", "k3"]


async def test_list_groups_keys_by_delimiter(bucket):
    # Docs R2Objects.delimitedPrefixes; Miniflare "returns correct delimitedPrefixes".
    await seed(bucket, ["dir0/a", "dir0/sub/b", "dir1/c", "file"])
    listing = await bucket.list(delimiter="/")
    assert [o.key for o in listing.objects] == ["file"]
    assert listing.delimitedPrefixes == ["dir0/", "dir1/"]
    nested = await bucket.list(prefix="dir0/", delimiter="/")
    assert [o.key for o in nested.objects] == ["dir0/a"]
    assert nested.delimitedPrefixes == ["dir0/sub/"]


async def test_list_limit_counts_delimited_prefixes(bucket):
    await seed(bucket, ["a/1", "a/2", "b/1", "c"])
    first = await bucket.list(delimiter="/", limit=1)
    assert first.delimitedPrefixes == ["a/"] and first.truncated
    second = await bucket.list(delimiter="/", limit=1, cursor=first.cursor)
    assert second.delimitedPrefixes == ["b/"]


async def test_list_includes_metadata_only_when_asked(bucket):
    # Workers API reference, R2ListOptions.include (r2_list_honor_include); workerd
    # parseObjectMetadata leaves unrequested metadata undefined.
    await bucket.put("k", "v", httpMetadata={"contentType": "a/b"}, customMetadata={"c": "d"})
    plain = (await bucket.list()).objects[0]
    assert plain.httpMetadata is None and plain.customMetadata is None
    full = (await bucket.list(include=["httpMetadata", "customMetadata"])).objects[0]
    assert full.httpMetadata.to_py() == {"contentType": "a/b"}
    assert full.customMetadata.to_py() == {"c": "d"}


async def test_write_http_metadata_needs_included_metadata(js_bucket):
    # workerd HeadResult::writeHttpMetadata.
    await js_bucket.put("k", "v")
    listed = (await js_bucket.list())["objects"][0]
    with pytest.raises(JsException) as caught:
        listed.writeHttpMetadata(HeaderList())
    assert caught.value.message == (
        "HTTP metadata unknown for key `k`. Did you forget to add 'httpMetadata' to "
        "`include` when listing?"
    )


async def test_list_option_errors(bucket):
    # workerd list(): RangeError for include; Miniflare "list: validates limit" (10022).
    error = await error_of(bucket.list(include=["everything"]))
    assert (error.name, error.message) == ("RangeError", "Unsupported include value everything")
    error = await error_of(bucket.list(limit=1001))
    assert error.message == "list: MaxKeys params must be positive integer <= 1000. (10022)"


# --- multipart uploads ------------------------------------------------------------------


async def test_multipart_upload_assembles_parts_in_order(bucket):
    # Workers API reference, R2MultipartUpload; etag = MD5 of the part MD5s + "-N"
    # (Miniflare generateMultipartEtag).
    upload = await bucket.createMultipartUpload("big", customMetadata={"kind": "video"})
    first = b"a" * (5 * MiB)
    part2 = await upload.uploadPart(2, b"tail")
    part1 = await upload.uploadPart(1, first)
    assert type(part1) is JsDict and part1.partNumber == 1 and part1.etag
    obj = await upload.complete([part1, part2])
    combined = hashlib.md5(hashlib.md5(first).digest() + hashlib.md5(b"tail").digest())
    assert obj.etag == f"{combined.hexdigest()}-2" and obj.size == 5 * MiB + 4
    assert obj.customMetadata == {"kind": "video"} and obj.checksums.toJSON() == {}
    assert await (await bucket.get("big", range={"suffix": 5})).text() == "atail"


async def test_parts_other_than_the_last_must_be_5_mib(bucket):
    # R2 Error codes: EntityTooSmall 10011; Miniflare "completeMultipartUpload".
    upload = await bucket.createMultipartUpload("k")
    small = await upload.uploadPart(1, b"x")
    last = await upload.uploadPart(2, b"y")
    error = await error_of(upload.complete([small, last]))
    assert str(error) == (
        "Error: completeMultipartUpload: Your proposed upload is smaller than the minimum "
        "allowed object size. (10011)"
    )
    assert (await upload.complete([small])).size == 1  # a single part is the last part


async def test_parts_other_than_the_last_must_have_one_size(bucket):
    # R2 Error codes: 10048 "All non-trailing parts must have the same size"; Workers API
    # reference: parts uniform in size, the last may be smaller.
    upload = await bucket.createMultipartUpload("k")
    parts = [
        await upload.uploadPart(1, b"a" * (5 * MiB)),
        await upload.uploadPart(2, b"b" * (5 * MiB + 1)),
        await upload.uploadPart(3, b"c"),
    ]
    error = await error_of(upload.complete(parts))
    assert error.message == (
        "completeMultipartUpload: There was a problem with the multipart upload. (10048)"
    )


async def test_complete_checks_part_etags(bucket):
    upload = await bucket.createMultipartUpload("k")
    part = await upload.uploadPart(1, b"v")
    error = await error_of(upload.complete([{"partNumber": 1, "etag": "forged"}]))
    assert error.message == (
        "completeMultipartUpload: One or more of the specified parts could not be found. (10025)"
    )
    await upload.complete([part])
    error = await error_of(upload.complete([part]))
    assert error.message == (
        "completeMultipartUpload: The specified multipart upload does not exist. (10024)"
    )


async def test_part_numbers_are_checked_by_the_runtime(bucket):
    # workerd R2MultipartUpload::uploadPart.
    upload = await bucket.createMultipartUpload("k")
    error = await error_of(upload.uploadPart(0, b"v"))
    assert (error.name, error.message) == (
        "TypeError",
        "Part number must be between 1 and 10000 (inclusive). Actual value was: 0",
    )


async def test_abort_and_resume(bucket):
    upload = await bucket.createMultipartUpload("k")
    resumed = bucket.resumeMultipartUpload("k", upload.uploadId)  # not a promise
    assert resumed.uploadId == upload.uploadId and resumed.key == "k"
    await resumed.uploadPart(1, b"v")
    await upload.abort()
    await upload.abort()  # aborting twice is allowed
    error = await error_of(resumed.uploadPart(2, b"w"))
    assert error.message == "uploadPart: The specified multipart upload does not exist. (10024)"
    assert await bucket.head("k") is None


async def test_resume_with_an_unknown_id_fails_on_use(bucket):
    # Docs: resumeMultipartUpload does not check the uploadId.
    upload = bucket.resumeMultipartUpload("k", "made-up")
    error = await error_of(upload.uploadPart(1, b"v"))
    assert error.message == "uploadPart: The specified multipart upload does not exist. (10024)"


async def test_unfinished_uploads_are_aborted_after_7_days(app, bucket):
    # Workers API reference: "Uncompleted multipart uploads will be automatically
    # aborted after 7 days."
    upload = await bucket.createMultipartUpload("k")
    part = await upload.uploadPart(1, b"v")
    await app.advance(7 * 24 * 3600)
    error = await error_of(upload.complete([part]))
    assert error.message.endswith("The specified multipart upload does not exist. (10024)")


# --- faults, trace, persistence -------------------------------------------------------


async def test_injected_failure_is_r2s_internal_error(app, bucket):
    # R2 Error codes: InternalError 10001; message form of R2Result::throwIfError.
    app.faults.fail_next_binding_call("BUCKET", "put")
    error = await error_of(bucket.put("k", "v"))
    assert str(error) == "Error: put: We encountered an internal error. Please try again. (10001)"
    assert await bucket.head("k") is None
    assert (await bucket.put("k", "v")).size == 1  # only the next call failed


async def test_injected_failure_of_a_multipart_call(app, bucket):
    upload = await bucket.createMultipartUpload("k")
    app.faults.fail_next_binding_call("BUCKET", "complete")
    error = await error_of(upload.complete([]))
    assert error.message == (
        "completeMultipartUpload: We encountered an internal error. Please try again. (10001)"
    )


async def test_each_call_is_traced(app, bucket):
    await bucket.put("k", "v")
    await bucket.get("missing")
    events = [e for e in app.trace if e.kind == "binding"]
    assert [(e.detail["op"], e.detail["type"]) for e in events] == [("put", "r2"), ("get", "r2")]
    assert events[0].detail["key"] == "k" and events[1].detail["found"] is False


async def test_bindings_to_one_bucket_share_objects():
    app = App(
        None,
        {},
        bindings={"A": R2BucketBinding("shared"), "B": R2BucketBinding("shared")},
    )
    await app.env.A.put("k", "v")
    assert (await app.env.B.head("k")).size == 1
    app.binding_host.close()


async def test_objects_persist_under_dosim_dev(tmp_path):
    # BindingStore: <state>/r2/<bucket>.sqlite, every acknowledged write committed.
    first = make_app(persist_to=tmp_path)
    await first.env.BUCKET.put("k", "kept", customMetadata={"a": "b"})
    path = tmp_path / "r2" / "photos.sqlite"
    with sqlite3.connect(path) as other:  # committed: another connection sees it
        assert other.execute("SELECT key, size FROM r2_objects").fetchall() == [("k", 4)]
    first.binding_host.close()
    second = make_app(persist_to=tmp_path)
    obj = await second.env.BUCKET.get("k")
    assert await obj.text() == "kept" and obj.customMetadata == {"a": "b"}
    second.binding_host.close()


async def test_uploads_persist_and_ids_stay_unique(tmp_path):
    first = make_app(persist_to=tmp_path)
    upload = await first.env.BUCKET.createMultipartUpload("k")
    first.binding_host.close()
    second = make_app(persist_to=tmp_path)
    other = await second.env.BUCKET.createMultipartUpload("k")
    assert other.uploadId != upload.uploadId
    resumed = second.env.BUCKET.resumeMultipartUpload("k", upload.uploadId)
    assert (await resumed.complete([await resumed.uploadPart(1, b"v")])).size == 1
    second.binding_host.close()


async def test_a_read_only_bucket_leaves_no_file(tmp_path):
    app = make_app(persist_to=tmp_path)
    await app.env.BUCKET.get("k")
    assert not (tmp_path / "r2").exists()
    app.binding_host.close()


# --- from Workers and Durable Objects ---------------------------------------------------


class Gallery(DurableObject):
    async def save(self, name, data):
        await self.ctx.storage.put(f"photo:{name}", len(data))
        obj = await self.env.BUCKET.put(f"photos/{name}", data)
        return obj.etag


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        key = request.url.split("/", 3)[3]
        obj = await self.env.BUCKET.get(key)
        if obj is None:
            return Response("Object Not Found", status=404)
        headers = {"etag": obj.httpEtag}
        if obj.httpMetadata.get("contentType"):
            headers["content-type"] = obj.httpMetadata.contentType
        return Response(obj.body, headers=headers)


async def test_worker_serves_objects_and_durable_object_stores_them():
    app = App(
        Default,
        {"GALLERY": Gallery},
        bindings={"BUCKET": R2BucketBinding("photos")},
    )
    etag = await app.env.GALLERY.getByName("g").save("cat.png", b"\x89PNG")
    response = await app.fetch("https://example.com/photos/cat.png")
    assert response.status == 200 and await response.bytes() == b"\x89PNG"
    assert response.headers["etag"] == f'"{etag}"'
    assert (await app.fetch("https://example.com/photos/dog.png")).status == 404
    app.close()
    app.binding_host.close()


class Ledger(DurableObject):
    async def record(self, key):
        await self.ctx.storage.put("last", key)
        await self.env.BUCKET.put(key, "v")


async def test_r2_writes_wait_for_the_objects_storage_writes():
    # workerd r2-rpc.c++ doR2HTTPPutRequestImpl: co_await context.waitForOutputLocks()
    # before the request leaves. A failed storage commit stops the R2 write.
    app = App(None, {"LEDGER": Ledger}, bindings={"BUCKET": R2BucketBinding("photos")})
    stub = app.env.LEDGER.getByName("l")
    app.faults.fail_next_commit(stub)
    with pytest.raises(JsException):
        await stub.record("k")
    assert await app.env.BUCKET.head("k") is None
    await app.env.LEDGER.getByName("l").record("k")
    assert (await app.env.BUCKET.head("k")).size == 1
    app.close()
    app.binding_host.close()


async def test_list_with_include_may_return_fewer_than_limit(bucket):
    # Workers API reference, R2ListOptions.limit: "If include is set, you may receive
    # fewer than limit results"; dosim returns at most 100 then (as Miniflare does).
    await seed(bucket, [f"k{i:03}" for i in range(101)])
    page = await bucket.list(include=["customMetadata"])
    assert len(page.objects) == 100 and page.truncated
    rest = await bucket.list(include=["customMetadata"], cursor=page.cursor)
    assert [o.key for o in rest.objects] == ["k100"] and not rest.truncated


async def test_single_uploads_are_limited_to_5_gib_less_5_mib(bucket, monkeypatch):
    # R2 Limits: maximum upload size 5 GiB - 5 MiB; Error codes: EntityTooLarge 100100.
    # (The limit is lowered here so the test need not allocate 5 GiB.)
    assert r2_store.MAX_UPLOAD_BYTES == 5 * 2**30 - 5 * 2**20
    monkeypatch.setattr(r2_store, "MAX_UPLOAD_BYTES", 4)
    await bucket.put("k", "four")
    error = await error_of(bucket.put("k", "five!"))
    assert error.message == (
        "put: Your proposed upload exceeds the maximum allowed object size. (100100)"
    )
    upload = await bucket.createMultipartUpload("k")
    error = await error_of(upload.uploadPart(1, "five!"))
    assert error.message.startswith("uploadPart: Your proposed upload exceeds")
