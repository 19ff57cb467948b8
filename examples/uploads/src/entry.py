"""File uploads: the bytes in an R2 bucket, each folder's index and quota in a Durable Object.

``PUT /<folder>/<name>`` stores a file, ``GET /<folder>/<name>`` serves it (with ``ETag``
and ``If-None-Match``), ``DELETE /<folder>/<name>`` removes it, ``GET /<folder>/`` lists
the folder with its usage. The bucket holds the bytes; the folder's object holds what the
app must get right: which files exist and how many bytes they take, so two uploads racing
for the last megabyte of a quota cannot both win.
"""

import json
import time
from urllib.parse import unquote, urlparse

from workers import DurableObject, Response, WorkerEntrypoint

DEFAULT_QUOTA_BYTES = 1_048_576
RESERVATION_SECONDS = 300  # an upload whose Worker died never commits: its hold expires


class Folder(DurableObject):
    """One folder: its files (name, size, etag, type, upload time) and its byte quota.

    An upload first reserves its size here, then writes to R2, then commits; a failed
    write releases the reservation. Reservations count against the quota, so concurrent
    uploads can never overshoot it; one that is never committed or released (its Worker
    was stopped mid-upload) expires after ``RESERVATION_SECONDS``.
    """

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.quota = int(getattr(env, "FOLDER_QUOTA_BYTES", DEFAULT_QUOTA_BYTES))
        ctx.storage.sql.exec(
            "CREATE TABLE IF NOT EXISTS files (name TEXT PRIMARY KEY, size INTEGER,"
            " etag TEXT, content_type TEXT, uploaded TEXT);"
            "CREATE TABLE IF NOT EXISTS pending (name TEXT PRIMARY KEY, size INTEGER,"
            " expires REAL)"
        )

    def _used(self, leaving_out=None):
        sql = self.ctx.storage.sql
        stored = (
            sql.exec(
                "SELECT coalesce(sum(size), 0) AS n FROM files WHERE name IS NOT ?", leaving_out
            )
            .one()
            .n
        )
        pending = (
            sql.exec(
                "SELECT coalesce(sum(size), 0) AS n FROM pending WHERE name IS NOT ?", leaving_out
            )
            .one()
            .n
        )
        return stored + pending

    async def reserve(self, name, size):
        """Hold ``size`` bytes of the quota for an upload of ``name`` (replacing it)."""
        now = time.time()
        self.ctx.storage.sql.exec("DELETE FROM pending WHERE expires <= ?", now)
        if self.ctx.storage.sql.exec("SELECT 1 FROM pending WHERE name = ?", name).toArray():
            return {"ok": False, "reason": "an upload of this file is in progress"}
        used = self._used(leaving_out=name)
        if used + size > self.quota:
            return {"ok": False, "reason": "quota exceeded", "used": used, "quota": self.quota}
        self.ctx.storage.sql.exec(
            "INSERT INTO pending VALUES (?, ?, ?)", name, size, now + RESERVATION_SECONDS
        )
        return {"ok": True}

    async def commit(self, name, size, etag, content_type, uploaded):
        """Record a stored file and drop its reservation."""
        sql = self.ctx.storage.sql
        sql.exec("DELETE FROM pending WHERE name = ?", name)
        sql.exec(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
            name,
            size,
            etag,
            content_type,
            uploaded,
        )

    async def release(self, name):
        """Drop the reservation of an upload that failed."""
        self.ctx.storage.sql.exec("DELETE FROM pending WHERE name = ?", name)

    async def remove(self, name):
        """Forget ``name``; tell whether it was there."""
        cursor = self.ctx.storage.sql.exec("DELETE FROM files WHERE name = ?", name)
        return cursor.rowsWritten > 0

    async def listing(self):
        """The folder's files, by name, with its usage."""
        rows = self.ctx.storage.sql.exec(
            "SELECT name, size, etag, content_type, uploaded FROM files ORDER BY name"
        ).toArray()
        files = [dict(row) for row in rows]
        return {"files": files, "used": self._used(), "quota": self.quota}


def _route(request):
    parts = urlparse(request.url).path.lstrip("/").split("/", 1)
    folder = unquote(parts[0])
    name = unquote(parts[1]) if len(parts) > 1 else ""
    return folder, name


def _json(value, status=200):
    return Response(json.dumps(value), status=status, headers={"content-type": "application/json"})


class Default(WorkerEntrypoint):
    """Routes ``/<folder>/<name>`` to R2 and to the folder's object."""

    async def fetch(self, request):
        folder, name = _route(request)
        if not folder:
            return Response("PUT, GET or DELETE /<folder>/<name>; GET /<folder>/ lists", status=404)
        method = request.method
        if not name:
            if method != "GET":
                return Response("method not allowed", status=405)
            return _json(await self.env.FOLDERS.getByName(folder).listing())
        if method == "PUT":
            return await self._upload(request, folder, name)
        if method == "GET":
            return await self._download(request, folder, name)
        if method == "DELETE":
            return await self._delete(folder, name)
        return Response("method not allowed", status=405)

    async def _upload(self, request, folder, name):
        data = await request.bytes()
        content_type = request.headers.get("content-type") or "application/octet-stream"
        stub = self.env.FOLDERS.getByName(folder)
        verdict = await stub.reserve(name, len(data))
        if not verdict["ok"]:
            status = 413 if verdict["reason"] == "quota exceeded" else 409
            return _json(verdict, status=status)
        try:
            stored = await self.env.FILES.put(
                f"{folder}/{name}",
                data,
                httpMetadata={"contentType": content_type},
                customMetadata={"folder": folder},
            )
        except Exception:
            await stub.release(name)
            return _json({"ok": False, "reason": "storage unavailable, try again"}, status=503)
        await stub.commit(name, stored.size, stored.etag, content_type, stored.uploaded.isoformat())
        return _json({"name": name, "size": stored.size, "etag": stored.etag}, status=201)

    async def _download(self, request, folder, name):
        options = {}
        wanted = request.headers.get("if-none-match")
        if wanted:
            options["onlyIf"] = {"etagDoesNotMatch": wanted.strip('"')}
        found = await self.env.FILES.get(f"{folder}/{name}", **options)
        if found is None:
            return Response("not found", status=404)
        headers = {"etag": found.httpEtag}
        if not hasattr(found, "body"):  # the precondition failed: the client's copy is current
            return Response(None, status=304, headers=headers)
        headers["content-type"] = found.httpMetadata.get("contentType", "application/octet-stream")
        return Response(found.body, headers=headers)

    async def _delete(self, folder, name):
        existed = await self.env.FOLDERS.getByName(folder).remove(name)
        await self.env.FILES.delete(f"{folder}/{name}")
        return Response(None, status=204 if existed else 404)
