"""The HTTP part of the ``workers`` facade: headers, Request, Response, FormData, Blob, fetch."""

from __future__ import annotations

import asyncio
import http.client
from collections.abc import Mapping
from http import HTTPMethod, HTTPStatus

import pytest

from dosim.errors import JsException
from dosim.serialization import rpc_copy
from dosim.workers import Blob, File, FormData, Request, Response, fetch
from dosim.workers.body import ArrayBuffer
from dosim.workers.fetch import build_request, set_outbound_handler
from dosim.workers.headers import HeaderList
from dosim.workers.response import FetchResponse, HttpStatusError

URL = "https://example.com/path"


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(autouse=True)
def _no_outbound_handler():
    previous = set_outbound_handler(None)
    yield
    set_outbound_handler(previous)


def js_error(excinfo) -> tuple[str, str]:
    return excinfo.value.name, excinfo.value.message


# --- headers -----------------------------------------------------------------------------


def test_header_lookup_is_case_insensitive():
    headers = Request(URL, headers={"X-Token": "abc"}).headers
    assert headers["x-token"] == "abc"
    assert headers.get("X-TOKEN") == "abc"
    assert "X-Token" in headers


def test_repeated_header_values_are_joined_with_comma_space():
    headers = Response(headers=[("x-a", "1"), ("X-A", "2")]).headers
    assert headers.get_all("x-a") == ["1, 2"]


def test_set_cookie_values_stay_separate_and_come_first():
    response = Response(headers=[("a-first", "1"), ("set-cookie", "a=1"), ("set-cookie", "b=2")])
    assert list(response.headers.items()) == [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("a-first", "1"),
    ]


def test_header_names_read_back_lowercase_in_name_order():
    headers = Response(headers={"Zeta": "z", "Alpha": "a"}).headers
    assert list(headers.keys()) == ["alpha", "zeta"]


def test_missing_header_subscript_returns_none():
    assert Response().headers["x-missing"] is None


def test_headers_are_an_http_message_and_a_mapping():
    headers = Response().headers
    assert isinstance(headers, http.client.HTTPMessage)
    assert isinstance(headers, Mapping)


def test_headers_property_returns_an_independent_copy():
    response = Response(headers={"x-a": "1"})
    response.headers["x-b"] = "2"
    assert "x-b" not in response.headers


def test_header_tuple_of_pairs_is_rejected_as_sdk_does():
    with pytest.raises(TypeError, match="^Received unexpected type for headers argument$"):
        Response(headers=(("x-a", "1"),))


def test_headers_mapping_from_a_request_is_rejected_as_headers_init():
    incoming = Request(URL, headers={"x-a": "1"})
    with pytest.raises(TypeError, match="^Received unexpected type for headers argument$"):
        Response(headers=incoming.headers)


def test_header_list_is_accepted_as_headers_init():
    response = Response(headers=HeaderList([("x-a", "1")]))
    assert response.headers["x-a"] == "1"


def test_header_pair_of_wrong_length_raises_js_type_error():
    with pytest.raises(JsException) as excinfo:
        Response(headers=[("x-a", "1", "2")])
    assert js_error(excinfo) == (
        "TypeError",
        "To initialize a Headers object from a sequence, each inner sequence must have "
        "exactly two elements.",
    )


def test_invalid_header_name_raises_js_type_error():
    with pytest.raises(JsException) as excinfo:
        Response(headers={"bad name": "1"})
    assert js_error(excinfo) == ("TypeError", "Invalid header name.")


def test_header_value_with_newline_raises_js_type_error():
    with pytest.raises(JsException) as excinfo:
        Response(headers={"x-a": "1\r\nx-b: 2"})
    assert js_error(excinfo) == ("TypeError", "Invalid header value.")


def test_header_value_surrounding_whitespace_is_trimmed():
    assert Response(headers={"x-a": "  1 \t"}).headers["x-a"] == "1"


def test_non_string_header_values_are_stringified_like_javascript():
    headers = Response(headers={"x-n": 123, "x-b": True}).headers
    assert (headers["x-n"], headers["x-b"]) == ("123", "true")


# --- URLs --------------------------------------------------------------------------------


def test_request_url_gets_lowercase_host_and_root_path():
    assert Request("HTTPS://Example.COM").url == "https://example.com/"


def test_request_url_default_port_is_dropped():
    assert Request("https://example.com:443/a").url == "https://example.com/a"


def test_request_url_dot_segments_are_resolved():
    assert Request("https://example.com/a/./b/../c").url == "https://example.com/a/c"


def test_request_url_space_is_percent_encoded():
    assert Request("https://example.com/a b?q=c d").url == "https://example.com/a%20b?q=c%20d"


def test_request_url_keeps_query_and_fragment():
    assert Request("https://example.com/p?x=1#top").url == "https://example.com/p?x=1#top"


def test_relative_request_url_raises_invalid_url():
    with pytest.raises(JsException) as excinfo:
        Request("/relative")
    assert js_error(excinfo) == ("TypeError", "Invalid URL: /relative")


def test_request_url_with_invalid_port_raises_invalid_url():
    with pytest.raises(JsException, match="Invalid URL: https://example.com:99999/"):
        Request("https://example.com:99999/")


# --- Request -----------------------------------------------------------------------------


def test_request_method_defaults_to_get():
    assert Request(URL).method is HTTPMethod.GET


def test_request_lowercase_method_is_uppercased():
    assert Request(URL, method="patch").method is HTTPMethod.PATCH


def test_request_accepts_http_method_enum():
    assert Request(URL, method=HTTPMethod.DELETE).method is HTTPMethod.DELETE


def test_request_unknown_method_raises_js_type_error():
    with pytest.raises(JsException) as excinfo:
        Request(URL, method="FETCH")
    assert js_error(excinfo) == ("TypeError", "Invalid HTTP method string: FETCH")


def test_request_connect_method_is_rejected_as_workerd_does():
    with pytest.raises(JsException, match="Invalid HTTP method string: CONNECT"):
        Request(URL, method="CONNECT")


def test_get_request_with_body_raises_js_type_error():
    with pytest.raises(JsException) as excinfo:
        Request(URL, body="x")
    assert js_error(excinfo) == (
        "TypeError",
        "Request with a GET or HEAD method cannot have a body.",
    )


def test_string_body_sets_text_plain_content_type():
    request = Request(URL, method="POST", body="hi")
    assert request.headers["content-type"] == "text/plain;charset=UTF-8"


def test_explicit_content_type_is_kept_for_string_body():
    request = Request(URL, method="POST", body="{}", headers={"Content-Type": "application/json"})
    assert request.headers["content-type"] == "application/json"


def test_bytes_body_sets_no_content_type():
    assert "content-type" not in Request(URL, method="POST", body=b"\x00").headers


def test_request_body_read_twice_raises_body_already_used():
    request = Request(URL, method="POST", body="hi")
    run(request.text())
    with pytest.raises(OSError, match="^Body already used$"):
        run(request.text())


def test_request_without_body_reads_empty_any_number_of_times():
    request = Request(URL)
    assert (run(request.text()), run(request.bytes())) == ("", b"")
    assert request.body_used is False


def test_request_body_used_turns_true_after_read():
    request = Request(URL, method="POST", body="hi")
    run(request.bytes())
    assert request.body_used is True


def test_request_json_parses_the_body():
    request = Request(URL, method="POST", body='{"field": 42}')
    assert run(request.json()) == {"field": 42}


def test_request_buffer_returns_a_jsbuffer_like_array_buffer():
    buffer = run(Request(URL, method="POST", body=b"abc").buffer())
    assert isinstance(buffer, ArrayBuffer)
    assert (buffer.byteLength, buffer.to_bytes(), bytes(buffer.to_py())) == (3, b"abc", b"abc")


def test_request_text_decodes_invalid_utf8_with_replacement_and_drops_bom():
    request = Request(URL, method="POST", body=b"\xef\xbb\xbfa\xffb")
    assert run(request.text()) == "a\ufffdb"


def test_request_clone_after_read_raises_body_already_used():
    request = Request(URL, method="POST", body="x")
    run(request.text())
    with pytest.raises(OSError, match="^Body already used$"):
        request.clone()


def test_request_clone_body_is_read_independently():
    request = Request(URL, method="POST", body="x")
    clone = request.clone()
    assert (run(request.text()), run(clone.text())) == ("x", "x")


def test_request_from_request_takes_over_its_body():
    source = Request(URL, method="POST", body="x")
    copy = Request(source)
    assert (run(copy.text()), source.body_used) == ("x", True)


def test_request_from_used_request_raises_js_type_error():
    source = Request(URL, method="POST", body="x")
    run(source.text())
    with pytest.raises(JsException) as excinfo:
        Request(source)
    assert js_error(excinfo) == ("TypeError", "Cannot reconstruct a Request with a used body.")


def test_request_from_request_with_new_body_leaves_source_unread():
    source = Request(URL, method="POST", body="old")
    copy = Request(source, body="new")
    assert (run(copy.text()), source.body_used) == ("new", False)


def test_request_from_request_keeps_url_and_overrides_method():
    copy = Request(Request(URL, headers={"x-a": "1"}), method="DELETE")
    assert (copy.url, copy.method, copy.headers["x-a"]) == (URL, HTTPMethod.DELETE, "1")


def test_request_cf_defaults_to_none():
    assert Request(URL).cf is None


def test_request_cf_allows_attribute_and_key_access():
    cf = Request(URL, cf={"cacheTtl": 5}).cf
    assert (cf.cacheTtl, cf["cacheTtl"]) == (5, 5)


def test_request_redirect_defaults_to_follow():
    assert Request(URL).redirect == "follow"


def test_request_invalid_redirect_raises_js_type_error():
    with pytest.raises(JsException, match='must be one of "follow" or "manual"'):
        Request(URL, redirect="error")


def test_request_repr_matches_the_sdk():
    request = Request("https://test.com", method=HTTPMethod.POST)
    assert repr(request) == "Request(method='POST', url='https://test.com/')"


def test_request_headers_none_is_rejected_as_sdk_does():
    with pytest.raises(TypeError, match="^Received unexpected type for headers argument$"):
        Request(URL, headers=None)


def test_request_unsupported_body_type_raises_type_error():
    with pytest.raises(TypeError, match="^Unsupported type in Request: dict$"):
        Request(URL, method="POST", body={"a": 1})


def test_request_body_property_is_none_without_body():
    assert Request(URL).body is None


def test_request_wire_copy_is_unread_and_moves_the_body():
    request = Request(URL, method="PUT", body="x", headers={"x-a": "1"})
    copy = rpc_copy(request)
    assert copy is not request
    assert (copy.method, copy.headers["x-a"], run(copy.text())) == (HTTPMethod.PUT, "1", "x")
    assert request.body_used is True


def test_request_wire_copy_of_read_body_raises_js_type_error():
    request = Request(URL, method="POST", body="x")
    run(request.text())
    with pytest.raises(JsException, match="ReadableStream is disturbed"):
        rpc_copy(request)


# --- forms and blobs ---------------------------------------------------------------------


def test_form_data_body_is_sent_as_multipart():
    request = Request(URL, method="POST", body=FormData({"a": "1"}))
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")


def test_multipart_body_round_trips_through_form_data():
    form = FormData({"field": "value"})
    form.append("upload", Blob(["print(42)"], content_type="text/python"), "blob.py")
    parsed = run(Request(URL, method="POST", body=form).form_data())
    assert parsed["field"] == "value"
    assert (parsed["upload"].name, parsed["upload"].content_type) == ("blob.py", "text/python")
    assert run(parsed["upload"].text()) == "print(42)"


def test_multipart_boundary_is_deterministic():
    first = Request(URL, method="POST", body=FormData({"a": "1"})).headers["content-type"]
    second = Request(URL, method="POST", body=FormData({"a": "1"})).headers["content-type"]
    assert first == second


def test_urlencoded_body_parses_as_form_data():
    request = Request(
        URL,
        method="POST",
        body="a=1&b=x+y&a=2",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert run(request.form_data()).get_all("a") == ["1", "2"]


def test_form_data_without_content_type_raises_type_error():
    request = Request(URL, method="POST", body=b"a=1")
    with pytest.raises(TypeError, match="requires a Content-Type header"):
        run(request.form_data())


def test_form_data_of_plain_text_raises_unrecognized_content_type():
    request = Request(URL, method="POST", body="a=1")
    with pytest.raises(TypeError, match="^Unrecognized Content-Type header value"):
        run(request.form_data())


def test_multipart_without_boundary_raises_type_error():
    request = Request(URL, method="POST", body="x", headers={"content-type": "multipart/form-data"})
    with pytest.raises(TypeError, match="^No boundary string in Content-Type header"):
        run(request.form_data())


def test_form_data_missing_key_returns_none():
    assert FormData({"a": "1"})["b"] is None


def test_form_data_len_raises_as_the_sdk_does():
    with pytest.raises(TypeError, match="has no len"):
        len(FormData({"a": "1"}))


def test_form_data_blob_value_becomes_a_file_named_blob():
    form = FormData()
    form["f"] = Blob(["x"])
    assert isinstance(form["f"], File)
    assert form["f"].name == "blob"


def test_form_data_setitem_replaces_every_entry_of_the_name():
    form = FormData({"a": "1"})
    form.append("a", "2")
    form["a"] = "3"
    assert form.get_all("a") == ["3"]


def test_form_data_non_string_value_is_stringified():
    assert FormData({"n": 123})["n"] == "123"


def test_form_data_rejects_non_dict_initialiser():
    with pytest.raises(TypeError, match="^Expected form_data to be a dict"):
        FormData([("a", "1")])


def test_request_blob_is_typed_by_content_type():
    blob = run(Request(URL, method="POST", body="hi").blob())
    assert (blob.content_type, run(blob.text())) == ("text/plain;charset=UTF-8", "hi")


def test_blob_slice_takes_a_byte_range_and_drops_the_type():
    sliced = Blob(["test"], content_type="text/plain").slice(1, 3)
    assert (run(sliced.text()), sliced.content_type) == ("es", "")


def test_blob_slice_negative_offsets_count_from_the_end():
    assert run(Blob(["abcdef"]).slice(-3).bytes()) == b"def"


def test_single_blob_part_passes_on_its_content_type():
    assert Blob(Blob(["x"], content_type="application/json")).content_type == "application/json"


def test_blob_in_a_list_does_not_pass_on_its_content_type():
    assert Blob([Blob(["x"], content_type="application/json")]).content_type == ""


def test_blob_content_type_is_lowercased():
    assert Blob(["x"], content_type="Text/HTML").content_type == "text/html"


def test_blob_accepts_memoryview_parts():
    assert run(Blob([memoryview(b"foobar")]).text()) == "foobar"


def test_blob_rejects_unknown_part_types():
    with pytest.raises(TypeError, match="^Don't know how to handle <class 'int'> for Blob"):
        Blob([1])


def test_file_has_name_and_type():
    file = File("my file", filename="test.txt", content_type="text/plain")
    assert (file.name, file.content_type, file.size) == ("test.txt", "text/plain", 7)


# --- Response ----------------------------------------------------------------------------


def test_response_defaults_to_200_ok():
    response = Response()
    assert (response.status, response.status_text, response.ok) == (200, "OK", True)


def test_constructed_response_has_empty_url_and_default_type():
    response = Response("x")
    assert (response.url, response.type, response.redirected) == ("", "default", False)


def test_response_string_body_sets_text_plain_content_type():
    assert Response("x").headers["content-type"] == "text/plain;charset=UTF-8"


def test_response_status_out_of_range_raises_js_range_error():
    with pytest.raises(JsException) as excinfo:
        Response(status=600)
    assert js_error(excinfo) == (
        "RangeError",
        "Responses may only be constructed with status codes in the range 200 to 599, inclusive.",
    )


def test_response_101_without_web_socket_raises_js_range_error():
    with pytest.raises(JsException, match="status codes in the range 200 to 599"):
        Response(status=101)


def test_response_with_web_socket_must_have_status_101():
    with pytest.raises(JsException) as excinfo:
        Response(status=200, web_socket=object())
    assert js_error(excinfo) == (
        "RangeError",
        "Responses with a WebSocket must have status code 101.",
    )


def test_response_101_with_web_socket_is_accepted():
    socket = object()
    response = Response(None, status=101, web_socket=socket)
    assert (response.status, response.web_socket) == (101, socket)


def test_null_body_status_with_body_raises_js_type_error():
    with pytest.raises(JsException) as excinfo:
        Response("x", status=204)
    assert js_error(excinfo) == (
        "TypeError",
        "Response with null body status (101, 204, 205, or 304) cannot have a body.",
    )


def test_null_body_status_with_empty_body_is_accepted_as_no_body():
    response = Response("", status=204)
    assert (response.body, "content-type" in response.headers) == (None, False)


def test_response_unsupported_body_type_raises_type_error():
    with pytest.raises(TypeError, match="^Unsupported type in Response: Test$"):
        Response(type("Test", (), {})())


def test_response_bytearray_body_is_unsupported_as_in_the_sdk():
    with pytest.raises(TypeError, match="^Unsupported type in Response: bytearray$"):
        Response(bytearray(b"x"))


def test_response_status_zero_means_200_as_the_sdk_drops_it():
    assert Response(status=0).status == 200


def test_response_accepts_http_status():
    assert Response(status=HTTPStatus.NOT_FOUND).status == 404


def test_response_custom_status_text_is_kept():
    assert Response(status=201, status_text="Made").status_text == "Made"


def test_response_unknown_status_gets_its_class_reason():
    assert Response(status=299).status_text == "Successful"


def test_response_status_text_with_control_character_raises_js_type_error():
    with pytest.raises(JsException, match="Invalid statusText"):
        Response(status_text="a\nb")


def test_response_body_read_twice_raises_pyodide_message():
    response = Response("x")
    run(response.text())
    with pytest.raises(OSError, match="^Response body is already used$"):
        run(response.text())


def test_response_body_is_none_without_body():
    assert Response(None, status=204).body is None


def test_static_response_json_builds_a_json_response():
    response = Response.json({"field": 42})
    assert (run(response.text()), response.headers["content-type"]) == (
        '{"field": 42}',
        "application/json",
    )


def test_instance_response_json_parses_the_body():
    assert run(Response("[1, 2, 3]").json()) == [1, 2, 3]


def test_response_from_json_keeps_an_explicit_content_type():
    response = Response.from_json("x", headers={"Content-Type": "42"})
    assert response.headers["content-type"] == "42"


def test_response_json_status_is_applied():
    assert Response.json({}, status=HTTPStatus.NOT_FOUND).status == 404


def test_response_from_json_bad_status_raises_value_error():
    with pytest.raises(ValueError, match="range 200 to 599"):
        Response.from_json({}, status=700)


def test_response_json_of_unserialisable_data_raises_type_error():
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        Response.json({1, 2})


def test_response_redirect_sets_status_and_location():
    response = Response.redirect("https://example.com", 301)
    assert (response.status, response.headers["location"]) == (301, "https://example.com/")


def test_response_redirect_defaults_to_302():
    assert Response.redirect(URL).status == 302


def test_response_redirect_with_non_redirect_status_raises_value_error():
    with pytest.raises(ValueError, match="^502 is not a redirect status code"):
        Response.redirect("", HTTPStatus.BAD_GATEWAY)


def test_response_redirect_to_relative_url_raises_type_error():
    with pytest.raises(TypeError, match="^Unable to parse URL: /elsewhere$"):
        Response.redirect("/elsewhere")


def test_response_repr_matches_the_sdk():
    expected = "Response(status=200, status_text='OK', content_type='application/json')"
    assert repr(Response.json([1, 2, 3])) == expected


def test_response_clone_is_read_independently():
    response = Response("x")
    clone = response.clone()
    assert (run(response.text()), run(clone.text())) == ("x", "x")


def test_response_clone_after_read_raises_pyodide_message():
    response = Response("x")
    run(response.bytes())
    with pytest.raises(OSError, match="^Response body is already used$"):
        response.clone()


def test_response_clone_of_web_socket_handshake_raises_js_type_error():
    response = Response(None, status=101, web_socket=object())
    with pytest.raises(JsException, match="Cannot clone a response to a WebSocket handshake."):
        response.clone()


def test_raise_for_status_raises_os_error_for_4xx():
    with pytest.raises(HttpStatusError, match="^404 Client Error: Not Found for url: $"):
        Response(status=404).raise_for_status()


def test_raise_for_status_passes_for_2xx():
    Response(status=201).raise_for_status()


def test_replace_body_keeps_status_and_headers():
    response = Response("test", status=201, status_text="Created", headers={"x-a": "1"})
    replaced = response.replace_body("other")
    assert (replaced.status, replaced.status_text, replaced.headers["x-a"]) == (201, "Created", "1")
    assert run(replaced.text()) == "other"


def test_response_memoryview_reads_the_body():
    assert bytes(run(Response(b"ab").memoryview())) == b"ab"


def test_response_from_another_body_stream_moves_the_bytes():
    upstream = Response("proxied")
    response = Response(upstream.body, status=201)
    assert (run(response.text()), upstream.body_used) == ("proxied", True)


def test_response_accepts_an_array_buffer_body():
    buffer = run(Request(URL, method="POST", body=b"xyz").buffer())
    assert run(Response(buffer).bytes()) == b"xyz"


def test_response_wire_copy_is_unread_and_moves_the_body():
    response = Response("x", status=201, headers={"x-a": "1"})
    copy = rpc_copy(response)
    assert (copy.status, copy.headers["x-a"], run(copy.text())) == (201, "1", "x")
    assert response.body_used is True


def test_fetch_response_is_not_constructed_directly():
    with pytest.raises(TypeError):
        FetchResponse()


# --- fetch -------------------------------------------------------------------------------


def test_fetch_without_handler_raises_type_error_naming_the_hook():
    with pytest.raises(TypeError, match="set_outbound_handler"):
        run(fetch(URL))


def test_fetch_sends_the_request_to_the_handler():
    seen = []
    set_outbound_handler(lambda request: seen.append(request) or Response("ok"))
    response = run(fetch(URL, method="POST", body="hi"))
    assert (seen[0].method, run(seen[0].text()), run(response.text())) == (
        HTTPMethod.POST,
        "hi",
        "ok",
    )


def test_fetch_awaits_an_async_handler():
    async def upstream(request):
        return Response("async")

    set_outbound_handler(upstream)
    assert run(run_fetch_text(URL)) == "async"


async def run_fetch_text(url):
    return await (await fetch(url)).text()


def test_fetch_response_url_is_the_request_url():
    set_outbound_handler(lambda request: Response("ok"))
    assert run(fetch("https://example.com")).url == "https://example.com/"


def test_fetch_relative_url_raises_os_error_as_pyfetch_does():
    set_outbound_handler(lambda request: Response("ok"))
    with pytest.raises(OSError, match="^Invalid URL: /x$"):
        run(fetch("/x"))


def test_fetch_handler_os_error_simulates_a_network_failure():
    def upstream(request):
        raise OSError("Network connection lost.")

    set_outbound_handler(upstream)
    with pytest.raises(OSError, match="^Network connection lost.$"):
        run(fetch(URL))


def test_fetch_handler_returning_a_non_response_raises_type_error():
    set_outbound_handler(lambda request: "ok")
    with pytest.raises(TypeError, match="did not resolve to 'Response'"):
        run(fetch(URL))


def test_fetch_with_fetcher_sends_there_instead_of_the_handler():
    set_outbound_handler(lambda request: Response("handler"))
    response = run(fetch(URL, fetcher=lambda request: Response("fetcher")))
    assert run(response.text()) == "fetcher"


def test_fetch_converts_a_js_error_from_the_fetcher_to_os_error():
    def fetcher(request):
        raise JsException("Network connection lost.", name="Error")

    with pytest.raises(OSError, match="^Network connection lost.$"):
        run(fetch(URL, fetcher=fetcher))


def test_set_outbound_handler_returns_the_previous_handler():
    def first(request):
        return Response()

    set_outbound_handler(first)
    assert set_outbound_handler(None) is first


def test_build_request_converts_an_http_method():
    assert build_request(URL, method=HTTPMethod.PUT).method is HTTPMethod.PUT


def test_build_request_treats_none_options_as_absent():
    request = build_request(URL, method=None, headers=None, body=None)
    assert (request.method, list(request.headers.items())) == (HTTPMethod.GET, [])


def test_build_request_drops_the_fetcher_option():
    assert build_request(URL, fetcher=object()).url == URL


def test_build_request_takes_over_a_request_body():
    source = Request(URL, method="POST", body="x")
    assert (run(build_request(source).text()), source.body_used) == ("x", True)
