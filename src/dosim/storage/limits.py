"""Storage limits and the platform's error texts, in one place.

Every number here is a limit Cloudflare enforces on Durable Object storage, next to the
message the platform raises when it is exceeded. Texts are copied character for character
from the runtime (workerd), typos included (``asyncronous``, ``directly,set``), because
app code and tests may match on them. ``{name}`` fields are filled with ``str.format``.

Where the documentation and the runtime disagree, the docstring of the constant says which
value dosim uses and why.
"""

from __future__ import annotations

__all__ = [
    "MAX_KEY_SIZE",
    "MAX_VALUE_SIZE",
    "VALUE_SIZE_CUSHION",
    "MAX_KEYS_PER_CALL",
    "SQLITE_MAX_ROW_SIZE",
    "SQLITE_LIMITS",
    "SQL_STATEMENT_CACHE_BYTES",
    "MAX_SAFE_INTEGER",
    "MSG_KEY_TOO_LARGE",
    "MSG_VALUE_TOO_LARGE",
    "MSG_TOO_MANY_KEYS",
    "MSG_TOO_BIG",
    "MSG_PUT_UNDEFINED",
    "MSG_PUT_USAGE",
    "MSG_LIST_START_AND_START_AFTER",
    "MSG_LIST_LIMIT",
    "MSG_DELETE_ALL_IN_TRANSACTION",
    "MSG_TXN_ROLLED_BACK",
    "MSG_TXN_COMMITTED",
    "MSG_NOT_SQL",
    "MSG_SQL_NOT_ENABLED",
    "MSG_SYNC_KV_NOT_ENABLED",
    "MSG_KV_LIST_INVALIDATED",
    "MSG_NO_STATEMENT",
    "MSG_WRONG_BINDINGS",
    "MSG_PRELUDE_BINDINGS",
    "MSG_TRANSACTION_SQL",
    "MSG_ONE_NO_RESULTS",
    "MSG_ONE_MULTIPLE_RESULTS",
    "MSG_CRITICAL_ERROR_TXN",
    "MSG_CONSTRAINTS_AT_COMMIT",
    "MSG_ALARM_TIME_NOT_POSITIVE",
    "MSG_ALARM_TIME_TYPE",
    "MSG_NO_PITR",
    "MSG_BINDING_TYPE",
    "MSG_BINDING_UNSAFE_INT",
    "MSG_KEY_TYPE",
]

# --- KV-backed classes (workerd actor-storage.{h,c++}) ------------------------------------

#: Largest key, in UTF-8 bytes, on KV-backed classes (checked on get, put and delete).
MAX_KEY_SIZE = 2048
#: Advertised largest value (V8-serialized size) on KV-backed classes: 128 KiB.
MAX_VALUE_SIZE = 128 * 1024
#: Extra bytes the runtime tolerates on top of :data:`MAX_VALUE_SIZE` for serializer tags.
VALUE_SIZE_CUSHION = 34
#: Keys or pairs per multi-key ``get``/``put``/``delete``. workerd's local cache counts
#: only multi-``get``; the docs state 128 for all three, which dosim enforces.
MAX_KEYS_PER_CALL = 128

MSG_KEY_TOO_LARGE = "Keys cannot be larger than 2048 bytes. A key of size {size} was provided."
MSG_VALUE_TOO_LARGE = (
    "Values cannot be larger than 131072 bytes. A value of size {size} was provided."
)
MSG_TOO_MANY_KEYS = "Maximum number of key value pairs is 128. {count} pairs were provided."

# --- SQLite-backed classes (docs: platform/limits; workerd util/sqlite.c++) -------------

#: Largest string, BLOB or row (key + value for the KV API) on SQLite-backed classes.
#: The docs say 2 MB; workerd HEAD raised ``SQLITE_LIMIT_LENGTH`` to 4 MiB. dosim uses
#: the documented value, read as 2 MiB (the runtime's value before the raise), so code
#: that passes here also passes in production.
SQLITE_MAX_ROW_SIZE = 2 * 1024 * 1024

#: ``sqlite3.SQLITE_LIMIT_*`` name -> value, applied with ``Connection.setlimit``.
#: Function arguments: docs say 32, workerd uses 127; dosim follows the docs (stricter).
SQLITE_LIMITS = {
    "SQLITE_LIMIT_LENGTH": SQLITE_MAX_ROW_SIZE,
    "SQLITE_LIMIT_SQL_LENGTH": 100_000,
    "SQLITE_LIMIT_COLUMN": 100,
    "SQLITE_LIMIT_EXPR_DEPTH": 100,
    "SQLITE_LIMIT_COMPOUND_SELECT": 5,
    "SQLITE_LIMIT_VDBE_OP": 25_000,
    "SQLITE_LIMIT_FUNCTION_ARG": 32,
    "SQLITE_LIMIT_ATTACHED": 0,
    "SQLITE_LIMIT_LIKE_PATTERN_LENGTH": 50,
    "SQLITE_LIMIT_VARIABLE_NUMBER": 100,
    "SQLITE_LIMIT_TRIGGER_DEPTH": 10,
    "SQLITE_LIMIT_WORKER_THREADS": 0,
}

#: Total SQL text kept in the per-object statement cache (workerd: 1 MiB, LRU).
SQL_STATEMENT_CACHE_BYTES = 1024 * 1024

#: Largest integer a JavaScript number holds exactly (``Number.MAX_SAFE_INTEGER``).
MAX_SAFE_INTEGER = 2**53 - 1

MSG_TOO_BIG = "string or blob too big: SQLITE_TOOBIG"

# --- async KV API (workerd api/actor-state.c++) -------------------------------------------

MSG_PUT_UNDEFINED = "put() called with undefined value."
MSG_PUT_USAGE = (
    "put() may only be called with a single key-value pair and optional options as "
    "put(key, value, options) or with multiple key-value pairs and optional options as "
    "put(entries, options)"
)
MSG_LIST_START_AND_START_AFTER = "list() cannot be called with both start and startAfter values."
MSG_LIST_LIMIT = "List limit must be positive."
MSG_DELETE_ALL_IN_TRANSACTION = "Cannot call deleteAll() within a transaction"
MSG_TXN_ROLLED_BACK = "Cannot {op} on rolled back transaction"
MSG_TXN_COMMITTED = (
    "Cannot call {op} on transaction that has already committed: did you move `txn` "
    "outside of the closure?"
)
MSG_NOT_SQL = "Durable Object is not backed by SQL."
#: The local runtime's text (production words it differently; dosim is a local runtime).
MSG_SQL_NOT_ENABLED = (
    "SQL is not enabled for this Durable Object class. To enable it, change `new_classes` "
    "to `new_sqlite_classes` within the 'migrations' field in your wrangler.jsonc or "
    "wrangler.toml file. If using workerd directly,set `enableSql = true` in your workerd "
    "config for the class. Note that this change cannot be made after the class is already "
    "deployed to production."
)
MSG_SYNC_KV_NOT_ENABLED = (
    "The storage.kv (synchronous KV) API is only available for SQLite-backed Durable "
    "Objects, but this object's namespace is not declared to use SQLite. You can use the "
    "older, asyncronous interface via methods of `storage` itself (e.g. `storage.get()`). "
    "Alternatively, to enable SQLite, change `new_classes` to `new_sqlite_classes` within "
    "the 'migrations' field in your wrangler.jsonc or wrangler.toml file. If using workerd "
    "directly, set `enableSql = true` in your workerd config for the class. Note that this "
    "change cannot be made after the class is already deployed to production."
)
MSG_KV_LIST_INVALIDATED = (
    "kv.list() iterator was invalidated because a new call to kv.list() was started. Only "
    "one kv.list() iterator can exist at a time."
)
MSG_NO_PITR = "This Durable Object's storage back-end does not implement point-in-time recovery."

# --- SQL API (workerd api/sql.c++, util/sqlite.c++, io/actor-sqlite.c++) ----------------

MSG_NO_STATEMENT = "SQL code did not contain a statement."
MSG_WRONG_BINDINGS = "Wrong number of parameter bindings for SQL query."
MSG_PRELUDE_BINDINGS = (
    "When executing multiple SQL statements in a single call, only the last statement can "
    "have parameters."
)
MSG_TRANSACTION_SQL = (
    "To execute a transaction, please use the state.storage.transaction() or "
    "state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT "
    "statements. The JavaScript API is safer because it will automatically roll back on "
    "exceptions, and because it interacts correctly with Durable Objects' automatic atomic "
    "write coalescing."
)
MSG_ONE_NO_RESULTS = "Expected exactly one result from SQL query, but got no results."
MSG_ONE_MULTIPLE_RESULTS = "Expected exactly one result from SQL query, but got multiple results."
MSG_CRITICAL_ERROR_TXN = "Cannot commit transaction due to an earlier SQL critical error"
MSG_CONSTRAINTS_AT_COMMIT = (
    "Durable Object was reset and rolled back to its last known good state because the "
    "application left the database in a state where constraints were violated: {message}"
)

# --- alarms (workerd api/actor-state.c++, io/worker.c++) ----------------------------------

MSG_ALARM_TIME_NOT_POSITIVE = "setAlarm() cannot be called with an alarm time <= 0"

# --- dosim's own words, where the platform's text is not known ---------------------------

#: setAlarm() with something that is neither a number nor a datetime (JS: a Date/number
#: conversion TypeError whose text dosim does not reproduce).
MSG_ALARM_TIME_TYPE = (
    "setAlarm() expects a number of milliseconds since the epoch or a datetime, got {type}."
)
#: A SQL binding of a type that has no SQL meaning (the platform would coerce it to a
#: string such as "[object Object]"; dosim refuses it so the bug shows up locally).
MSG_BINDING_TYPE = (
    "SQL bindings must be None, bool, int, float, str, bytes or memoryview; "
    "binding {index} is {type}."
)
#: An int a JS number cannot hold exactly (Pyodide would pass a BigInt, which SQL
#: bindings do not accept).
MSG_BINDING_UNSAFE_INT = (
    "SQL binding {index} is the integer {value}, outside the range a JavaScript number holds "
    "exactly (±9007199254740991); bind it as a str or float."
)
#: A storage key that is not a string.
MSG_KEY_TYPE = "Storage keys must be strings, got {type}."
