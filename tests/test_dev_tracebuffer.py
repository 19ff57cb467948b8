"""The inspector's copy of the trace (src/dosim/dev/tracebuffer.py): cursors, limits, JSON.

The buffer keeps events as they come and turns them into plain dicts when the inspector
asks (``/__dosim/api/trace?after=<cursor>``); these tests pin what the page receives.
"""

import json

from dosim.dev.tracebuffer import TraceBuffer
from dosim.trace import Trace


def test_events_come_back_as_plain_dicts_after_the_cursor_oldest_first():
    buffer = TraceBuffer()
    trace = Trace()
    trace.subscribe(buffer.listener, fields=True)
    trace.record(5, "request", None, None, None, method="GET", status=200)
    trace.record(6, "rpc.call", "B", "ab" * 32, "n", method="go")
    assert buffer.cursor == 2
    assert buffer.after(0) == [
        {
            "cursor": 1,
            "seq": 0,
            "time": 5,
            "kind": "request",
            "namespace": None,
            "object_id": None,
            "name": None,
            "detail": {"method": "GET", "status": 200},
        },
        {
            "cursor": 2,
            "seq": 1,
            "time": 6,
            "kind": "rpc.call",
            "namespace": "B",
            "object_id": "ab" * 32,
            "name": "n",
            "detail": {"method": "go"},
        },
    ]
    assert [event["cursor"] for event in buffer.after(1)] == [2]
    assert buffer.after(2) == []


def test_cursors_keep_counting_across_traces_and_only_the_newest_are_kept():
    buffer = TraceBuffer(size=3)
    for _ in range(2):  # a reload: a new app, its trace's seq starts at 0 again
        trace = Trace()
        trace.subscribe(buffer.listener, fields=True)
        for number in range(2):
            trace.record(number, "request", None, None, None)
    assert [(e["cursor"], e["seq"]) for e in buffer.after(0)] == [(2, 1), (3, 0), (4, 1)]
    assert [e["cursor"] for e in buffer.after(0, limit=2)] == [3, 4]
    assert buffer.after(0, limit=0) == []


def test_a_detail_json_cannot_encode_is_sent_as_its_text():
    buffer = TraceBuffer()
    trace = Trace()
    trace.subscribe(buffer.listener, fields=True)
    trace.record(0, "console", "B", "ab", None, message=b"\x00", big="x" * 5_000)
    detail = buffer.after(0)[0]["detail"]
    json.dumps(detail)
    assert detail["message"] == "b'\\x00'"
    assert detail["big"] == "x" * 5_000  # a string is JSON already: kept whole
