# ruff: noqa: F704
# fmt: off
import json

import dosim

app = dosim.App.from_config("examples/leaderboard")


async def call(path, method="GET", body=None):
    data = None if body is None else json.dumps(body)
    response = await app.fetch(path, method=method, body=data)
    return response.status, json.loads(await response.text())


# Game "chess", season "s1": one object per game, a SQL table per season.
scores = {"ann": 50, "bob": 70, "cat": 50, "dan": 20}
batch = [{"player": player, "score": n} for player, n in scores.items()]
print(await call("/chess/s1/scores", "POST", batch))
#> (200, {'submitted': 4})

# The top 3, best first; equal scores share a rank.
_, page = await call("/chess/s1/top?limit=3")
print([(e["rank"], e["player"], e["score"]) for e in page["entries"]])
#> [(1, 'bob', 70), (2, 'ann', 50), (2, 'cat', 50)]
# The next page starts after the last entry shown (its `next` cursor).
_, page = await call(f"/chess/s1/top?limit=3&after={page['next']}")
print(page)
#> {'entries': [{'rank': 4, 'player': 'dan', 'score': 20}], 'next': None}

# A player keeps their best score: bob's 40 changes nothing.
print(await call("/chess/s1/scores", "POST", {"player": "bob", "score": 40}))
#> (200, {'rank': 1, 'player': 'bob', 'score': 70})

# One bad entry rejects the whole batch (transactionSync): eve is not added.
bad = [{"player": "eve", "score": 10}, {"player": "fay", "score": -1}]
print(await call("/chess/s1/scores", "POST", bad))
#> (400, {'error': 'entry 2: score must be a non-negative integer'})
print(await call("/chess/seasons"))
#> (200, [{'name': 's1', 'players': 4}])
