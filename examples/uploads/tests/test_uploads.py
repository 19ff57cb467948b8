"""Tests of the uploads starter: R2 holds the bytes, each folder's object its index and quota."""

import asyncio
import json

import pytest


async def upload(app, path, data, content_type="text/plain"):
    return await app.fetch(path, method="PUT", body=data, headers={"content-type": content_type})


async def test_upload_then_download_and_list(dosim_app):
    created = await upload(dosim_app, "/alice/notes.txt", b"hello")
    assert created.status == 201
    receipt = json.loads(await created.text())
    assert receipt["size"] == 5 and len(receipt["etag"]) == 32

    download = await dosim_app.fetch("/alice/notes.txt")
    assert download.status == 200
    assert await download.bytes() == b"hello"
    assert download.headers["content-type"] == "text/plain"
    assert download.headers["etag"] == f'"{receipt["etag"]}"'

    listing = json.loads(await (await dosim_app.fetch("/alice/")).text())
    assert [f["name"] for f in listing["files"]] == ["notes.txt"]
    assert listing["used"] == 5 and listing["files"][0]["etag"] == receipt["etag"]


async def test_the_bytes_are_in_r2_with_the_metadata(dosim_app):
    await upload(dosim_app, "/alice/a.csv", b"x,y\n1,2\n", "text/csv")
    stored = await dosim_app.env.FILES.head("alice/a.csv")
    assert stored.size == 8
    assert stored.httpMetadata["contentType"] == "text/csv"
    assert stored.customMetadata == {"folder": "alice"}


async def test_a_conditional_get_with_the_current_etag_is_304(dosim_app):
    receipt = json.loads(await (await upload(dosim_app, "/bob/x.txt", b"v1")).text())
    etag = f'"{receipt["etag"]}"'
    unchanged = await dosim_app.fetch("/bob/x.txt", headers={"if-none-match": etag})
    assert unchanged.status == 304
    await upload(dosim_app, "/bob/x.txt", b"v2")
    changed = await dosim_app.fetch("/bob/x.txt", headers={"if-none-match": etag})
    assert changed.status == 200 and await changed.bytes() == b"v2"


async def test_replacing_a_file_counts_its_new_size_once(dosim_app):
    await upload(dosim_app, "/carol/f", b"a" * 100)
    await upload(dosim_app, "/carol/f", b"b" * 40)
    listing = json.loads(await (await dosim_app.fetch("/carol/")).text())
    assert listing["used"] == 40 and len(listing["files"]) == 1


async def test_an_upload_over_the_quota_is_refused_and_nothing_is_stored(dosim_app):
    quota = int(dosim_app.env.FOLDER_QUOTA_BYTES)
    assert (await upload(dosim_app, "/dan/big", b"x" * (quota - 10))).status == 201
    refused = await upload(dosim_app, "/dan/more", b"x" * 11)
    assert refused.status == 413
    assert json.loads(await refused.text())["reason"] == "quota exceeded"
    assert await dosim_app.env.FILES.head("dan/more") is None


async def test_concurrent_uploads_never_overshoot_the_quota(dosim_app):
    # Each upload reserves its size in the folder's object before writing to R2; the
    # object serialises the reservations, so exactly as many fit as the quota allows.
    quota = int(dosim_app.env.FOLDER_QUOTA_BYTES)
    size = quota // 4 + 1  # three fit, the fourth does not
    answers = await asyncio.gather(
        *[upload(dosim_app, f"/erin/part{i}", b"z" * size) for i in range(6)]
    )
    statuses = sorted(a.status for a in answers)
    assert statuses == [201, 201, 201, 413, 413, 413]
    listing = json.loads(await (await dosim_app.fetch("/erin/")).text())
    assert listing["used"] == 3 * size <= quota


async def test_an_r2_failure_releases_the_reservation(dosim_app):
    dosim_app.faults.fail_next_binding_call("FILES", "put")
    failed = await upload(dosim_app, "/fay/a.txt", b"abc")
    assert failed.status == 503
    listing = json.loads(await (await dosim_app.fetch("/fay/")).text())
    assert listing == {"files": [], "used": 0, "quota": listing["quota"]}
    assert (await upload(dosim_app, "/fay/a.txt", b"abc")).status == 201


async def test_a_reservation_that_is_never_committed_expires(dosim_app):
    folder = dosim_app.env.FOLDERS.getByName("ivy")
    quota = int(dosim_app.env.FOLDER_QUOTA_BYTES)
    assert (await folder.reserve("stuck", quota))["ok"]  # its Worker never comes back
    assert (await upload(dosim_app, "/ivy/next", b"x")).status == 413
    await dosim_app.advance(300)
    assert (await upload(dosim_app, "/ivy/next", b"x")).status == 201


async def test_delete_removes_the_file_and_its_bytes(dosim_app):
    await upload(dosim_app, "/gus/old.txt", b"bye")
    assert (await dosim_app.fetch("/gus/old.txt", method="DELETE")).status == 204
    assert (await dosim_app.fetch("/gus/old.txt")).status == 404
    assert await dosim_app.env.FILES.head("gus/old.txt") is None
    assert (await dosim_app.fetch("/gus/old.txt", method="DELETE")).status == 404


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("POST", "/hal/x", 405), ("PUT", "/hal/", 405), ("GET", "/", 404), ("GET", "/hal/none", 404)],
)
async def test_other_requests(dosim_app, method, path, status):
    assert (await dosim_app.fetch(path, method=method)).status == status
