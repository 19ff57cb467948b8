"""D1 as Python Workers reach it: D1Database, prepared statements, batch, exec, sessions.

Sources (cited per test as [api], [test], [docs/...], [mf]):

- [api] workerd ``src/cloudflare/internal/d1-api.ts`` at 6552d999c79e: ``bind``'s checks
  and texts, ``first``/``run``/``all``/``raw``, ``batch``, ``exec``'s error text,
  ``withSession``, ``dump``, ``query``.
- [test] workerd ``src/cloudflare/internal/test/d1/d1-api-test-common.js``: the results the
  binding gives for a known script (shapes, ``select 1``, joins, booleans).
- [docs/...] developers.cloudflare.com/d1/...: ``worker-api/`` (type conversion table),
  ``worker-api/return-object/`` (the ``meta`` fields), ``worker-api/d1-database/``
  (batch is a transaction, exec runs one query per line, withSession),
  ``worker-api/prepared-statements/`` (ordered and anonymous parameters),
  ``platform/limits/``, ``sql-api/sql-statements/`` (pragmas), ``sql-api/foreign-keys/``,
  ``observability/debug-d1/`` (error list).
- [mf] workers-sdk ``packages/miniflare/src/workers/d1/database.worker.ts`` (the local D1
  service: ``No SQL statements detected.``, ``changed_db``, exec in one transaction).
- Error texts seen from production in issue threads: ``D1_ERROR: not authorized:
  SQLITE_AUTH`` (bknd-io/bknd#117), the transaction text (drizzle-team/drizzle-orm#4212),
  ``D1_ERROR: Wrong number of parameter bindings for SQL query.`` (workers-sdk#7221).
"""

import asyncio
import datetime as dt
import gc
import os
import subprocess
import sys
import textwrap
import warnings

import pytest

from dosim import App
from dosim.bindings import D1DatabaseBinding
from dosim.bindings.d1 import MSG_QUERY_NEEDS_JSRPC
from dosim.errors import JsException
from dosim.serialization import JsDict
from dosim.storage.limits import MSG_TRANSACTION_SQL
from workers import DurableObject, Response, WorkerEntrypoint

USERS = (
    "CREATE TABLE users (user_id INTEGER PRIMARY KEY, name TEXT, home TEXT,"
    " features TEXT, land_based BOOLEAN)"
)
INSERT_TWO = (
    "INSERT INTO users (name, home, features, land_based) VALUES"
    " ('Albert Ross', 'sky', 'wingspan', false), ('Al Dente', 'bowl', 'mouthfeel', true)"
)
META_KEYS = [
    "served_by",
    "served_by_region",
    "served_by_primary",
    "timings",
    "duration",
    "changes",
    "last_row_id",
    "changed_db",
    "size_after",
    "rows_read",
    "rows_written",
]


def make_app(**options):
    return App(None, {}, bindings={"DB": D1DatabaseBinding("db-id")}, **options)


@pytest.fixture
def db():
    return make_app().env.DB


async def seeded(db):
    await db.prepare(USERS).run()
    await db.prepare(INSERT_TWO).run()


async def rejects(awaitable):
    with pytest.raises(JsException) as caught:
        await awaitable
    return caught.value


# --- prepare and bind -----------------------------------------------------------------------


def test_prepare_returns_a_wrapped_statement_and_bind_a_new_one(db):
    # [api] prepare() -> new D1PreparedStatement; bind() -> new statement with the values.
    stmt = db.prepare("SELECT ?")
    assert stmt.js_object.js_class_name == "D1PreparedStatement"
    bound = stmt.bind(1)
    assert bound is not stmt and bound.js_object is not stmt.js_object
    assert (stmt.statement, stmt.params, bound.params) == ("SELECT ?", [], [1])
    assert bound.bind(2).params == [2]  # binding again replaces the values


async def test_bind_converts_booleans_to_integers(db):
    # [api] bind: booleans become 1/0; [test] 'allow binding all types of parameters'.
    await seeded(db)
    count = db.prepare("SELECT count(1) AS count FROM users WHERE land_based = ?")
    assert db.prepare("SELECT ?").bind(True).params == [1]
    assert await count.bind(True).first("count") == 1
    assert await count.bind(False).first("count") == 1
    assert await count.bind(2).first("count") == 0


async def test_bind_types_follow_the_conversion_table(db):
    # [docs/worker-api] null -> NULL, Number -> REAL / INTEGER, String -> TEXT,
    # Boolean -> INTEGER, ArrayBuffer (view) -> BLOB read back as an Array.
    stmt = db.prepare("SELECT typeof(?1) AS t, ?1 AS v")
    cases = [
        (None, "null", None),
        (7, "integer", 7),
        (2.5, "real", 2.5),
        (2.0, "integer", 2),  # a JavaScript number 2.0 is the number 2
        ("é🙈", "text", "é🙈"),
        (True, "integer", 1),
        (b"\x00\xff", "blob", [0, 255]),
        (memoryview(b"ab"), "blob", [97, 98]),
        ([1, 2, 255], "blob", [1, 2, 255]),  # an array of byte values is taken as a BLOB
    ]
    for value, sql_type, back in cases:
        row = await stmt.bind(value).first()
        assert (row.t, row.v) == (sql_type, back), value


async def test_nan_and_infinity_bind_as_null(db):
    # [api] numbers pass bind; the JSON body then carries NaN and Infinity as null.
    row = await db.prepare("SELECT ? AS a, ? AS b").bind(float("nan"), float("inf")).first()
    assert (row.a, row.b) == (None, None)


@pytest.mark.parametrize(
    ("value", "js_type", "text"),
    [
        ({"a": 1}, "object", "[object Object]"),
        ({1, 2}, "object", "[object Set]"),
        ([1, "x", None, [2, 3]], "object", "1,x,,2,3"),
        ([256], "object", "256"),
        ([True], "object", "true"),
        (2**53, "bigint", "9007199254740992"),
        (-(2**60), "bigint", "-1152921504606846976"),
        (
            dt.datetime(2025, 1, 1),
            "object",
            "Wed Jan 01 2025 00:00:00 GMT+0000 (Coordinated Universal Time)",
        ),
        (ValueError("bad"), "object", "Error: bad"),
    ],
)
def test_bind_refuses_other_types_at_once(db, value, js_type, text):
    # [api] bind: `D1_TYPE_ERROR: Type '${typeof r}' not supported for value '${r}'`, thrown
    # synchronously, with the same text without the prefix as the cause.
    # [docs/debug-d1] D1_TYPE_ERROR.
    with pytest.raises(JsException) as caught:
        db.prepare("SELECT ?").bind(value)
    detail = f"Type '{js_type}' not supported for value '{text}'"
    assert caught.value.message == "D1_TYPE_ERROR: " + detail
    assert caught.value.cause.message == detail


def test_integers_up_to_max_safe_integer_are_numbers(db):
    # Pyodide docs (usage/type-conversions): an int is a Number if its absolute value is at
    # most Number.MAX_SAFE_INTEGER, else a BigInt.
    safe = 2**53 - 1
    assert db.prepare("SELECT ?").bind(safe, -safe).params == [safe, -safe]


def test_sdk_refuses_tuples_before_d1_sees_them(db):
    # workers-runtime-sdk 1.9.5 rpc.py _raise_on_disabled_type.
    with pytest.raises(TypeError, match="<class 'tuple'> cannot be sent over RPC."):
        db.prepare("SELECT ?").bind((1, 2))


async def test_ordered_and_anonymous_parameters(db):
    # [docs/prepared-statements] ?NNN and ?; SQLite numbering: ? takes the next number.
    row = await db.prepare("SELECT ?2 AS b, ?1 AS a").bind("A", "B").first()
    assert (row.a, row.b) == ("A", "B")
    row = await db.prepare("SELECT ?1 AS a, ? AS b").bind("A", "B").first()
    assert (row.a, row.b) == ("A", "B")


async def test_wrong_parameter_count_rejects(db):
    # workers-sdk#7221 (production text); mixing ?, ? and ?1 counts two parameters.
    error = await rejects(db.prepare("SELECT ?, ?, ?1").bind(1, 2, 3).all())
    assert error.message == "D1_ERROR: Wrong number of parameter bindings for SQL query."
    error = await rejects(db.prepare("SELECT ?").all())
    assert error.message == "D1_ERROR: Wrong number of parameter bindings for SQL query."


# --- results --------------------------------------------------------------------------------


async def test_run_and_all_return_d1_results_with_rows(db):
    # [test] run() on CREATE/SELECT/DELETE: {success, results: [], meta}; RETURNING rows come
    # back from run() too ("ignore the result without erroring").
    created = await db.prepare(USERS).run()
    assert isinstance(created, JsDict) and list(created) == ["success", "meta", "results"]
    assert (created.success, created.results) == (True, [])
    assert (await db.prepare("SELECT * FROM users").all()).results == []
    result = await db.prepare(INSERT_TWO + " RETURNING *").run()
    assert result.results == [
        {
            "user_id": 1,
            "name": "Albert Ross",
            "home": "sky",
            "features": "wingspan",
            "land_based": 0,
        },
        {
            "user_id": 2,
            "name": "Al Dente",
            "home": "bowl",
            "features": "mouthfeel",
            "land_based": 1,
        },
    ]
    assert result.results[0].name == "Albert Ross"  # rows are JsDicts


async def test_meta_has_the_documented_fields(db):
    # [docs/return-object] the meta object's fields, in its order.
    await seeded(db)
    result = await db.prepare("INSERT INTO users (name) VALUES ('x')").run()
    meta = result.meta
    assert list(meta) == META_KEYS
    assert (meta.changes, meta.last_row_id, meta.changed_db, meta.rows_written) == (1, 3, True, 1)
    assert meta.served_by_primary is True and meta.timings == {"sql_duration_ms": 0}
    assert meta.size_after > 0
    read = (await db.prepare("SELECT * FROM users").all()).meta
    assert (read.changes, read.changed_db, read.rows_read, read.rows_written) == (0, False, 3, 0)
    assert read.last_row_id == 3  # the connection's last insert, as in [test]


async def test_select_1_in_every_shape(db):
    # [test] 'return simple results for select 1'.
    stmt = db.prepare("select 1;")
    assert (await stmt.all()).results == [{"1": 1}]
    assert await stmt.raw() == [[1]]
    assert await stmt.first() == {"1": 1}
    assert await stmt.first("1") == 1


async def test_first_returns_none_without_rows_and_rejects_a_missing_column(db):
    # [api] first(): null without rows (even with a column name); D1_COLUMN_NOTFOUND when
    # the row has no such property. A NULL column is a value, not a missing one.
    await seeded(db)
    assert await db.prepare("SELECT * FROM users WHERE user_id = 9").first() is None
    assert await db.prepare("SELECT * FROM users WHERE user_id = 9").first("x") is None
    assert await db.prepare("SELECT NULL AS n").first("n") is None
    error = await rejects(db.prepare("SELECT * FROM users").first("nope"))
    assert error.message == "D1_COLUMN_NOTFOUND: Column not found (nope)"
    assert error.cause.message == "Column not found"


async def test_first_runs_a_write_and_returns_none(db):
    # [mf test] first() on an INSERT executes it and gives null.
    await seeded(db)
    assert await db.prepare("INSERT INTO users (name) VALUES ('c')").first() is None
    assert await db.prepare("SELECT count(*) AS n FROM users").first("n") == 3


async def test_raw_with_and_without_column_names(db):
    # [test] raw(), raw({columnNames: true}) keeps repeated columns; all() keeps one of each.
    await seeded(db)
    await db.exec("CREATE TABLE abc (a INT, b INT, c INT)\nCREATE TABLE cde (c TEXT, d TEXT)")
    await db.exec("INSERT INTO abc VALUES (1,2,3)\nINSERT INTO cde VALUES ('A','B')")
    join = db.prepare("SELECT * FROM abc, cde")
    assert await join.raw() == [[1, 2, 3, "A", "B"]]
    assert await join.raw(columnNames=True) == [["a", "b", "c", "c", "d"], [1, 2, 3, "A", "B"]]
    assert await join.raw({"columnNames": True}) == await join.raw(columnNames=True)
    assert await join.raw(columnNames=False) == [[1, 2, 3, "A", "B"]]
    assert (await join.all()).results == [{"a": 1, "b": 2, "c": "A", "d": "B"}]
    assert list((await join.first()).keys()) == ["a", "b", "c", "d"]
    empty = db.prepare("SELECT a FROM abc WHERE a > 9")
    assert await empty.raw(columnNames=True) == [["a"]]


async def test_integer_like_column_names_come_first(db):
    # Rows are JavaScript objects (Object.fromEntries): integer-like keys are ordered first.
    row = await db.prepare('SELECT \'x\' AS name, 2 AS "10", 1 AS "2"').first()
    assert list(row) == ["2", "10", "name"]


async def test_values_come_back_as_javascript_numbers(db):
    # [docs/worker-api] note 2: INTEGER beyond Number.MAX_SAFE_INTEGER loses precision;
    # a JavaScript number that is a safe integer reaches Python as an int (REAL 1.0 -> 1).
    row = await db.prepare(
        "SELECT 9007199254740991 AS safe, 9223372036854775807 AS big, 1.0 AS one, 0.5 AS half"
    ).first()
    assert row.safe == 9007199254740991 and type(row.safe) is int
    assert row.big == 9.223372036854776e18 and type(row.big) is float
    assert (row.one, type(row.one), row.half) == (1, int, 0.5)


async def test_blob_round_trips_as_a_list_of_byte_values(db):
    # [docs/worker-api] BLOB is read back as an Array (note 4: Array.from of the bytes).
    await db.prepare("CREATE TABLE b (data BLOB)").run()
    await db.prepare("INSERT INTO b VALUES (?)").bind(b"\x01\x02\x03").run()
    assert await db.prepare("SELECT data FROM b").first("data") == [1, 2, 3]


async def test_a_statement_runs_when_called_not_when_awaited(db):
    # [api] the methods return a Promise: the query is sent when the method is called.
    await db.prepare("CREATE TABLE t (x)").run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the SDK's coroutine never awaited
        db.prepare("INSERT INTO t VALUES (1)").run()
        gc.collect()
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 1


# --- several statements ---------------------------------------------------------------------


async def test_batch_returns_one_result_per_statement(db):
    # [test] 'return the results of two commands with batch'; [docs/d1-database] batch().
    await seeded(db)
    one = db.prepare("SELECT name FROM users WHERE user_id = ?")
    results = await db.batch([one.bind(2), one.bind(1)])
    assert isinstance(results, list) and len(results) == 2
    assert [r.results for r in results] == [[{"name": "Al Dente"}], [{"name": "Albert Ross"}]]
    assert all(r.success for r in results)


async def test_batch_accepts_a_to_js_array(db):
    # [docs/d1-database] the Python example passes to_js([...]).
    await seeded(db)
    from pyodide.ffi import to_js

    results = await db.batch(to_js([db.prepare("SELECT 1 AS x")]))
    assert results[0].results == [{"x": 1}]


async def test_batch_is_all_or_nothing(db):
    # [docs/d1-database] "If a statement in the sequence fails ... it aborts or rolls back
    # the entire sequence"; [mf test] 'Check error mid-batch rolls-back entire batch'.
    await seeded(db)
    insert = db.prepare("INSERT INTO users (name) VALUES (?)")
    error = await rejects(
        db.batch([insert.bind("a"), db.prepare("PUT IN users VALUES (1)"), insert.bind("b")])
    )
    assert error.message == 'D1_ERROR: near "PUT": syntax error at offset 0: SQLITE_ERROR'
    assert error.cause.message == 'near "PUT": syntax error at offset 0: SQLITE_ERROR'
    assert await db.prepare("SELECT count(*) AS n FROM users").first("n") == 2


async def test_batch_without_statements_or_with_a_non_list(db):
    # [mf] '#txn': no query left -> "No SQL statements detected."; [api] statements.map(...).
    error = await rejects(db.batch([]))
    assert error.message == "D1_ERROR: No SQL statements detected."
    error = await rejects(db.batch(db.prepare("SELECT 1")))
    assert (error.name, error.message) == ("TypeError", "statements.map is not a function")


async def test_exec_runs_one_query_per_line(db):
    # [docs/d1-database] exec: "one or multiple queries separated by \n"; returns
    # {count, duration}; [docs/return-object] D1ExecResult. Blank lines are not queries [mf].
    result = await db.exec(
        "CREATE TABLE t (x)\n\nINSERT INTO t VALUES (1)\nINSERT INTO t VALUES (2)\n"
    )
    assert result == {"count": 3, "duration": 0} and isinstance(result, JsDict)
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 2


async def test_exec_error_names_line_1_and_keeps_nothing(db):
    # [api] exec: `D1_EXEC_ERROR: Error in line ${i + 1}: ${line}: ${message}` with i the
    # index of the failed answer; the service answers one error for the whole call, so
    # it always reads line 1. [mf] exec runs in one transaction.
    error = await rejects(db.exec("CREATE TABLE t (x)\nINSERT INTO nope VALUES (1)"))
    assert error.message == (
        "D1_EXEC_ERROR: Error in line 1: CREATE TABLE t (x): no such table: nope: SQLITE_ERROR"
    )
    assert error.cause.message == error.message.removeprefix("D1_EXEC_ERROR: ")
    error = await rejects(db.prepare("SELECT * FROM t").all())
    assert error.message == "D1_ERROR: no such table: t: SQLITE_ERROR"


async def test_exec_cannot_split_a_statement_over_lines(db):
    # [docs/d1-database] queries are separated by newlines, so a line is a whole query.
    error = await rejects(db.exec("CREATE TABLE t (\n  x INTEGER\n)"))
    assert error.message.startswith("D1_EXEC_ERROR: Error in line 1: CREATE TABLE t (: ")


async def test_exec_of_nothing_and_of_a_non_string(db):
    # [api] query.trim().split('\n'); [mf] no statement left.
    error = await rejects(db.exec("   "))
    assert error.message == "D1_EXEC_ERROR: Error in line 1: : No SQL statements detected."
    error = await rejects(db.exec(42))
    assert (error.name, error.message) == ("TypeError", "query.trim is not a function")


async def test_several_statements_in_one_prepare_return_the_last(db):
    # [mf test] "workerd changed its behaviour from throwing to returning the last result";
    # the statements before the last may not have parameters (workerd util/sqlite.c++).
    await seeded(db)
    stmt = db.prepare("SELECT 1 AS a; SELECT name FROM users WHERE user_id = ?")
    assert await stmt.bind(2).first() == {"name": "Al Dente"}
    error = await rejects(db.prepare("SELECT ?; SELECT 2").bind(1).all())
    assert error.message == (
        "D1_ERROR: When executing multiple SQL statements in a single call, only the last "
        "statement can have parameters."
    )


# --- what D1 refuses ------------------------------------------------------------------------


async def test_transaction_statements_are_refused(db):
    # drizzle-orm#4212: D1 answers BEGIN with the Durable Object text; use batch() instead.
    for sql in ("BEGIN TRANSACTION", "SAVEPOINT s", "COMMIT"):
        error = await rejects(db.prepare(sql).run())
        assert error.message == "D1_ERROR: " + MSG_TRANSACTION_SQL


async def test_attach_unlisted_pragmas_and_reserved_names_are_not_authorized(db):
    # bknd-io/bknd#117 (production text); [docs/sql-statements] the pragmas D1 supports.
    for sql in (
        "ATTACH DATABASE 'x.db' AS x",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA user_version",
        "CREATE TABLE _cf_mine (x)",
    ):
        error = await rejects(db.prepare(sql).run())
        assert error.message == "D1_ERROR: not authorized: SQLITE_AUTH", sql
    assert await db.prepare("PRAGMA table_list").all()  # listed: allowed
    assert await db.prepare("PRAGMA quick_check").first("quick_check") == "ok"


async def test_foreign_keys_are_enforced_and_cannot_be_switched_off(db):
    # [docs/foreign-keys] enforced as `PRAGMA foreign_keys = on` in every transaction;
    # queries run inside one, so `foreign_keys = off` changes nothing.
    await db.exec(
        "CREATE TABLE p (id INTEGER PRIMARY KEY)\n" "CREATE TABLE c (pid INTEGER REFERENCES p(id))"
    )
    message = (
        "D1_ERROR: FOREIGN KEY constraint failed: SQLITE_CONSTRAINT"
        " (extended: SQLITE_CONSTRAINT_FOREIGNKEY)"
    )
    assert (await rejects(db.prepare("INSERT INTO c VALUES (1)").run())).message == message
    off = db.prepare("PRAGMA foreign_keys = off")
    error = await rejects(db.batch([off, db.prepare("INSERT INTO c VALUES (1)")]))
    assert error.message == message


async def test_defer_foreign_keys_lasts_until_the_end_of_the_call(db):
    # [docs/foreign-keys] defer_foreign_keys: violations allowed until the transaction ends.
    await db.exec(
        "CREATE TABLE p (id INTEGER PRIMARY KEY)\n" "CREATE TABLE c (pid INTEGER REFERENCES p(id))"
    )
    await db.batch(
        [
            db.prepare("PRAGMA defer_foreign_keys = on"),
            db.prepare("INSERT INTO c VALUES (1)"),
            db.prepare("INSERT INTO p VALUES (1)"),
        ]
    )
    assert await db.prepare("SELECT count(*) AS n FROM c").first("n") == 1


async def test_pragma_toggles_apply_to_the_current_call_only(db):
    # [docs/sql-statements] "D1 PRAGMA statements only apply to the current transaction".
    like = db.prepare("SELECT 'a' LIKE 'A' AS m")
    results = await db.batch([db.prepare("PRAGMA case_sensitive_like = on"), like])
    assert results[1].results == [{"m": 0}]
    assert await like.first("m") == 1


async def test_a_failed_call_resets_pragma_toggles_too(db):
    # [docs/sql-statements] as above, when the call fails.
    like = db.prepare("SELECT 'a' LIKE 'A' AS m")
    await rejects(db.batch([db.prepare("PRAGMA case_sensitive_like = on"), db.prepare("X")]))
    assert await like.first("m") == 1


async def test_insert_or_rollback_ends_the_call_cleanly(db):
    # SQLite rolls the whole transaction back itself on `OR ROLLBACK`: the batch fails with
    # the constraint error and nothing of it is kept; the database stays usable.
    await db.exec("CREATE TABLE u (x UNIQUE)\nINSERT INTO u VALUES (1)")
    error = await rejects(
        db.batch(
            [
                db.prepare("INSERT INTO u VALUES (2)"),
                db.prepare("INSERT OR ROLLBACK INTO u VALUES (1)"),
            ]
        )
    )
    assert error.message == (
        "D1_ERROR: UNIQUE constraint failed: u.x: SQLITE_CONSTRAINT"
        " (extended: SQLITE_CONSTRAINT_UNIQUE)"
    )
    assert await db.prepare("SELECT x FROM u").raw() == [[1]]


async def test_a_statement_without_sql_text_fails_when_run(db):
    # [api] prepare() never throws; the service refuses a query without text (dosim's text:
    # the platform's is not documented).
    stmt = db.prepare()
    assert stmt.statement is None
    error = await rejects(stmt.all())
    assert error.message.startswith("D1_ERROR: ")


async def test_documented_limits(db):
    # [docs/platform/limits] 100 bound parameters, 100,000-byte statements, 2,000,000-byte
    # strings; the texts are SQLite's, formatted as workerd does.
    many = "SELECT " + ", ".join("?" for _ in range(101))
    error = await rejects(db.prepare(many).bind(*range(101)).all())
    assert error.message.startswith("D1_ERROR: too many SQL variables")
    assert error.message.endswith(": SQLITE_ERROR")
    assert await db.prepare("SELECT " + ", ".join("?" for _ in range(100))).bind(*range(100)).raw()
    long_sql = "SELECT 1 -- " + "x" * 100_000
    error = await rejects(db.prepare(long_sql).all())
    assert error.message == "D1_ERROR: statement too long: SQLITE_TOOBIG"
    error = await rejects(db.prepare("SELECT length(?)").bind("x" * 2_000_001).all())
    assert error.message == "D1_ERROR: string or blob too big: SQLITE_TOOBIG"
    assert await db.prepare("SELECT length(?) AS n").bind("x" * 2_000_000).first("n") == 2_000_000


# --- sessions, dump, query ------------------------------------------------------------------


async def test_sessions_track_the_latest_bookmark(db):
    # [api] withSession(): constraints give no bookmark until a query answered; the session
    # keeps the newest bookmark; the database itself never has one.
    session = db.withSession()
    assert session.js_object.js_class_name == "D1DatabaseSession"
    assert session.getBookmark() is None
    await session.prepare("CREATE TABLE t (x)").run()
    first = session.getBookmark()
    assert isinstance(first, str) and len(first.split("-")) == 4
    await session.batch([session.prepare("INSERT INTO t VALUES (1)")])
    second = session.getBookmark()
    assert second > first
    await session.prepare("SELECT * FROM t").all()
    assert session.getBookmark() == second  # a read does not move the database
    later = db.withSession(second)
    assert later.getBookmark() == second
    assert await later.prepare("SELECT x FROM t").first("x") == 1  # one instance: up to date
    primary = db.withSession("first-primary")
    assert primary.getBookmark() is None
    await primary.prepare("SELECT 1").all()
    assert primary.getBookmark() == second


def test_with_session_refuses_a_non_string(db):
    # [api] constraintOrBookmark?.trim()
    with pytest.raises(JsException) as caught:
        db.withSession(5)
    assert (caught.value.name, caught.value.message) == (
        "TypeError",
        "constraintOrBookmark?.trim is not a function",
    )


async def test_dump_fails_as_for_any_database_made_after_the_alpha(db):
    # [docs/d1-database] dump() only works on alpha databases; [api] its error text;
    # Miniflare's D1 object has no dump route (404).
    error = await rejects(db.dump())
    assert error.message == "D1_DUMP_ERROR: Status + 404"


async def test_query_needs_the_jsrpc_flag(db):
    # [api] D1Database.query() without d1_binding_jsrpc.
    error = await rejects(db.query({"queries": [{"sql": "SELECT 1"}]}))
    assert error.message == MSG_QUERY_NEEDS_JSRPC


async def test_with_the_jsrpc_flag_query_answers_rows_and_columns():
    # [api] query() and, under d1_binding_jsrpc, exec's shorter error text.
    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            answer = await self.env.DB.query(
                {"queries": [{"sql": "SELECT ?1 AS a, 2 AS b", "params": ["x"]}]}
            )
            failed = await self.env.DB.query({"queries": [{"sql": "SELEC"}]})
            try:
                await self.env.DB.exec("SELEC")
            except Exception as error:  # noqa: BLE001
                text = error.message
            data = answer.results.queryResults[0].data
            return Response.json([data, failed.success, str(failed.error), text])

    app = App(
        Default,
        {},
        bindings={"DB": D1DatabaseBinding("db-id")},
        compatibility_flags=["d1_binding_jsrpc"],
    )
    body = await (await app.fetch("/")).json()
    syntax = 'near "SELEC": syntax error at offset 0: SQLITE_ERROR'
    assert body == [
        {"kind": "raw", "columns": ["a", "b"], "rows": [["x", 2]]},
        False,
        "Error: " + syntax,
        "D1_EXEC_ERROR: " + syntax,
    ]


# --- the binding in an app ------------------------------------------------------------------


async def test_a_failed_call_changes_nothing_and_says_so():
    # app.faults.fail_next_binding_call: the call fails before reaching the database, with
    # the text d1-api.ts gives when the fetch to the D1 service fails.
    app = make_app()
    db = app.env.DB
    await db.prepare("CREATE TABLE t (x)").run()
    app.faults.fail_next_binding_call("DB", "run")
    error = await rejects(db.prepare("INSERT INTO t VALUES (1)").run())
    assert error.message == "D1_ERROR: Network connection lost."
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 0
    app.faults.fail_next_binding_call("DB", message="D1_ERROR: D1 DB is overloaded.")
    assert (await rejects(db.batch([]))).message == "D1_ERROR: D1 DB is overloaded."


async def test_each_call_is_traced():
    app = make_app()
    await app.env.DB.prepare("SELECT 1 AS x").all()
    await rejects(app.env.DB.prepare("SELECT * FROM nope").first())
    events = [event.detail for event in app.trace.filter("binding")]
    assert events == [
        {
            "binding": "DB",
            "type": "d1",
            "op": "all",
            "query": "SELECT 1 AS x",
            "rows": 1,
            "changes": 0,
        },
        {
            "binding": "DB",
            "type": "d1",
            "op": "first",
            "query": "SELECT * FROM nope",
            "error": "Error: D1_ERROR: no such table: nope: SQLITE_ERROR",
        },
    ]


async def test_bindings_with_the_same_id_share_one_database():
    app = App(
        None,
        {},
        bindings={
            "A": D1DatabaseBinding("shared"),
            "B": D1DatabaseBinding("shared"),
            "C": D1DatabaseBinding("other"),
        },
    )
    await app.env.A.exec("CREATE TABLE t (x)\nINSERT INTO t VALUES (1)")
    assert await app.env.B.prepare("SELECT x FROM t").first("x") == 1
    error = await rejects(app.env.C.prepare("SELECT x FROM t").first())
    assert error.message == "D1_ERROR: no such table: t: SQLITE_ERROR"


class Notes(DurableObject):
    async def add(self, text):
        await self.env.DB.prepare("INSERT INTO notes (text) VALUES (?)").bind(text).run()
        return await self.env.DB.prepare("SELECT count(*) AS n FROM notes").first("n")


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        await self.env.NOTES.getByName("a").add("from the object")
        rows = await self.env.DB.prepare("SELECT text FROM notes").all()
        return Response.json(rows.results)


async def test_from_a_worker_and_a_durable_object():
    app = App(Default, {"NOTES": Notes}, bindings={"DB": D1DatabaseBinding("db-id")})
    await app.env.DB.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    response = await app.fetch("/")
    assert await response.json() == [{"text": "from the object"}]


async def test_data_persists_across_apps_and_reads_leave_no_file(tmp_path):
    # Under `dosim dev` the database is a file, created by the first write.
    first = make_app(persist_to=tmp_path)
    assert await first.env.DB.prepare("SELECT 1 AS x").first("x") == 1
    assert not (tmp_path / "d1").exists()
    await first.env.DB.exec("CREATE TABLE t (x)\nINSERT INTO t VALUES ('kept')")
    assert (tmp_path / "d1" / "db-id.sqlite").exists()
    first.binding_host.close()
    second = make_app(persist_to=tmp_path)
    assert await second.env.DB.prepare("SELECT x FROM t").first("x") == "kept"
    second.binding_host.close()


async def test_a_failed_first_write_leaves_no_file(tmp_path):
    app = make_app(persist_to=tmp_path)
    await rejects(
        app.env.DB.batch([app.env.DB.prepare("CREATE TABLE t (x)"), app.env.DB.prepare("X")])
    )
    assert not (tmp_path / "d1").exists()
    await app.env.DB.prepare("CREATE TABLE t (x)").run()
    assert (tmp_path / "d1" / "db-id.sqlite").exists()
    app.binding_host.close()


@pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses in Pyodide")
def test_an_acknowledged_write_survives_kill_9(tmp_path):
    script = textwrap.dedent(
        f"""
        import asyncio, os, signal
        from dosim import App
        from dosim.bindings import D1DatabaseBinding

        async def main():
            app = App(None, {{}}, bindings={{"DB": D1DatabaseBinding("db-id")}},
                      persist_to={str(tmp_path)!r})
            await app.env.DB.exec("CREATE TABLE t (x)\\nINSERT INTO t VALUES (42)")
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, "-c", script], env=env, timeout=60)
    assert done.returncode == -9
    app = make_app(persist_to=tmp_path)

    async def read():
        return await app.env.DB.prepare("SELECT x FROM t").first("x")

    assert asyncio.run(read()) == 42
    app.binding_host.close()
