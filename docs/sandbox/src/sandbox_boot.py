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
    """Import dosim, all of its modules the browser can use, and the page helper.

    Returns:
        The names of the dosim modules that could not be imported, with the reason.
    """
    if HELPER_DIR not in sys.path:
        sys.path.insert(0, HELPER_DIR)
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


WARM_UP = """
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
response = await app.fetch("/")
await response.json()
await app.env.WARM.getByName("a").bump()
await app.advance(11)
"""


async def warm_up():
    """Run a small app once, through the page helper, so that first runs are fast.

    The worker runs it right after it reports ready, before any reader's run: the
    browser compiles WebAssembly functions the first time they run, and a snapshot
    cannot keep compiled code, so the first fetch, RPC call, storage write and SQL
    statement would otherwise be slow in the reader's first Run. Nothing of it stays:
    the helper's namespace is dropped afterwards.
    """
    import _dosim_sandbox

    report = await _dosim_sandbox.run(WARM_UP, "warm-up", True, 1)
    _dosim_sandbox.snapshot("warm-up")
    _dosim_sandbox.drop("warm-up")
    import gc

    gc.collect()  # now, rather than in the middle of the reader's first runs
    if '"ok": true' not in report:
        raise RuntimeError(f"the sandbox's warm-up failed: {report}")
