"""`dosim dev` applies pending renamed / deleted / transferred classes to local state at startup."""

import asyncio
import json
import logging
import sys
from pathlib import Path

import pytest

if sys.platform == "emscripten":
    pytest.skip("the dev server needs threads", allow_module_level=True)
pytest.importorskip("uvicorn")

from dosim.dev.server import DevServer  # noqa: E402
from dosim.dev.state import APPLIED_FILE  # noqa: E402

WORKER = """\
from urllib.parse import urlparse

from workers import DurableObject, Response, WorkerEntrypoint


class {cls}(DurableObject):
    async def fetch(self, request):
        if request.method == "POST":
            await self.ctx.storage.put("note", await request.text())
        return Response(str(await self.ctx.storage.get("note")))


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        name = urlparse(request.url).path.strip("/")
        if name.startswith("unique/"):
            stub = self.env.NOTES.get(self.env.NOTES.idFromString(name.split("/")[1]))
        elif name == "new-unique":
            object_id = self.env.NOTES.newUniqueId()
            await self.env.NOTES.get(object_id).fetch(request)
            return Response(object_id.toString())
        else:
            stub = self.env.NOTES.getByName(name)
        return await stub.fetch(request)
"""

HEAD = """\
name = "{worker}"
main = "worker.py"
compatibility_date = "2025-11-01"
compatibility_flags = ["python_workers"]

[[durable_objects.bindings]]
name = "NOTES"
class_name = "{cls}"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["{first}"]
"""


def write_app(folder: Path, cls: str, extra: str = "", worker: str = "notes", first=None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "worker.py").write_text(WORKER.format(cls=cls))
    config = HEAD.format(worker=worker, cls=cls, first=first or cls) + extra
    (folder / "wrangler.toml").write_text(config)
    return folder


def start(folder: Path, state: Path) -> DevServer:
    return DevServer(folder, persist_to=state, watch=False, port=0)


def call(dev: DevServer, path: str, body: str | None = None) -> str:
    async def go():
        options = {"method": "POST", "body": body} if body is not None else {}
        response = await dev.app.fetch(f"http://127.0.0.1/{path}", **options)
        return await response.text()

    return asyncio.run(go())


def test_rename_moves_objects_to_the_new_class_and_keeps_their_data(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="dosim.dev")
    app, state = tmp_path / "app", tmp_path / "state"
    write_app(app, "Note")
    dev = start(app, state)
    try:
        assert call(dev, "alice", "hello") == "hello"
        unique = call(dev, "new-unique", "kept too")
    finally:
        dev.close()
    assert (state / "notes-Note").is_dir()

    rename = '\n[[migrations]]\ntag = "v2"\nrenamed_classes = [{from = "Note", to = "Memo"}]\n'
    write_app(app, "Memo", rename, first="Note")
    caplog.clear()
    dev = start(app, state)
    try:
        assert call(dev, "alice") == "hello"  # same name, same data, new class
        files = sorted(p.name for p in (state / "notes-Memo").glob("*.sqlite"))
        assert len(files) == 2
        moved_unique = [f[:-7] for f in files if f[:32] == unique[:32]]
        assert call(dev, f"unique/{moved_unique[0]}") == "kept too"
    finally:
        dev.close()
    assert not (state / "notes-Note").exists()
    lines = [r.getMessage() for r in caplog.records]
    assert (
        "dosim dev: migration v2: renamed Note → Memo: moved 2 object(s) notes-Note/ → notes-Memo/"
        in lines
    )
    assert json.loads((state / APPLIED_FILE).read_text())["applied"] == ["v1", "v2"]

    caplog.clear()  # applied once: a restart does nothing
    start(app, state).close()
    assert not [r for r in caplog.records if "migration" in r.getMessage()]


def test_delete_removes_the_class_objects(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="dosim.dev")
    app, state = tmp_path / "app", tmp_path / "state"
    write_app(app, "Note")
    dev = start(app, state)
    try:
        call(dev, "alice", "hello")
    finally:
        dev.close()

    # Replace Note by a fresh Page class: delete Note, create Page.
    extra = (
        '\n[[migrations]]\ntag = "v2"\ndeleted_classes = ["Note"]\n'
        'new_sqlite_classes = ["Page"]\n'
    )
    write_app(app, "Page", extra, first="Note")
    dev = start(app, state)
    try:
        assert call(dev, "alice") == "None"
    finally:
        dev.close()
    assert not (state / "notes-Note").exists()
    lines = [r.getMessage() for r in caplog.records]
    assert "dosim dev: migration v2: deleted Note: removed 1 object(s)" in lines


def test_transfer_moves_objects_from_another_worker_sharing_the_state_folder(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="dosim.dev")
    state = tmp_path / "state"
    source = write_app(tmp_path / "source", "Note", worker="old")
    dev = start(source, state)
    try:
        call(dev, "alice", "from the old worker")
    finally:
        dev.close()

    extra = (
        '\n[[migrations]]\ntag = "v2"\n'
        'transferred_classes = [{from = "Note", from_script = "old", to = "Note2"}]\n'
    )
    target = write_app(tmp_path / "target", "Note2", extra, first="Base")
    (target / "worker.py").write_text(WORKER.format(cls="Note2") + "\n\nclass Base:\n    pass\n")
    dev = start(target, state)
    try:
        assert call(dev, "alice") == "from the old worker"
    finally:
        dev.close()
    lines = [r.getMessage() for r in caplog.records]
    assert any("transferred Note of old → Note2: moved 1 object(s)" in line for line in lines)


def test_fresh_state_folder_records_tags_without_doing_anything(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="dosim.dev")
    app, state = tmp_path / "app", tmp_path / "state"
    rename = '\n[[migrations]]\ntag = "v2"\nrenamed_classes = [{from = "Note", to = "Memo"}]\n'
    write_app(app, "Memo", rename, first="Note")
    start(app, state).close()
    assert not [r for r in caplog.records if "migration" in r.getMessage()]
    assert json.loads((state / APPLIED_FILE).read_text())["applied"] == ["v1", "v2"]
