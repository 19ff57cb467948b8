"""The CPU limit (``limits.cpu_ms``): a handler that never returns is stopped; waiting is not.

Texts: ``"Python Worker exceeded CPU time limit"`` is workerd's (``CpuLimitExceeded`` in
``src/pyodide/internal/introspection.py``, a ``BaseException``). What a Durable Object's
caller sees, ``"Durable Object exceeded its CPU time limit and was reset."``, is the text
production logs show; the flags on it (``durableObjectReset`` set, ``retryable`` not)
are inferred, as is the retry of an alarm whose handler exceeded the limit.
"""

import asyncio
import sys
import threading
import time

import pytest
from wrangler_files import HEAD, error, load, write

from dosim import App
from dosim.cpulimit import (
    DEFAULT_CPU_MS,
    MAX_CPU_MS,
    MSG_PYTHON_CPU_LIMIT,
    CpuLimitExceeded,
    enforced,
)
from dosim.errors import MSG_CPU_RESET, JsException
from workers import DurableObject, Response, WorkerEntrypoint

LIMIT_MS = 200

needs_enforcement = pytest.mark.skipif(
    not enforced(), reason="no threads or SIGXCPU here (Pyodide, Windows): not enforced"
)


def spin_forever():
    while True:
        pass


class Busy(DurableObject):
    async def spin(self):
        await self.ctx.storage.put("uncommitted", True)
        spin_forever()

    async def spin_and_swallow(self):
        try:
            spin_forever()
        except BaseException:
            pass
        spin_forever()  # interrupted again after another limit

    async def spin_in_background(self):
        async def work():
            await asyncio.sleep(0)
            spin_forever()

        self.ctx.waitUntil(work())
        return "started"

    async def wait(self, seconds):
        await asyncio.sleep(seconds)
        return "waited"

    async def compute(self, seconds):
        end = time.thread_time() + seconds
        while time.thread_time() < end:
            pass
        return "done"

    async def count(self):
        n = (await self.ctx.storage.get("n") or 0) + 1
        await self.ctx.storage.put("n", n)
        return n

    async def get(self, key):
        return await self.ctx.storage.get(key)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/spin"):
            spin_forever()
        if request.url.endswith("/object"):
            try:
                await self.env.BUSY.getByName("a").spin()
            except Exception as caught:
                return Response(caught.message, status=500)
        return Response("ok")


@pytest.fixture
def app():
    return App(Default, {"BUSY": Busy}, cpu_ms=LIMIT_MS)


# -- config ------------------------------------------------------------------------------
def test_cpu_ms_is_read_from_limits_and_defaults_to_none(tmp_path):
    assert load(tmp_path, HEAD).cpu_ms is None
    assert load(tmp_path, HEAD + "\n[limits]\ncpu_ms = 300000\n").cpu_ms == MAX_CPU_MS
    jsonc = '{"name": "a", "main": "src/entry.py", "compatibility_date": "2025-11-01",\n'
    jsonc += '"compatibility_flags": ["python_workers"], "limits": {"cpu_ms": 50}}'
    assert load(tmp_path, jsonc, "wrangler.jsonc").cpu_ms == 50


@pytest.mark.parametrize("value", ["0", "-5", "300001", "1.5", "true", '"100"'])
def test_cpu_ms_must_be_a_whole_number_of_ms_up_to_five_minutes(tmp_path, value):
    message = str(error(tmp_path, HEAD + f"\n[limits]\ncpu_ms = {value}\n"))
    assert "limits.cpu_ms" in message and "from 1 to 300000" in message


def test_limits_are_inherited_as_a_whole_by_an_environment(tmp_path):
    text = HEAD + "\n[limits]\ncpu_ms = 500\n\n[env.a]\n\n[env.b.limits]\nsubrequests = 5\n"
    assert load(tmp_path, text, env="a").cpu_ms == 500
    assert load(tmp_path, text, env="b").cpu_ms is None  # b's table replaces the top one


def test_app_from_config_takes_the_limit_and_app_defaults_to_the_platform_s(tmp_path):
    path = write(tmp_path, HEAD + "\n[limits]\ncpu_ms = 500\n")
    assert App.from_config(path).cpu_ms == 500
    assert App.from_config(write(tmp_path, HEAD)).cpu_ms == DEFAULT_CPU_MS == 30_000
    assert App(None, {}).cpu_ms == DEFAULT_CPU_MS


# -- enforcement ---------------------------------------------------------------------------
@needs_enforcement
async def test_object_over_its_limit_is_reset_and_the_caller_gets_the_platform_error(app):
    stub = app.env.BUSY.getByName("a")
    assert await stub.count() == 1
    started = time.monotonic()
    with pytest.raises(JsException) as caught:
        await stub.spin()
    assert time.monotonic() - started < 5
    assert caught.value.message == MSG_CPU_RESET
    assert caught.value.durableObjectReset is True  # inferred
    assert caught.value.retryable is False  # inferred
    # The stub that reached the reset instance keeps failing; a new stub reaches a fresh one.
    with pytest.raises(JsException, match="CPU time limit"):
        await stub.count()
    fresh = app.env.BUSY.getByName("a")
    assert await fresh.get("uncommitted") is None  # the handler's writes were discarded
    assert await fresh.count() == 2
    resets = [e for e in app.trace if e.kind == "reset"]
    assert [e.detail["reason"] for e in resets] == ["cpu limit"]


@needs_enforcement
async def test_worker_over_its_limit_raises_cpu_limit_exceeded(app):
    with pytest.raises(CpuLimitExceeded, match=MSG_PYTHON_CPU_LIMIT):
        await app.fetch("/spin")
    assert not issubclass(CpuLimitExceeded, Exception)
    assert (await app.fetch("/")).status == 200


@needs_enforcement
async def test_worker_can_catch_the_object_s_error(app):
    response = await app.fetch("/object")
    assert response.status == 500 and await response.text() == MSG_CPU_RESET


@needs_enforcement
async def test_a_handler_that_waits_longer_than_the_limit_is_not_stopped(app):
    stub = app.env.BUSY.getByName("a")
    assert await stub.wait(LIMIT_MS * 3 / 1000) == "waited"


@needs_enforcement
async def test_a_handler_under_its_limit_finishes(app):
    assert await app.env.BUSY.getByName("a").compute(LIMIT_MS / 4000) == "done"


@needs_enforcement
async def test_code_that_swallows_the_exception_is_interrupted_again(app):
    with pytest.raises(JsException, match="CPU time limit"):
        await app.env.BUSY.getByName("a").spin_and_swallow()


@needs_enforcement
async def test_a_background_task_over_the_limit_resets_its_object(app):
    stub = app.env.BUSY.getByName("a")
    assert await stub.spin_in_background() == "started"
    for _ in range(100):
        await asyncio.sleep(0.05)
        if any(e.kind == "reset" for e in app.trace):
            break
    with pytest.raises(JsException, match="CPU time limit"):
        await stub.count()


@pytest.mark.skipif(sys.platform == "emscripten", reason="no threads in Pyodide")
def test_off_the_main_thread_the_limit_is_not_enforced_and_nothing_breaks():
    result = []
    app = App(Default, {"BUSY": Busy}, cpu_ms=LIMIT_MS)

    def run():
        result.append(asyncio.run(app.env.BUSY.getByName("a").compute(LIMIT_MS * 2 / 1000)))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert result == ["done"]


@pytest.mark.skipif(sys.platform != "emscripten", reason="Pyodide only")
def test_pyodide_does_not_enforce():
    assert not enforced()
