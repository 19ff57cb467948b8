"""Object databases on disk: no file before the first write, closed at rest, a bounded pool.

An app on ``persist_to`` keeps one SQLite file per object (three file descriptors while
open). These tests hold the rules of :mod:`dosim.storage.pool` and the scratch database
of :mod:`dosim.storage.database`: what creates a file, what keeps a connection open, and
that closing and reopening changes nothing an object can see.
"""

import os
import sqlite3
import sys

import pytest

from dosim import App
from dosim.storage import ObjectDatabase
from dosim.storage.pool import DatabasePool, default_limit
from workers import DurableObject

if sys.platform == "emscripten":
    pytest.skip("file-backed objects need a real file system", allow_module_level=True)


class Box(DurableObject):
    async def put(self, value):
        await self.ctx.storage.put("value", value)

    async def get(self):
        return await self.ctx.storage.get("value")

    def kv_put(self, value):
        self.ctx.storage.kv.put("value", value)

    def select(self, text):
        return [list(row.values()) for row in self.ctx.storage.sql.exec(text)]

    def run(self, text, *args):
        return self.ctx.storage.sql.exec(text, *args).rowsWritten

    async def remind(self, at):
        await self.ctx.storage.setAlarm(at)

    async def hello(self):
        return "hi"

    async def alarm(self):
        pass


def _app(tmp_path, **options):
    return App(None, {"BOX": Box}, persist_to=tmp_path, **options)


def _file(app, name):
    return app.host_of(("BOX", name)).app.database_path(
        app.namespaces["BOX"], app.env.BOX.idFromName(name).toString()
    )


def _open_files(app):
    return len(app.database_pool)


# -- no file before the first write --------------------------------------------------------
async def test_an_object_that_only_reads_or_does_nothing_leaves_no_file(tmp_path):
    app = _app(tmp_path)
    assert await app.env.BOX.getByName("reader").get() is None
    assert await app.env.BOX.getByName("idle").hello() == "hi"
    assert await app.env.BOX.getByName("sql").select("SELECT 1 AS one, 'x' AS two") == [[1, "x"]]
    assert list(tmp_path.rglob("*")) == []
    assert [view.live for view in app.objects()] == [True, True, True]
    await app.advance(30)  # every instance evicted: nothing stored, nothing listed
    assert app.objects() == []
    assert list(tmp_path.rglob("*")) == []
    app.close()


@pytest.mark.parametrize(
    "write",
    [
        lambda box: box.put(1),
        lambda box: box.kv_put(1),
        lambda box: box.run("CREATE TABLE t(x)"),
        lambda box: box.remind(1_800_000_000_000),
    ],
    ids=["storage.put", "kv.put", "sql CREATE TABLE", "setAlarm"],
)
async def test_the_first_write_creates_the_file_and_commits_there(tmp_path, write):
    app = _app(tmp_path)
    box = app.env.BOX.getByName("w")
    await box.get()
    assert not os.path.exists(_file(app, "w"))
    await write(box)
    path = _file(app, "w")
    assert os.path.exists(path)
    app.close()
    again = _app(tmp_path)
    assert again.open_stored_objects().objects == 1
    assert [view.name for view in again.objects()] == [None]  # listed (names are dev's)
    again.close()


async def test_sql_that_writes_on_first_sight_runs_on_the_file_once(tmp_path):
    app = _app(tmp_path)
    box = app.env.BOX.getByName("s")
    # Never seen before: dosim learns whether it writes by running it (on the scratch
    # database here), then runs it again on the file; the row is written exactly once.
    assert await box.run("CREATE TABLE t(x); INSERT INTO t VALUES (1)") == 1
    assert await box.select("SELECT count(*) FROM t") == [[1]]
    app.close()
    with sqlite3.connect(_file(app, "s")) as conn:
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]


# -- closed at rest, reopened on use ---------------------------------------------------------
async def test_the_pool_keeps_at_most_its_limit_open_and_objects_see_no_difference(tmp_path):
    app = _app(tmp_path, max_open_databases=3)
    for n in range(20):
        await app.env.BOX.getByName(f"b{n}").put(n)
        assert _open_files(app) <= 3
    # The instances are all still in memory; their files were closed and reopen on use.
    assert all(view.live for view in app.objects())
    for n in range(20):
        assert await app.env.BOX.getByName(f"b{n}").get() == n
        await app.env.BOX.getByName(f"b{n}").put(n + 100)
        assert _open_files(app) <= 3
    app.close()
    again = _app(tmp_path, max_open_databases=3)
    assert again.open_stored_objects().objects == 20
    assert _open_files(again) <= 3
    assert [await again.env.BOX.getByName(f"b{n}").get() for n in range(20)] == [
        n + 100 for n in range(20)
    ]
    again.close()


async def test_eviction_closes_the_file_and_the_object_stays_listed(tmp_path):
    app = _app(tmp_path)
    await app.env.BOX.getByName("kept").put("x")
    await app.env.BOX.getByName("read").get()
    assert _open_files(app) == 1
    await app.advance(30)
    assert _open_files(app) == 0
    views = {view.name: view for view in app.objects()}
    assert list(views) == ["kept"] and not views["kept"].live
    assert views["kept"].kv()["entries"][0]["value"] == '"x"'
    app.close()


async def test_a_busy_object_keeps_its_connection(tmp_path):
    app = _app(tmp_path, max_open_databases=1)
    await app.env.BOX.getByName("a").put(1)
    a = app.host_of(("BOX", "a"))

    async def busy(instance, ctx):
        ctx.storage.kv.put("k", "pending")  # an open transaction, in an event
        await app.env.BOX.getByName("b").put(2)  # opens another file: over the limit
        assert ctx.storage.kv.get("k") == "pending"
        return a.database.is_open, a.database in app.database_pool

    assert await app.run_in_object(("BOX", "a"), busy) == (True, True)
    assert _open_files(app) == 1
    assert await app.env.BOX.getByName("a").get() == 1
    assert await app.env.BOX.getByName("b").get() == 2
    app.close()
    with sqlite3.connect(_file(app, "a")) as conn:
        assert conn.execute("SELECT key FROM _cf_KV ORDER BY key").fetchall() == [
            ("k",),
            ("value",),
        ]


def test_a_database_with_a_cursor_being_read_stays_open(tmp_path):
    path = str(tmp_path / "one.sqlite")
    database = ObjectDatabase(path, sql_enabled=True)
    database.begin_write()
    database.conn.execute("CREATE TABLE t(x)")
    database.conn.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(5)])
    database.commit()

    class Reader:
        def __init__(self, cursor):
            self.cursor = cursor

        @property
        def reading(self):
            return self.cursor is not None

    reader = Reader(database.conn.execute("SELECT x FROM t"))
    database.readers.add(reader)
    assert not database.release()
    assert reader.cursor.fetchall() == [(n,) for n in range(5)]
    reader.cursor = None
    assert database.release() and not database.is_open
    assert database.conn.execute("SELECT count(*) FROM t").fetchone() == (5,)  # reopened
    assert database.is_open
    database.close()


def test_uncommitted_writes_keep_the_connection_and_nothing_is_lost(tmp_path):
    path = str(tmp_path / "one.sqlite")
    database = ObjectDatabase(path, sql_enabled=True)
    database.begin_write()
    database.kv.put("a", b"1")
    assert not database.release()
    database.commit()
    assert database.release()
    assert database.kv.get("a") == b"1"
    database.close()


def test_settings_app_sql_changed_survive_a_reopen(tmp_path):
    path = str(tmp_path / "one.sqlite")
    database = ObjectDatabase(path, sql_enabled=True)
    database.begin_write()
    database.conn.execute("CREATE TABLE t(x)")
    database.commit()
    database.conn.execute("PRAGMA foreign_keys=OFF")
    database.conn.execute("PRAGMA case_sensitive_like=ON")
    database.set_max_page_count_for_test(50)
    assert database.release()
    conn = database.reopen()
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (0,)
    assert conn.execute("SELECT 'a' LIKE 'A'").fetchone() == (0,)
    assert conn.execute("PRAGMA max_page_count").fetchone() == (50,)
    database.close()


def test_an_in_memory_database_is_never_released():
    database = ObjectDatabase(None, sql_enabled=True)
    database.begin_write()
    database.kv.put("a", b"1")
    database.commit()
    assert not database.release()
    assert database.kv.get("a") == b"1"


# -- the pool itself -------------------------------------------------------------------------
def _pool(limit, busy, closed):
    pool = DatabasePool(limit)

    def open_(key):
        def release():
            if key in busy:
                return False
            closed.append(key)
            return True

        pool.opened(key, release)

    return pool, open_


def test_the_pool_closes_least_recently_used_first():
    closed = []
    pool, open_ = _pool(2, set(), closed)
    open_("a")
    open_("b")
    pool.used("a")  # b is now the least recently used
    open_("c")
    assert closed == ["b"] and len(pool) == 2 and "a" in pool and "c" in pool


def test_the_pool_skips_busy_databases_and_trims_once_they_rest():
    closed, busy = [], {"a"}
    pool, open_ = _pool(1, busy, closed)
    open_("a")
    open_("b")  # over the limit, but "a" is busy and "b" is the one being opened
    assert closed == [] and pool.over
    busy.clear()
    assert pool.trim() == 1
    assert closed == ["a"] and not pool.over


def test_the_default_limit_follows_the_file_descriptor_limit():
    assert 8 <= default_limit() <= 256
