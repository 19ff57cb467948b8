# ruff: noqa: F704
# fmt: off
import asyncio

import dosim

# The counter app, loaded from its wrangler.toml (its storage lives in memory).
app = dosim.App.from_config("examples/counter")

# Three POSTs: the Worker calls increment() on the object named "visits".
for _ in range(3):
    response = await app.fetch("/visits/increment", method="POST")
print("visits:", await response.text())
#> visits: 3

# Another name is another object, with storage of its own.
await app.fetch("/likes/increment", method="POST")
print("likes:", await (await app.fetch("/likes")).text())
#> likes: 1

# 10 idle seconds (virtual: no waiting) evict both objects from memory.
await app.advance(10)
print("in memory:", [view.name for view in app.objects() if view.live])
#> in memory: []
# The value was in storage, so the next request reads it back.
print("visits:", await (await app.fetch("/visits")).text())
#> visits: 3

# 100 increments at once: the input gate runs them one at a time.
race = [app.fetch("/race/increment", method="POST") for _ in range(100)]
await asyncio.gather(*race)
print("race:", await (await app.fetch("/race")).text())
#> race: 100
