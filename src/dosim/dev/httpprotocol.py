"""uvicorn's HTTP/1.1 protocol (h11) with the limits a server left running all day needs.

:class:`DevHttpProtocol` is passed to uvicorn as its ``http`` protocol class. It adds:

* **A request header limit answered with 431.** Cloudflare documents "Request headers
  observe a total limit of 128 KB" (https://developers.cloudflare.com/workers/platform/limits/),
  so :data:`MAX_HEADER_BYTES` is 128 KB of header section (names, values, ``": "`` and
  line ends). h11's own limit on an unfinished request head (16 KB by default, answered
  with a bare ``400`` by uvicorn) is raised to fit that limit plus the 16 KB URL limit;
  both overflows are answered ``431 Request Header Fields Too Large`` with a body saying
  which limit (an over-long request line gets ``414``).
* **Read timeouts** against slow clients (slowloris): the request head must arrive
  within :data:`HEAD_TIMEOUT_SECONDS` of its first byte (or of the connection, if it sends
  nothing), and the body within :data:`BODY_TIMEOUT_SECONDS` of the head; otherwise the
  connection is closed (``408`` if a head was begun). Time spent by the Worker is not
  counted: only waiting for the client. An idle keep-alive connection is closed after
  :data:`KEEP_ALIVE_SECONDS` (uvicorn's keep-alive timer).

The values are module attributes read when used, so tests can shorten them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .bridge import MAX_URL_BYTES

__all__ = [
    "DevHttpProtocol",
    "MAX_HEADER_BYTES",
    "HEAD_TIMEOUT_SECONDS",
    "BODY_TIMEOUT_SECONDS",
    "KEEP_ALIVE_SECONDS",
]

MAX_HEADER_BYTES = 128 * 1024
"""Largest request header section accepted (Cloudflare Workers' documented 128 KB)."""
HEAD_TIMEOUT_SECONDS = 10.0
"""Time allowed for a whole request head (request line and headers) to arrive."""
BODY_TIMEOUT_SECONDS = 120.0
"""Time allowed for a request body to arrive once its head has (100 MB at ~1 MB/s)."""
KEEP_ALIVE_SECONDS = 5.0
"""An idle keep-alive connection is closed after this long (uvicorn's default)."""

_REQUEST_LINE_SLACK = 64  # method, spaces, "HTTP/1.1", line ends around the URL
_PER_HEADER_OVERHEAD = 4  # ": " and CRLF, counted in the header section's size

log = logging.getLogger("dosim.dev")


class _LimitedConnection(h11.Connection):
    """An h11 connection that refuses a header section over the limit and remembers why.

    h11 only limits the unfinished head as a whole; the header section's own size is
    checked once the head is parsed.
    """

    def __init__(self) -> None:
        super().__init__(
            h11.SERVER,
            max_incomplete_event_size=MAX_HEADER_BYTES + MAX_URL_BYTES + _REQUEST_LINE_SLACK,
        )
        self.last_error: h11.RemoteProtocolError | None = None
        self.header_bytes = 0
        self.url_too_long = False

    def next_event(self) -> Any:
        try:
            event = super().next_event()
            if isinstance(event, h11.Request):
                # A head that arrives in one piece is parsed before h11's buffer limit
                # can trip, so the URL is measured here too: 414 however the bytes came.
                if len(event.target) > MAX_URL_BYTES:
                    self.url_too_long = True
                    raise h11.RemoteProtocolError("request target too long", 431)
                size = sum(len(n) + len(v) + _PER_HEADER_OVERHEAD for n, v in event.headers)
                if size > MAX_HEADER_BYTES:
                    self.header_bytes = size
                    raise h11.RemoteProtocolError("header section too large", 431)
            return event
        except h11.RemoteProtocolError as error:
            self.last_error = error
            raise


def _plain_response(status: int, reason: str, text: str) -> bytes:
    body = f"{status} {reason}: {text}\n".encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class DevHttpProtocol(H11Protocol):
    """uvicorn's h11 protocol with the header limit and read timeouts above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = _LimitedConnection()
        self.timeout_keep_alive = KEEP_ALIVE_SECONDS  # type: ignore[assignment]
        self._read_timer: asyncio.TimerHandle | None = None
        self._waiting_for: str | None = None  # "head" or "body" while a timer runs
        self._upgraded = False
        self._head_begun = False

    # -- the header limit ---------------------------------------------------------------
    def send_400_response(self, msg: str) -> None:
        """Answer a request h11 refused: 431/414 for the size limits, else uvicorn's 400."""
        error = self.conn.last_error
        if error is None or error.error_status_hint != 431:
            super().send_400_response(msg)
            return
        head, _ = self.conn.trailing_data
        if self.conn.url_too_long:
            response = _plain_response(414, "URI Too Long", "the URL is over 16 KB")
        elif self.conn.header_bytes:
            response = _plain_response(
                431,
                "Request Header Fields Too Large",
                f"the request headers are {self.conn.header_bytes} bytes; Cloudflare "
                f"accepts at most {MAX_HEADER_BYTES} (128 KB) in total",
            )
        elif b"\n" not in head[: MAX_URL_BYTES + _REQUEST_LINE_SLACK]:
            response = _plain_response(414, "URI Too Long", "the URL is over 16 KB")
        else:
            response = _plain_response(
                431,
                "Request Header Fields Too Large",
                f"the request headers are over {MAX_HEADER_BYTES} bytes (128 KB), "
                "the total Cloudflare accepts",
            )
        self.transport.write(response)
        self.transport.close()

    # -- read timeouts ------------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:  # noqa: D102 - asyncio.Protocol
        super().connection_made(transport)
        self._watch_reads()

    def data_received(self, data: bytes) -> None:  # noqa: D102 - asyncio.Protocol
        if self.conn.their_state is h11.IDLE:
            self._head_begun = True
        super().data_received(data)
        self._watch_reads()

    def on_response_complete(self) -> None:  # noqa: D102 - uvicorn's hook
        super().on_response_complete()
        self._head_begun = False
        self._watch_reads()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:  # noqa: D102
        self._upgraded = True  # the WebSocket protocol has its own ping timeouts
        self._stop_timer()
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        self._stop_timer()
        super().connection_lost(exc)

    def _watch_reads(self) -> None:
        """Run the timer that matches what the connection waits for from the client."""
        if self._upgraded or self.transport is None or self.transport.is_closing():
            self._stop_timer()
            return
        state = self.conn.their_state
        if state is h11.IDLE and self.timeout_keep_alive_task is None:
            self._start_timer("head", HEAD_TIMEOUT_SECONDS)
        elif state is h11.SEND_BODY:
            self._start_timer("body", BODY_TIMEOUT_SECONDS)
        else:  # idle keep-alive (uvicorn's timer), or the request is in: the app's turn
            self._stop_timer()

    def _start_timer(self, waiting_for: str, seconds: float) -> None:
        if self._waiting_for == waiting_for:
            return  # a deadline, not an idle timer: more bytes do not extend it
        self._stop_timer()
        self._waiting_for = waiting_for
        self._read_timer = self.loop.call_later(seconds, self._timed_out)

    def _stop_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
        self._read_timer = None
        self._waiting_for = None

    def _timed_out(self) -> None:
        waiting_for, self._waiting_for, self._read_timer = self._waiting_for, None, None
        if self.transport.is_closing():
            return
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        if waiting_for == "head" and self._head_begun:
            self.transport.write(
                _plain_response(
                    408,
                    "Request Timeout",
                    f"the request head did not arrive within {HEAD_TIMEOUT_SECONDS:g} s",
                )
            )
            log.info("dosim dev: %s sent no complete request head in time; closed", client)
        elif waiting_for == "body":
            log.info("dosim dev: %s did not finish its request body in time; closed", client)
        self.transport.close()
