"""Tests of the rate limiter starter app: buckets, refill on virtual time, faults."""

import asyncio

import pytest

from dosim.testing import evict_durable_object, list_durable_object_ids

CAPACITY = 10  # BUCKET_CAPACITY and REFILL_PER_SECOND in wrangler.toml
REFILL_PER_SECOND = 1


async def call_api(app, key="alice"):
    return await app.fetch("/api/items", headers={"X-API-Key": key})


async def spend_all(app, key="alice"):
    for _ in range(CAPACITY):
        assert (await call_api(app, key)).status == 200


def test_constants_match_wrangler_toml(dosim_app):
    assert float(dosim_app.env.BUCKET_CAPACITY) == CAPACITY
    assert float(dosim_app.env.REFILL_PER_SECOND) == REFILL_PER_SECOND


async def test_requests_within_capacity_count_down_remaining(dosim_app):
    first = await call_api(dosim_app)
    second = await call_api(dosim_app)
    assert (first.status, await first.text()) == (200, "ok\n")
    assert first.headers["X-RateLimit-Remaining"] == str(CAPACITY - 1)
    assert second.headers["X-RateLimit-Remaining"] == str(CAPACITY - 2)
    assert first.headers["X-RateLimit-Limit"] == str(CAPACITY)


async def test_request_over_capacity_gets_429_with_retry_after(dosim_app):
    await spend_all(dosim_app)
    refused = await call_api(dosim_app)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["X-RateLimit-Remaining"] == "0"


async def test_retry_after_rounds_the_wait_up_to_whole_seconds(dosim_app):
    await spend_all(dosim_app)
    await dosim_app.advance(0.25)
    refused = await call_api(dosim_app)
    assert refused.headers["Retry-After"] == "1"


async def test_bucket_refills_with_elapsed_time(dosim_app):
    await spend_all(dosim_app)
    retry_after = int((await call_api(dosim_app)).headers["Retry-After"])
    await dosim_app.advance(retry_after)
    assert (await call_api(dosim_app)).status == 200
    assert (await call_api(dosim_app)).status == 429


async def test_refill_stops_at_capacity(dosim_app):
    await call_api(dosim_app)
    await dosim_app.advance(3600)
    limiter = dosim_app.env.RATE_LIMITER.getByName("alice")
    assert await limiter.peek() == CAPACITY


async def test_clients_have_separate_buckets(dosim_app):
    await spend_all(dosim_app, "alice")
    assert (await call_api(dosim_app, "alice")).status == 429
    assert (await call_api(dosim_app, "bob")).status == 200


async def test_client_without_api_key_is_limited_by_ip(dosim_app):
    await dosim_app.fetch("/api/x", headers={"CF-Connecting-IP": "203.0.113.7"})
    by_ip = dosim_app.env.RATE_LIMITER.getByName("203.0.113.7")
    assert await by_ip.peek() == CAPACITY - 1


async def test_routes_outside_api_are_404_and_free(dosim_app):
    response = await dosim_app.fetch("/elsewhere", headers={"X-API-Key": "alice"})
    assert response.status == 404
    assert list_durable_object_ids(dosim_app.env.RATE_LIMITER) == []


async def test_rpc_take_reports_the_verdict(dosim_app):
    limiter = dosim_app.env.RATE_LIMITER.getByName("batch-job")
    assert await limiter.take(4) == {"allowed": True, "remaining": 6, "retryAfter": 0}
    assert await limiter.take(7) == {"allowed": False, "remaining": 6, "retryAfter": 1}


async def test_cost_above_capacity_is_rejected(dosim_app):
    limiter = dosim_app.env.RATE_LIMITER.getByName("greedy")
    # On Cloudflare a Python exception may reach the caller as a JsException carrying its
    # text, so only the message is relied on.
    with pytest.raises(Exception, match="cost must be between 0 and 10"):
        await limiter.take(CAPACITY + 1)


async def test_bucket_survives_eviction(dosim_app):
    limiter = dosim_app.env.RATE_LIMITER.getByName("alice")
    await limiter.take(3)
    assert evict_durable_object(limiter) is True
    assert await limiter.peek() == CAPACITY - 3
    assert len(dosim_app.trace.filter("constructor", name="alice")) == 2


async def test_concurrent_requests_never_exceed_capacity(dosim_app):
    responses = await asyncio.gather(*(call_api(dosim_app) for _ in range(3 * CAPACITY)))
    statuses = [response.status for response in responses]
    assert statuses.count(200) == CAPACITY
    assert statuses.count(429) == 2 * CAPACITY


async def test_reset_mid_call_is_retried_and_counted_once(dosim_app):
    limiter = dosim_app.env.RATE_LIMITER.getByName("alice")
    dosim_app.faults.reset_on_next_call(limiter)
    response = await call_api(dosim_app)
    assert response.status == 200
    assert await dosim_app.env.RATE_LIMITER.getByName("alice").peek() == CAPACITY - 1
    assert len(dosim_app.trace.filter("reset", name="alice")) == 1


async def test_failed_commit_is_retried_and_counted_once(dosim_app):
    limiter = dosim_app.env.RATE_LIMITER.getByName("alice")
    dosim_app.faults.fail_next_commit(limiter)
    response = await call_api(dosim_app)
    assert response.status == 200
    assert response.headers["X-RateLimit-Remaining"] == str(CAPACITY - 1)
    assert [e.detail["ok"] for e in dosim_app.trace.filter("commit", name="alice")] == [
        False,
        True,
    ]


async def test_connection_lost_after_delivery_counts_the_request_twice(dosim_app):
    # The object spent a token but the Worker never heard; its retry spends another.
    # Over-counting is the safe direction for a limiter, so the app accepts it.
    limiter = dosim_app.env.RATE_LIMITER.getByName("alice")
    dosim_app.faults.lose_connection_on_next_call(limiter, after_delivery=True)
    response = await call_api(dosim_app)
    assert response.status == 200
    assert response.headers["X-RateLimit-Remaining"] == str(CAPACITY - 2)


async def test_a_second_failure_reaches_the_caller(dosim_app):
    limiter = dosim_app.env.RATE_LIMITER.getByName("alice")
    dosim_app.faults.lose_connection_on_next_call(limiter, after_delivery=False)
    dosim_app.faults.lose_connection_on_next_call(limiter, after_delivery=False)
    with pytest.raises(Exception, match="Network connection lost"):
        await call_api(dosim_app)
