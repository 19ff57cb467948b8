# ruff: noqa: F704
# fmt: off
import json

import dosim

app = dosim.App.from_config("examples/scheduler")


async def get(path):
    return json.loads(await (await app.fetch(path)).text())


# Two reminders for ann, due in 60 s and 30 s: one SQL table, one alarm.
for rid, text, delay in [("tea", "tea is ready", 60), ("call", "call bob", 30)]:
    body = json.dumps({"text": text, "in": delay})
    await app.fetch(f"/ann/reminders/{rid}", method="PUT", body=body)
scheduler = app.objects("SCHEDULER")[0]  # what dosim shows of the object
print("alarm in", scheduler.alarm / 1000 - app.now(), "seconds")
#> alarm in 30.0 seconds

# Virtual time: 45 s pass at once; the alarm fires at 30 s and delivers "call".
await app.advance(45)
print("inbox:", [message["text"] for message in await get("/ann/inbox")])
#> inbox: ['call bob']
for reminder in await get("/ann/reminders"):
    print(reminder["id"], reminder["status"], "attempts:", reminder["attempts"])
#> call delivered attempts: 1
#> tea pending attempts: 0

# The alarm was set again, to the next reminder; 15 s more and it fires.
await app.advance(15)
print("inbox:", [message["text"] for message in await get("/ann/inbox")])
#> inbox: ['call bob', 'tea is ready']
print("alarms fired:", len(app.trace.filter("alarm.fire")))
#> alarms fired: 2
