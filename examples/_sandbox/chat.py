# ruff: noqa: F704
# fmt: off
import dosim

app = dosim.App.from_config("examples/chat")


# A browser tab: a WebSocket to room "lobby" (one object), through the Worker.
async def join(name):
    client = await app.connect("/room/lobby/ws")
    client.send_json({"type": "join", "name": name})
    history = await client.receive_json()  # the last messages, to the joiner
    presence = await client.receive_json()  # who is here, to everyone
    said = [f"{m['name']}: {m['text']}" for m in history["messages"]]
    print(name, "joins; history:", said, "users:", presence["users"])
    return client


alice = await join("alice")
#> alice joins; history: [] users: ['alice']
alice.send_json({"type": "message", "text": "anyone here?"})
await alice.receive_json()  # the room echoes it to its sender too
bob = await join("bob")
#> bob joins; history: ['alice: anyone here?'] users: ['alice', 'bob']
print("alice gets:", await alice.receive_json())
#> alice gets: {'type': 'presence', 'users': ['alice', 'bob'], 'joined': 'bob'}

# bob says hello: the room broadcasts it to every socket, bob's own included.
bob.send_json({"type": "message", "text": "hello alice"})
for name, client in [("alice", alice), ("bob", bob)]:
    got = await client.receive_json()
    print(name, "gets:", got["name"], "said", repr(got["text"]))
#> alice gets: bob said 'hello alice'
#> bob gets: bob said 'hello alice'

# bob closes his tab: alice is told he left.
await bob.close()
print("alice gets:", await alice.receive_json())
#> alice gets: {'type': 'presence', 'users': ['alice'], 'left': 'bob'}
