"""Leaderboards in SQL: one Durable Object per game, one table per season.

POST   /<game>/<season>/scores           {"player", "score"} or a list of them
GET    /<game>/<season>/top?limit=&after= a page of the ranking
GET    /<game>/<season>/players/<player> one player's score and rank
GET    /<game>/seasons                   the game's seasons
DELETE /<game>/<season>                  drop a season
"""

import json
import re
import time
from urllib.parse import parse_qs, unquote, urlparse

from workers import DurableObject, Response, WorkerEntrypoint

# Season names become part of table names, which SQL cannot bind as parameters: only
# names matching this pattern are ever put into a statement.
SEASON = re.compile(r"[a-z0-9_]{1,32}")
MAX_PLAYER_LENGTH = 64


class Leaderboard(DurableObject):
    """The leaderboards of one game.

    Each season has its own table, `scores_<season>`, indexed by (score DESC, player): the
    ranking order. Top-N pages, rank lookups and counts all read that index. Dropping a
    season is one DROP TABLE, and one season's size never slows another's queries.
    """

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        # The constructor runs before any request reaches the object, so tables exist
        # by the time a method uses them. IF NOT EXISTS makes it cheap after the first run.
        self.sql.exec(
            "CREATE TABLE IF NOT EXISTS seasons (name TEXT PRIMARY KEY, created_at INTEGER)"
        )

    # -- writes ----------------------------------------------------------------------
    async def submit(self, season, player, score):
        """Record a score; a player keeps their best. Returns their entry, or an error."""
        try:
            self._submit(season, player, score)
        except ValueError as error:
            return {"error": str(error)}
        return self._entry(season, player)

    async def submit_many(self, season, entries):
        """Record several scores, all or none: one bad entry rejects the whole batch."""

        def submit_all():
            for number, entry in enumerate(entries, start=1):
                try:
                    self._submit(season, entry["player"], entry["score"])
                except (KeyError, TypeError, ValueError) as error:
                    raise ValueError(f"entry {number}: {error}") from None

        # Without transactionSync the entries before the bad one would stay written (a
        # handler's writes commit even when it raises). Inside it, raising rolls them back.
        try:
            self.ctx.storage.transactionSync(submit_all)
        except ValueError as error:
            return {"error": str(error)}
        return {"submitted": len(entries)}

    async def drop_season(self, season):
        """Delete a season and all its scores. Returns whether it existed."""
        if not self._exists(season):
            return False
        self.sql.exec(f"DROP TABLE scores_{season}")
        self.sql.exec("DELETE FROM seasons WHERE name = ?", season)
        return True

    def _submit(self, season, player, score):
        _check_season(season)
        if not isinstance(player, str) or not 0 < len(player) <= MAX_PLAYER_LENGTH:
            raise ValueError(f"player must be a name of 1 to {MAX_PLAYER_LENGTH} characters")
        if type(score) is not int or score < 0:
            raise ValueError("score must be a non-negative integer")
        self._create_season(season)
        # Resubmitting a score changes nothing: the upsert is idempotent, so a caller may
        # safely retry a submission whose answer it never got.
        self.sql.exec(
            f"INSERT INTO scores_{season} (player, score, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (player) DO UPDATE SET score = excluded.score, "
            "updated_at = excluded.updated_at WHERE excluded.score > score",
            player,
            score,
            int(time.time() * 1000),
        )

    def _create_season(self, season):
        if self._exists(season):
            return
        self.sql.exec(
            f"CREATE TABLE scores_{season} ("
            "player TEXT PRIMARY KEY, score INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
            f"CREATE INDEX scores_{season}_ranking ON scores_{season} (score DESC, player)"
        )
        self.sql.exec(
            "INSERT INTO seasons (name, created_at) VALUES (?, ?)",
            season,
            int(time.time() * 1000),
        )

    # -- reads -----------------------------------------------------------------------
    async def top(self, season, limit=10, after=None):
        """A page of the ranking, best first: {"entries": [...], "next": cursor or None}.

        A page starts after the last entry of the previous one (`after` is that page's
        `next`), not at an offset: the index seeks straight to it, and a score posted
        above it between two page loads does not push an entry already shown onto the
        next page, as it would with OFFSET. Returns None for an unknown season.
        """
        if not self._exists(season):
            return None
        if after is None:
            rows = self.sql.exec(
                _ranked(season) + "ORDER BY score DESC, player LIMIT ?", limit + 1
            ).toArray()
        else:
            score, player = _parse_cursor(after)
            # `score <= ?1` lets the index seek; the rest skips the ties already shown.
            rows = self.sql.exec(
                _ranked(season) + "WHERE score <= ?1 AND (score < ?1 OR player > ?2) "
                "ORDER BY score DESC, player LIMIT ?3",
                score,
                player,
                limit + 1,
            ).toArray()
        # One row more than asked says whether another page follows.
        entries = rows[:limit]
        more = len(rows) > limit
        return {"entries": entries, "next": _cursor(entries[-1]) if more else None}

    async def player(self, season, player):
        """One player's entry ({"rank", "player", "score"}), or None."""
        if not self._exists(season):
            return None
        return self._entry(season, player)

    async def seasons(self):
        """Every season, oldest first, with its number of players."""
        names = [row.name for row in self.sql.exec("SELECT name FROM seasons ORDER BY rowid")]
        counts = [
            self.sql.exec(f"SELECT COUNT(*) AS n FROM scores_{name}").one().n for name in names
        ]
        return [{"name": name, "players": n} for name, n in zip(names, counts, strict=True)]

    def _exists(self, season):
        _check_season(season)
        return self.sql.exec("SELECT 1 FROM seasons WHERE name = ?", season).toArray() != []

    def _entry(self, season, player):
        rows = self.sql.exec(_ranked(season) + "WHERE player = ?", player).toArray()
        return rows[0] if rows else None


def _ranked(season):
    # Equal scores share a rank: one more than the number of better scores, counted on
    # the index. Rows come out as {"rank", "player", "score"}.
    return (
        f"SELECT (SELECT COUNT(*) FROM scores_{season} WHERE score > s.score) + 1 AS rank, "
        f"player, score FROM scores_{season} AS s "
    )


def _cursor(entry):
    return f"{entry['score']}:{entry['player']}"


def _parse_cursor(cursor):
    score, _, player = str(cursor).partition(":")
    if not score.isdigit() or not player:
        raise ValueError(f"not a page cursor: {cursor!r}")
    return int(score), player


def _check_season(season):
    if not isinstance(season, str) or not SEASON.fullmatch(season):
        raise ValueError("season must be 1 to 32 characters of a-z, 0-9 and _")


def _worth_retrying(error):
    # The flags the runtime sets on errors from a Durable Object call (see the README).
    if getattr(error, "overloaded", False):
        return False
    return getattr(error, "retryable", False) or getattr(error, "durableObjectReset", False)


class Default(WorkerEntrypoint):
    """Routes HTTP requests to the game's Leaderboard object."""

    async def fetch(self, request):
        url = urlparse(request.url)
        parts = [unquote(part) for part in url.path.split("/") if part]
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        method = request.method
        if len(parts) == 2 and parts[1] == "seasons" and method == "GET":
            return Response.json(await self._call(parts[0], lambda board: board.seasons()))
        if len(parts) < 2 or not SEASON.fullmatch(parts[1]):
            return _error(404, "not found")
        game, season, rest = parts[0], parts[1], parts[2:]

        if rest == ["scores"] and method == "POST":
            try:
                body = json.loads(await request.text())
            except ValueError:
                return _error(400, "body must be JSON")
            if isinstance(body, list):
                result = await self._call(game, lambda board: board.submit_many(season, body))
            elif isinstance(body, dict):
                player, score = body.get("player"), body.get("score")
                result = await self._call(game, lambda board: board.submit(season, player, score))
            else:
                return _error(400, 'body must be {"player", "score"} or a list of them')
            return _error(400, result["error"]) if "error" in result else Response.json(result)

        if rest == ["top"] and method == "GET":
            after = query.get("after")
            try:
                limit = int(query.get("limit", "10"))
                if after is not None:
                    _parse_cursor(after)
            except ValueError:
                return _error(400, "limit must be a number and after a page cursor")
            if not 0 < limit <= int(self.env.MAX_PAGE_SIZE):
                return _error(400, f"limit must be between 1 and {self.env.MAX_PAGE_SIZE}")
            page = await self._call(game, lambda board: board.top(season, limit, after))
            return _error(404, "no such season") if page is None else Response.json(page)

        if len(rest) == 2 and rest[0] == "players" and method == "GET":
            entry = await self._call(game, lambda board: board.player(season, rest[1]))
            return _error(404, "no score") if entry is None else Response.json(entry)

        if not rest and method == "DELETE":
            dropped = await self._call(game, lambda board: board.drop_season(season))
            return Response(None, status=204) if dropped else _error(404, "no such season")
        return _error(404, "not found")

    async def _call(self, game, call):
        # Every Leaderboard method is safe to run twice (submitting keeps the best score),
        # so a call that failed in transit or hit a reset is retried once, on a new stub:
        # a stub that saw its object reset keeps failing.
        try:
            return await call(self.env.LEADERBOARD.getByName(game))
        except Exception as error:
            if not _worth_retrying(error):
                raise
        return await call(self.env.LEADERBOARD.getByName(game))


def _error(status, message):
    return Response.json({"error": message}, status=status)
