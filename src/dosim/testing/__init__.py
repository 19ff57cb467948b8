"""Test helpers for Durable Objects apps, in the vocabulary Workers developers know.

They mirror ``cloudflare:test`` from Cloudflare's Vitest integration, in Python casing:

```py
import dosim
from dosim.testing import run_in_durable_object

app = dosim.App.from_config("examples/counter")
stub = app.env.COUNTER.getByName("a")
await stub.increment(41)
value = await run_in_durable_object(
    stub, lambda obj, ctx: ctx.storage.get("value")
)
print(value)
#> 41
```

In a test module, take the ``dosim_app`` fixture instead of building the app
(``examples/counter/tests/test_counter.py`` shows it).

The pytest plugin (loaded automatically once dosim is installed) runs ``async def``
tests without extra configuration and provides the ``dosim_app`` fixture: a fresh app per
test, loaded from the app's ``wrangler.toml`` (the nearest one in the test file's folder or
above it, so ``tests/test_app.py`` finds its app's), with in-memory storage.
"""

from __future__ import annotations

from typing import Any

from ..app import app_of

__all__ = [
    "run_in_durable_object",
    "run_durable_object_alarm",
    "list_durable_object_ids",
    "evict_durable_object",
    "abort_all_durable_objects",
]


async def run_in_durable_object(stub: Any, fn: Any) -> Any:
    """Run ``fn(instance, ctx)`` inside the object ``stub`` reaches, as one event.

    Use it to seed or inspect storage, or to call private methods. The input and output
    gates apply as for any event; the instance is constructed first if needed.

    Args:
        stub: A stub from ``env.<BINDING>.get(...)`` / ``getByName(...)``.
        fn: ``fn(instance, ctx)``, sync or async.

    Returns:
        What ``fn`` returned (not copied: this is test code, not RPC).
    """
    return await app_of(stub).run_in_object(stub, fn)


async def run_durable_object_alarm(stub: Any) -> bool:
    """Run the object's scheduled alarm now, whatever its time.

    Args:
        stub: A stub of the object whose alarm should run.

    Returns:
        True if an alarm was scheduled (and ran), False otherwise.
    """
    app = app_of(stub)
    return await app.run_alarm(stub)


def list_durable_object_ids(namespace: Any) -> list[Any]:
    """Return the ids of all objects created in ``namespace``, in creation order.

    Args:
        namespace: An ``env`` binding, e.g. ``app.env.COUNTER``.

    Returns:
        The ids of objects that were constructed or touched storage (stubs alone do not
        create objects).
    """
    return [view.id for view in app_of(namespace).objects(namespace)]


def evict_durable_object(stub: Any) -> bool:
    """Evict the object now, as 10 s of idleness would (storage is kept).

    Args:
        stub: A stub of the object to evict.

    Returns:
        Whether an instance was in memory.
    """
    return app_of(stub).evict(stub)


def abort_all_durable_objects(app: Any) -> int:
    """Reset every live object of ``app`` (storage is kept), like ``abortAllDurableObjects()``.

    Args:
        app: The :class:`dosim.App`.

    Returns:
        How many instances were reset.
    """
    return app.abort_all()
