"""A counter per name: the smallest useful Durable Object.

GET  /<name>          -> current value of counter <name>
POST /<name>/increment -> increments it and returns the new value
"""

from urllib.parse import urlparse

from workers import DurableObject, Response, WorkerEntrypoint


class Counter(DurableObject):
    """One counter. Its value lives in the object's storage, so it survives eviction."""

    async def increment(self, by=1):
        value = (await self.ctx.storage.get("value") or 0) + by
        await self.ctx.storage.put("value", value)
        return value

    async def get(self):
        return await self.ctx.storage.get("value") or 0

    async def reset(self):
        await self.ctx.storage.delete("value")


class Default(WorkerEntrypoint):
    """Routes /<name> and /<name>/increment to the counter called <name>."""

    async def fetch(self, request):
        parts = [part for part in urlparse(request.url).path.split("/") if part]
        if not parts:
            return Response("usage: GET /<name> or POST /<name>/increment\n", status=404)
        counter = self.env.COUNTER.getByName(parts[0])
        if parts[1:] == ["increment"] and request.method == "POST":
            return Response(str(await counter.increment()))
        if len(parts) == 1 and request.method == "GET":
            return Response(str(await counter.get()))
        return Response("not found\n", status=404)
