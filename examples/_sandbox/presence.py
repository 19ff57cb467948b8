# ruff: noqa: F704
# fmt: off
import dosim

app = dosim.App.from_config("examples/presence")


# A browser tab on document "plan" (one object), through the Worker.
async def enter(name, role="editor"):
    client = await app.connect(f"/doc/plan/ws?name={name}&role={role}")
    welcome = await client.receive_json()  # who you are, who else is here
    return client, welcome


alice, _ = await enter("alice")
bob, _ = await enter("bob")
print("alice is told:", (await alice.receive_json())["user"]["name"], "joined")
#> alice is told: bob joined

# Both move their cursors (x, y: fractions of the page); the other sees it.
alice.send_json({"type": "cursor", "x": 0.25, "y": 0.5})
bob.send_json({"type": "cursor", "x": 0.75, "y": 0.1})
for name, client in [("alice", alice), ("bob", bob)]:
    moved = await client.receive_json()
    print(name, "sees the other cursor at", (moved["x"], moved["y"]))
#> alice sees the other cursor at (0.75, 0.1)
#> bob sees the other cursor at (0.25, 0.5)

# A viewer opens the page: the welcome lists both cursors, read from the
# sockets' attachments (the object keeps nothing in memory or storage).
carol, welcome = await enter("carol", role="viewer")
for user in welcome["users"]:
    print(user["name"], user["color"], user["role"], (user["x"], user["y"]))
#> alice #f032e6 editor (0.25, 0.5)
#> bob #e6194b editor (0.75, 0.1)

# Viewers watch; the room refuses their cursor.
carol.send_json({"type": "cursor", "x": 0.5, "y": 0.5})
print((await carol.receive_json())["error"])
#> read_only
