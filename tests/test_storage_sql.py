"""ctx.storage.sql: statements, cursors, value conversion, errors and the authorizer."""

import asyncio
import sqlite3

import pytest
from storage_host import FakeHost

from dosim.errors import JsException
from dosim.serialization import JsDict
from dosim.storage import DurableObjectStorage, ObjectDatabase, SqlStorageCursor


def make(sql_enabled=True):
    host = FakeHost()
    db = ObjectDatabase(sql_enabled=sql_enabled)
    return DurableObjectStorage(db, host), db, host


@pytest.fixture
def sql():
    storage, db, _ = make()
    yield storage.sql
    db.close()


def rows(sql, query, *bindings):
    return sql.exec(query, *bindings).toArray()


def error(sql, query, *bindings):
    with pytest.raises(JsException) as info:
        sql.exec(query, *bindings)
    return info.value.message


# --- statements and cursors -------------------------------------------------------------------


def test_exec_returns_rows_as_js_dicts(sql):
    result = rows(sql, "SELECT 1 AS a, 'x' AS b")
    assert result == [{"a": 1, "b": "x"}] and isinstance(result[0], JsDict)
    assert result[0].b == "x"


def test_cursor_is_iterable(sql):
    assert [row["v"] for row in sql.exec("SELECT 1 AS v UNION ALL SELECT 2")] == [1, 2]


def test_cursor_next_returns_done_objects(sql):
    cursor = sql.exec("SELECT 7 AS v")
    assert cursor.next() == {"done": False, "value": {"v": 7}}
    last = cursor.next()
    assert last.done is True and last.value is None


def test_one_returns_the_only_row(sql):
    assert sql.exec("SELECT 123 AS foo").one() == {"foo": 123}


def test_one_consumes_the_cursor(sql):
    cursor = sql.exec("SELECT 123 AS foo")
    cursor.one()
    assert list(cursor) == []


def test_one_with_no_rows_raises(sql):
    message = "^Error: Expected exactly one result from SQL query, but got no results.$"
    with pytest.raises(JsException, match=message):
        sql.exec("SELECT 1 WHERE 0").one()


def test_one_with_several_rows_raises(sql):
    with pytest.raises(JsException, match="but got multiple results.$"):
        sql.exec("SELECT 1 UNION ALL SELECT 2").one()


def test_raw_yields_value_lists(sql):
    raw = sql.exec("SELECT 1, 'a' UNION ALL SELECT 2, 'b'").raw()
    assert raw.toArray() == [[1, "a"], [2, "b"]]


def test_raw_shares_position_with_cursor(sql):
    cursor = sql.exec("SELECT 1 AS v UNION ALL SELECT 2 UNION ALL SELECT 3")
    assert cursor.next().value == {"v": 1}
    raw = cursor.raw()
    assert raw.next() == {"done": False, "value": [2]}
    assert cursor.toArray() == [{"v": 3}]


def test_column_names_list_result_columns(sql):
    assert sql.exec("SELECT 1 AS a, 2 AS b").columnNames == ["a", "b"]


def test_column_names_of_a_write_are_empty(sql):
    assert sql.exec("CREATE TABLE t(x)").columnNames == []


def test_duplicate_column_names_keep_the_last_value(sql):
    assert rows(sql, "SELECT 1 AS a, 2 AS a") == [{"a": 2}]


def test_rows_written_counts_changed_rows(sql):
    sql.exec("CREATE TABLE t(x)")
    assert sql.exec("INSERT INTO t VALUES (1), (2), (3)").rowsWritten == 3
    assert sql.exec("UPDATE t SET x = x + 1 WHERE x > 1").rowsWritten == 2


def test_rows_read_counts_rows_returned(sql):
    cursor = sql.exec("SELECT 1 UNION ALL SELECT 2")
    cursor.toArray()
    assert cursor.rowsRead == 2 and cursor.rowsWritten == 0


def test_multiple_statements_return_cursor_of_the_last(sql):
    result = rows(sql, "CREATE TABLE t(x); INSERT INTO t VALUES (1); SELECT x FROM t")
    assert result == [{"x": 1}]


def test_bindings_apply_to_the_last_statement(sql):
    assert rows(sql, "CREATE TABLE t(x); SELECT ? AS v", "hi") == [{"v": "hi"}]


def test_parameters_in_an_earlier_statement_raise(sql):
    assert error(sql, "SELECT ?; SELECT 1", 5) == (
        "When executing multiple SQL statements in a single call, only the last statement can "
        "have parameters."
    )


def test_empty_statements_between_statements_are_skipped(sql):
    assert rows(sql, "SELECT 1 AS a;; SELECT 2 AS b") == [{"b": 2}]


def test_trigger_body_semicolons_do_not_split(sql):
    sql.exec(
        "CREATE TABLE t(x); CREATE TABLE log(x);"
        " CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.x); END;"
        " INSERT INTO t VALUES (4)"
    )
    assert rows(sql, "SELECT x FROM log") == [{"x": 4}]


def test_semicolons_inside_strings_and_comments_do_not_split(sql):
    assert rows(sql, "SELECT 'a;b' /* ; */ AS v -- ;\n") == [{"v": "a;b"}]


def test_named_parameters_take_positional_bindings(sql):
    assert rows(sql, "SELECT :a AS x, :b AS y, :a AS z", 1, 2) == [{"x": 1, "y": 2, "z": 1}]


def test_identifiers_containing_dollar_are_not_parameters(sql):
    sql.exec("CREATE TABLE t(a$b)")
    assert rows(sql, "SELECT a$b FROM t WHERE a$b = ?", 1) == []


def test_statement_cache_is_bounded():
    storage, _, _ = make()
    for index in range(200):
        storage.sql.exec(f"SELECT {index} /* {'x' * 10_000} */")
    assert storage.sql._cached <= 1024 * 1024


def test_exec_is_reported_to_the_host():
    storage, _, host = make()
    storage.sql.exec("SELECT 1")
    assert host.ops == [("sql.exec", {"query": "SELECT 1"})]


# --- values in and out (spec §6.1) ------------------------------------------------------------


def test_int_binding_is_bound_as_real(sql):
    assert rows(sql, "SELECT typeof(?) AS t, ? / 2 AS half", 5, 5) == [{"t": "real", "half": 2.5}]


def test_integral_real_result_comes_back_as_int(sql):
    value = rows(sql, "SELECT 5.0 AS v")[0]["v"]
    assert value == 5 and type(value) is int


def test_fractional_real_result_stays_float(sql):
    assert rows(sql, "SELECT 0.5 AS v") == [{"v": 0.5}]


def test_integer_beyond_safe_range_comes_back_as_float(sql):
    value = rows(sql, "SELECT 9007199254740993 AS v")[0]["v"]
    assert type(value) is float and value == 9007199254740992.0


def test_blob_comes_back_as_memoryview(sql):
    value = rows(sql, "SELECT ? AS v", b"\x01\x02")[0]["v"]
    assert isinstance(value, memoryview) and value.tobytes() == b"\x01\x02"


def test_memoryview_binding_is_a_blob(sql):
    assert rows(sql, "SELECT typeof(?) AS t", memoryview(b"ab")) == [{"t": "blob"}]


def test_none_binding_is_null(sql):
    assert rows(sql, "SELECT ? IS NULL AS v", None) == [{"v": 1}]


def test_bool_binding_becomes_text_as_webidl_coerces_it(sql):
    assert rows(sql, "SELECT ? AS v", True) == [{"v": "true"}]


def test_unsafe_int_binding_raises_type_error(sql):
    with pytest.raises(TypeError, match="outside the range a JavaScript number holds"):
        sql.exec("SELECT ?", 2**53)


def test_unsupported_binding_type_raises_type_error(sql):
    with pytest.raises(TypeError, match="binding 1 is dict"):
        sql.exec("SELECT ?", {"a": 1})


def test_text_round_trips(sql):
    assert rows(sql, "SELECT ? AS v", "héllo") == [{"v": "héllo"}]


# --- errors (spec §6.2) ----------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "   ", ";", "-- only a comment"])
def test_query_without_statement_raises(sql, query):
    assert error(sql, query) == "SQL code did not contain a statement."


def test_trailing_comment_after_statements_raises_after_running_them(sql):
    assert error(sql, "CREATE TABLE t(x); -- trailing") == "SQL code did not contain a statement."
    assert rows(sql, "SELECT count(*) AS n FROM t") == [{"n": 0}]


def test_syntax_error_reports_token_and_offset(sql):
    assert error(sql, "SELECT * bunk") == 'near "bunk": syntax error at offset 9: SQLITE_ERROR'


@pytest.mark.parametrize(("query", "offset"), [("SELECT ;", 7), ("SELECT -;", 8)])
def test_syntax_error_offsets_match_workerd_tests(sql, query, offset):
    assert error(sql, query).endswith(f"syntax error at offset {offset}: SQLITE_ERROR")


def test_syntax_error_offset_counts_utf8_bytes(sql):
    assert "at offset 20" in error(sql, "SELECT 'é' AS bunk bunk")  # char 19


def test_no_such_table_has_no_offset(sql):
    assert error(sql, "SELECT * FROM missing") == "no such table: missing: SQLITE_ERROR"


def test_wrong_number_of_bindings_raises(sql):
    assert error(sql, "SELECT ?") == "Wrong number of parameter bindings for SQL query."
    assert error(sql, "SELECT ?", 1, 2) == "Wrong number of parameter bindings for SQL query."


def test_datatype_mismatch_has_platform_text(sql):
    sql.exec("CREATE TABLE t(name TEXT)")
    message = error(sql, "INSERT INTO t(rowid, name) VALUES ('yeah', 'nah')")
    assert message == "datatype mismatch: SQLITE_MISMATCH"


def test_unique_constraint_reports_extended_code(sql):
    sql.exec("CREATE TABLE t(id INTEGER PRIMARY KEY)")
    sql.exec("INSERT INTO t VALUES (1)")
    assert error(sql, "INSERT INTO t VALUES (1)") == (
        "UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT"
        " (extended: SQLITE_CONSTRAINT_PRIMARYKEY)"
    )


def test_foreign_keys_are_enforced_by_default(sql):
    sql.exec("CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE c(p REFERENCES p(id))")
    assert error(sql, "INSERT INTO c VALUES (1)").startswith("FOREIGN KEY constraint failed")


@pytest.mark.parametrize(
    "query", ["BEGIN", "BEGIN TRANSACTION", "COMMIT", "ROLLBACK", "SAVEPOINT sp", "RELEASE sp"]
)
def test_transaction_statements_point_to_the_transaction_api(sql, query):
    assert error(sql, query).startswith(
        "To execute a transaction, please use the state.storage.transaction() or "
        "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION"
    )


def test_error_after_a_refused_transaction_statement_is_its_own(sql):
    # The transaction text belongs to the statement the authorizer refused, not to the next
    # failing one, also when that one is a statement run before (exec's fast path).
    sql.exec("CREATE TABLE t(x UNIQUE)")
    insert = "INSERT INTO t VALUES (?)"
    sql.exec(insert, 1)
    for query in ("BEGIN", "COMMIT"):
        assert error(sql, query).startswith("To execute a transaction")
        assert error(sql, insert, 1).startswith("UNIQUE constraint failed: t.x: ")
        assert error(sql, "SELECT * FROM nope") == "no such table: nope: SQLITE_ERROR"


def test_sql_on_kv_backed_class_raises_local_text():
    storage, _, _ = make(sql_enabled=False)
    with pytest.raises(JsException, match="^Error: SQL is not enabled for this Durable Object"):
        storage.sql.exec("SELECT 1")


def test_sql_on_kv_backed_class_raises_local_text_before_looking_at_the_query():
    storage, _, _ = make(sql_enabled=False)
    for query in (["SELECT 1"], 5, None):
        with pytest.raises(JsException, match="^Error: SQL is not enabled for this"):
            storage.sql.exec(query)


def test_database_size_on_kv_backed_class_raises():
    storage, _, _ = make(sql_enabled=False)
    with pytest.raises(JsException, match="SQL is not enabled"):
        storage.sql.databaseSize  # noqa: B018


def test_database_size_is_pages_in_use_times_page_size(sql):
    before = sql.databaseSize
    sql.exec("CREATE TABLE t(x); INSERT INTO t VALUES (randomblob(100000))")
    assert before % 4096 == 0 and sql.databaseSize > before + 100_000


# --- the authorizer (spec §6.3) ---------------------------------------------------------------


def test_reading_hidden_kv_table_is_prohibited():
    storage, _, _ = make()
    asyncio.run(storage.put("blah", 123))
    message = "access to _cf_KV.key is prohibited: SQLITE_AUTH"
    assert error(storage.sql, "SELECT * FROM _cf_KV") == message


def test_hidden_kv_table_is_listed_by_table_list():
    storage, _, _ = make()
    asyncio.run(storage.put("blah", 123))
    names = [row["name"] for row in storage.sql.exec("PRAGMA table_list")]
    assert "_cf_KV" in names


@pytest.mark.parametrize(
    "query",
    [
        "CREATE TABLE _cf_invalid (name TEXT)",
        "CREATE TABLE _CF_Mixed (name TEXT)",
        "CREATE INDEX _cf_idx ON t(x)",
        "CREATE TRIGGER _cf_tr AFTER INSERT ON t BEGIN SELECT 1; END",
        "CREATE VIEW _cf_v AS SELECT 1",
        "ALTER TABLE t RENAME TO _cf_renamed",
        "DROP TABLE _cf_KV",
        "PRAGMA table_info(_cf_KV)",
        "PRAGMA quick_check(_cf_KV)",
    ],
)
def test_reserved_cf_names_are_not_authorized(query):
    storage, _, _ = make()
    asyncio.run(storage.put("k", 1))  # creates _cf_KV
    storage.sql.exec("CREATE TABLE t(x)")
    assert "not authorized" in error(storage.sql, query)


@pytest.mark.parametrize(
    "query",
    [
        "ATTACH ':memory:' AS other",
        "CREATE TEMP TABLE tmp(x)",
        "CREATE TEMPORARY VIEW v AS SELECT 1",
        "PRAGMA user_version",
        "PRAGMA hard_heap_limit = 1024",
        "PRAGMA data_version = 5",
        "PRAGMA page_size = 8192",
        "PRAGMA max_page_count = 65536",
        "PRAGMA FOREIGN_KEYS",
        "PRAGMA foreign_keys = maybe",
        "PRAGMA optimize(abc)",
    ],
)
def test_disallowed_statements_are_not_authorized(sql, query):
    assert error(sql, query) == "not authorized: SQLITE_AUTH"


@pytest.mark.parametrize(
    "query",
    [
        "PRAGMA data_version",
        "PRAGMA page_size",
        "PRAGMA foreign_keys",
        "PRAGMA foreign_keys = off",
        "PRAGMA defer_foreign_keys = 'yes'",
        "PRAGMA case_sensitive_like = 1",
        "PRAGMA table_list",
        "PRAGMA table_info(t)",
        "PRAGMA table_xinfo(t)",
        "PRAGMA index_list(t)",
        "PRAGMA foreign_key_check",
        "PRAGMA quick_check",
        "PRAGMA quick_check(10)",
        "PRAGMA quick_check(t)",
        "PRAGMA optimize",
        "PRAGMA optimize(0x10002)",
        "ANALYZE",
    ],
)
def test_allowlisted_pragmas_run(sql, query):
    sql.exec("CREATE TABLE t(x)")
    sql.exec(query).toArray()


@pytest.mark.parametrize("function", ["sqlite_version", "sqlite_source_id"])
def test_functions_outside_allowlist_are_not_authorized(sql, function):
    assert error(sql, f"SELECT {function}()").startswith(
        f"not authorized to use function: {function}"
    )


def test_allowlisted_functions_work(sql):
    result = rows(sql, "SELECT abs(-2) AS a, json_extract('{\"x\": 3}', '$.x') AS j, cos(0) AS c")
    assert result == [{"a": 2, "j": 3, "c": 1}]


def test_recursive_cte_is_allowed(sql):
    query = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3)"
        " SELECT x FROM c"
    )
    assert [row["x"] for row in sql.exec(query)] == [1, 2, 3]


def test_unsupported_virtual_table_module_is_not_authorized(sql):
    assert "not authorized" in error(sql, "CREATE VIRTUAL TABLE v USING fts5abcd(x)")


def test_fts5_virtual_table_is_allowed(sql):
    try:
        sql.exec("CREATE VIRTUAL TABLE docs USING FtS5(body)")
    except JsException as exc:  # pragma: no cover - SQLite built without FTS5
        if "no such module" in exc.message:
            pytest.skip("this SQLite has no FTS5")
        raise
    sql.exec("INSERT INTO docs VALUES ('hello world')")
    assert rows(sql, "SELECT body FROM docs WHERE docs MATCH 'hello'") == [{"body": "hello world"}]


def test_user_sql_cannot_reuse_internal_statements():
    storage, db, _ = make()
    asyncio.run(storage.put("k", 1))
    db.commit()
    asyncio.run(storage.get("k"))  # dosim's own SELECT on _cf_KV is now a cached statement
    assert "prohibited" in error(storage.sql, "SELECT value FROM _cf_KV WHERE key = ?", "k")


# --- writes and the implicit transaction ------------------------------------------------------


def test_write_statement_tells_host_writes_are_pending():
    storage, _, host = make()
    storage.sql.exec("CREATE TABLE t(x)")
    assert host.pending_calls == 1


def test_read_statement_does_not_open_a_transaction():
    storage, db, host = make()
    storage.sql.exec("SELECT 1").toArray()
    storage.sql.exec("SELECT 1").toArray()
    assert host.pending_calls == 0 and not db.in_transaction


def test_sql_writes_roll_back_with_the_implicit_transaction():
    storage, db, _ = make()
    storage.sql.exec("CREATE TABLE t(x)")
    db.commit()
    storage.sql.exec("INSERT INTO t VALUES (1)")
    db.rollback()
    assert storage.sql.exec("SELECT count(*) AS n FROM t").one().n == 0


def test_sql_sees_pending_kv_writes():
    storage, _, _ = make()
    asyncio.run(storage.put("k", 1))
    names = [row["name"] for row in storage.sql.exec("PRAGMA table_list")]
    assert "_cf_KV" in names


def test_deferred_constraint_violated_at_commit_resets_with_platform_text():
    storage, db, _ = make()
    storage.sql.exec("CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE c(p REFERENCES p(id))")
    db.commit()
    storage.sql.exec("PRAGMA defer_foreign_keys = on")
    storage.sql.exec("INSERT INTO c VALUES (1)")
    with pytest.raises(JsException, match="constraints were violated: FOREIGN KEY constraint"):
        db.commit()
    assert storage.sql.exec("SELECT count(*) AS n FROM c").one().n == 0


def test_pragma_after_leading_whitespace_takes_effect_outside_transactions():
    storage, db, _ = make()
    storage.sql.exec("CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE c(p REFERENCES p(id))")
    db.commit()
    storage.sql.exec("\n    PRAGMA foreign_keys = OFF")
    storage.sql.exec("INSERT INTO c VALUES (1)")
    db.commit()
    assert storage.sql.exec("SELECT count(*) AS n FROM c").one().n == 1


def test_database_full_is_a_critical_error():
    storage, db, _ = make()
    storage.sql.exec("CREATE TABLE t(x)")
    db.commit()
    db.set_max_page_count_for_test(10)
    storage.sql.exec("INSERT INTO t VALUES (1)")
    full = "database or disk is full: SQLITE_FULL"
    assert error(storage.sql, "INSERT INTO t VALUES (randomblob(1000000))") == full
    assert error(storage.sql, "INSERT INTO t VALUES (2)") == full
    assert error(storage.sql, "INSERT INTO t VALUES (1)") == full  # a statement run before
    assert db.is_broken
    with pytest.raises(JsException, match=full):
        asyncio.run(storage.get("k"))
    with pytest.raises(JsException, match=full):
        db.commit()


def test_reset_after_critical_error_gives_working_storage():
    storage, db, _ = make()
    storage.sql.exec("CREATE TABLE t(x)")
    db.commit()
    db.set_max_page_count_for_test(10)
    with pytest.raises(JsException):
        storage.sql.exec("INSERT INTO t VALUES (randomblob(1000000))")
    db.rollback()  # the host resets the object
    db.set_max_page_count_for_test(1_000_000)
    storage.sql.exec("INSERT INTO t VALUES (1)")
    assert storage.sql.exec("SELECT count(*) AS n FROM t").one().n == 1


def test_delete_all_drops_sql_tables_and_kv():
    storage, db, _ = make()
    storage.sql.exec(
        "CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE c(p REFERENCES p(id));"
        "CREATE VIEW v AS SELECT * FROM p; CREATE INDEX i ON c(p);"
        "INSERT INTO p VALUES (1); INSERT INTO c VALUES (1); ANALYZE"
    )
    asyncio.run(storage.put("k", 1))
    db.commit()
    asyncio.run(storage.deleteAll())
    db.commit()
    names = {row["name"] for row in storage.sql.exec("SELECT name FROM sqlite_master")}
    assert names <= {"sqlite_stat1", "sqlite_stat4"} and asyncio.run(storage.list()) == {}


def test_delete_all_with_a_live_cursor_fails_like_a_locked_table():
    storage, _, _ = make()
    storage.sql.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2)")
    cursor = storage.sql.exec("SELECT x FROM t")
    cursor.next()
    with pytest.raises(JsException, match="locked"):
        asyncio.run(storage.deleteAll())


def test_cursor_is_the_sql_storage_cursor_type(sql):
    assert isinstance(sql.exec("SELECT 1"), SqlStorageCursor)


def test_python_sqlite_version_is_supported():
    assert sqlite3.sqlite_version_info >= (3, 35)
