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


def test_workflow_entrypoint_stores_ctx_and_env_as_the_sdks_does():
    # workers-runtime-sdk 1.9.5, workers/entrypoints.py:395-410: the constructor keeps
    # ctx and env; dosim has no Workflow binding, but the class constructs.
    flow = workers.WorkflowEntrypoint("ctx", "env")
    assert (flow.ctx, flow.env) == ("ctx", "env")


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


# -- the SDK's module layout (workers-runtime-sdk 1.9.5, PyPI wheel, workers/*.py) --------
SDK_SUBMODULES = (
    "asgi",
    "blob",
    "entrypoints",
    "fetch",
    "formdata",
    "gateway",
    "gateway.options",
    "request",
    "response",
    "rpc",
    "types",
    "utils",
    "workflows",
    "wsgi",
)


@pytest.mark.parametrize("name", SDK_SUBMODULES)
def test_every_sdk_submodule_imports_under_workers(name):
    module = importlib.import_module(f"workers.{name}")
    assert module is importlib.import_module(f"dosim.workers.{name}")


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("blob", "Blob"),
        ("blob", "File"),
        ("entrypoints", "DurableObject"),
        ("entrypoints", "WorkerEntrypoint"),
        ("entrypoints", "WorkflowEntrypoint"),
        ("fetch", "fetch"),
        ("formdata", "FormData"),
        ("request", "Request"),
        ("response", "Response"),
        ("response", "FetchResponse"),
        ("rpc", "python_from_rpc"),
        ("rpc", "python_to_rpc"),
        ("types", "Context"),
        ("utils", "import_from_javascript"),
        ("utils", "patch_env"),
    ],
)
def test_submodule_names_are_the_top_level_objects(module, name):
    assert getattr(importlib.import_module(f"workers.{module}"), name) is getattr(workers, name)


def test_entrypoints_has_the_abort_and_context_types_of_the_sdk():
    # SDK workers/entrypoints.py:30-31 (DurableObjectAbort, a BaseException) and :34-73
    # (DurableObjectContext, the type of a Durable Object's self.ctx).
    from workers.entrypoints import DurableObjectAbort, DurableObjectContext

    assert issubclass(DurableObjectAbort, BaseException)
    assert not issubclass(DurableObjectAbort, Exception)
    seen = {}

    class Probe(DurableObject):
        async def check(self):
            seen["is_context"] = isinstance(self.ctx, DurableObjectContext)
            try:
                self.ctx.abort("stop")
            except DurableObjectAbort as abort:
                seen["abort"] = str(abort)
                raise

    app = App(None, {"P": Probe})
    with pytest.raises(Exception):  # noqa: B017 - the caller sees the reset, not the abort
        asyncio.run(app.env.P.getByName("p").check())
    assert seen == {"is_context": True, "abort": "stop"}


def test_workflows_module_has_non_retryable_error():
    # SDK workers/workflows.py:6-12.
    from workers.workflows import NonRetryableError

    assert issubclass(NonRetryableError, Exception)
    with pytest.raises(NonRetryableError, match="no retry"):
        raise NonRetryableError("no retry")


WORKFLOW_WORKER = """\
from workers import DurableObject, Response, WorkerEntrypoint, WorkflowEntrypoint
from workers.workflows import NonRetryableError


class Pipeline(WorkflowEntrypoint):
    async def run(self, event, step):
        raise NonRetryableError("dosim never runs this")


class Counter(DurableObject):
    async def ping(self):
        return "pong"


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(await self.env.COUNTER.getByName("a").ping())
"""


def test_a_worker_that_defines_a_workflow_loads_and_serves(tmp_path):
    from wrangler_files import BINDING, HEAD, SQLITE_V1, write

    config = write(tmp_path, HEAD + BINDING + SQLITE_V1)
    (tmp_path / "src" / "entry.py").write_text(WORKFLOW_WORKER)
    app = App.from_config(config)
    response = asyncio.run(app.fetch("/"))
    assert asyncio.run(response.text()) == "pong"


NO_FETCH_WORKER = """\
from workers import DurableObject, WorkerEntrypoint


class Counter(DurableObject):
    async def ping(self):
        return "pong"


class Default(WorkerEntrypoint):
    async def ping(self):
        return "only RPC"
"""


def test_a_default_without_fetch_loads_and_each_request_fails(tmp_path):
    # workerd 6552d999c79ef651b5463c6d692d065a8ce6f859, src/pyodide/python-entrypoint-helper.ts:
    # the Default class is wrapped (handleDefaultClass, :560-584) by a class whose instances
    # are a Proxy answering every property (:483-494, get trap :411); the function it gives
    # for `fetch` throws TypeError("Method fetch does not exist") when called (:443-445).
    # So the Worker loads and fails per request (inferred: not observed on Cloudflare).
    from wrangler_files import BINDING, HEAD, SQLITE_V1, write

    config = write(tmp_path, HEAD + BINDING + SQLITE_V1)
    (tmp_path / "src" / "entry.py").write_text(NO_FETCH_WORKER)
    app = App.from_config(config)
    assert app.worker is not None and app.worker.__name__ == "Default"
    with pytest.raises(TypeError, match=r"^Method fetch does not exist$"):
        asyncio.run(app.fetch("/"))
    assert asyncio.run(app.env.COUNTER.getByName("a").ping()) == "pong"
