"""Reminders: many per user in SQL, delivered by one alarm set to the earliest.

PUT    /<user>/reminders/<id>  {"text": "...", "in": seconds}  schedule or reschedule
DELETE /<user>/reminders/<id>                                  cancel
GET    /<user>/reminders        every reminder, with its attempts and last error
GET    /<user>/inbox            the reminders delivered so far
"""

import json
import time
from urllib.parse import unquote, urlparse

from workers import DurableObject, Response, WorkerEntrypoint

BATCH_SIZE = 50  # reminders delivered per alarm run; the rest go in the next run


def _summary(error):
    """The error's last line, at most 500 characters (an error raised in another object
    arrives with its whole Python traceback as its message)."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return lines[-1][:500]


def now_ms():
    return int(time.time() * 1000)


class Scheduler(DurableObject):
    """The reminders of one user.

    Invariant: the object's single alarm is set to the earliest `due_at` of its pending
    reminders, or unset when there are none. Every method that changes reminders ends with
    `_arm()`, which recomputes it from the table instead of patching it.
    """

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.max_attempts = int(env.MAX_ATTEMPTS)
        self.retry_delay_ms = int(float(env.RETRY_DELAY_SECONDS) * 1000)
        # `recipient` is stored per reminder because the object cannot count on knowing
        # its own name (ctx.id.name is only set by newer runtimes).
        self.sql.exec(
            "CREATE TABLE IF NOT EXISTS reminders ("
            " id TEXT PRIMARY KEY,"
            " recipient TEXT NOT NULL,"
            " text TEXT NOT NULL,"
            " due_at INTEGER NOT NULL,"  # ms; after a failed attempt, when the next is due
            " status TEXT NOT NULL DEFAULT 'pending',"  # pending | delivered | failed
            " attempts INTEGER NOT NULL DEFAULT 0,"
            " last_error TEXT,"
            " delivered_at INTEGER);"
            "CREATE INDEX IF NOT EXISTS pending_by_due ON reminders (due_at)"
            " WHERE status = 'pending'"
        )

    async def schedule(self, reminder_id, recipient, text, due_at):
        """Schedule a reminder, or move a pending one. Returns the reminder.

        Scheduling the same reminder twice is harmless, so callers may retry freely.
        """
        self.sql.exec(
            "INSERT INTO reminders (id, recipient, text, due_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET text = excluded.text, due_at = excluded.due_at,"
            " attempts = 0, last_error = NULL WHERE status = 'pending'",
            reminder_id,
            recipient,
            text,
            due_at,
        )
        await self._arm()
        return self._reminder(reminder_id)

    async def cancel(self, reminder_id):
        """Forget a reminder, delivered or not. Returns whether it existed."""
        existed = self._reminder(reminder_id) is not None
        self.sql.exec("DELETE FROM reminders WHERE id = ?", reminder_id)
        await self._arm()
        return existed

    async def reminders(self):
        """Every reminder, soonest first."""
        return self.sql.exec(
            "SELECT id, text, due_at, status, attempts, last_error, delivered_at"
            " FROM reminders ORDER BY due_at, id"
        ).toArray()

    async def alarm(self, alarm_info=None):
        # The platform retries this handler (with backoff) only if it raises, which it
        # does not for a failed delivery: each reminder keeps its own attempts and next
        # due time below, so one failing reminder neither blocks nor re-runs the others.
        # What can still make it raise (a reset, a failed storage commit) is safe to
        # retry: reminder state is in SQL, and the inbox ignores repeats.
        if alarm_info is not None and alarm_info.isRetry:
            print(f"alarm retry {alarm_info.retryCount}")
        due = self.sql.exec(
            "SELECT id, recipient, text, due_at, attempts FROM reminders"
            " WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?",
            now_ms(),
            BATCH_SIZE,
        ).toArray()
        for reminder in due:
            await self._deliver(reminder)
        await self._arm()

    async def _deliver(self, reminder):
        attempts = reminder.attempts + 1
        try:
            # A new stub for every delivery: a stub whose object was reset keeps failing.
            inbox = self.env.INBOX.getByName(reminder.recipient)
            await inbox.receive(reminder.id, reminder.text)
        except Exception as error:
            gave_up = attempts >= self.max_attempts
            next_try = now_ms() + self.retry_delay_ms * 2 ** (attempts - 1)
            self.sql.exec(
                "UPDATE reminders SET attempts = ?, last_error = ?, status = ?, due_at = ?"
                " WHERE id = ? AND status = 'pending'",
                attempts,
                _summary(error),
                "failed" if gave_up else "pending",
                reminder.due_at if gave_up else next_try,
                reminder.id,
            )
            return
        self.sql.exec(
            "UPDATE reminders SET attempts = ?, status = 'delivered', delivered_at = ?"
            " WHERE id = ? AND status = 'pending'",
            attempts,
            now_ms(),
            reminder.id,
        )

    async def _arm(self):
        earliest = self.sql.exec(
            "SELECT MIN(due_at) AS due_at FROM reminders WHERE status = 'pending'"
        ).one()
        if earliest.due_at is None:
            await self.ctx.storage.deleteAlarm()
        else:
            await self.ctx.storage.setAlarm(earliest.due_at)

    def _reminder(self, reminder_id):
        rows = self.sql.exec(
            "SELECT id, text, due_at, status, attempts, last_error, delivered_at"
            " FROM reminders WHERE id = ?",
            reminder_id,
        ).toArray()
        return rows[0] if rows else None


class Inbox(DurableObject):
    """Where one user's reminders are delivered."""

    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql = ctx.storage.sql
        self.sql.exec(
            "CREATE TABLE IF NOT EXISTS messages ("
            " id TEXT PRIMARY KEY, text TEXT NOT NULL, received_at INTEGER NOT NULL)"
        )

    async def receive(self, message_id, text):
        """Store a message once, however often it arrives."""
        # Delivery is at least once: after a failure the sender cannot see through (the
        # connection dropped after we stored the message) it sends the message again.
        # The primary key turns the repeat into a no-op.
        self.sql.exec(
            "INSERT INTO messages (id, text, received_at) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO NOTHING",
            message_id,
            text,
            now_ms(),
        )

    async def messages(self):
        """Every message, in the order received."""
        return self.sql.exec(
            "SELECT id, text, received_at FROM messages ORDER BY received_at, id"
        ).toArray()


class Default(WorkerEntrypoint):
    """Routes /<user>/... to that user's Scheduler and Inbox."""

    async def fetch(self, request):
        parts = [unquote(part) for part in urlparse(request.url).path.split("/") if part]
        method = request.method
        if len(parts) < 2:
            return _error(404, "not found")
        user = parts[0]
        scheduler = self.env.SCHEDULER.getByName(user)
        if parts[1:] == ["reminders"] and method == "GET":
            return Response.json(await scheduler.reminders())
        if parts[1:] == ["inbox"] and method == "GET":
            return Response.json(await self.env.INBOX.getByName(user).messages())
        if len(parts) != 3 or parts[1] != "reminders":
            return _error(404, "not found")
        reminder_id = parts[2]
        if method == "DELETE":
            await scheduler.cancel(reminder_id)
            return Response(None, status=204)
        if method == "PUT":
            try:
                body = json.loads(await request.text())
                text, delay = body["text"], body["in"]
            except (ValueError, TypeError, KeyError):
                return _error(400, 'body must be {"text": "...", "in": seconds}')
            if not isinstance(text, str) or type(delay) not in (int, float) or delay < 0:
                return _error(400, '"text" must be a string and "in" a number of seconds >= 0')
            due_at = now_ms() + int(delay * 1000)
            return Response.json(await scheduler.schedule(reminder_id, user, text, due_at))
        return _error(405, "method not allowed")


def _error(status, message):
    return Response.json({"error": message}, status=status)
