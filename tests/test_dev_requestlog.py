"""The terminal log of ``dosim dev`` never passes a client's control characters through.

A path such as ``/%1b]0;pwned%07`` is percent-decoded before it is logged; printed raw, its
escape sequences would retitle, clear or recolour the developer's terminal.
"""

from dosim.dev import requestlog


def test_control_characters_in_method_path_and_error_are_escaped():
    line = requestlog.format_line(
        "GET\x1b", "/\x1b[2J\x1b]0;pwned\x07/a\nb\r\tc\x7f\x9b", 500, 1.0, {}, "Boom: \x1b[31mred"
    )
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in line), repr(line)
    assert "GET\\x1b /\\x1b[2J\\x1b]0;pwned\\x07/a\\nb\\r\\tc\\x7f\\x9b 500" in line
    assert "(error: Boom: \\x1b[31mred)" in line


def test_bidi_and_line_separators_are_escaped_but_ordinary_unicode_is_kept():
    line = requestlog.format_line("GET", "/caf\u00e9/\u202egnp.exe\u2028x/\U0001f600", 200, 1, {})
    assert "/café/\\u202egnp.exe\\u2028x/😀 200" in line


def test_object_names_in_the_line_are_escaped():
    line = requestlog.format_line("GET", "/", 200, 1.0, {("LOG", "ab" * 32): "\x1b[2Jname"})
    assert line.endswith("LOG:\\x1b[2Jname")


def test_the_path_is_cut_after_escaping():
    line = requestlog.format_line("GET", "/" + "\x1b" * 500, 200, 1.0, {})
    path = line.split(" ")[1]
    assert len(path) == 200 and path.endswith("…")


def test_alarm_lines_escape_the_object_name_and_error(caplog):
    caplog.set_level("INFO", logger="dosim.dev")
    requestlog.note_fields(
        7,
        0,
        "alarm.retry",
        "LOG",
        "ab" * 32,
        "\x1b[2J",
        {"error": "E: \x07", "retryCount": 1, "delay_ms": 2000},
    )
    assert caplog.records[-1].getMessage() == (
        "alarm LOG:\\x1b[2J raised (E: \\x07); retry 1 in 2000 ms"
    )


def test_events_inside_a_request_name_the_objects_it_touched_in_either_listener_form():
    from dosim.trace import TraceEvent

    with requestlog.recording() as touched:
        requestlog.note_event(TraceEvent(0, 0, "rpc.call", "LOG", "ab" * 32, "a", {}))
        requestlog.note_fields(1, 0, "storage", "LOG", "cd" * 32, None, {"op": "get"})
        requestlog.note_fields(2, 0, "request", None, None, None, {})
    assert touched == {("LOG", "ab" * 32): "a", ("LOG", "cd" * 32): None}
