"""What SQL app code may run: the SQLite authorizer of a Durable Object database.

Cloudflare runs every ``sql.exec()`` statement through an SQLite authorizer callback
(workerd ``util/sqlite.c++``, ``SqliteDatabase::isAuthorized``). dosim installs the same
rules with :meth:`sqlite3.Connection.set_authorizer`:

- allowed: SELECT (with recursive CTEs), INSERT/UPDATE/DELETE, CREATE/DROP of tables,
  views, indexes and triggers, ALTER TABLE, ANALYZE, REINDEX, and virtual tables using
  ``fts5``, ``fts5vocab``, ``rtree`` or ``rtree_i32``;
- denied: ATTACH/DETACH, every TEMP object, other virtual tables, pragmas outside the
  allowlist, functions outside the allowlist (``not authorized to use function: X``) and
  any table, index, trigger or view whose name starts with ``_cf_`` (case-insensitive),
  including reading the hidden ``_cf_KV`` table (``access to _cf_KV.key is prohibited``);
- transactions (``BEGIN``, ``COMMIT``, ``ROLLBACK``, ``SAVEPOINT``, ``RELEASE``) fail with
  the platform's text pointing at ``transaction()`` / ``transactionSync()``.

dosim's own statements (the hidden KV table, savepoints, alarm metadata) run *trusted*:
the authorizer allows everything unless :attr:`SqlAuthorizer.user` is set, which
:mod:`dosim.storage.sql` does only while app SQL is being prepared and first stepped.

Where dosim differs: stock SQLite does not pass the destination name of ``ALTER TABLE ...
RENAME TO`` to the authorizer (workerd patches SQLite to do so), so dosim reads it from the
statement text. Pragma names are matched as written, as workerd does, so ``PRAGMA
FOREIGN_KEYS`` (upper case) is refused like on the platform.
"""

from __future__ import annotations

import re
import sqlite3

from ..errors import platform_error
from .limits import MSG_TRANSACTION_SQL

__all__ = ["SqlAuthorizer", "ALLOWED_FUNCTIONS", "ALLOWED_PRAGMAS"]

_OK = sqlite3.SQLITE_OK
_DENY = sqlite3.SQLITE_DENY

#: SQL functions app code may call (workerd ``ALLOWED_SQLITE_FUNCTIONS``).
ALLOWED_FUNCTIONS = frozenset(
    """
    abs changes char coalesce concat concat_ws format glob hex ifnull iif instr
    last_insert_rowid length like likelihood likely load_extension lower ltrim max_scalar
    min_scalar nullif octet_length printf quote random randomblob replace round rtrim sign
    soundex substr substring total_changes trim typeof unhex unicode unlikely upper zeroblob
    date time datetime julianday unixepoch strftime timediff current_date current_time
    current_timestamp
    avg count group_concat max min string_agg sum total
    row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value
    nth_value
    acos acosh asin asinh atan atan2 atanh ceil cos cosh degrees exp floor ln log log2 mod pi
    pow radians sin sinh sqrt tan tanh trunc
    json jsonb json_array jsonb_array json_array_length json_extract jsonb_extract -> ->>
    json_insert jsonb_insert json_object jsonb_object json_patch jsonb_patch json_remove
    jsonb_remove json_replace jsonb_replace json_set jsonb_set json_type json_valid
    json_quote json_group_array jsonb_group_array json_group_object jsonb_group_object
    json_each json_tree
    match highlight bm25 snippet rtreecheck
    sqlite_rename_column sqlite_rename_table sqlite_rename_test sqlite_drop_column
    sqlite_rename_quotefix
    """.split()
)

# Pragma argument shapes (workerd ``PragmaSignature``).
_NO_ARG, _BOOLEAN, _OBJECT, _OPTIONAL_OBJECT, _NUMBER, _NUMBER_OR_OBJECT = range(6)

#: Pragmas app code may run, with the argument each accepts (workerd ``ALLOWED_PRAGMAS``,
#: plus ``table_list``/``table_info``/``table_xinfo`` handled separately there).
ALLOWED_PRAGMAS = {
    "data_version": _NO_ARG,
    "page_size": _NO_ARG,
    "case_sensitive_like": _BOOLEAN,
    "foreign_keys": _BOOLEAN,
    "defer_foreign_keys": _BOOLEAN,
    "ignore_check_constraints": _BOOLEAN,
    "legacy_alter_table": _BOOLEAN,
    "recursive_triggers": _BOOLEAN,
    "reverse_unordered_selects": _BOOLEAN,
    "foreign_key_check": _OPTIONAL_OBJECT,
    "foreign_key_list": _OBJECT,
    "index_info": _OBJECT,
    "index_list": _OBJECT,
    "index_xinfo": _OBJECT,
    "quick_check": _NUMBER_OR_OBJECT,
    "optimize": _NUMBER,
}

_BOOLEAN_WORDS = ("true", "false", "yes", "no", "on", "off", "1", "0")
_VTABLE_MODULES = frozenset(("fts5", "fts5vocab", "rtree", "rtree_i32"))
_RENAME_TO = re.compile(
    r"\bRENAME\s+TO\s+(?:\"([^\"]*)\"|`([^`]*)`|\[([^\]]*)\]|'([^']*)'|(\w+))", re.IGNORECASE
)

# Action codes after which a statement counts as a write (it opens the implicit
# transaction and holds the output gate). Reads, pragmas and functions do not.
_WRITE_ACTIONS = frozenset(
    getattr(sqlite3, name)
    for name in (
        "SQLITE_INSERT",
        "SQLITE_UPDATE",
        "SQLITE_DELETE",
        "SQLITE_CREATE_INDEX",
        "SQLITE_CREATE_TABLE",
        "SQLITE_CREATE_TRIGGER",
        "SQLITE_CREATE_VIEW",
        "SQLITE_DROP_INDEX",
        "SQLITE_DROP_TABLE",
        "SQLITE_DROP_TRIGGER",
        "SQLITE_DROP_VIEW",
        "SQLITE_ALTER_TABLE",
        "SQLITE_REINDEX",
        "SQLITE_ANALYZE",
        "SQLITE_CREATE_VTABLE",
        "SQLITE_DROP_VTABLE",
    )
)


def _allowed_name(name: str | None) -> bool:
    """Return whether app SQL may touch an object called ``name`` (not ``_cf_*``)."""
    return name is None or name[:4].lower() != "_cf_"


_C_INTEGER = re.compile(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\Z")


def _is_int(text: str, unsigned: bool = False) -> bool:
    """Parse like kj's ``tryParseAs<int32_t/uint>`` (C ``strtoll`` base 0: 10, 0x.., 0..)."""
    match = _C_INTEGER.match(text)
    if match is None or (unsigned and match.group(1) == "-"):
        return False
    digits = match.group(2)
    base = 16 if digits[:2] in ("0x", "0X") else 8 if digits[:1] == "0" else 10
    value = int(match.group(1) + (digits.lstrip("0xX") or "0"), base)
    return 0 <= value < 2**32 if unsigned else -(2**31) <= value < 2**31


class SqlAuthorizer:
    """The authorizer callback installed on every object database.

    Call it as SQLite does (``callback(action, arg1, arg2, db_name, trigger)``). With
    :attr:`user` false (the default) everything is allowed: that is dosim's own trusted
    SQL. With :attr:`user` true the platform's rules apply.

    Attributes:
        user: True while app SQL is being prepared.
        calls: How many times the callback ran since :meth:`start` (0 means SQLite reused
            a cached prepared statement, so nothing was authorized).
        wrote: Whether an authorized action writes to the database.
        error: A tailored error to raise instead of SQLite's ``not authorized`` (set for
            transaction statements), or None.
        statement: Text of the statement being prepared (to read ``RENAME TO`` targets).
    """

    __slots__ = ("user", "calls", "wrote", "error", "statement")

    def __init__(self) -> None:
        self.user = False
        self.calls = 0
        self.wrote = False
        self.error: Exception | None = None
        self.statement = ""

    def start(self, statement: str) -> None:
        """Enter user mode for ``statement`` and reset the per-statement observations.

        Args:
            statement: The app SQL about to be prepared (searched for a ``RENAME TO`` target).
        """
        self.user = True
        self.calls = 0
        self.wrote = False
        self.error = None
        self.statement = statement

    def __call__(self, action, arg1, arg2, db_name, trigger) -> int:
        """Answer SQLite: ``SQLITE_OK`` or ``SQLITE_DENY`` for one action of a statement."""
        if not self.user:
            return _OK
        self.calls += 1
        if action in _WRITE_ACTIONS:
            self.wrote = True
        return _OK if self._authorize(action, arg1, arg2, db_name) else _DENY

    def _authorize(self, action, arg1, arg2, db_name) -> bool:
        """Mirror workerd's ``SqliteDatabase::isAuthorized`` for untrusted SQL."""
        if action in (sqlite3.SQLITE_ALTER_TABLE, sqlite3.SQLITE_DETACH):
            # SQLite passes the database name first for these two; workerd swaps it back.
            arg1, db_name = arg2, arg1
            arg2 = None
        if db_name == "temp":
            return action in (sqlite3.SQLITE_READ, sqlite3.SQLITE_UPDATE) and _allowed_name(arg1)
        if db_name is not None and db_name != "main":
            return False
        if action in _SIMPLE_NAME_ACTIONS:
            return _allowed_name(arg1)
        if action in _TWO_NAME_ACTIONS:
            return _allowed_name(arg1) and _allowed_name(arg2)
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_ANALYZE, sqlite3.SQLITE_RECURSIVE):
            return True
        if action == sqlite3.SQLITE_FUNCTION:
            return arg2 in ALLOWED_FUNCTIONS
        if action == sqlite3.SQLITE_PRAGMA:
            return self._authorize_pragma(arg1, arg2)
        if action == sqlite3.SQLITE_ALTER_TABLE:
            return _allowed_name(arg1) and _allowed_name(self._rename_target())
        if action in (sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT):
            self.error = platform_error("Error", MSG_TRANSACTION_SQL)
            return False
        if action in (sqlite3.SQLITE_CREATE_VTABLE, sqlite3.SQLITE_DROP_VTABLE):
            return (arg2 or "").lower() in _VTABLE_MODULES and _allowed_name(arg1)
        return False  # ATTACH, DETACH, TEMP objects, COPY, anything unknown

    def _authorize_pragma(self, name: str, arg: str | None) -> bool:
        if name == "table_list":
            return True
        if name in ("table_info", "table_xinfo"):
            return arg is not None and _allowed_name(arg)
        signature = ALLOWED_PRAGMAS.get(name)
        if signature is None:
            return False
        if signature == _NO_ARG:
            return arg is None
        if arg is None:
            return signature != _OBJECT
        if signature == _BOOLEAN:
            if len(arg) >= 2 and arg[0] in "'\"" and arg[-1] == arg[0]:
                arg = arg[1:-1]
            # workerd compares prefixes (strncasecmp), so "onward" passes as "on".
            return arg.lower().startswith(_BOOLEAN_WORDS)
        if signature == _NUMBER:
            return _is_int(arg)
        if signature == _NUMBER_OR_OBJECT:
            return _is_int(arg, unsigned=True) or _allowed_name(arg)
        return _allowed_name(arg)

    def _rename_target(self) -> str | None:
        match = _RENAME_TO.search(self.statement)
        if match is None:
            return None
        return next(group for group in match.groups() if group is not None)


_SIMPLE_NAME_ACTIONS = frozenset(
    (
        sqlite3.SQLITE_CREATE_TABLE,
        sqlite3.SQLITE_DELETE,
        sqlite3.SQLITE_DROP_TABLE,
        sqlite3.SQLITE_INSERT,
        sqlite3.SQLITE_CREATE_VIEW,
        sqlite3.SQLITE_DROP_VIEW,
        sqlite3.SQLITE_REINDEX,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_UPDATE,
    )
)
_TWO_NAME_ACTIONS = frozenset(
    (
        sqlite3.SQLITE_CREATE_INDEX,
        sqlite3.SQLITE_DROP_INDEX,
        sqlite3.SQLITE_CREATE_TRIGGER,
        sqlite3.SQLITE_DROP_TRIGGER,
    )
)
