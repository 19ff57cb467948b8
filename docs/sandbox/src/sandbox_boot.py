"""Boot steps of the sandbox's interpreter, shared by the worker and the snapshot maker.

``docs/sandbox/snapshot/make_snapshot.mjs`` runs ``prepare`` in Node at docs build time
and saves the interpreter's memory; the worker restores that memory and runs
``after_restore``. Without a snapshot the worker installs dosim with ``loadPackage`` and
runs ``prepare`` too. Either way the reader's first Run finds dosim, every module it
uses and the page helper (``_dosim_sandbox``) already imported.
"""

import importlib
import pkgutil
import sys
import sysconfig
import zipfile

HELPER_DIR = "/sandbox-lib"

# Modules of the dosim package that need what the sandbox does not have (uvicorn,
# pytest): the dev server and the pytest plugin. Their absence is expected.
OPTIONAL_PREFIXES = ("dosim.dev", "dosim.testing.plugin")


def unpack_wheel(path):
    """Unpack a pure-Python wheel into site-packages.

    Before a snapshot ``loadPackage`` cannot be used: Pyodide's snapshot refuses the
    JavaScript state it leaves behind.
    """
    with zipfile.ZipFile(path) as wheel:
        wheel.extractall(sysconfig.get_paths()["purelib"])
    importlib.invalidate_caches()


def prepare():
    """Import dosim, all of its modules the browser can use, and the page helpers.

    Returns:
        The names of the dosim modules that could not be imported, with the reason.
    """
    if HELPER_DIR not in sys.path:
        sys.path.insert(0, HELPER_DIR)
    # Both page helpers: the playground's first op then imports nothing.
    import _dosim_playground  # noqa: F401
    import _dosim_sandbox  # noqa: F401

    import dosim

    skipped = []
    for module in pkgutil.walk_packages(dosim.__path__, "dosim."):
        try:
            importlib.import_module(module.name)
        except ImportError as error:
            if not module.name.startswith(OPTIONAL_PREFIXES):
                raise
            skipped.append(f"{module.name}: {error}")
    return skipped


def after_restore():
    """Redo what a memory snapshot cannot hold, or should not share between pages.

    A snapshot is the interpreter's linear memory only: ``js.WebSocketPair`` and the other
    names dosim put on JavaScript's globals are gone after a restore, and the state of
    ``random`` is the one the build left.
    """
    from dosim.loader import install_workers_alias

    if HELPER_DIR not in sys.path:
        sys.path.insert(0, HELPER_DIR)
    importlib.invalidate_caches()  # the files were written back after the restore
    install_workers_alias()
    if "random" in sys.modules:
        # The generator's state is part of the snapshot: without a new seed every page
        # would draw the same "random" numbers.
        sys.modules["random"].seed()


# The warm-up, in steps. Between two steps the worker looks whether the page sent a
# message (a reader's Run): if so it stops warming up, and the run waits for one step
# at most instead of the whole warm-up.
WARM_UP_STEPS = (
    """
import dosim
from workers import DurableObject, Response, WorkerEntrypoint


class _WarmUp(DurableObject):
    async def fetch(self, request):
        count = (await self.ctx.storage.get("count") or 0) + 1
        await self.ctx.storage.put("count", count)
        self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (x)")
        return Response.json({"count": count})

    async def bump(self):
        return await self.ctx.storage.get("count")


class _Entry(WorkerEntrypoint):
    async def fetch(self, request):
        return await self.env.WARM.getByName("a").fetch(request)


app = dosim.App(_Entry, {"WARM": _WarmUp})
""",
    """
response = await app.fetch("/")
await response.json()
""",
    'await app.env.WARM.getByName("a").bump()',
    "await app.advance(11)",
)
WARM_UP_KEY = "warm-up"


async def warm_up_step(index):
    """Run step ``index`` of the warm-up (see :data:`WARM_UP_STEPS`) through the page helper.

    Raises:
        RuntimeError: the step failed (the worker ignores it: only a first run is slower).
    """
    import _dosim_sandbox

    report = await _dosim_sandbox.run(WARM_UP_STEPS[index], WARM_UP_KEY, index == 0, index + 1)
    if '"ok": true' not in report:
        raise RuntimeError(f"the sandbox's warm-up failed at step {index}: {report}")


def warm_up_end(collect):
    """Forget the warm-up's namespace; with ``collect``, also collect garbage now.

    A full collection takes tens of milliseconds: worth it while the reader has not
    clicked anything (it would otherwise come in the middle of their first runs), not when
    a run is waiting.
    """
    import _dosim_sandbox

    if collect:
        _dosim_sandbox.snapshot(WARM_UP_KEY)
    _dosim_sandbox.drop(WARM_UP_KEY)
    if collect:
        import gc

        gc.collect()


async def warm_up():
    """Run a small app once, through the page helper, so that first runs are fast.

    The worker runs it right after it reports ready, step by step (it stops early when the
    page sends a run): the browser compiles WebAssembly functions the first time they run,
    and a snapshot cannot keep compiled code, so the first fetch, RPC call, storage write
    and SQL statement would otherwise be slow in the reader's first Run. Nothing of it
    stays: the helper's namespace is dropped afterwards.
    """
    try:
        for index in range(len(WARM_UP_STEPS)):
            await warm_up_step(index)
    finally:
        warm_up_end(collect=True)
