"""``App``: one simulated Worker with its Durable Object namespaces, clock and trace.

Load an app from its ``wrangler.toml``, the same files you deploy:

```py
import dosim

app = dosim.App.from_config("examples/counter")
response = await app.fetch("/apples/increment", method="POST")
print(response.status, await response.text())
#> 200 1
```

or from classes, for tutorials and quick tests: ``dosim.App(Default, {"COUNTER": Counter})``.

Then drive it: ``await app.fetch(...)`` sends an HTTP request to the Worker,
``app.env.COUNTER.getByName("a")`` gives a stub as the Worker would get it,
``await app.advance(60)`` moves virtual time (alarms fire, idle objects are evicted),
``app.trace`` lists what happened and ``app.faults`` injects failures.
"""

from __future__ import annotations

import asyncio
import inspect
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import compat, cpulimit
from .bindings.declarations import BindingDeclaration, declaration_of
from .bindings.host import BindingHost
from .bindings.unsupported import not_simulated_message
from .bindings.wrapper import raw_js
from .clock import DEFAULT_START_MS, VirtualClock
from .config import ConfigWarning
from .cpulimit import DEFAULT_CPU_MS, CpuLimitExceeded
from .faults import Faults
from .host import ObjectHost
from .ids import DurableObjectId
from .loader import load_config_cached, load_main_module
from .namespaces import DurableObjectNamespace, NamespaceRuntime
from .objects import BindingView, NamespaceView, ObjectView, StoredObjects, view_of
from .objects import exists as object_exists
from .settle import wait_all_tasks_blocked
from .storage.database import CorruptDatabaseError
from .storage.pool import DatabasePool, default_limit
from .stubs import DurableObjectStub
from .trace import Trace
from .websockets import WebSocketClient
from .workers.compat import set_runtime_globals
from .workers.entrypoints import MSG_METHOD_MISSING, WorkerEntrypoint
from .workers.request import Request, method_name

__all__ = ["App", "Env", "ExecutionContext", "app_of"]


class Env:
    """The Worker's ``env``: Durable Object namespaces and ``[vars]`` as attributes."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        known = ", ".join(sorted(self.__dict__)) or "none"
        raise AttributeError(f"env has no binding or var {name!r} (bindings: {known})")

    def __contains__(self, name: str) -> bool:
        return name in self.__dict__

    def __repr__(self) -> str:
        return f"Env({', '.join(sorted(self.__dict__))})"


class ExecutionContext:
    """The ``ctx`` a ``WorkerEntrypoint`` receives: ``waitUntil`` and ``passThroughOnException``."""

    def __init__(self, app: App) -> None:
        self._app = app

    def waitUntil(self, awaitable: Any) -> None:  # noqa: N802 - platform name
        """Let ``awaitable`` finish after the response is sent (awaited by ``app.settle``).

        Args:
            awaitable: A coroutine or future.
        """
        task = asyncio.ensure_future(awaitable)
        self._app._background.add(task)
        task.add_done_callback(self._app._background.discard)  # settle waits for the rest

    def passThroughOnException(self) -> None:  # noqa: N802 - platform name
        """Accepted for parity; there is no origin behind a simulated Worker."""


def _not_a_class(config: Any, binding: Any, found: Any) -> str:
    """Why a binding's ``class_name`` cannot be used: undefined, or not a class.

    A function or other value of that name is told apart from a missing one, since
    "does not define it" misleads someone looking at ``def Counter(...)`` in the file.
    """
    main = Path(config.main).name
    where = f"{config.path}: binding {binding.name!r}"
    if found is None:
        return f"{where} names class {binding.class_name!r}, but {main} does not define it"
    if inspect.isroutine(found):
        kind = "a function"
        hint = f"def {binding.class_name}"
    else:
        kind_name = type(found).__name__
        kind = f"{'an' if kind_name[:1].lower() in 'aeiou' else 'a'} {kind_name}"
        hint = f"{binding.class_name} = ..."
    return (
        f"{where} binds {kind}, not a class: {binding.class_name!r} in {main} is "
        f"{hint}; a Durable Object binding needs "
        f"class {binding.class_name}(DurableObject)"
    )


class App:
    """A simulated Worker and its Durable Objects.

    Args:
        worker: The Worker entry class (a ``WorkerEntrypoint`` subclass, conventionally
            ``Default``), or ``None`` for apps driven only through ``app.env``.
        durable_objects: Binding name → Durable Object class.
        name: The Worker's name (``name`` in ``wrangler.toml``); with each class name it
            keys id derivation, exactly as local workerd does.
        vars: Plain values added to ``env`` (``[vars]``).
        kv_classes: Names of classes that are KV-backed (``new_classes``); all others are
            SQLite-backed (``new_sqlite_classes``, the recommended default).
        seed: Seeds everything random (``newUniqueId``, alarm retry jitter).
        start_time: Virtual start, in ms since the epoch (default 2025-01-01T00:00:00Z).
        persist_to: Folder for one SQLite file per object; ``None`` keeps storage in memory.
        compatibility_date: ``YYYY-MM-DD``; where a platform behaviour depends on it, dosim
            follows (:mod:`dosim.compat`). Default: :data:`dosim.compat.DEFAULT_DATE`.
        compatibility_flags: Flags that switch such behaviours on or off.
        max_open_databases: With ``persist_to``, how many object databases may keep their
            files open once the others are at rest (three file descriptors each; see
            :mod:`dosim.storage.pool`). By default a sixth of the process's free file
            descriptors, between 8 and 256.
        cpu_ms: CPU time, in ms, each invocation may use (``limits.cpu_ms``); ``None``
            for the platform's default (30 s). Enforced where :mod:`dosim.cpulimit` can.
        bindings: More ``env`` entries, by binding name: a declaration from
            :mod:`dosim.bindings` (``KvNamespaceBinding("cache")`` gives a simulated KV
            namespace, stored in memory or under ``persist_to``), or any other object,
            which ``env`` holds as it is (a test double).
        entrypoints: Named ``WorkerEntrypoint`` classes (by class name) that service
            bindings with an ``entrypoint`` reach.
    """

    def __init__(
        self,
        worker: type | None = None,
        durable_objects: Mapping[str, type] | None = None,
        *,
        name: str = "worker",
        vars: Mapping[str, Any] | None = None,  # noqa: A002 - wrangler's word
        kv_classes: tuple[str, ...] | list[str] = (),
        seed: int = 0,
        start_time: int = DEFAULT_START_MS,
        persist_to: str | Path | None = None,
        compatibility_date: str | None = None,
        compatibility_flags: tuple[str, ...] | list[str] = (),
        max_open_databases: int | None = None,
        cpu_ms: int | None = None,
        bindings: Mapping[str, Any] | None = None,
        entrypoints: Mapping[str, type] | None = None,
    ) -> None:
        if worker is not None and not inspect.isclass(worker):
            raise TypeError(f"App(worker=...) expects the Worker entry class, got {worker!r}")
        self.worker = worker
        self.name = name
        self.seed = seed
        self.clock = VirtualClock(start_time)
        self.trace = Trace()
        self.faults = Faults(self)
        self.persist_to = Path(persist_to) if persist_to is not None else None
        self.compatibility = compat.Compatibility.of(compatibility_date, compatibility_flags)
        self.database_pool: DatabasePool | None = None
        if self.persist_to is not None:
            limit = default_limit() if max_open_databases is None else max_open_databases
            self.database_pool = DatabasePool(limit)
        self.cpu_ms = DEFAULT_CPU_MS if cpu_ms is None else cpu_ms
        self._background: set[asyncio.Future[Any]] = set()
        self.namespaces: dict[str, NamespaceRuntime] = {}
        extra = dict(bindings or {})
        bindings = dict(vars or {})
        for binding, cls in (durable_objects or {}).items():
            if not inspect.isclass(cls):
                raise TypeError(
                    f"binding {binding!r} must map to a Durable Object class, got {cls!r}"
                )
            runtime = NamespaceRuntime(
                self, binding, cls, name, sql_enabled=cls.__name__ not in kv_classes
            )
            self.namespaces[binding] = runtime
            bindings[binding] = DurableObjectNamespace(runtime)
        self.entrypoints: dict[str, type] = dict(entrypoints or {})
        self.linked_workers: dict[str, App] = {}
        self.binding_host = BindingHost(self)
        self.binding_declarations: dict[str, BindingDeclaration] = {}
        for binding, value in extra.items():
            if isinstance(value, BindingDeclaration):
                self.binding_declarations[binding] = value
                bindings[binding] = value.create(self.binding_host, binding)
            else:
                bindings[binding] = value
        self.env = Env(bindings)

    # -- loading ------------------------------------------------------------------------
    @classmethod
    def from_config(
        cls,
        path: str | Path,
        *,
        environment: str | None = None,
        seed: int = 0,
        start_time: int = DEFAULT_START_MS,
        persist_to: str | Path | None = None,
        fresh: bool = False,
        bindings: Mapping[str, Any] | None = None,
    ) -> App:
        """Load an app from a ``wrangler.toml`` (or ``.jsonc``/``.json``) or its folder.

        Imports the ``main`` module, finds the ``Default`` Worker entry class and the bound
        Durable Object classes, and gives each class the storage backend its migrations
        declare (``new_sqlite_classes`` → SQLite, ``new_classes`` → KV).

        Args:
            path: The config file or the folder holding it.
            environment: A ``[env.<name>]`` section to apply.
            seed: See :class:`App`.
            start_time: See :class:`App`.
            persist_to: See :class:`App`.
            fresh: Re-import the app's modules even if unchanged (used when reloading).
            bindings: ``env`` entries that replace the config's of the same name, or add
                to them: test doubles (for a binding dosim does not simulate, say) or
                declarations from :mod:`dosim.bindings`.
        """
        config = load_config_cached(Path(path), environment)
        module = load_main_module(Path(config.main), fresh=fresh)
        worker = getattr(module, "Default", None)
        entrypoints = {
            name: value
            for name, value in vars(module).items()
            if inspect.isclass(value)
            and issubclass(value, WorkerEntrypoint)
            and value is not WorkerEntrypoint
            and value.__module__ == module.__name__
        }
        classes: dict[str, type] = {}
        kv: list[str] = []
        for binding in config.bindings:
            if binding.script_name not in (None, config.name):
                continue  # a class of another Worker: not simulated here
            found = getattr(module, binding.class_name, None)
            if not inspect.isclass(found):
                raise LookupError(_not_a_class(config, binding, found))
            classes[binding.name] = found
            if config.storage_backend(binding.class_name) == "kv":
                kv.append(binding.class_name)
        for b in config.other_bindings:
            if b.type == "unsupported" and b.name not in (bindings or {}):
                message = not_simulated_message(b.name, b.config_key, b.options["description"])
                warnings.warn(f"{config.path}: {message}", ConfigWarning, stacklevel=2)
        return cls(
            worker if inspect.isclass(worker) and issubclass(worker, WorkerEntrypoint) else None,
            classes,
            name=config.name,
            # As Python code reads them on Cloudflare: a JSON var is a JavaScript value
            # (an object arrives as a JsProxy, not a dict); secrets are strings.
            vars={name: raw_js(value) for name, value in config.vars.items()} | config.secrets,
            bindings={b.name: declaration_of(b) for b in config.other_bindings}
            | dict(bindings or {}),
            entrypoints=entrypoints,
            kv_classes=kv,
            seed=seed,
            start_time=start_time,
            persist_to=persist_to,
            compatibility_date=config.compatibility_date,
            compatibility_flags=tuple(config.compatibility_flags),
            cpu_ms=config.cpu_ms,
        )

    # -- driving ------------------------------------------------------------------------
    async def fetch(
        self,
        url_or_request: Any,
        *,
        method: str = "GET",
        headers: Any = None,
        body: Any = None,
    ) -> Any:
        """Send an HTTP request to the Worker's ``fetch`` handler and return its ``Response``.

        Args:
            url_or_request: An absolute URL, a path (``"/x"`` becomes
                ``"https://example.com/x"``), or a ``Request``.
            method: HTTP method.
            headers: A dict or list of pairs.
            body: ``str`` or ``bytes``.

        Raises:
            RuntimeError: If the app has no Worker entry class.
            Exception: Whatever the Worker's handler raised (tests see the real error;
                the dev server turns it into a 500 response).
            CpuLimitExceeded: The handler used more than its CPU time limit (the dev
                server answers 503, as Cloudflare's error 1102).
        """
        if self.worker is None:
            raise RuntimeError(
                "this app has no Worker entry class; pass one to App(...) or define "
                "class Default(WorkerEntrypoint) in the main module"
            )
        if isinstance(url_or_request, Request):
            request = url_or_request
        else:
            url = str(url_or_request)
            if url.startswith("/"):
                url = "https://example.com" + url
            options: dict[str, Any] = {"method": method}
            if headers is not None:
                options["headers"] = headers
            if body is not None:
                options["body"] = body
            request = Request(url, **options)
        try:
            response = await self.invoke_entrypoint(None, "fetch", (request,))
        except (Exception, CpuLimitExceeded) as error:
            self._record_request(request, error=f"{type(error).__name__}: {error}")
            raise
        self._record_request(request, status=getattr(response, "status", None))
        return response

    async def invoke_entrypoint(
        self, entrypoint: str | None, method: str, args: tuple[Any, ...] | list[Any]
    ) -> Any:
        """Run one method of a Worker entrypoint as one invocation, and return its result.

        A fresh instance of the entrypoint class gets a new ``ctx`` and the app's ``env``;
        the app's clock, compatibility date and CPU limit apply, and ``from workers import
        env`` reaches this app's bindings. :meth:`fetch` and service bindings use it.

        Args:
            entrypoint: A named ``WorkerEntrypoint`` class of the app, or ``None`` for the
                default one (``Default``).
            method: The method to call (``"fetch"``, or an RPC method).
            args: Its arguments, as the method receives them.

        Raises:
            RuntimeError: The app has no such entrypoint.
            TypeError: The entrypoint has no such method (the platform's text).
            Exception: Whatever the method raised.
        """
        cls = self.worker if entrypoint is None else self.entrypoints.get(entrypoint)
        if cls is None:
            raise RuntimeError(
                f"Worker {self.name!r} has no entrypoint {entrypoint or 'Default'!r}"
                + (
                    f" (named entrypoints: {', '.join(sorted(self.entrypoints))})"
                    if self.entrypoints
                    else ""
                )
            )
        token = self.clock.activate()
        compat_token = compat.activate(self.compatibility)
        ctx = ExecutionContext(self)
        # ``from workers import env, waitUntil`` reach this invocation's, as on Cloudflare.
        restore_globals = set_runtime_globals(env=self.env, wait_until=ctx.waitUntil)
        cpu_token = cpulimit.enter(self.cpu_ms)
        try:
            worker = cls(ctx, self.env)
            handler = getattr(worker, method, None)
            if not callable(handler):
                # A class without the method loads (workerd's wrapper answers every name)
                # and fails each call when the handler is called.
                raise TypeError(MSG_METHOD_MISSING.format(name=method))
            result = handler(*args)
            if inspect.isawaitable(result):
                result = await result
        finally:
            cpulimit.leave(cpu_token)
            restore_globals()
            compat.restore(compat_token)
            VirtualClock.deactivate(token)
        return result

    def link_worker(self, other: App) -> None:
        """Let this app's service bindings reach ``other`` (a Worker loaded separately).

        A service binding names a Worker (``service = "auth"``); the app of that name
        must be linked before the binding is called. An app always reaches itself.

        Args:
            other: Another app; it is found by its ``name``.
        """
        self.linked_workers[other.name] = other

    def _record_request(self, request, **outcome) -> None:
        """Trace a request the worker handled, with its ``status`` or its ``error``."""
        self.trace.record(
            self.clock.now_ms(),
            "request",
            None,
            None,
            None,
            method=method_name(request),
            url=request.url,
            **outcome,
        )

    async def connect(self, url: str, *, headers: Any = None) -> Any:
        """Open a WebSocket to the app through its Worker, as a browser would.

        Sends ``GET url`` with ``Upgrade: websocket`` through :meth:`fetch`; the Worker
        must answer ``101`` with a ``web_socket``.

        Args:
            url: An absolute URL or a path.
            headers: Extra request headers.

        Returns:
            A :class:`~dosim.websockets.WebSocketClient` (``send``, ``receive``, ``close``).

        Raises:
            ConnectionError: When the Worker does not accept the upgrade (the message
                carries the status and body it answered).
        """
        upgrade = {"Upgrade": "websocket", "Connection": "Upgrade"}
        if headers:
            upgrade.update(dict(headers))
        response = await self.fetch(url, headers=upgrade)
        socket = getattr(response, "web_socket", None)
        if response.status != 101 or socket is None:
            body = await response.text()
            raise ConnectionError(f"WebSocket upgrade refused: {response.status} {body[:200]!r}")
        return WebSocketClient(socket)

    async def advance(self, seconds: float) -> None:
        """Move virtual time forward, running everything that falls due, in order.

        Alarms (and their retries), idle evictions and ``blockConcurrencyWhile``
        timeouts run at their due times; ``advance(0)`` runs what is due now (an alarm set
        in the past, for instance).

        Args:
            seconds: How far to move, ≥ 0.
        """
        if seconds < 0:
            raise ValueError(f"advance() takes a non-negative number of seconds, got {seconds}")
        target = self.clock.now_ms() + round(seconds * 1000)
        await self.settle()
        while (timer := self.clock.next_due(target)) is not None:
            await timer.callback()
            await self.settle()
        self.clock.set(target)

    async def settle(self) -> None:
        """Let tasks app code started (``waitUntil``, un-awaited work) run until they block.

        Waits until no task is ready to run (:func:`dosim.settle.wait_all_tasks_blocked`),
        then for the Worker's own ``ctx.waitUntil`` tasks to finish.
        """
        await wait_all_tasks_blocked()
        if self._background:
            pending = [task for task in self._background if not task.done()]
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            self._background.clear()

    def now(self) -> float:
        """Return the virtual time in seconds since the epoch (``time.time()`` inside)."""
        return self.clock.now_ms() / 1000

    # -- inspecting and controlling objects ---------------------------------------------
    def host_of(self, target: Any) -> ObjectHost:
        """Return the object host behind a stub, an id, or a ``(binding, name)`` pair.

        Args:
            target: A stub, a ``DurableObjectId`` of this app, or ``(binding, name)``.

        Raises:
            LookupError: For an unknown binding or an id no namespace of this app made.
            TypeError: For anything else.
        """
        if isinstance(target, DurableObjectStub):
            return target._runtime.host_for(target.id)
        if isinstance(target, tuple) and len(target) == 2:
            binding, name = target
            runtime = self._runtime(binding)
            return runtime.host_for(runtime.ids.from_name(name))
        if isinstance(target, DurableObjectId):
            for runtime in self.namespaces.values():
                if runtime.ids.owns(target):
                    return runtime.host_for(target)
            raise LookupError(f"no namespace of this app made the id {target}")
        raise TypeError(f"expected a stub, an id or (binding, name), got {target!r}")

    def _runtime(self, binding: str) -> NamespaceRuntime:
        try:
            return self.namespaces[binding]
        except KeyError:
            raise LookupError(
                f"no Durable Object binding {binding!r} (have: {', '.join(self.namespaces)})"
            ) from None

    def objects(self, binding: str | DurableObjectNamespace | None = None) -> list[ObjectView]:
        """Return read-only views of the app's objects, in creation order per namespace.

        The dev inspector, the docs sandbox's Objects panel and the testing helpers read
        objects through these views (:mod:`dosim.objects`).

        Args:
            binding: Only this namespace: its binding name (``"COUNTER"``) or the ``env``
                binding itself (``app.env.COUNTER``); all of them by default.

        Raises:
            LookupError: For an unknown binding or a namespace of another app.
        """
        if isinstance(binding, DurableObjectNamespace):
            if binding._runtime.app is not self:
                raise LookupError(f"{binding!r} belongs to another app")
            binding = binding._runtime.binding
        runtimes = [self._runtime(binding)] if binding is not None else self.namespaces.values()
        return [
            view_of(host)
            for runtime in runtimes
            for host in runtime.hosts.values()
            if object_exists(host)
        ]

    def namespace_views(self) -> list[NamespaceView]:
        """Return read-only views of the app's Durable Object namespaces, in binding order."""
        return [
            NamespaceView(
                binding=binding,
                class_name=runtime.cls.__name__,
                backend="sqlite" if runtime.sql_enabled else "kv",
            )
            for binding, runtime in self.namespaces.items()
        ]

    def binding_views(self) -> list[BindingView]:
        """Return read-only views of the app's KV namespaces, D1 databases and R2 buckets."""
        views = []
        stores = self.binding_host.stores()
        for binding, declaration in self.binding_declarations.items():
            key = declaration.store_key
            if key is None:
                continue
            views.append(
                BindingView(
                    binding=binding,
                    type=key[0],
                    key=key[1],
                    _store=stores.get(key),
                    _path=self.binding_host.store_path(*key),
                )
            )
        return views

    def open_stored_objects(self) -> StoredObjects:
        """Open every object stored under ``persist_to``, so their alarms are scheduled.

        On Cloudflare a stored alarm fires whether or not anything touched the object
        since; an app that starts again on the same folder (``dosim dev``) calls this
        first. Nothing is constructed: objects wake when an event reaches them. Each
        database is closed again after its alarm is read (reopened when used), and
        listed by :meth:`objects` from then on.

        A file SQLite finds damaged (or not a database) is left alone and reported in
        ``corrupt``: that object behaves as if it had no storage.

        Returns:
            How many objects were opened and have alarms, the files skipped and the
            damaged ones.
        """
        opened = alarms = 0
        skipped: list[Path] = []
        corrupt: list[tuple[Path, str]] = []
        if self.persist_to is None:
            return StoredObjects(0, 0, ())
        for runtime in self.namespaces.values():
            folder = self.persist_to / runtime.unique_key
            if not folder.is_dir():
                continue
            for file in sorted(folder.glob("*.sqlite")):
                try:
                    object_id = runtime.ids.from_string(file.stem)
                except TypeError:
                    skipped.append(file)
                    continue
                host = runtime.host_for(object_id)
                try:
                    host.open_stored()  # reading the alarm schedules it
                except CorruptDatabaseError as error:
                    corrupt.append((file, error.message))
                    continue
                opened += 1
                alarms += host.alarms.time is not None
        return StoredObjects(opened, alarms, tuple(skipped), tuple(corrupt))

    def find_object(self, binding: str, hex_id: str) -> ObjectView | None:
        """Return the view of one object by its id in hex, or ``None`` if it does not exist.

        Args:
            binding: The namespace's binding name.
            hex_id: The object's id as 64 hex digits.

        Raises:
            LookupError: For an unknown binding.
        """
        host = self._runtime(binding).hosts.get(hex_id)
        return view_of(host) if host is not None and object_exists(host) else None

    def object_ids(self, binding: str) -> list[DurableObjectId]:
        """Return the ids of objects created in namespace ``binding``, in creation order.

        Args:
            binding: The binding name, e.g. ``"COUNTER"``.
        """
        return [view.id for view in self.objects(binding)]

    async def run_alarm(self, target: Any) -> bool:
        """Run an object's scheduled alarm now, whatever its time.

        Args:
            target: A stub, an id, or ``(binding, name)``.

        Returns:
            True if an alarm was scheduled (and ran), False otherwise.
        """
        return await self.host_of(target).alarms.run_now()

    async def run_in_object(self, target: Any, fn: Any) -> Any:
        """Run ``fn(instance, ctx)`` inside the object as one event (gates apply).

        Args:
            target: A stub, an id, or ``(binding, name)``.
            fn: Called with the instance and its ``ctx``; may be async.

        Returns:
            What ``fn`` returned (not copied).
        """
        host = self.host_of(target)

        async def invoke(instance: Any) -> Any:
            result = fn(instance, host.incarnation.ctx)
            return await result if inspect.isawaitable(result) else result

        return await host.run_event("run_in_object", invoke)

    def evict(self, target: Any) -> bool:
        """Evict an object now, as idleness would (storage kept).

        Args:
            target: A stub, an id, or ``(binding, name)``.

        Returns:
            Whether an instance was in memory.
        """
        return self.host_of(target).evict()

    def abort_all(self) -> int:
        """Reset every live object (storage kept), as ``abortAllDurableObjects()`` does."""
        count = 0
        for runtime in self.namespaces.values():
            for host in runtime.hosts.values():
                live = host.incarnation is not None or host.websockets.hibernatable
                count += self.faults.reset(host.id) if live else 0
        return count

    def database_path(self, runtime: NamespaceRuntime, hex_id: str) -> str | None:
        """Where an object's SQLite file lives (``None`` in memory).

        Args:
            runtime: The object's namespace.
            hex_id: The object's id as hex.

        Returns:
            ``<persist_to>/<worker>-<Class>/<id>.sqlite`` (the layout ``wrangler dev``
            uses under ``.wrangler/state/v3/do``), or ``None``.
        """
        if self.persist_to is None:
            return None
        return str(self.persist_to / runtime.unique_key / f"{hex_id}.sqlite")

    def close(self) -> None:
        """Close every object's database and every binding's store."""
        for runtime in self.namespaces.values():
            for host in runtime.hosts.values():
                host.close()
        self.binding_host.close()

    def __repr__(self) -> str:
        return f"App({self.name!r}, bindings={list(self.namespaces)})"


def app_of(target: Any) -> App:
    """Return the app a stub or an ``env`` namespace belongs to.

    Args:
        target: A ``DurableObjectStub`` or a ``DurableObjectNamespace`` (``env.X``).

    Raises:
        TypeError: For anything else.
    """
    if isinstance(target, (DurableObjectStub, DurableObjectNamespace)):
        return target._runtime.app
    raise TypeError(f"expected a Durable Object stub or namespace, got {target!r}")
