"""A token-bucket rate limiter: one Durable Object per client key.

Every request under /api/ takes a token from its client's bucket. A bucket holds up to
BUCKET_CAPACITY tokens and refills continuously at REFILL_PER_SECOND; a request that
finds it empty is answered 429 with Retry-After.
"""

import math
import time
from urllib.parse import urlparse

from workers import DurableObject, Response, WorkerEntrypoint


class RateLimiter(DurableObject):
    """The bucket of one client key.

    The bucket is stored as (tokens, time of that count). Refill is computed from the time
    elapsed when a request arrives, so an idle bucket costs nothing: no timer, no alarm.
    """

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.capacity = float(env.BUCKET_CAPACITY)
        self.rate = float(env.REFILL_PER_SECOND)

    async def take(self, cost=1):
        """Take `cost` tokens if the bucket holds them; say whether it did."""
        if not 0 < cost <= self.capacity:
            raise ValueError(f"cost must be between 0 and {self.capacity:g}, got {cost}")
        tokens, now = await self._refilled()
        if tokens < cost:
            # A refusal changes nothing worth storing: the refill is recomputed next time.
            return self._verdict(False, tokens, cost)
        tokens -= cost
        # No await between the read above and this write can let another request in (the
        # input gate holds them while we wait on our own storage), so concurrent requests
        # never spend the same token.
        await self.ctx.storage.put("bucket", {"tokens": tokens, "at": now})
        return self._verdict(True, tokens, cost)

    async def peek(self):
        """How many whole tokens the bucket holds now, without taking any."""
        tokens, _ = await self._refilled()
        return math.floor(tokens)

    async def _refilled(self):
        now = time.time()
        bucket = await self.ctx.storage.get("bucket")
        if bucket is None:
            return self.capacity, now
        elapsed = max(0.0, now - bucket["at"])
        return min(self.capacity, bucket["tokens"] + elapsed * self.rate), now

    def _verdict(self, allowed, tokens, cost):
        wait = 0 if allowed else math.ceil((cost - tokens) / self.rate)
        return {"allowed": allowed, "remaining": math.floor(tokens), "retryAfter": wait}


def _worth_retrying(error):
    # The flags the runtime sets on errors from a Durable Object call (see the README).
    if getattr(error, "overloaded", False):
        return False
    return getattr(error, "retryable", False) or getattr(error, "durableObjectReset", False)


class Default(WorkerEntrypoint):
    """Guards /api/* with the caller's bucket; everything else is 404."""

    async def fetch(self, request):
        if not urlparse(request.url).path.startswith("/api/"):
            return Response("not found\n", status=404)
        key = request.headers.get("X-API-Key") or request.headers.get("CF-Connecting-IP")
        verdict = await self._take(key or "anonymous")
        headers = {
            "X-RateLimit-Limit": self.env.BUCKET_CAPACITY,
            "X-RateLimit-Remaining": str(verdict["remaining"]),
        }
        if not verdict["allowed"]:
            headers["Retry-After"] = str(verdict["retryAfter"])
            return Response("rate limit exceeded\n", status=429, headers=headers)
        # The protected upstream would be called here.
        return Response("ok\n", headers=headers)

    async def _take(self, key):
        # One retry, through a new stub (a stub that saw its object reset keeps failing).
        # Safe here: a reset discards the failed call's write, and a connection lost after
        # delivery at worst counts one request twice, which errs on the side of limiting.
        try:
            return await self.env.RATE_LIMITER.getByName(key).take()
        except Exception as error:
            if not _worth_retrying(error):
                raise
        return await self.env.RATE_LIMITER.getByName(key).take()
