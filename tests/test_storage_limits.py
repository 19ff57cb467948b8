"""Storage limits (spec §5.3, §6.4) and their error texts."""

import asyncio

import pytest
from storage_host import FakeHost

from dosim.errors import JsException
from dosim.serialization import encode_value
from dosim.storage import DurableObjectStorage, ObjectDatabase, limits


def make(sql_enabled):
    return DurableObjectStorage(ObjectDatabase(sql_enabled=sql_enabled), FakeHost())


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def kv_backed():
    return make(sql_enabled=False)


@pytest.fixture
def sqlite_backed():
    return make(sql_enabled=True)


def value_of_size(size):
    """A str whose encoded (stored) size is exactly ``size`` bytes."""
    text = "x" * (size - len(encode_value("")))
    assert len(encode_value(text)) == size
    return text


# --- KV-backed classes ------------------------------------------------------------------------


def test_kv_key_of_2048_bytes_is_allowed(kv_backed):
    run(kv_backed.put("k" * 2048, 1))
    assert run(kv_backed.get("k" * 2048)) == 1


def test_kv_key_over_2048_bytes_raises_on_put(kv_backed):
    message = (
        r"^RangeError: Keys cannot be larger than 2048 bytes\. A key of size 2049 was provided\.$"
    )
    with pytest.raises(JsException, match=message):
        run(kv_backed.put("k" * 2049, 1))


def test_kv_key_size_counts_utf8_bytes(kv_backed):
    with pytest.raises(JsException, match="A key of size 2050 was provided"):
        run(kv_backed.put("é" * 1025, 1))


def test_kv_key_over_limit_raises_on_get(kv_backed):
    with pytest.raises(JsException, match="Keys cannot be larger than 2048 bytes"):
        run(kv_backed.get("k" * 3000))


def test_kv_key_over_limit_raises_on_delete(kv_backed):
    with pytest.raises(JsException, match="Keys cannot be larger than 2048 bytes"):
        run(kv_backed.delete("k" * 3000))


def test_kv_value_at_limit_plus_cushion_is_allowed(kv_backed):
    run(kv_backed.put("k", value_of_size(131072 + 34)))


def test_kv_value_over_limit_raises(kv_backed):
    size = 131072 + 35
    message = (
        rf"^RangeError: Values cannot be larger than 131072 bytes\. "
        rf"A value of size {size} was provided"
    )
    with pytest.raises(JsException, match=message):
        run(kv_backed.put("k", value_of_size(size)))


def test_kv_multi_get_over_128_keys_raises(kv_backed):
    message = r"^RangeError: Maximum number of key value pairs is 128\. 129 pairs were provided\.$"
    with pytest.raises(JsException, match=message):
        run(kv_backed.get([str(i) for i in range(129)]))


def test_kv_multi_get_of_128_keys_is_allowed(kv_backed):
    assert run(kv_backed.get([str(i) for i in range(128)])) == {}


def test_kv_multi_put_over_128_pairs_raises(kv_backed):
    with pytest.raises(JsException, match="129 pairs were provided"):
        run(kv_backed.put({str(i): i for i in range(129)}))


def test_kv_multi_delete_over_128_keys_raises(kv_backed):
    with pytest.raises(JsException, match="129 pairs were provided"):
        run(kv_backed.delete([str(i) for i in range(129)]))


def test_kv_multi_put_validates_every_pair_before_writing(kv_backed):
    entries = {"a": 1, "b": value_of_size(200_000), "c": 3}
    with pytest.raises(JsException, match="Values cannot be larger"):
        run(kv_backed.put(entries))
    assert run(kv_backed.list()) == {}


def test_kv_multi_put_with_unstorable_value_writes_nothing(kv_backed):
    with pytest.raises(TypeError):
        run(kv_backed.put({"a": 1, "b": (1,)}))
    assert run(kv_backed.list()) == {}


def test_kv_failed_put_does_not_open_a_transaction(kv_backed):
    # The SDK's storage wrapper passes the runtime's RangeError on unconverted.
    with pytest.raises(JsException) as caught:
        run(kv_backed.put("k" * 3000, 1))
    assert caught.value.name == "RangeError"
    assert kv_backed._host.pending_calls == 0


# --- SQLite-backed classes ----------------------------------------------------------------------


def test_sqlite_backed_has_no_2048_byte_key_limit(sqlite_backed):
    run(sqlite_backed.put("k" * 5000, 1))
    assert run(sqlite_backed.get("k" * 5000)) == 1


def test_sqlite_backed_has_no_128_key_limit(sqlite_backed):
    run(sqlite_backed.put({str(i): i for i in range(300)}))
    assert len(run(sqlite_backed.get([str(i) for i in range(300)]))) == 300


def test_sqlite_backed_allows_values_over_128_kib(sqlite_backed):
    run(sqlite_backed.put("k", value_of_size(1_000_000)))


def test_sqlite_backed_row_over_2_mib_raises_too_big(sqlite_backed):
    with pytest.raises(JsException, match=r"^Error: string or blob too big: SQLITE_TOOBIG$"):
        run(sqlite_backed.put("k", value_of_size(limits.SQLITE_MAX_ROW_SIZE)))


def test_sqlite_backed_row_limit_counts_key_and_value(sqlite_backed):
    # SQLite's record: 1-byte header size, 1-byte key type, 4-byte value type, key, value.
    fits = limits.SQLITE_MAX_ROW_SIZE - 6 - 1
    run(sqlite_backed.put("k", value_of_size(fits)))
    with pytest.raises(JsException, match="SQLITE_TOOBIG"):
        run(sqlite_backed.put("k", value_of_size(fits + 1)))


def test_sqlite_backed_row_limit_matches_sqlite_at_commit(sqlite_backed):
    fits = limits.SQLITE_MAX_ROW_SIZE - 6 - 1
    run(sqlite_backed.put("k", value_of_size(fits)))
    sqlite_backed._db.commit()
    assert len(encode_value(run(sqlite_backed.get("k")))) == fits


def test_sync_kv_put_enforces_the_row_limit(sqlite_backed):
    with pytest.raises(JsException, match="SQLITE_TOOBIG"):
        sqlite_backed.kv.put("k", value_of_size(limits.SQLITE_MAX_ROW_SIZE))


# --- SQL limits (spec §6.4) ---------------------------------------------------------------------


def sql_error(storage, query, *bindings):
    with pytest.raises(JsException) as info:
        storage.sql.exec(query, *bindings)
    return info.value.message


def test_sql_string_over_length_limit_raises_too_big(sqlite_backed):
    message = sql_error(sqlite_backed, "SELECT ?", "x" * (limits.SQLITE_MAX_ROW_SIZE + 1))
    assert message == "string or blob too big: SQLITE_TOOBIG"


def test_sql_computed_blob_over_length_limit_raises_too_big(sqlite_backed):
    message = sql_error(sqlite_backed, f"SELECT zeroblob({limits.SQLITE_MAX_ROW_SIZE + 1})")
    assert message == "string or blob too big: SQLITE_TOOBIG"


def test_sql_statement_over_100000_bytes_raises(sqlite_backed):
    query = "SELECT 1 /*" + "x" * 100_000 + "*/"
    assert sql_error(sqlite_backed, query) == "statement too long: SQLITE_TOOBIG"


def test_sql_more_than_100_columns_raises(sqlite_backed):
    columns = ", ".join(f"c{i}" for i in range(101))
    assert sql_error(sqlite_backed, f"CREATE TABLE wide({columns})").startswith("too many columns")


def test_sql_100_columns_are_allowed(sqlite_backed):
    columns = ", ".join(f"c{i}" for i in range(100))
    sqlite_backed.sql.exec(f"CREATE TABLE wide({columns})")


def test_sql_more_than_100_bound_parameters_raise(sqlite_backed):
    query = "SELECT " + ", ".join("?" * 101)
    assert sql_error(sqlite_backed, query, *range(101)).startswith("too many SQL variables")


def test_sql_more_than_5_compound_terms_raise(sqlite_backed):
    query = " UNION ALL ".join(f"SELECT {i}" for i in range(6))
    assert sql_error(sqlite_backed, query).startswith("too many terms in compound SELECT")


def test_sql_5_compound_terms_are_allowed(sqlite_backed):
    query = " UNION ALL ".join(f"SELECT {i}" for i in range(5))
    assert len(sqlite_backed.sql.exec(query).toArray()) == 5


def test_sql_like_pattern_over_50_bytes_raises(sqlite_backed):
    message = sql_error(sqlite_backed, "SELECT 'a' LIKE ?", "a" * 51)
    assert message.startswith("LIKE or GLOB pattern too complex")


def test_sql_expression_deeper_than_100_raises(sqlite_backed):
    query = "SELECT " + " + ".join("1" * 101)
    assert "Expression tree is too large" in sql_error(sqlite_backed, query)


def test_sql_function_with_more_than_32_arguments_raises(sqlite_backed):
    query = "SELECT max(" + ", ".join("1" * 33) + ")"
    assert sql_error(sqlite_backed, query).startswith("too many arguments on function max")


def test_sql_trigger_recursion_deeper_than_10_raises(sqlite_backed):
    sqlite_backed.sql.exec(
        "PRAGMA recursive_triggers = on; CREATE TABLE t(n);"
        " CREATE TRIGGER again AFTER INSERT ON t WHEN new.n < 50"
        " BEGIN INSERT INTO t VALUES (new.n + 1); END"
    )
    assert "too many levels of trigger recursion" in sql_error(
        sqlite_backed, "INSERT INTO t VALUES (0)"
    )


def test_sql_attach_is_refused(sqlite_backed):
    assert sql_error(sqlite_backed, "ATTACH ':memory:' AS other") == "not authorized: SQLITE_AUTH"


def test_limits_table_uses_documented_values():
    assert limits.SQLITE_LIMITS["SQLITE_LIMIT_LENGTH"] == 2 * 1024 * 1024
    assert limits.SQLITE_LIMITS["SQLITE_LIMIT_FUNCTION_ARG"] == 32
    assert limits.SQLITE_LIMITS["SQLITE_LIMIT_ATTACHED"] == 0
