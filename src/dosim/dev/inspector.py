"""The inspector: a read-only page at ``/__dosim/`` and its JSON API under ``/__dosim/api/``.

Nothing here changes the app or its storage: every endpoint is a ``GET``, storage is read
through the app's read model (:meth:`dosim.App.objects`), and the page says "read-only" at the top.

========================================================  ==================================
``/__dosim/``                                             the page (plain HTML + a little JS)
``/__dosim/api/app``                                      app name, folder, state, reloads
``/__dosim/api/namespaces``                               bindings, classes, backends, counts
``/__dosim/api/namespaces/{binding}/objects``             objects: id, name, live, alarm
``/__dosim/api/namespaces/{binding}/objects/{id}``        one object: alarm, KV count, tables
``…/objects/{id}/kv?offset=&limit=``                      KV entries, paged, in key order
``…/objects/{id}/sql/{table}?offset=&limit=``             rows of one SQL table, paged
``/__dosim/api/trace?after=&limit=``                      live trace events after a cursor
========================================================  ==================================

Paths below ``/__dosim/`` are the dev server's own; a Worker route with that prefix is
not reachable under ``dosim dev``.

The inspector shows every stored value, so it answers only requests whose ``Host`` is a
loopback name (``localhost``, ``127.0.0.1``, ``[::1]``, or names added with
``--inspector-host``): a web page on another site that points its own host name at
127.0.0.1 (DNS rebinding) gets ``403``. A method other than ``GET``/``HEAD`` needs the
server's token (``X-Dosim-Token``), printed at start-up; there are no write actions yet,
so with the token it still gets ``405``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable
from importlib import resources
from typing import Any

from ..objects import ObjectView
from .web import HTMLResponse, JSONResponse, Request, Response, Route

__all__ = ["PREFIX", "LOOPBACK_HOSTS", "TOKEN_HEADER", "routes", "not_routed", "host_allowed"]

PREFIX = "/__dosim"
"""Where the inspector lives."""

_MAX_PAGE = 200

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
"""Host names the inspector answers by default."""
TOKEN_HEADER = "x-dosim-token"
"""The header that carries the server's token for anything but reading."""


def host_allowed(host_header: str | None, allowed: Iterable[str]) -> bool:
    """Whether a ``Host`` header names an allowed host (any port).

    Args:
        host_header: The header's value (``None`` when absent: refused).
        allowed: Host names, lower case; IPv6 addresses without brackets.
    """
    if not host_header:
        return False
    host = host_header.strip().lower()
    if host.startswith("["):  # [::1]:8787
        name = host[1 : host.find("]")] if "]" in host else host
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name.rstrip(".") in set(allowed)


def _guarded(
    server: Any, endpoint: Callable[[Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    async def guarded(request: Request) -> Response:
        refusal = _refusal(server, request)
        return refusal if refusal is not None else await endpoint(request)

    return guarded


def _refusal(server: Any, request: Request) -> Response | None:
    allowed = getattr(server, "inspector_hosts", LOOPBACK_HOSTS)
    if not host_allowed(request.headers.get("host"), allowed):
        return JSONResponse(
            {
                "error": "the inspector answers loopback host names only; start dosim dev "
                "with --inspector-host NAME to allow another"
            },
            status_code=403,
        )
    return None


def _page_args(request: Request) -> tuple[int, int]:
    def number(key: str, default: int) -> int:
        try:
            return max(0, int(request.query_params.get(key, default)))
        except ValueError:
            return default

    return number("offset", 0), min(number("limit", 50), _MAX_PAGE)


def _not_found(what: str) -> JSONResponse:
    return JSONResponse({"error": f"no such {what}"}, status_code=404)


def _object_info(server: Any, view: ObjectView) -> dict[str, Any]:
    return {
        "id": view.hex_id,
        "name": view.name or server.names.get(view.binding, view.hex_id),
        "live": view.live,
        "alarm": view.alarm,
        "hibernatable_sockets": view.sockets,
    }


def not_routed(request: Request, server: Any = None) -> Response:
    """Answer a request under :data:`PREFIX` that no inspector route took.

    ``403`` for a host name that is not allowed, or for a method other than
    ``GET``/``HEAD`` without the server's token; ``405`` for such a method with it (the
    inspector has no write actions yet); else ``404``. Such requests never reach the
    Worker.

    Args:
        request: The request.
        server: The dev server (its ``inspector_hosts`` and ``inspector_token``).
    """
    if server is not None:
        refusal = _refusal(server, request)
        if refusal is not None:
            return refusal
    if request.method not in ("GET", "HEAD"):
        token = getattr(server, "inspector_token", None)
        sent = request.headers.get(TOKEN_HEADER, "")
        if token is None or not hmac.compare_digest(sent.encode(), token.encode()):
            return JSONResponse(
                {"error": f"changing anything needs the {TOKEN_HEADER} header"},
                status_code=403,
            )
        return JSONResponse(
            {"error": "the inspector is read-only"}, status_code=405, headers={"allow": "GET"}
        )
    return _not_found("inspector page")


def routes(server: Any) -> list[Route]:
    """Build the inspector's routes for a dev server.

    Args:
        server: The :class:`~dosim.dev.server.DevServer` (its current ``app``, ``names``
            and ``traces`` are read at each request, so reloads are followed).
    """

    def lookup(request: Request) -> ObjectView | JSONResponse:
        try:
            view = server.app.find_object(
                request.path_params["binding"], request.path_params["object_id"]
            )
        except LookupError:
            return _not_found("namespace")
        return _not_found("object") if view is None else view

    async def page(request: Request) -> Response:
        html = resources.files(__package__).joinpath("inspector.html").read_text("utf-8")
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    async def app_info(request: Request) -> Response:
        app = server.app
        return JSONResponse(
            {
                "name": app.name,
                "folder": str(server.app_dir),
                "state": str(app.persist_to) if app.persist_to is not None else None,
                "now": app.clock.now_ms(),
                "reloads": server.reloads,
                "read_only": True,
            }
        )

    async def namespaces(request: Request) -> Response:
        return JSONResponse(
            [
                {
                    "binding": namespace.binding,
                    "class": namespace.class_name,
                    "backend": namespace.backend,
                    "objects": len(server.app.objects(namespace.binding)),
                }
                for namespace in server.app.namespace_views()
            ]
        )

    async def objects(request: Request) -> Response:
        try:
            views = server.app.objects(request.path_params["binding"])
        except LookupError:
            return _not_found("namespace")
        infos = [_object_info(server, view) for view in views]
        infos.sort(key=lambda info: (info["name"] is None, info["name"] or "", info["id"]))
        return JSONResponse(infos)

    async def object_detail(request: Request) -> Response:
        found = lookup(request)
        if isinstance(found, JSONResponse):
            return found
        info = _object_info(server, found)
        info["kv_entries"] = found.kv(0, 0)["total"]
        info["tables"] = found.tables()
        return JSONResponse(info)

    async def kv(request: Request) -> Response:
        found = lookup(request)
        if isinstance(found, JSONResponse):
            return found
        offset, limit = _page_args(request)
        return JSONResponse(found.kv(offset, limit))

    async def sql(request: Request) -> Response:
        found = lookup(request)
        if isinstance(found, JSONResponse):
            return found
        offset, limit = _page_args(request)
        result = found.table(request.path_params["table"], offset, limit)
        return _not_found("table") if result is None else JSONResponse(result)

    async def trace(request: Request) -> Response:
        try:
            after = int(request.query_params.get("after", 0))
            limit = int(request.query_params.get("limit", 500))
        except ValueError:
            return JSONResponse({"error": "after and limit must be integers"}, status_code=400)
        events = server.traces.after(after, min(max(limit, 0), 2_000))
        return JSONResponse({"cursor": server.traces.cursor, "events": events})

    def binding_view(request: Request) -> Any:
        for view in server.app.binding_views():
            if view.binding == request.path_params["binding"]:
                return view
        return _not_found("binding")

    async def bindings(request: Request) -> Response:
        return JSONResponse(
            [
                {"binding": v.binding, "type": v.type, "key": v.key, "tables": v.tables()}
                for v in server.app.binding_views()
            ]
        )

    async def binding_table(request: Request) -> Response:
        found = binding_view(request)
        if isinstance(found, JSONResponse):
            return found
        offset, limit = _page_args(request)
        result = found.table(request.path_params["table"], offset, limit)
        return _not_found("table") if result is None else JSONResponse(result)

    base = PREFIX + "/api/namespaces/{binding}/objects/{object_id}"
    endpoints = [
        (PREFIX, page),
        (PREFIX + "/", page),
        (PREFIX + "/api/app", app_info),
        (PREFIX + "/api/namespaces", namespaces),
        (PREFIX + "/api/namespaces/{binding}/objects", objects),
        (base, object_detail),
        (base + "/kv", kv),
        (base + "/sql/{table}", sql),
        (PREFIX + "/api/trace", trace),
        (PREFIX + "/api/bindings", bindings),
        (PREFIX + "/api/bindings/{binding}/tables/{table}", binding_table),
    ]
    return [Route(path, _guarded(server, endpoint)) for path, endpoint in endpoints]
