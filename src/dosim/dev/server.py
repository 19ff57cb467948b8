"""The dev server: one Worker app served over real HTTP with real time and files on disk.

:class:`DevServer` builds a :class:`dosim.App` from the app's wrangler config with
``persist_to`` = the state folder and ``start_time`` = now, reopens stored objects (so
their alarms fire), and serves it with uvicorn:

* every path except ``/__dosim/...`` goes to the Worker's ``fetch``
  (:mod:`dosim.dev.bridge`); one log line per request (:mod:`dosim.dev.requestlog`);
* ``/__dosim/`` is the read-only inspector (:mod:`dosim.dev.inspector`);
* a background task keeps the virtual clock on the wall clock
  (:mod:`dosim.dev.realtime`);
* a file watcher rebuilds the app when its Python files change
  (:mod:`dosim.dev.reload`); requests already running finish on the old app.

A handler that computes past the CPU limit (``limits.cpu_ms``, :mod:`dosim.cpulimit`) is
interrupted: an object is reset and its caller gets the platform's error, a Worker's
``fetch`` gets ``503`` (Cloudflare's error 1102). Ctrl+C or SIGTERM always stops the
server, a second signal at once (:mod:`dosim.dev.stopping`).

Durability: a response leaves only after the Worker's ``fetch`` returned, and by then
every object it called has committed its writes (the output gate holds each object's
reply until its implicit transaction is committed, and file databases commit with
``synchronous=FULL`` in WAL mode). So a ``kill -9`` at any instant loses no write that
was acknowledged to a client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import uvicorn

from ..app import App
from ..config import load_config
from ..cpulimit import CpuLimitExceeded
from ..loader import forget_app_modules
from . import bridge, httpprotocol, inspector, reload, requestlog
from .names import NameBook
from .realtime import DEFAULT_TICK_SECONDS, RealTimeDriver, wall_clock_ms
from .state import apply_local_migrations, default_state_dir, set_aside
from .stopping import StoppableServer
from .tracebuffer import TraceBuffer
from .web import AsgiApp, PlainTextResponse, Request, Response, WebSocket
from .websocket_seam import WS_MAX_SIZE, BridgeRegistry, bridge_websocket

__all__ = ["DevServer", "TRACE_LIMIT", "HTTP_METHODS"]

TRACE_LIMIT = 5_000
"""Events the served app's own trace keeps (the dev server runs for hours)."""


HTTP_METHODS = (
    "GET HEAD POST PUT DELETE PATCH OPTIONS TRACE PURGE COPY LOCK MKCOL MOVE PROPFIND "
    "PROPPATCH SEARCH UNLOCK ACL REPORT MKACTIVITY CHECKOUT MERGE M-SEARCH NOTIFY "
    "SUBSCRIBE UNSUBSCRIBE"
).split()
"""Methods routed to the Worker (those workerd accepts); others get ``405``."""

log = logging.getLogger("dosim.dev")


class DevServer:
    """Serve one app folder (see the module docstring).

    Args:
        app_dir: The folder holding ``wrangler.toml`` (or the config file itself).
        host: Address to bind; loopback by default.
        port: Port to bind.
        persist_to: State folder; default ``<app_dir>/.dosim/state``.
        in_memory: Keep storage in memory (nothing is written; a restart forgets all).
        watch: Reload when the app's files change.
        environment: A ``[env.<name>]`` of the config to use.
        max_body_bytes: Largest request body accepted (``413`` above).
        workers: Folders or configs of other Workers to load beside the app, so that its
            service bindings reach them (``dosim dev --worker PATH``). Each keeps its state
            in its own folder; they reload with the app.
        tick: Seconds between real-time clock ticks.
    """

    def __init__(
        self,
        app_dir: str | Path = ".",
        *,
        host: str = "127.0.0.1",
        port: int = 8787,
        persist_to: str | Path | None = None,
        in_memory: bool = False,
        watch: bool = True,
        environment: str | None = None,
        max_body_bytes: int = bridge.MAX_BODY_BYTES,
        tick: float = DEFAULT_TICK_SECONDS,
        inspector_hosts: Iterable[str] = (),
        workers: Iterable[str | Path] = (),
    ) -> None:
        path = Path(app_dir).resolve()
        self.config_path = path
        self.app_dir = path if path.is_dir() else path.parent
        self.host = host
        self.port = port
        self.environment = environment
        self.state_dir: Path | None = None
        if not in_memory:
            self.state_dir = Path(persist_to or default_state_dir(self.app_dir)).resolve()
        self.watch_files = watch
        self.worker_paths = [Path(p).resolve() for p in workers]
        self._linked: dict[int, list[App]] = {}
        self.max_body_bytes = max_body_bytes
        # The inspector shows every stored value: loopback host names only, unless told.
        self.inspector_hosts = inspector.LOOPBACK_HOSTS | {
            name.strip().lower().strip("[]") for name in inspector_hosts
        }
        self.inspector_token = secrets.token_urlsafe(16)
        if self.state_dir is not None:
            config = load_config(self.config_path, env=environment)
            for line in apply_local_migrations(config, self.state_dir):
                log.info("dosim dev: %s", line)
        self.names = NameBook(self.state_dir / "names.json" if self.state_dir else None)
        self.traces = TraceBuffer()
        self.reloads = 0
        self.websockets = BridgeRegistry()
        self.app: App = self.build_app()
        self.driver = RealTimeDriver(lambda: self.app, tick)
        self._swap_lock = asyncio.Lock()
        self._in_flight: dict[int, int] = {}
        self._retired: dict[int, App] = {}
        self._stop_watching: asyncio.Event | None = None
        self._watcher: asyncio.Task[None] | None = None
        self.asgi = AsgiApp(
            inspector.routes(self),
            fallback=self.handle_http,
            fallback_methods=HTTP_METHODS,
            websocket=self.handle_websocket,
            lifespan=self._lifespan,
        )

    # -- the app ------------------------------------------------------------------------
    def build_app(self) -> App:
        """Load the app from its config, with real start time and on-disk state.

        Returns:
            The new app, with its stored objects reopened and the dev listeners on its
            trace.

        Raises:
            Exception: Whatever loading the config or importing the code raised.
        """
        app = App.from_config(
            self.config_path,
            environment=self.environment,
            start_time=wall_clock_ms(),
            persist_to=self.state_dir,
        )
        linked = []
        for path in self.worker_paths:
            folder = path if path.is_dir() else path.parent
            other = App.from_config(
                path,
                start_time=app.clock.now_ms(),
                persist_to=default_state_dir(folder) if self.state_dir is not None else None,
            )
            # One machine, one clock: the app's real-time ticks run the linked Workers'
            # alarms too (their timers live on the shared clock).
            other.clock = app.clock
            other.open_stored_objects()
            app.link_worker(other)
            other.link_worker(app)
            for earlier in linked:
                earlier.link_worker(other)
                other.link_worker(earlier)
            linked.append(other)
        self._linked[id(app)] = linked
        app.trace.limit = TRACE_LIMIT
        for listener in (requestlog.note_fields, self.traces.listener, self.names.listener):
            app.trace.subscribe(listener, fields=True)  # no event object built for them
        report = app.open_stored_objects()
        for file in report.skipped:
            log.warning("dosim dev: %s is not an object of its namespace; ignored", file)
        for file, message in report.corrupt:  # damaged object files: moved, the rest served
            moved = set_aside(file, self.state_dir or file.parent.parent)
            log.error("dosim dev: %s is damaged (%s); moved to %s", file, message, moved)
        if report.objects:
            log.info(
                "dosim dev: reopened %d stored object(s), %d with a pending alarm",
                report.objects,
                report.alarms,
            )
        return app

    async def reload(self, changed: list[str] | None = None) -> bool:
        """Rebuild the app from its files and swap it in, keeping storage.

        Requests already running finish on the old app, which is closed once they are
        done. If the new code fails to load, the old app keeps serving.

        Args:
            changed: The files that changed, for the log.

        Returns:
            Whether the new app is now serving.
        """
        shown = ", ".join(self._shown(p) for p in changed or []) or "requested"
        async with self._swap_lock, self.driver.paused():
            try:
                forget_app_modules(self.app_dir)
                fresh = self.build_app()
            except Exception:  # noqa: BLE001 - keep serving the old code, show the error
                log.exception("dosim dev: reload failed (%s); still serving the old code", shown)
                return False
            old, self.app = self.app, fresh
            self.reloads += 1
            closed = self.websockets.close_app(old)
            self._retire(old)
        if closed:
            log.info("dosim dev: closed %d WebSocket(s) of the old code with 1012", closed)
        log.info("dosim dev: reloaded (%s)", shown)
        return True

    def _shown(self, path: str) -> str:
        """A changed file as the log names it: its path in the app (``src/entry.py``)."""
        try:
            return Path(path).resolve().relative_to(self.app_dir.resolve()).as_posix()
        except ValueError:
            return Path(path).name

    def _close(self, app: App) -> None:
        for other in self._linked.pop(id(app), []):
            other.close()
        app.close()

    def _retire(self, app: App) -> None:
        if self._in_flight.get(id(app), 0) == 0:
            self._close(app)
        else:
            self._retired[id(app)] = app

    @contextlib.contextmanager
    def track_request(self, app: App) -> Any:
        """Count a request as running on ``app`` (a retired app closes when none are left).

        Args:
            app: The app serving the request.
        """
        key = id(app)
        self._in_flight[key] = self._in_flight.get(key, 0) + 1
        try:
            yield
        finally:
            left = self._in_flight[key] - 1
            if left:
                self._in_flight[key] = left
            else:
                del self._in_flight[key]
                retired = self._retired.pop(key, None)
                if retired is not None:
                    self._close(retired)

    # -- HTTP ---------------------------------------------------------------------------
    async def handle_http(self, request: Request) -> Response:
        """Serve one HTTP request through the Worker and log it.

        Args:
            request: The incoming request.
        """
        path = request.path
        if path == inspector.PREFIX or path.startswith(inspector.PREFIX + "/"):
            return inspector.not_routed(request, self)
        started = time.perf_counter()
        app = self.app
        error: str | None = None
        with requestlog.recording() as touched, self.track_request(app):
            response: Response
            try:
                if len(bridge.raw_url(request.scope)) > bridge.MAX_URL_BYTES:
                    raise bridge.UrlTooLong()
                body = await bridge.read_body(request, self.max_body_bytes)
                worker_request = bridge.to_worker_request(request, body)
            except bridge.BodyTooLarge as too_large:
                response = bridge.too_large_response(too_large.limit)
            except bridge.UrlTooLong:
                response = bridge.url_too_long_response()
            except Exception as bad:  # noqa: BLE001 - the Request constructor's checks
                response = PlainTextResponse(f"400 Bad Request: {bad}\n", status_code=400)
            else:
                try:
                    result = await app.fetch(worker_request)
                    if getattr(result, "status", None) == 101:
                        raise RuntimeError(
                            "the Worker answered 101 (WebSocket) to a request that is not "
                            "a WebSocket upgrade"
                        )
                    response = await bridge.to_http_response(result)
                except Exception as failure:  # noqa: BLE001 - shown as a 500 in dev
                    error = f"{type(failure).__name__}: {failure}"
                    response = bridge.worker_error_response(failure)
                except CpuLimitExceeded as exceeded:
                    error = f"{type(exceeded).__name__}: {exceeded}"
                    response = bridge.cpu_limit_response()
        if request.query:
            path += "?" + request.query
        duration = (time.perf_counter() - started) * 1000
        log.info(
            requestlog.format_line(
                request.method, path, response.status_code, duration, touched, error
            )
        )
        return response

    async def handle_websocket(self, websocket: WebSocket) -> None:
        """Serve one WebSocket upgrade through the Worker (:mod:`dosim.dev.websocket_seam`).

        Args:
            websocket: The incoming WebSocket.
        """
        await bridge_websocket(self, websocket)

    # -- lifecycle ----------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _lifespan(self, _: Any) -> AsyncIterator[None]:
        await self.driver.start()
        if self.watch_files:
            self._stop_watching = asyncio.Event()
            self._watcher = asyncio.get_running_loop().create_task(
                reload.watch(self.app_dir, self.state_dir, self._on_change, self._stop_watching)
            )
        log.info(self.banner())
        try:
            yield
        finally:
            if self._stop_watching is not None:
                self._stop_watching.set()
            if self._watcher is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(self._watcher, 2)
            await self.driver.stop()
            self.close()
            log.info("dosim dev: stopped")

    async def _on_change(self, changed: list[str]) -> None:
        await self.reload(changed)

    def banner(self) -> str:
        """The startup message: app, address, inspector and state folder."""
        where = f"http://{self.host}:{self.port}"
        state = self.state_dir if self.state_dir is not None else "in memory (--in-memory)"
        bindings = (
            ", ".join(f"{n.binding} → {n.class_name}" for n in self.app.namespace_views()) or "none"
        )
        others = ", ".join(
            f"{v.binding} ({v.type.upper()} {v.key})" for v in self.app.binding_views()
        )
        linked = ", ".join(sorted(self.app.linked_workers))
        return (
            f"dosim dev: serving {self.app.name!r} on {where}\n"
            f"  Durable Objects: {bindings}\n"
            + (f"  bindings: {others}\n" if others else "")
            + (f"  linked Workers: {linked}\n" if linked else "")
            + f"  inspector (read-only): {where}{inspector.PREFIX}/"
            f"  (token for changes: {self.inspector_token})\n"
            f"  state: {state}\n"
            f"  reload on change: {'on' if self.watch_files else 'off'}"
        )

    def close(self) -> None:
        """Close the app and any retired app still open (commits are already durable)."""
        for retired in list(self._retired.values()):
            self._close(retired)
        self._retired.clear()
        self._close(self.app)

    def uvicorn_config(self) -> uvicorn.Config:
        """The uvicorn settings: loopback, no access log (ours is better), lifespan on."""
        return uvicorn.Config(
            self.asgi,
            host=self.host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
            ws_max_size=WS_MAX_SIZE,
            # h11 plus the 128 KB header limit (431) and read timeouts (slowloris).
            http=httpprotocol.DevHttpProtocol,
        )

    async def serve(self) -> None:
        """Serve until interrupted (Ctrl+C / SIGTERM; a second one exits at once)."""
        await StoppableServer(self.uvicorn_config()).serve()
