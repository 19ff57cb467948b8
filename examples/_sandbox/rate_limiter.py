# ruff: noqa: F704
# fmt: off
import dosim

# A bucket of 10 tokens per client, refilled at 1 per second ([vars]).
app = dosim.App.from_config("examples/rate_limiter")


async def call(key):
    # The Worker picks the client's bucket (an object) by its X-API-Key header.
    return await app.fetch("/api/search", headers={"X-API-Key": key})


# A burst of 12 requests from ann: the bucket lets 10 through, then refuses.
burst = [await call("ann") for _ in range(12)]
print([response.status for response in burst])
#> [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 429, 429]
print("Retry-After:", burst[-1].headers["Retry-After"])
#> Retry-After: 1

# Another key is another object, with a full bucket of its own.
bob = await call("bob")
print("bob:", bob.status, "remaining", bob.headers["X-RateLimit-Remaining"])
#> bob: 200 remaining 9

# 3 seconds later (virtual time: no waiting) ann has 3 tokens again.
await app.advance(3)
print([(await call("ann")).status for _ in range(4)])
#> [200, 200, 200, 429]

# The object's RPC method, called directly: whole tokens left, taking none.
print("ann's tokens:", await app.env.RATE_LIMITER.getByName("ann").peek())
#> ann's tokens: 0
