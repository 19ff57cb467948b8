"""storage.transaction(), txn objects and storage.transactionSync().

An exception escaping a transaction closure reaches the caller as Pyodide delivers a
rejected JavaScript Promise: a JsException named PythonError carrying the traceback
(tests/test_ffi_pyodide.py checks real Pyodide); transactionSync re-raises the original.
"""

import asyncio

import pytest
from storage_host import FakeHost

from dosim.errors import JsException
from dosim.storage import DurableObjectStorage, DurableObjectTransaction, ObjectDatabase


class TransactionHost(FakeHost):
    """Records op names and the exceptions that left a critical section (would reset)."""

    def __init__(self):
        super().__init__(now_ms=0)
        self.critical_sections = 0
        self.escaped = []

    def storage_op(self, op, **detail):
        self.ops.append(op)

    async def block_concurrency_while(self, fn):
        self.critical_sections += 1
        try:
            return await fn()
        except BaseException as exc:
            self.escaped.append(exc)
            raise


def make(sql_enabled=True):
    host = TransactionHost()
    db = ObjectDatabase(sql_enabled=sql_enabled)
    return DurableObjectStorage(db, host), db, host


def run(coro):
    return asyncio.run(coro)


# --- transaction() ----------------------------------------------------------------------------


def test_transaction_returns_closure_result():
    storage, _, _ = make()

    async def body(txn):
        await txn.put("k", 1)
        return "done"

    assert run(storage.transaction(body)) == "done"
    assert run(storage.get("k")) == 1


def test_transaction_runs_inside_block_concurrency_while():
    storage, _, host = make()

    async def body(txn):
        return None

    run(storage.transaction(body))
    assert host.critical_sections == 1


def test_transaction_closure_receives_a_txn_object():
    storage, _, _ = make()
    seen = []

    async def body(txn):
        seen.append(txn)

    run(storage.transaction(body))
    assert isinstance(seen[0], DurableObjectTransaction)


def test_raising_closure_rolls_back_and_reraises_without_reset():
    storage, _, host = make()

    async def body(txn):
        await txn.put("k", 1)
        await storage.put("direct", 2)
        raise RuntimeError("boom")

    with pytest.raises(JsException, match="PythonError: (.|\n)*RuntimeError: boom"):
        run(storage.transaction(body))
    assert run(storage.list()) == {}
    assert host.escaped == []


def test_earlier_writes_in_the_turn_survive_a_failed_transaction():
    storage, _, _ = make()

    async def body(txn):
        await txn.put("inner", 1)
        raise RuntimeError("boom")

    async def scenario():
        await storage.put("outer", 1)
        with pytest.raises(JsException, match="RuntimeError: boom"):
            await storage.transaction(body)
        return await storage.list()

    assert run(scenario()) == {"outer": 1}


def test_sql_inside_closure_is_part_of_the_transaction():
    storage, _, _ = make()
    storage.sql.exec("CREATE TABLE t(x)")

    async def body(txn):
        storage.sql.exec("INSERT INTO t VALUES (1)")
        raise ValueError("no")

    with pytest.raises(JsException, match="ValueError: no"):
        run(storage.transaction(body))
    assert storage.sql.exec("SELECT count(*) AS n FROM t").one().n == 0


def test_txn_get_sees_its_own_writes():
    storage, _, _ = make()

    async def body(txn):
        await txn.put({"a": 1, "b": 2})
        return await txn.get("a"), await txn.list(), await txn.delete("b")

    assert run(storage.transaction(body)) == (1, {"a": 1, "b": 2}, True)


def test_txn_alarm_methods_work():
    storage, _, _ = make()

    async def body(txn):
        await txn.setAlarm(5_000)
        first = await txn.getAlarm()
        await txn.deleteAlarm()
        return first, await txn.getAlarm()

    assert run(storage.transaction(body)) == (5_000, None)


def test_txn_rollback_undoes_writes_and_is_idempotent():
    storage, _, _ = make()

    async def body(txn):
        await txn.put("k", 1)
        txn.rollback()
        txn.rollback()
        return "ok"

    assert run(storage.transaction(body)) == "ok"
    assert run(storage.get("k")) is None


@pytest.mark.parametrize("op", ["get", "put", "delete", "list", "getAlarm", "deleteAlarm"])
def test_txn_op_after_rollback_raises(op):
    storage, _, _ = make()
    args = {"get": ("k",), "put": ("k", 1), "delete": ("k",)}.get(op, ())

    async def body(txn):
        txn.rollback()
        await getattr(txn, op)(*args)

    with pytest.raises(JsException, match=rf"Error: Cannot {op}\(\) on rolled back transaction"):
        run(storage.transaction(body))


def test_txn_used_after_closure_raises_moved_txn_error():
    storage, _, _ = make()
    kept = []

    async def body(txn):
        kept.append(txn)

    run(storage.transaction(body))
    with pytest.raises(JsException, match=r"^Error: Cannot call put\(\) on transaction that has"):
        run(kept[0].put("k", 1))
    with pytest.raises(JsException, match=r"did you move `txn` outside of the closure\?$"):
        kept[0].rollback()


def test_txn_after_closure_raised_reports_rolled_back():
    storage, _, _ = make()
    kept = []

    async def body(txn):
        kept.append(txn)
        raise KeyError("x")

    with pytest.raises(JsException, match="KeyError"):
        run(storage.transaction(body))
    with pytest.raises(JsException, match=r"Cannot get\(\) on rolled back transaction"):
        run(kept[0].get("k"))


def test_txn_delete_all_is_refused():
    storage, _, _ = make()

    async def body(txn):
        txn.deleteAll()

    with pytest.raises(JsException, match=r"Error: Cannot call deleteAll\(\) within a"):
        run(storage.transaction(body))


def test_storage_delete_all_inside_transaction_is_refused():
    storage, _, _ = make()

    async def body(txn):
        await storage.deleteAll()

    with pytest.raises(JsException, match=r"Cannot call deleteAll\(\) within a transaction"):
        run(storage.transaction(body))


def test_nested_transactions_roll_back_independently():
    storage, _, _ = make()

    async def inner(txn):
        await txn.put("inner", 1)
        raise RuntimeError("inner fails")

    async def outer(txn):
        await txn.put("outer", 1)
        with pytest.raises(JsException, match="RuntimeError: inner fails"):
            await storage.transaction(inner)

    run(storage.transaction(outer))
    assert run(storage.list()) == {"outer": 1}


def test_synchronous_closure_is_accepted():
    storage, _, _ = make()
    assert run(storage.transaction(lambda txn: 42)) == 42


def test_commit_during_open_transaction_is_deferred_until_it_ends():
    storage, db, host = make()

    async def body(txn):
        await txn.put("k", 1)
        assert db.commit() is False  # the turn ended while the closure awaited I/O
        await asyncio.sleep(0)
        return "ok"

    async def scenario():
        before = host.pending_calls
        await storage.transaction(body)
        return host.pending_calls - before

    assert run(scenario()) == 2  # announced at the first write, and again after the savepoint
    assert db.commit() is True and not db.in_transaction
    db.rollback()
    assert run(storage.get("k")) == 1


def test_transaction_on_kv_backed_class_rolls_back_too():
    storage, _, _ = make(sql_enabled=False)

    async def body(txn):
        await txn.put("k", 1)
        raise RuntimeError

    with pytest.raises(JsException, match="RuntimeError"):
        run(storage.transaction(body))
    assert run(storage.get("k")) is None


# --- transactionSync() ------------------------------------------------------------------------


def test_transaction_sync_returns_result_and_keeps_writes():
    storage, _, _ = make()
    storage.sql.exec("CREATE TABLE t(x)")

    def body():
        storage.sql.exec("INSERT INTO t VALUES (1)")
        return 7

    assert storage.transactionSync(body) == 7
    assert storage.sql.exec("SELECT count(*) AS n FROM t").one().n == 1


def test_transaction_sync_rolls_back_and_reraises():
    storage, _, _ = make()
    storage.sql.exec("CREATE TABLE t(x)")

    def body():
        storage.sql.exec("INSERT INTO t VALUES (1)")
        storage.kv.put("k", 1)
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        storage.transactionSync(body)
    assert storage.sql.exec("SELECT count(*) AS n FROM t").one().n == 0
    assert storage.kv.get("k") is None


def test_transaction_sync_nests_with_numbered_savepoints():
    storage, db, _ = make()
    names = []

    def inner():
        names.extend(db._savepoints)
        storage.kv.put("inner", 1)
        raise RuntimeError

    def outer():
        storage.kv.put("outer", 1)
        with pytest.raises(RuntimeError):
            storage.transactionSync(inner)

    storage.transactionSync(outer)
    assert names == ["_cf_sync_savepoint_0", "_cf_sync_savepoint_1"]
    assert storage.kv.get("outer") == 1 and storage.kv.get("inner") is None


def test_transaction_sync_announces_a_write():
    storage, _, host = make()
    storage.transactionSync(lambda: None)
    assert host.pending_calls == 1


def test_transaction_sync_on_kv_backed_class_raises():
    storage, _, _ = make(sql_enabled=False)
    with pytest.raises(JsException, match=r"^Error: Durable Object is not backed by SQL\.$"):
        storage.transactionSync(lambda: None)


def test_delete_all_inside_transaction_sync_is_refused():
    storage, _, _ = make()

    def body():
        run(storage.deleteAll())

    with pytest.raises(JsException, match=r"Cannot call deleteAll\(\) within a transaction"):
        storage.transactionSync(body)


def test_critical_error_inside_transaction_sync_fails_the_commit():
    storage, db, _ = make()
    storage.sql.exec("CREATE TABLE t(x)")
    db.commit()
    db.set_max_page_count_for_test(10)

    def body():
        with pytest.raises(JsException, match="SQLITE_FULL"):
            storage.sql.exec("INSERT INTO t VALUES (randomblob(1000000))")

    with pytest.raises(JsException, match="^Error: Cannot commit transaction due to an earlier"):
        storage.transactionSync(body)


def test_critical_error_inside_transaction_sync_keeps_the_callers_exception():
    storage, db, _ = make()
    storage.sql.exec("CREATE TABLE t(x)")
    db.commit()
    db.set_max_page_count_for_test(10)

    def body():
        with pytest.raises(JsException):
            storage.sql.exec("INSERT INTO t VALUES (randomblob(1000000))")
        raise RuntimeError("escaping")

    with pytest.raises(RuntimeError, match="escaping"):
        storage.transactionSync(body)
    assert db.is_broken
