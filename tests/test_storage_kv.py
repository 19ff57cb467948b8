"""The asynchronous and synchronous KV APIs, list ranges, alarms and the implicit transaction."""

import asyncio
import datetime as dt

import pytest
from storage_host import FakeHost

from dosim.errors import JsException
from dosim.serialization import JsDict
from dosim.storage import DurableObjectStorage, ObjectDatabase


def make(sql_enabled=True, path=None, **host_options):
    host = FakeHost(**host_options)
    db = ObjectDatabase(path, sql_enabled=sql_enabled)
    return DurableObjectStorage(db, host), db, host


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def storage():
    storage, db, _ = make()
    yield storage
    db.close()


# --- get / put / delete ---------------------------------------------------------------------


def test_get_missing_key_returns_none(storage):
    assert run(storage.get("nothing")) is None


def test_put_then_get_returns_the_value(storage):
    run(storage.put("k", "hello"))
    assert run(storage.get("k")) == "hello"


def test_values_round_trip_as_copies(storage):
    original = {"list": [1, 2.5, True, None], "text": "é"}
    run(storage.put("k", original))
    original["list"].append("mutated")
    value = run(storage.get("k"))
    assert value == {"list": [1, 2.5, True, None], "text": "é"}
    assert isinstance(value, JsDict) and value.text == "é"


def test_bytes_come_back_as_memoryview(storage):
    run(storage.put("k", b"\x00\x01"))
    value = run(storage.get("k"))
    assert isinstance(value, memoryview) and value.tobytes() == b"\x00\x01"


def test_put_tuple_raises_type_error_before_writing(storage):
    with pytest.raises(TypeError, match="<class 'tuple'> cannot be sent over RPC."):
        run(storage.put("k", (1, 2)))
    assert run(storage.list()) == {}


def test_put_none_is_stored_as_null(storage):
    run(storage.put("k", None))
    assert run(storage.get("k")) is None
    assert run(storage.list()) == {"k": None}


def test_put_without_value_raises_undefined_error(storage):
    with pytest.raises(TypeError, match=r"^put\(\) called with undefined value\.$"):
        run(storage.put("k"))


def test_put_dict_writes_every_pair(storage):
    run(storage.put({"a": 1, "b": 2}))
    assert run(storage.list()) == {"a": 1, "b": 2}


def test_put_dict_followed_by_a_non_object_raises_usage_error(storage):
    with pytest.raises(TypeError, match="may only be called with a single key-value pair"):
        run(storage.put({"a": 1}, 5))


def test_put_dict_accepts_options_dict(storage):
    run(storage.put({"a": 1}, {"allowUnconfirmed": True}))
    assert run(storage.get("a")) == 1


def test_keyword_after_value_is_the_options_object(storage):
    run(storage.put("k", "v", allowUnconfirmed=True, noCache=True))
    assert run(storage.get("k")) == "v"


def test_keyword_instead_of_value_becomes_the_value_as_in_pyodide(storage):
    run(storage.put("k", allowUnconfirmed=True))
    assert run(storage.get("k")) == {"allowUnconfirmed": True}


def test_get_list_returns_found_keys_only(storage):
    run(storage.put({"a": 1, "c": 3}))
    assert run(storage.get(["c", "b", "a"])) == {"a": 1, "c": 3}


def test_get_list_orders_keys_by_utf8_bytes(storage):
    run(storage.put({"\U00010000": 2, "\uffff": 1, "a": 0}))
    assert list(run(storage.get(["\U00010000", "\uffff", "a"]))) == ["a", "\uffff", "\U00010000"]


def test_get_tuple_of_keys_raises_type_error(storage):
    with pytest.raises(TypeError, match="<class 'tuple'> cannot be sent over RPC."):
        run(storage.get(("a", "b")))


def test_number_key_is_converted_like_a_js_string(storage):
    run(storage.put(1, "one"))
    assert run(storage.get("1")) == "one"


def test_non_string_key_raises_type_error(storage):
    with pytest.raises(TypeError, match=r"^Storage keys must be strings, got object\.$"):
        run(storage.get(object()))


def test_lone_surrogate_key_is_stored_as_replacement_character(storage):
    run(storage.put("a\ud800", 1))
    assert run(storage.get("a\ufffd")) == 1


def test_delete_returns_whether_key_existed(storage):
    run(storage.put("k", 1))
    assert run(storage.delete("k")) is True
    assert run(storage.delete("k")) is False
    assert run(storage.get("k")) is None


def test_delete_list_returns_count_of_existing_keys(storage):
    run(storage.put({"a": 1, "b": 2}))
    assert run(storage.delete(["a", "b", "c", "a"])) == 2


def test_delete_all_removes_every_key(storage):
    run(storage.put({"a": 1, "b": 2}))
    run(storage.deleteAll())
    assert run(storage.list()) == {}


def test_get_reads_committed_values_after_commit():
    storage, db, _ = make()
    run(storage.put("k", 1))
    db.commit()
    run(storage.put("other", 2))
    assert run(storage.get("k")) == 1


# --- list() ranges (spec §5.2) --------------------------------------------------------------


@pytest.fixture
def abc(storage):
    run(storage.put({"a": 1, "ab": 2, "abc": 3, "b": 4, "ba": 5, "c": 6}))
    return storage


def keys(storage, **options):
    return list(run(storage.list(options)))


def test_list_returns_all_keys_in_order(abc):
    assert keys(abc) == ["a", "ab", "abc", "b", "ba", "c"]


def test_list_start_is_inclusive(abc):
    assert keys(abc, start="b") == ["b", "ba", "c"]


def test_list_start_after_is_exclusive(abc):
    assert keys(abc, startAfter="b") == ["ba", "c"]


def test_list_end_is_exclusive(abc):
    assert keys(abc, end="b") == ["a", "ab", "abc"]


def test_list_start_and_start_after_together_raise(abc):
    with pytest.raises(TypeError, match=r"^list\(\) cannot be called with both start and"):
        keys(abc, start="a", startAfter="b")


@pytest.mark.parametrize("limit", [0, -1])
def test_list_limit_must_be_positive(abc, limit):
    with pytest.raises(TypeError, match=r"^List limit must be positive\.$"):
        keys(abc, limit=limit)


def test_list_limit_caps_the_result(abc):
    assert keys(abc, limit=2) == ["a", "ab"]


def test_list_reverse_iterates_from_the_end(abc):
    assert keys(abc, reverse=True) == ["c", "ba", "b", "abc", "ab", "a"]


def test_list_limit_applies_after_reverse(abc):
    assert keys(abc, reverse=True, limit=2) == ["c", "ba"]


def test_list_reverse_keeps_start_and_end_as_bounds(abc):
    assert keys(abc, start="ab", end="b", reverse=True) == ["abc", "ab"]


def test_list_prefix_selects_keys_starting_with_it(abc):
    assert keys(abc, prefix="ab") == ["ab", "abc"]


def test_list_prefix_raises_start_before_prefix_to_prefix(abc):
    assert keys(abc, prefix="b", start="a") == ["b", "ba"]


def test_list_prefix_keeps_start_inside_prefix(abc):
    assert keys(abc, prefix="a", start="abc") == ["abc"]


def test_list_prefix_with_start_past_prefix_is_empty(abc):
    assert keys(abc, prefix="a", start="b") == []


def test_list_prefix_with_end_at_or_before_prefix_is_empty(abc):
    assert keys(abc, prefix="b", end="b") == []


def test_list_prefix_keeps_end_inside_prefix(abc):
    assert keys(abc, prefix="a", end="abc") == ["a", "ab"]


def test_list_prefix_replaces_end_past_prefix(abc):
    assert keys(abc, prefix="a", end="zzz") == ["a", "ab", "abc"]


def test_list_empty_prefix_is_ignored(abc):
    assert keys(abc, prefix="") == ["a", "ab", "abc", "b", "ba", "c"]


def test_list_end_before_start_is_empty(abc):
    assert keys(abc, start="c", end="a") == []


def test_list_start_after_does_not_skip_keys_extending_it(storage):
    run(storage.put({"a": 1, "a\0": 2, "a\0b": 3, "b": 4}))
    assert keys(storage, startAfter="a") == ["a\0", "a\0b", "b"]


def test_list_orders_by_utf8_bytes_not_utf16(storage):
    run(storage.put({"\U00010000": 1, "\uffff": 2, "z": 3}))
    assert keys(storage) == ["z", "\uffff", "\U00010000"]


def test_list_prefix_of_highest_code_point_has_no_upper_bound(storage):
    run(storage.put({"\U0010ffff": 1, "\U0010ffffa": 2, "a": 3}))
    assert keys(storage, prefix="\U0010ffff") == ["\U0010ffff", "\U0010ffffa"]


def test_list_prefix_with_non_ascii_last_character(storage):
    run(storage.put({"é": 1, "éa": 2, "ê": 3}))
    assert keys(storage, prefix="é") == ["é", "éa"]


def test_list_accepts_options_as_a_dict(abc):
    assert list(run(abc.list({"prefix": "b", "limit": 1}))) == ["b"]


def test_list_ignores_unknown_options(abc):
    assert keys(abc, prefix="c", bogus=1, allowConcurrency=True, noCache=True) == ["c"]


def test_list_returns_js_dict_with_values(abc):
    result = run(abc.list(prefix="c"))
    assert isinstance(result, JsDict) and result == {"c": 6}


# --- implicit transaction ---------------------------------------------------------------------


def test_first_write_tells_host_writes_are_pending():
    storage, _, host = make()
    run(storage.put("a", 1))
    run(storage.put("b", 2))
    assert host.pending_calls == 1


def test_write_after_commit_tells_host_again():
    storage, db, host = make()
    run(storage.put("a", 1))
    db.commit()
    run(storage.put("b", 2))
    assert host.pending_calls == 2


def test_reads_do_not_open_a_write_transaction():
    storage, db, host = make()
    run(storage.get("a"))
    run(storage.list())
    assert host.pending_calls == 0 and not db.in_transaction


def test_rollback_discards_uncommitted_writes():
    storage, db, _ = make()
    run(storage.put("kept", 1))
    db.commit()
    run(storage.put("lost", 2))
    db.rollback()
    assert run(storage.list()) == {"kept": 1}


def test_failed_commit_rolls_back_and_raises_platform_text():
    storage, db, _ = make()
    run(storage.put("k", 1))
    db.fail_next_commit = True
    with pytest.raises(JsException, match="Internal error in Durable Object storage write"):
        db.commit()
    assert db.fail_next_commit is False
    assert run(storage.get("k")) is None


def test_every_public_call_is_reported_to_the_host():
    storage, _, host = make()
    run(storage.put("k", 1))
    run(storage.get(["k"]))
    assert host.ops == [("put", {"key": "k"}), ("get", {"keys": 1})]


def test_storage_awaits_never_suspend():
    storage, _, _ = make()
    coro = storage.put("k", 1)
    with pytest.raises(StopIteration):
        coro.send(None)


def test_sync_commits_pending_writes():
    storage, db, _ = make()
    run(storage.put("k", 1))
    run(storage.sync())
    assert not db.in_transaction
    db.rollback()
    assert run(storage.get("k")) == 1


def test_failed_sync_commit_keeps_storage_broken_until_reset():
    storage, db, _ = make()
    run(storage.put("k", 1))
    db.fail_next_commit = True
    with pytest.raises(JsException, match="Internal error in Durable Object storage write"):
        run(storage.sync())
    with pytest.raises(JsException, match="Internal error in Durable Object storage write"):
        run(storage.get("k"))
    with pytest.raises(JsException, match="Internal error in Durable Object storage write"):
        db.commit()  # the host's end-of-turn commit fails too, so it resets the object
    db.rollback()  # the reset
    assert run(storage.get("k")) is None


def test_host_alarm_write_outside_a_transaction_is_durable_at_once():
    storage, db, _ = make()
    db.write_alarm(7_000_000)
    db.rollback()
    assert run(storage.getAlarm()) == 7_000_000


def test_file_database_keeps_committed_data_after_reopen(tmp_path):
    path = str(tmp_path / "object.sqlite")
    storage, db, _ = make(path=path)
    run(storage.put("committed", 1))
    run(storage.setAlarm(5_000_000))
    db.commit()
    run(storage.put("uncommitted", 2))
    db.close()
    storage, db, _ = make(path=path)
    assert run(storage.list()) == {"committed": 1}
    assert db.read_alarm() == 5_000_000
    db.close()


def test_a_commit_writes_every_cached_write_in_batches_and_one_by_one(tmp_path):
    # 157 puts: three full multi-row INSERTs of 50 pairs, then 7 pairs one by one.
    path = str(tmp_path / "object.sqlite")
    storage, db, _ = make(path=path)

    async def write():
        await storage.put("k000", "replaced in the same transaction")
        for i in range(157):
            await storage.put(f"k{i:03}", {"i": i, "blob": bytes([i, 255 - i])})
        await storage.delete("k010")
        await storage.put("k999", b"")

    run(write())
    db.commit()
    db.close()
    storage, db, _ = make(path=path)
    stored = run(storage.list())
    assert list(stored) == [f"k{i:03}" for i in range(157) if i != 10] + ["k999"]
    assert stored["k000"]["i"] == 0
    assert stored["k156"]["blob"].tobytes() == bytes([156, 99])
    assert stored["k999"].tobytes() == b""
    db.close()


# --- alarms (spec §7.1) -------------------------------------------------------------------


def test_get_alarm_is_none_by_default(storage):
    assert run(storage.getAlarm()) is None


def test_set_alarm_then_get_alarm_returns_ms(storage):
    run(storage.setAlarm(2_000_000))
    assert run(storage.getAlarm()) == 2_000_000


def test_set_alarm_accepts_datetime_naive_as_utc(storage):
    run(storage.setAlarm(dt.datetime(2030, 1, 1)))
    assert run(storage.getAlarm()) == 1_893_456_000_000


def test_set_alarm_in_the_past_is_clamped_to_now(storage):
    run(storage.setAlarm(10))
    assert run(storage.getAlarm()) == 1_000_000


@pytest.mark.parametrize("time", [0, -5])
def test_set_alarm_time_not_positive_raises(storage, time):
    with pytest.raises(TypeError, match=r"^setAlarm\(\) cannot be called with an alarm time <= 0$"):
        run(storage.setAlarm(time))


def test_set_alarm_to_current_time_is_not_a_write():
    storage, db, host = make()
    run(storage.setAlarm(2_000_000))
    db.commit()
    run(storage.setAlarm(2_000_000))
    assert host.pending_calls == 1 and not db.in_transaction


def test_set_alarm_rejects_strings(storage):
    with pytest.raises(TypeError, match="setAlarm"):
        run(storage.setAlarm("tomorrow"))


def test_delete_alarm_clears_it(storage):
    run(storage.setAlarm(2_000_000))
    run(storage.deleteAlarm())
    assert run(storage.getAlarm()) is None


def test_alarm_rolls_back_with_the_transaction():
    storage, db, _ = make()
    run(storage.setAlarm(2_000_000))
    db.commit()
    run(storage.setAlarm(3_000_000))
    db.rollback()
    assert db.read_alarm() == 2_000_000


def test_delete_all_deletes_the_alarm_by_default(storage):
    run(storage.setAlarm(2_000_000))
    run(storage.deleteAll())
    assert run(storage.getAlarm()) is None


def test_delete_all_keeps_the_alarm_before_compat_flag():
    host = FakeHost()
    storage = DurableObjectStorage(
        ObjectDatabase(sql_enabled=True), host, delete_all_deletes_alarm=False
    )
    run(storage.setAlarm(2_000_000))
    run(storage.deleteAll())
    assert run(storage.getAlarm()) == 2_000_000


# --- bookmarks (spec §6.6) ------------------------------------------------------------------


def test_current_bookmark_is_an_increasing_ersatz(storage):
    first, second = run(storage.getCurrentBookmark()), run(storage.getCurrentBookmark())
    assert first == "00000000-00000000-00000000-" + "0" * 32
    assert second == "00000000-00000001-00000000-" + "0" * 32


def test_bookmark_for_time_is_not_implemented_locally(storage):
    with pytest.raises(JsException, match="does not implement point-in-time recovery"):
        run(storage.getBookmarkForTime(0))


def test_restore_bookmark_is_not_implemented_locally(storage):
    with pytest.raises(JsException, match="does not implement point-in-time recovery"):
        run(storage.onNextSessionRestoreBookmark("x"))


def test_current_bookmark_on_kv_backed_class_is_not_implemented():
    storage, _, _ = make(sql_enabled=False)
    with pytest.raises(JsException, match="does not implement point-in-time recovery"):
        run(storage.getCurrentBookmark())


# --- synchronous KV (spec §5.6) ---------------------------------------------------------------


def test_sync_kv_put_get_delete(storage):
    storage.kv.put("k", [1, 2])
    assert storage.kv.get("k") == [1, 2]
    assert storage.kv.delete("k") is True
    assert storage.kv.get("k") is None


def test_sync_kv_shares_the_table_with_async_api(storage):
    run(storage.put("a", 1))
    storage.kv.put("b", 2)
    assert run(storage.get("b")) == 2 and storage.kv.get("a") == 1


def test_sync_kv_list_yields_key_value_lists(storage):
    storage.kv.put("a", 1)
    storage.kv.put("b", 2)
    assert list(storage.kv.list()) == [["a", 1], ["b", 2]]


def test_sync_kv_list_accepts_keyword_options(storage):
    storage.kv.put("a", 1)
    storage.kv.put("b", 2)
    assert list(storage.kv.list(start="b")) == [["b", 2]]


def test_sync_kv_list_next_returns_done_objects(storage):
    storage.kv.put("a", 1)
    iterator = storage.kv.list()
    assert iterator.next() == {"done": False, "value": ["a", 1]}
    assert iterator.next().done is True


def test_sync_kv_list_is_invalidated_by_a_newer_list(storage):
    storage.kv.put("a", 1)
    storage.kv.put("b", 2)
    first = storage.kv.list()
    next(first)
    storage.kv.list()
    with pytest.raises(JsException, match=r"kv\.list\(\) iterator was invalidated"):
        next(first)


def test_sync_kv_list_stays_invalid_after_invalidation(storage):
    storage.kv.put("a", 1)
    first = storage.kv.list()
    storage.kv.list()
    for _ in range(2):
        with pytest.raises(JsException, match=r"Only one kv.list\(\) iterator can exist"):
            next(first)


def test_async_list_also_invalidates_a_sync_kv_iterator(storage):
    storage.kv.put("a", 1)
    first = storage.kv.list()
    run(storage.list())
    with pytest.raises(JsException, match="invalidated"):
        next(first)


def test_empty_range_list_does_not_invalidate_a_sync_kv_iterator(storage):
    storage.kv.put("a", 1)
    first = storage.kv.list()
    storage.kv.list(start="b", end="a")
    run(storage.list(prefix="a", start="b"))
    assert next(first) == ["a", 1]


def test_sync_kv_on_kv_backed_class_raises_long_error():
    storage, _, _ = make(sql_enabled=False)
    with pytest.raises(JsException, match=r"storage\.kv \(synchronous KV\) API is only available"):
        storage.kv.get("k")


def test_sync_kv_error_keeps_the_runtimes_spelling():
    storage, _, _ = make(sql_enabled=False)
    with pytest.raises(JsException, match="the older, asyncronous interface via methods"):
        storage.kv.put("k", 1)


@pytest.mark.parametrize(
    ("date", "flags", "alarm_kept"),
    [
        ("2026-02-24", (), False),
        ("2026-02-23", (), True),
        ("2026-11-01", ("delete_all_preserves_alarm",), True),
        ("2025-01-01", ("delete_all_deletes_alarm",), False),
    ],
)
def test_delete_all_keeps_or_deletes_the_alarm_by_compatibility_date(date, flags, alarm_kept):
    # workerd src/workerd/io/compatibility-date.capnp, deleteAllDeletesAlarm (2026-02-24).
    from dosim import App
    from workers import DurableObject

    class Box(DurableObject):
        async def arm_and_wipe(self):
            await self.ctx.storage.put("k", 1)
            await self.ctx.storage.setAlarm(10**13)
            await self.ctx.storage.deleteAll()
            return [await self.ctx.storage.getAlarm(), await self.ctx.storage.get("k")]

    app = App(None, {"BOX": Box}, compatibility_date=date, compatibility_flags=flags)
    alarm, value = run(app.env.BOX.getByName("b").arm_and_wipe())
    assert value is None
    assert (alarm == 10**13) is alarm_kept
