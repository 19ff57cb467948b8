"""The trace's own rules (src/dosim/trace.py): order, sequence numbers, the event limit.

The trace is dosim's, not the platform's: these tests pin what the module docstring and
``Trace`` promise to the inspectors and to tests that read ``app.trace``.
"""

from dosim.trace import Trace, TraceEvent


def _fill(trace, count):
    for number in range(count):
        if number % 3 == 0:
            trace.record(number, "request", None, None, None, n=number)
        elif number % 3 == 1:
            trace.record_detail(number, "commit", "B", "ab", None, {"n": number})
        else:
            trace.record_storage(number, "B", "ab", None, "put", "key", f"k{number}")


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
