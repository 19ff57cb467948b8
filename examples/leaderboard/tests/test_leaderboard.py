"""Tests of the leaderboard starter app: scores, ranks, pages, seasons, faults."""

import asyncio
import json

import pytest

from dosim.testing import evict_durable_object, run_in_durable_object


async def post_score(app, player, score, season="s1", game="chess"):
    body = json.dumps({"player": player, "score": score})
    return await app.fetch(f"/{game}/{season}/scores", method="POST", body=body)


async def get_json(app, path):
    response = await app.fetch(path)
    return response.status, json.loads(await response.text())


async def seed(app, scores, season="s1"):
    board = app.env.LEADERBOARD.getByName("chess")
    entries = [{"player": player, "score": score} for player, score in scores.items()]
    assert await board.submit_many(season, entries) == {"submitted": len(entries)}


async def test_submit_answers_the_players_entry(dosim_app):
    response = await post_score(dosim_app, "ann", 50)
    assert response.status == 200
    assert json.loads(await response.text()) == {"rank": 1, "player": "ann", "score": 50}


async def test_a_player_keeps_their_best_score(dosim_app):
    await post_score(dosim_app, "ann", 50)
    lower = await post_score(dosim_app, "ann", 20)
    assert json.loads(await lower.text())["score"] == 50
    higher = await post_score(dosim_app, "ann", 80)
    assert json.loads(await higher.text())["score"] == 80


async def test_top_lists_best_first_with_ranks(dosim_app):
    await seed(dosim_app, {"ann": 50, "bob": 70, "cy": 10})
    status, page = await get_json(dosim_app, "/chess/s1/top")
    assert status == 200
    assert page == {
        "entries": [
            {"rank": 1, "player": "bob", "score": 70},
            {"rank": 2, "player": "ann", "score": 50},
            {"rank": 3, "player": "cy", "score": 10},
        ],
        "next": None,
    }


async def test_equal_scores_share_a_rank_and_the_next_rank_is_skipped(dosim_app):
    await seed(dosim_app, {"ann": 50, "bob": 50, "cy": 10})
    _, page = await get_json(dosim_app, "/chess/s1/top")
    ranked = [(e["rank"], e["player"]) for e in page["entries"]]
    assert ranked == [(1, "ann"), (1, "bob"), (3, "cy")]


async def test_player_lookup_gives_score_and_rank(dosim_app):
    await seed(dosim_app, {"ann": 50, "bob": 70, "cy": 10})
    assert await get_json(dosim_app, "/chess/s1/players/ann") == (
        200,
        {"rank": 2, "player": "ann", "score": 50},
    )


async def test_unknown_player_and_unknown_season_are_404(dosim_app):
    await seed(dosim_app, {"ann": 50})
    assert (await dosim_app.fetch("/chess/s1/players/zed")).status == 404
    assert (await dosim_app.fetch("/chess/s9/top")).status == 404
    assert (await dosim_app.fetch("/chess/s9/players/ann")).status == 404


async def test_pages_cover_the_ranking_without_gaps_or_repeats(dosim_app):
    await seed(dosim_app, {f"p{n:02}": n % 7 for n in range(25)})  # many ties
    seen, after = [], None
    while True:
        query = "limit=10" + (f"&after={after}" if after else "")
        _, page = await get_json(dosim_app, f"/chess/s1/top?{query}")
        seen += [(e["score"], e["player"]) for e in page["entries"]]
        after = page["next"]
        if after is None:
            break
    assert seen == sorted(seen, key=lambda e: (-e[0], e[1]))
    assert len(set(seen)) == 25


async def test_last_full_page_has_no_next_cursor(dosim_app):
    await seed(dosim_app, {"ann": 50, "bob": 70})
    _, page = await get_json(dosim_app, "/chess/s1/top?limit=2")
    assert page["next"] is None


async def test_a_new_top_score_does_not_shift_the_next_page(dosim_app):
    await seed(dosim_app, {"ann": 50, "bob": 40, "cy": 30, "dee": 20})
    _, first = await get_json(dosim_app, "/chess/s1/top?limit=2")
    await post_score(dosim_app, "newcomer", 99)
    _, second = await get_json(dosim_app, f"/chess/s1/top?limit=2&after={first['next']}")
    assert [e["player"] for e in second["entries"]] == ["cy", "dee"]
    assert [e["rank"] for e in second["entries"]] == [4, 5]  # ranks are always current


async def test_page_size_is_capped_by_max_page_size(dosim_app):
    await seed(dosim_app, {"ann": 50})
    assert (await dosim_app.fetch("/chess/s1/top?limit=101")).status == 400
    assert (await dosim_app.fetch("/chess/s1/top?limit=100")).status == 200


async def test_bad_cursor_is_400(dosim_app):
    await seed(dosim_app, {"ann": 50})
    assert (await dosim_app.fetch("/chess/s1/top?after=oops")).status == 400


async def test_invalid_score_is_400_and_stores_nothing(dosim_app):
    response = await post_score(dosim_app, "ann", -5)
    assert response.status == 400
    assert json.loads(await response.text()) == {"error": "score must be a non-negative integer"}
    assert await get_json(dosim_app, "/chess/seasons") == (200, [])


async def test_body_that_is_not_json_is_400(dosim_app):
    response = await dosim_app.fetch("/chess/s1/scores", method="POST", body="ann=5")
    assert response.status == 400


async def test_season_names_outside_the_pattern_are_refused(dosim_app):
    assert (await dosim_app.fetch("/chess/s1;DROP TABLE seasons/top")).status == 404
    board = dosim_app.env.LEADERBOARD.getByName("chess")
    assert await board.submit("s1 x", "ann", 5) == {
        "error": "season must be 1 to 32 characters of a-z, 0-9 and _"
    }


async def test_batch_is_all_or_nothing(dosim_app):
    body = json.dumps([{"player": "ann", "score": 5}, {"player": "bob", "score": "lots"}])
    response = await dosim_app.fetch("/chess/s1/scores", method="POST", body=body)
    assert response.status == 400
    assert json.loads(await response.text()) == {
        "error": "entry 2: score must be a non-negative integer"
    }
    # ann's score and the season's table were written before bob's entry failed, then
    # rolled back with the rest of the transaction.
    assert (await dosim_app.fetch("/chess/s1/players/ann")).status == 404
    assert await get_json(dosim_app, "/chess/seasons") == (200, [])


async def test_seasons_are_separate_tables_with_a_ranking_index(dosim_app):
    await seed(dosim_app, {"ann": 50, "bob": 10}, season="s1")
    await seed(dosim_app, {"ann": 5}, season="s2")
    assert await get_json(dosim_app, "/chess/seasons") == (
        200,
        [{"name": "s1", "players": 2}, {"name": "s2", "players": 1}],
    )
    assert (await get_json(dosim_app, "/chess/s2/players/ann"))[1]["score"] == 5

    def schema(obj, ctx):
        tables = {row.name for row in ctx.storage.sql.exec("PRAGMA table_list")}
        indexes = {row.name for row in ctx.storage.sql.exec("PRAGMA index_list(scores_s1)")}
        return tables, indexes

    board = dosim_app.env.LEADERBOARD.getByName("chess")
    tables, indexes = await run_in_durable_object(board, schema)
    assert {"seasons", "scores_s1", "scores_s2"} <= tables
    assert "scores_s1_ranking" in indexes


async def test_games_are_separate_objects(dosim_app):
    await post_score(dosim_app, "ann", 50, game="chess")
    await post_score(dosim_app, "ann", 7, game="go")
    assert (await get_json(dosim_app, "/go/s1/players/ann"))[1]["score"] == 7


async def test_deleting_a_season_drops_its_scores(dosim_app):
    await seed(dosim_app, {"ann": 50}, season="s1")
    await seed(dosim_app, {"ann": 5}, season="s2")
    response = await dosim_app.fetch("/chess/s1", method="DELETE")
    assert response.status == 204
    assert await get_json(dosim_app, "/chess/seasons") == (200, [{"name": "s2", "players": 1}])
    assert (await dosim_app.fetch("/chess/s1/top")).status == 404
    assert (await dosim_app.fetch("/chess/s1", method="DELETE")).status == 404


async def test_scores_survive_eviction(dosim_app):
    await seed(dosim_app, {"ann": 50, "bob": 70})
    assert evict_durable_object(dosim_app.env.LEADERBOARD.getByName("chess")) is True
    assert (await get_json(dosim_app, "/chess/s1/players/ann"))[1]["rank"] == 2


async def test_concurrent_submissions_all_land(dosim_app):
    responses = await asyncio.gather(*(post_score(dosim_app, f"p{n}", n) for n in range(50)))
    assert {response.status for response in responses} == {200}
    _, page = await get_json(dosim_app, "/chess/s1/top?limit=100")
    assert [e["rank"] for e in page["entries"]] == list(range(1, 51))


async def test_submit_retried_after_a_lost_connection_counts_once(dosim_app):
    board = dosim_app.env.LEADERBOARD.getByName("chess")
    dosim_app.faults.lose_connection_on_next_call(board, after_delivery=True)
    response = await post_score(dosim_app, "ann", 50)
    assert response.status == 200
    assert len(dosim_app.trace.filter("rpc.call", method="submit")) == 2  # it ran twice
    assert await get_json(dosim_app, "/chess/seasons") == (200, [{"name": "s1", "players": 1}])


async def test_submit_whose_commit_failed_is_retried_on_a_new_stub(dosim_app):
    board = dosim_app.env.LEADERBOARD.getByName("chess")
    dosim_app.faults.fail_next_commit(board)
    response = await post_score(dosim_app, "ann", 50)
    assert response.status == 200
    assert len(dosim_app.trace.filter("reset", name="chess")) == 1
    assert (await get_json(dosim_app, "/chess/s1/players/ann"))[1]["score"] == 50


async def test_failed_commit_leaves_no_trace_of_the_batch(dosim_app):
    board = dosim_app.env.LEADERBOARD.getByName("chess")
    await seed(dosim_app, {"ann": 50})
    dosim_app.faults.fail_next_commit(board)
    with pytest.raises(Exception, match="reset") as caught:
        await board.submit_many("s2", [{"player": "bob", "score": 1}])
    assert getattr(caught.value, "durableObjectReset", False) is True
    fresh = dosim_app.env.LEADERBOARD.getByName("chess")
    assert await fresh.seasons() == [{"name": "s1", "players": 1}]
