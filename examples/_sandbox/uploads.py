# ruff: noqa: F704
# fmt: off
import json

import dosim

# R2 holds the bytes; each folder's object keeps its index and its 1 MiB quota.
app = dosim.App.from_config("examples/uploads")


async def put(path, data):
    response = await app.fetch(path, method="PUT", body=data)
    return response.status, json.loads(await response.text())


# The Worker reserves the size in folder "ann", writes to R2, then commits.
status, receipt = await put("/ann/notes.txt", b"buy milk")
print(status, receipt["name"], receipt["size"], "bytes")
#> 201 notes.txt 8 bytes

# The bytes are in the R2 bucket (the FILES binding), under "<folder>/<name>".
listed = await app.env.FILES.list(prefix="ann/")
print("in R2:", [(item.key, item.size) for item in listed.objects])
#> in R2: [('ann/notes.txt', 8)]
stored = await app.env.FILES.get("ann/notes.txt")
print(repr(await stored.text()), "same etag:", stored.etag == receipt["etag"])
#> 'buy milk' same etag: True

# The folder's listing comes from its object's SQL table.
listing = json.loads(await (await app.fetch("/ann/")).text())
print([f["name"] for f in listing["files"]], listing["used"], listing["quota"])
#> ['notes.txt'] 8 1048576

# A file that would take the folder over its quota is refused, and not stored.
status, verdict = await put("/ann/video.mp4", b"x" * 1_048_576)
print(status, verdict["reason"], await app.env.FILES.head("ann/video.mp4"))
#> 413 quota exceeded None
