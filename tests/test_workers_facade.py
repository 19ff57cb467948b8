"""Every name of the real SDK is importable from ``dosim.workers``; stand-ins fail on use."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from platform_surface import SDK_NAMES

import dosim.workers as workers
from dosim import App
from dosim.workers.compat import set_runtime_globals
from workers import DurableObject, Response, WorkerEntrypoint


@pytest.mark.parametrize("name", SDK_NAMES)
def test_sdk_name_is_importable_from_dosim_workers(name):
    module = importlib.import_module("dosim.workers")
    assert getattr(module, name) is not None


def test_dunder_all_lists_exactly_the_sdk_names():
    assert sorted(workers.__all__) == sorted(SDK_NAMES)


def test_headers_is_a_type_alias_not_a_class():
    assert isinstance(workers.Headers, str)


def test_workflow_entrypoint_can_be_subclassed():
    class MyWorkflow(workers.WorkflowEntrypoint):
        pass

    assert issubclass(MyWorkflow, workers.WorkflowEntrypoint)


def test_workflow_entrypoint_instantiation_raises_not_implemented():
    with pytest.raises(NotImplementedError, match="Workflows are not simulated"):
        workers.WorkflowEntrypoint(None, None)


def test_patch_env_lays_values_over_the_env_inside_the_block():
    class Bindings:
        LABEL = "blue"
        OTHER = "kept"

    restore = set_runtime_globals(env=Bindings())
    try:
        with workers.patch_env({"LABEL": "red"}, EXTRA=1):
            assert (workers.env.LABEL, workers.env.OTHER, workers.env.EXTRA) == ("red", "kept", 1)
        assert workers.env.LABEL == "blue"
        with pytest.raises(AttributeError):
            workers.env.EXTRA  # noqa: B018 - gone with the block
    finally:
        restore()


def test_import_from_javascript_of_other_modules_raises_not_implemented():
    with pytest.raises(NotImplementedError, match="cloudflare:sockets"):
        workers.import_from_javascript("cloudflare:sockets")


def test_import_from_javascript_cloudflare_workers_exposes_env():
    module = workers.import_from_javascript("cloudflare:workers")
    assert module.env is workers.env


def test_handler_decorator_passes_arguments_through():
    @workers.handler
    def on_fetch(request, env):
        return (request, env)

    assert on_fetch("req", "env") == ("req", "env")


def test_env_without_a_running_worker_raises_runtime_error():
    with pytest.raises(RuntimeError, match="workers.env is only available"):
        workers.env.MY_BINDING  # noqa: B018


def test_env_forwards_to_the_installed_bindings():
    class Bindings:
        GREETING = "hello"

    restore = set_runtime_globals(env=Bindings())
    try:
        assert workers.env.GREETING == "hello"
    finally:
        restore()


def test_wait_until_forwards_to_the_installed_context():
    scheduled = []
    restore = set_runtime_globals(wait_until=scheduled.append)
    try:
        workers.wait_until("task")
    finally:
        restore()
    assert scheduled == ["task"]


def test_wait_until_without_a_running_worker_raises_runtime_error():
    pending = asyncio.sleep(0)
    try:
        with pytest.raises(RuntimeError, match="waitUntil"):
            workers.waitUntil(pending)
    finally:
        pending.close()


def test_python_to_rpc_rejects_tuples_as_the_sdk_does():
    with pytest.raises(TypeError, match="cannot be sent over RPC"):
        workers.python_to_rpc((1, 2))


def test_python_rpc_round_trip_gives_attribute_access_dicts():
    received = workers.python_from_rpc(workers.python_to_rpc({"a": b"x"}))
    assert (received.a.tobytes(), received["a"].tobytes()) == (b"x", b"x")


def test_python_to_rpc_of_none_is_none():
    assert workers.python_from_rpc(workers.python_to_rpc(None)) is None


# ``from workers import env, waitUntil`` inside a run: the SDK reads both from the
# ``cloudflare:workers`` module of the running invocation (workers-runtime-sdk 1.9.5,
# ``workers/__init__.py`` and ``workers/entrypoints.py``).


class Tally(DurableObject):
    async def bump(self):
        async def later():
            await asyncio.sleep(0)
            await self.ctx.storage.put("later", workers.env.LABEL)

        workers.waitUntil(later())  # keeps the instance alive until it ran
        return workers.env.LABEL

    async def later(self):
        return await self.ctx.storage.get("later")


class Front(WorkerEntrypoint):
    async def fetch(self, request):
        workers.waitUntil(asyncio.sleep(0))
        answer = await workers.env.TALLY.getByName("t").bump()
        return Response(f"{workers.env.LABEL} {answer}")


async def test_env_and_wait_until_work_inside_a_worker_and_an_object():
    app = App(Front, {"TALLY": Tally}, vars={"LABEL": "blue"})
    response = await app.fetch("/")
    assert await response.text() == "blue blue"
    await app.settle()
    assert await app.env.TALLY.getByName("t").later() == "blue"
    with pytest.raises(RuntimeError, match="workers.env is only available"):
        workers.env.LABEL  # noqa: B018 - the test body is not inside a run
