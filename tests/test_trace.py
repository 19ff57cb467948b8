"""The trace's own rules (src/dosim/trace.py): order, sequence numbers, the event limit.

The trace is dosim's, not the platform's: these tests pin what the module docstring and
``Trace`` promise to the inspectors and to tests that read ``app.trace``.
"""

from dosim import App
from dosim.trace import Trace, TraceEvent
from workers import DurableObject


def _fill(trace, count):
    for number in range(count):
        if number % 3 == 0:
            trace.record(number, "request", None, None, None, n=number)
        elif number % 3 == 1:
            trace.record_detail(number, "commit", "B", "ab", None, {"n": number})
        else:
            trace.record_storage(number, ("B", "ab", None), "put", "key", f"k{number}")


def test_a_limited_trace_holds_exactly_the_newest_events_whatever_the_path():
    trace = Trace(limit=4)
    _fill(trace, 23)
    assert len(trace) == 4
    assert [event.seq for event in trace] == [19, 20, 21, 22]
    assert trace[0].kind == "commit" and trace[1].detail == {"key": "k20", "op": "put"}


def test_a_limited_trace_with_a_listener_tells_it_every_event():
    trace = Trace(limit=2)
    heard = []
    trace.subscribe(heard.append)
    _fill(trace, 9)
    assert [event.seq for event in heard] == list(range(9))
    assert all(isinstance(event, TraceEvent) for event in heard)
    assert [event.seq for event in trace] == [7, 8]
    assert [event.seq for event in trace.filter()] == [7, 8]


def test_a_limit_set_later_applies_at_the_next_read():
    trace = Trace()
    _fill(trace, 10)
    trace.limit = 3
    assert len(trace) == 3
    assert [event.seq for event in trace] == [7, 8, 9]
    assert trace.kinds() == ["commit", "storage", "request"]


def test_sequence_numbers_keep_counting_across_clear_and_trimming():
    trace = Trace(limit=3)
    _fill(trace, 8)
    trace.clear()
    _fill(trace, 2)
    assert [event.seq for event in trace] == [8, 9]
    assert trace.record(0, "request") is None
    trace.subscribe(lambda event: None)
    assert trace.record(0, "request").seq == 11
    assert [event.seq for event in trace] == [9, 10, 11]


def test_a_fields_listener_gets_each_events_fields_without_an_event_object():
    trace = Trace(limit=2)
    heard = []

    def listener(*fields):
        heard.append(fields)

    trace.subscribe(listener, fields=True)
    trace.record(5, "request", None, None, None, status=200)
    trace.record_storage(6, ("B", "ab", "n"), "get", "key", "k")
    assert heard == [
        (0, 5, "request", None, None, None, {"status": 200}),
        (1, 6, "storage", "B", "ab", "n", {"key": "k", "op": "get"}),
    ]
    assert [(event.seq, event.kind) for event in trace] == [(0, "request"), (1, "storage")]
    trace.unsubscribe(listener)
    trace.record(7, "request")
    assert len(heard) == 2


class Writer(DurableObject):
    def write(self, value):
        self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t(v)")
        self.ctx.storage.sql.exec("INSERT INTO t VALUES (?)", value)


async def _run_writes(listen):
    app = App(None, {"W": Writer})
    stub = app.env.W.getByName("w")
    heard, fields = [], []
    await stub.write(1)
    if listen:
        app.trace.subscribe(heard.append)
    await stub.write(2)
    if listen:
        app.trace.unsubscribe(heard.append)
        app.trace.subscribe(lambda *event: fields.append(event), fields=True)
    await stub.write(3)
    app.trace.limit = 6
    await stub.write(4)
    return app.trace, heard, fields


async def test_storage_events_are_the_same_whether_or_not_someone_listens():
    alone, _, _ = await _run_writes(listen=False)
    watched, heard, fields = await _run_writes(listen=True)
    assert watched.to_json() == alone.to_json()
    assert alone.kinds() == ["rpc.return", "rpc.call", "storage", "storage", "commit", "rpc.return"]
    inserts = [event for event in heard if event.kind == "storage"]
    assert [event.detail for event in inserts] == [
        {"query": "CREATE TABLE IF NOT EXISTS t(v)", "op": "sql.exec"},
        {"query": "INSERT INTO t VALUES (?)", "op": "sql.exec"},
    ]
    assert [event[6] for event in fields if event[2] == "storage"] == [
        event.detail for event in inserts
    ] * 2  # the third write, then the fourth


def test_the_storage_log_is_offered_only_while_nobody_listens_and_nothing_is_dropped():
    trace = Trace()
    assert trace.storage_log is not None
    trace.subscribe(print)
    assert trace.storage_log is None
    trace.unsubscribe(print)
    trace.subscribe(print, fields=True)
    assert trace.storage_log is None
    trace.unsubscribe(print)
    assert trace.storage_log is not None
    trace.limit = 5
    assert trace.storage_log is None and Trace(limit=5).storage_log is None
    trace.limit = None
    trace.record_storage(1, ("B", "ab", None), "put", "key", "k")
    assert trace.storage_log is not None and len(trace.storage_log) == 1
