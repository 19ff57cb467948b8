"""Seat booking: one Durable Object per show, its seats in SQLite.

GET    /<show>/seats                                     the seat map
POST   /<show>/holds               {"customer", "seats"} hold seats for HOLD_SECONDS
POST   /<show>/holds/<id>/confirm  {"customer"}          book the held seats
DELETE /<show>/holds/<id>                                release a hold
"""

import json
import string
import time
import uuid
from urllib.parse import unquote, urlparse

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from workers import DurableObject, Response, WorkerEntrypoint

# Seats are bound one parameter each into `IN (...)`, and a statement takes at most 100.
MAX_SEATS_PER_HOLD = 10
# How the Worker answers the errors a Show returns.
ERROR_STATUS = {"invalid": 400, "unavailable": 409, "unknown_hold": 404, "not_yours": 403}


class ConfirmBody(Schema):
    """The JSON body of `POST /<show>/holds/<id>/confirm`: who is confirming."""

    class Meta:
        unknown = EXCLUDE  # other keys are ignored, not refused

    customer = fields.String(required=True, validate=validate.Length(min=1, max=100))


class HoldBody(ConfirmBody):
    """The JSON body of `POST /<show>/holds`: who, and which seats.

    Only the shape is checked here; which seats exist, and how many one hold may take,
    the show's object decides (it answers `{"error": "invalid", "seats": [...]}`).
    """

    seats = fields.List(fields.String(), required=True)


def now_ms():
    return int(time.time() * 1000)


class Show(DurableObject):
    """The seats of one show: each is free, held (until `held_until`) or booked.

    Holds expire in two ways, and need both: the alarm, set to the earliest expiry, frees
    seats even if nobody calls; and every method frees expired holds first, because an
    alarm may run late and an expired hold must never block a customer.
    """

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.hold_ms = int(float(env.HOLD_SECONDS) * 1000)
        self.sql.exec(
            "CREATE TABLE IF NOT EXISTS seats ("
            " seat TEXT PRIMARY KEY,"
            " status TEXT NOT NULL DEFAULT 'free' CHECK (status IN ('free', 'held', 'booked')),"
            " hold_id TEXT,"  # the hold, then the booking, that has the seat
            " customer TEXT,"
            " held_until INTEGER);"  # ms, while held
            "CREATE INDEX IF NOT EXISTS seats_by_hold ON seats (hold_id);"
            "CREATE INDEX IF NOT EXISTS holds_by_expiry ON seats (held_until)"
            " WHERE status = 'held'"
        )
        if self.sql.exec("SELECT COUNT(*) AS n FROM seats").one().n == 0:
            rows = string.ascii_uppercase[: int(env.ROWS)]
            for row in rows:
                for number in range(1, int(env.SEATS_PER_ROW) + 1):
                    self.sql.exec("INSERT INTO seats (seat) VALUES (?)", f"{row}{number}")

    async def seats(self):
        """The seat map: {"A1": "free", "A2": "held", ...}."""
        self._release_expired()
        await self._arm()
        return {
            row.seat: row.status
            for row in self.sql.exec("SELECT seat, status FROM seats ORDER BY rowid")
        }

    async def hold(self, hold_id, customer, seats):
        """Hold all of `seats` for `customer`, or none of them.

        Returns {"hold", "customer", "seats", "expires_at"}, or {"error", "seats"}: the
        error is "invalid" (a seat that does not exist, a repeated one, too many) or
        "unavailable" (the seats listed are held or booked). Holding again with the same
        `hold_id` returns the existing hold, so a caller may retry with the id it chose.
        """
        self._release_expired()
        existing = self._hold(hold_id)
        if existing is not None:
            return existing
        if not seats or len(seats) > MAX_SEATS_PER_HOLD or len(set(seats)) < len(seats):
            return {"error": "invalid", "seats": seats}
        marks = ", ".join("?" * len(seats))
        status = {
            row.seat: row.status
            for row in self.sql.exec(
                f"SELECT seat, status FROM seats WHERE seat IN ({marks})", *seats
            )
        }
        unknown = [seat for seat in seats if seat not in status]
        if unknown:
            return {"error": "invalid", "seats": unknown}
        taken = [seat for seat in seats if status[seat] != "free"]
        if taken:
            return {"error": "unavailable", "seats": taken}
        # Between the check above and this write there is no `await`, so no other request
        # can run in between: two customers never both get a seat. And the write is one
        # statement: all the seats are held, or none.
        self.sql.exec(
            "UPDATE seats SET status = 'held', hold_id = ?, customer = ?, held_until = ?"
            f" WHERE seat IN ({marks})",
            hold_id,
            customer,
            now_ms() + self.hold_ms,
            *seats,
        )
        await self._arm()
        return self._hold(hold_id)

    async def confirm(self, hold_id, customer):
        """Book the seats of a live hold: {"booking", "customer", "seats"}, or {"error"}.

        The error is "unknown_hold" (never made, released or expired) or "not_yours".
        Confirming a booking again returns it again.
        """
        self._release_expired()
        rows = self.sql.exec(
            "SELECT seat, customer FROM seats WHERE hold_id = ? ORDER BY seat", hold_id
        ).toArray()
        if not rows:
            return {"error": "unknown_hold"}
        if rows[0].customer != customer:
            return {"error": "not_yours"}
        self.sql.exec(
            "UPDATE seats SET status = 'booked', held_until = NULL WHERE hold_id = ?", hold_id
        )
        await self._arm()
        return {"booking": hold_id, "customer": customer, "seats": [row.seat for row in rows]}

    async def release(self, hold_id):
        """Give up a hold's seats (booked seats stay booked). Returns whether any were held."""
        self._release_expired()
        held = self._hold(hold_id) is not None
        self._free("hold_id = ? AND status = 'held'", hold_id)
        await self._arm()
        return held

    async def alarm(self, alarm_info=None):
        # Idempotent, so the platform's retry of a failed run (or a late, repeated one)
        # is harmless: it only frees holds that have expired by now.
        self._release_expired()
        await self._arm()

    def _release_expired(self):
        self._free("status = 'held' AND held_until <= ?", now_ms())

    def _free(self, where, *bindings):
        self.sql.exec(
            "UPDATE seats SET status = 'free', hold_id = NULL, customer = NULL,"
            f" held_until = NULL WHERE {where}",
            *bindings,
        )

    async def _arm(self):
        # One alarm per object, set to the earliest expiry of a live hold. Every method
        # that may change holds ends here.
        earliest = self.sql.exec(
            "SELECT MIN(held_until) AS at FROM seats WHERE status = 'held'"
        ).one()
        if earliest.at is None:
            await self.ctx.storage.deleteAlarm()
        else:
            await self.ctx.storage.setAlarm(earliest.at)

    def _hold(self, hold_id):
        rows = self.sql.exec(
            "SELECT seat, customer, held_until FROM seats"
            " WHERE hold_id = ? AND status = 'held' ORDER BY seat",
            hold_id,
        ).toArray()
        if not rows:
            return None
        return {
            "hold": hold_id,
            "customer": rows[0].customer,
            "seats": [row.seat for row in rows],
            "expires_at": rows[0].held_until,
        }


def _worth_retrying(error):
    # The flags the runtime sets on errors from a Durable Object call (see the README).
    if getattr(error, "overloaded", False):
        return False
    return getattr(error, "retryable", False) or getattr(error, "durableObjectReset", False)


class Default(WorkerEntrypoint):
    """Routes /<show>/... to that show's object."""

    async def fetch(self, request):
        parts = [unquote(part) for part in urlparse(request.url).path.split("/") if part]
        method = request.method
        if len(parts) < 2:
            return _json(404, {"error": "not found"})
        show, route = parts[0], parts[1:]
        if route == ["seats"] and method == "GET":
            return _json(200, await self._call(show, lambda s: s.seats()))
        if route[0] != "holds":
            return _json(404, {"error": "not found"})

        if len(route) == 2 and method == "DELETE":
            await self._call(show, lambda s: s.release(route[1]))
            return Response(None, status=204)
        if method != "POST":
            return _json(405, {"error": "method not allowed"})
        schema = HoldBody() if len(route) == 1 else ConfirmBody()
        try:
            body = schema.load(json.loads(await request.text()))
        except ValueError:  # not JSON (json.JSONDecodeError is a ValueError)
            return _json(400, {"error": "bad_body", "fields": {"_schema": ["Not JSON."]}})
        except ValidationError as error:  # JSON of the wrong shape: say what is wrong
            return _json(400, {"error": "bad_body", "fields": error.messages})
        customer = body["customer"]

        if len(route) == 1:
            seats = body["seats"]
            # The id is chosen here, before the first attempt, so that a retry of the same
            # request finds the hold it may already have made instead of competing with it.
            hold_id = uuid.uuid4().hex
            result = await self._call(show, lambda s: s.hold(hold_id, customer, seats))
            return _json(ERROR_STATUS.get(result.get("error"), 201), result)
        if len(route) == 3 and route[2] == "confirm":
            result = await self._call(show, lambda s: s.confirm(route[1], customer))
            return _json(ERROR_STATUS.get(result.get("error"), 200), result)
        return _json(404, {"error": "not found"})

    async def _call(self, show, call):
        # Every Show method can safely run twice (see `hold`), so a call that failed in
        # transit or hit a reset is retried once, on a new stub: a stub that saw its
        # object reset keeps failing.
        try:
            return await call(self.env.SHOWS.getByName(show))
        except Exception as error:
            if not _worth_retrying(error):
                raise
        return await call(self.env.SHOWS.getByName(show))


def _json(status, data):
    return Response.json(data, status=status)
