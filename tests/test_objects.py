"""The read model: App.objects(), find_object() and what an ObjectView reads."""

import pytest

from dosim import App
from dosim.testing import list_durable_object_ids
from js import WebSocketPair
from workers import DurableObject, Response, WorkerEntrypoint


class Notes(DurableObject):
    async def note(self, key, value):
        await self.ctx.storage.put(key, value)

    def add_row(self, text):
        self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rows(id INTEGER PRIMARY KEY, t)")
        self.ctx.storage.sql.exec("INSERT INTO rows(t) VALUES (?)", text)

    async def remind(self, at):
        await self.ctx.storage.setAlarm(at)

    async def hello(self):
        return "hi"

    async def fetch(self, request):
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        return Response(None, status=101, web_socket=client)

    async def alarm(self):
        pass


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await self.env.NOTES.getByName("ws").fetch(request)


def _app(tmp_path=None):
    return App(Default, {"NOTES": Notes}, persist_to=tmp_path)


async def test_a_stub_alone_creates_no_object():
    app = _app()
    app.env.NOTES.getByName("a")
    assert app.objects() == []


async def test_views_list_objects_in_creation_order_with_their_facts():
    app = _app()
    await app.env.NOTES.getByName("b").hello()
    await app.env.NOTES.getByName("a").remind(app.clock.now_ms() + 5_000)
    views = app.objects()
    assert [v.name for v in views] == ["b", "a"]
    b, a = views
    assert (a.binding, a.class_name, a.backend, a.live) == ("NOTES", "Notes", "sqlite", True)
    assert a.alarm == app.clock.now_ms() + 5_000 and b.alarm is None
    assert a.hex_id == a.id.toString() and len(a.hex_id) == 64
    await app.advance(30)
    assert [v.live for v in app.objects("NOTES")] == [False, False]


async def test_views_read_kv_entries_and_sql_tables_paged():
    app = _app()
    stub = app.env.NOTES.getByName("n")
    for i in range(3):
        await stub.note(f"k{i}", {"i": i})
    await stub.add_row("one")
    await stub.add_row("two")
    view = app.find_object("NOTES", stub.id.toString())
    page = view.kv(offset=1, limit=1)
    assert page["total"] == 3 and [e["key"] for e in page["entries"]] == ["k1"]
    assert page["entries"][0]["value"] == '{"i": 1}'
    assert view.tables() == [{"name": "rows", "rows": 2}]
    rows = view.table("rows", offset=1, limit=5)
    assert rows["columns"] == ["id", "t"] and rows["rows"] == [[2, "two"]]
    assert view.table("_cf_KV") is None and view.table("missing") is None


async def test_file_backed_views_read_committed_data_after_eviction(tmp_path):
    app = _app(tmp_path)
    stub = app.env.NOTES.getByName("disk")
    await stub.note("k", "v")
    await app.advance(30)  # evicted: the object's own database is closed
    (view,) = app.objects()
    assert not view.live
    (entry,) = view.kv()["entries"]
    assert (entry["key"], entry["value"]) == ("k", '"v"')
    app.close()


async def test_views_count_open_hibernatable_sockets():
    app = _app()
    client = await app.connect("/")
    (view,) = app.objects()
    assert view.sockets == 1
    await client.close()
    assert app.objects()[0].sockets == 0


async def test_unknown_bindings_and_ids():
    app = _app()
    with pytest.raises(LookupError):
        app.objects("NOPE")
    assert app.find_object("NOTES", "0" * 64) is None


async def test_views_by_namespace_binding_and_list_ids():
    app = _app()
    await app.env.NOTES.getByName("x").hello()
    expected = [app.env.NOTES.idFromName("x").toString()]
    assert [i.toString() for i in list_durable_object_ids(app.env.NOTES)] == expected
    assert [v.hex_id for v in app.objects(app.env.NOTES)] == expected
    other = _app()
    with pytest.raises(LookupError):
        app.objects(other.env.NOTES)


async def test_namespace_views():
    app = App(None, {"NOTES": Notes, "OLD": Notes}, kv_classes=["Notes"])
    assert [(n.binding, n.class_name, n.backend) for n in app.namespace_views()] == [
        ("NOTES", "Notes", "kv"),
        ("OLD", "Notes", "kv"),
    ]


async def test_a_restarted_app_opens_stored_objects_and_their_alarms(tmp_path):
    first = _app(tmp_path)
    await first.env.NOTES.getByName("a").remind(first.clock.now_ms() + 60_000)
    await first.env.NOTES.getByName("b").hello()
    await first.env.NOTES.getByName("b").note("k", 1)
    first.close()
    (folder,) = tmp_path.iterdir()  # <worker>-Notes, as wrangler dev lays it out
    (folder / "not-an-id.sqlite").write_bytes(b"")
    again = _app(tmp_path)
    assert again.objects() == []
    report = again.open_stored_objects()
    assert (report.objects, report.alarms) == (2, 1)
    assert [path.name for path in report.skipped] == ["not-an-id.sqlite"]
    assert sorted(v.alarm is not None for v in again.objects()) == [False, True]
    assert not any(v.live for v in again.objects())  # opened, not constructed
    again.close()
