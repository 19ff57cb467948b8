"""Interleavings found in review, pinned so they stay fixed."""

import asyncio
import time

import pytest

from dosim import App, JsException
from dosim.testing import evict_durable_object
from workers import DurableObject


class AlarmDuringTransaction(DurableObject):
    gate: asyncio.Event

    async def arm(self):
        await self.ctx.storage.setAlarm(time.time() * 1000 + 1000)

    async def long_transaction(self):
        async def body(txn):
            await txn.put("x", 1)
            await type(self).gate.wait()  # a non-storage await inside the transaction
            raise ValueError("transaction body failed")

        await self.ctx.storage.transaction(body)

    async def alarm(self, info):
        runs = (await self.ctx.storage.get("runs") or []) + [await self.ctx.storage.getAlarm()]
        await self.ctx.storage.put("runs", runs)

    async def runs(self):
        return await self.ctx.storage.get("runs")


async def test_alarm_firing_during_a_transaction_runs_once_and_sees_no_alarm():
    AlarmDuringTransaction.gate = asyncio.Event()
    app = App(None, {"A": AlarmDuringTransaction})
    stub = app.env.A.getByName("a")
    await stub.arm()
    call = asyncio.ensure_future(stub.long_transaction())
    await asyncio.sleep(0)
    advancing = asyncio.ensure_future(app.advance(1))
    for _ in range(20):
        await asyncio.sleep(0)
    AlarmDuringTransaction.gate.set()
    with pytest.raises(JsException, match="\nValueError: transaction body failed\n"):
        await call
    await advancing
    await app.advance(60)
    assert await stub.runs() == [None]
    assert len(app.trace.filter("alarm.fire")) == 1


class Big(DurableObject):
    async def setup(self):
        self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t(x)")

    async def fill(self):
        self.ctx.storage.sql.exec("INSERT INTO t VALUES (randomblob(1000000))")

    async def ping(self):
        return await self.ctx.storage.get("k")


async def test_database_full_resets_the_object_and_a_new_stub_works():
    app = App(None, {"B": Big})
    stub = app.env.B.getByName("b")
    await stub.setup()
    app.host_of(stub).database.set_max_page_count_for_test(10)
    with pytest.raises(Exception, match="SQLITE_FULL"):
        await stub.fill()
    app.host_of(stub).database.set_max_page_count_for_test(1_000_000)
    assert await app.env.B.getByName("b").ping() is None
    assert app.trace.filter("reset")[0].detail["reason"] == "commit failed"


class Named(DurableObject):
    async def my_name(self):
        return self.ctx.id.name


async def test_each_instance_sees_the_id_that_woke_it():
    app = App(None, {"N": Named})
    by_string = app.env.N.get(app.env.N.idFromString(app.env.N.idFromName("e").toString()))
    assert await by_string.my_name() is None
    evict_durable_object(by_string)
    assert await app.env.N.getByName("e").my_name() == "e"


class Background(DurableObject):
    async def start(self):
        async def later():
            await asyncio.sleep(0.01)
            await self.ctx.storage.put("late", True)

        self.ctx.waitUntil(later())

    async def keys(self):
        return list(await self.ctx.storage.list())


async def test_explicit_eviction_cancels_the_old_instances_background_work():
    app = App(None, {"B": Background})
    stub = app.env.B.getByName("b")
    await stub.start()
    assert evict_durable_object(stub) is True
    await asyncio.sleep(0.02)
    assert await stub.keys() == []


class HeldBackground(DurableObject):
    release: asyncio.Event

    async def start(self):
        async def later():
            await HeldBackground.release.wait()  # in progress until the test says so
            await self.ctx.storage.put("late", True)

        self.ctx.waitUntil(later())

    async def keys(self):
        return list(await self.ctx.storage.list())


async def test_idle_eviction_waits_for_background_work():
    HeldBackground.release = asyncio.Event()
    app = App(None, {"B": HeldBackground})
    stub = app.env.B.getByName("b")
    await stub.start()
    await app.advance(10)
    assert app.trace.filter("eviction") == []
    HeldBackground.release.set()
    await app.advance(10)
    assert len(app.trace.filter("eviction")) == 1
    assert await stub.keys() == ["late"]


async def test_module_level_from_time_import_sees_virtual_time(tmp_path):
    (tmp_path / "worker.py").write_text(
        "from time import time\n"
        "from datetime import datetime\n"
        "from workers import DurableObject, WorkerEntrypoint, Response\n"
        "class Default(WorkerEntrypoint):\n"
        "    async def fetch(self, request):\n"
        "        return Response(f'{time()} {datetime.now().isoformat()}')\n"
    )
    (tmp_path / "wrangler.toml").write_text(
        'name = "clock"\nmain = "worker.py"\ncompatibility_date = "2025-11-01"\n'
        'compatibility_flags = ["python_workers"]\n'
    )
    app = App.from_config(tmp_path)
    await app.advance(30)
    response = await app.fetch("/")
    assert await response.text() == "1735689630.0 2025-01-01T00:00:30"


class Keeper(DurableObject):
    async def bump(self):
        value = (await self.ctx.storage.get("n") or 0) + 1
        await self.ctx.storage.put("n", value)
        return value


async def test_on_disk_objects_close_their_database_when_evicted(tmp_path):
    app = App(None, {"K": Keeper}, persist_to=tmp_path)
    stub = app.env.K.getByName("k")
    assert await stub.bump() == 1
    host = app.host_of(stub)
    await app.advance(10)
    assert host._database is None
    assert await stub.bump() == 2
    app.close()


def test_fresh_load_reimports_sibling_modules(tmp_path):
    from dosim.loader import load_main_module

    (tmp_path / "helper.py").write_text("VALUE = 1\n")
    (tmp_path / "worker.py").write_text("from helper import VALUE\n")
    assert load_main_module(tmp_path / "worker.py").VALUE == 1
    (tmp_path / "helper.py").write_text("VALUE = 22\n")  # another size: no stale .pyc
    assert load_main_module(tmp_path / "worker.py", fresh=True).VALUE == 22
