# ruff: noqa: F704
# fmt: off
import json

import dosim

app = dosim.App.from_config("examples/seat_booking")


async def call(path, body=None, method="POST"):  # show "gala": one object
    data = None if body is None else json.dumps(body)
    response = await app.fetch(f"/gala{path}", method=method, body=data)
    return response.status, json.loads(await response.text())


async def seats(*names):
    _, plan = await call("/seats", method="GET")
    return {name: plan[name] for name in names}


# ann holds A1 and A2 for 5 minutes, then confirms: they are booked.
status, hold = await call("/holds", {"customer": "ann", "seats": ["A1", "A2"]})
print(status, hold["seats"], await seats("A1", "A2"))
#> 201 ['A1', 'A2'] {'A1': 'held', 'A2': 'held'}
status, _ = await call(f"/holds/{hold['hold']}/confirm", {"customer": "ann"})
print(status, await seats("A1", "A2"))
#> 200 {'A1': 'booked', 'A2': 'booked'}

# bob asks for A2 and A3: a hold gets all its seats or none, so he gets none.
print(await call("/holds", {"customer": "bob", "seats": ["A2", "A3"]}))
#> (409, {'error': 'unavailable', 'seats': ['A2']})

# bob holds A3 but never confirms: 5 minutes later the alarm frees it.
status, _ = await call("/holds", {"customer": "bob", "seats": ["A3"]})
print(status, await seats("A3"))
#> 201 {'A3': 'held'}
await app.advance(300)
print(await seats("A3"), "alarms fired:", len(app.trace.filter("alarm.fire")))
#> {'A3': 'free'} alarms fired: 1
