"""Checking that ``dosim dev`` can listen on its port before it starts (stdlib only).

uvicorn binds its socket only after the app's start-up ran, so a taken port showed the
"serving on" banner first and an ``[Errno 98]`` line after it. :func:`check_port` binds
and releases the address the way uvicorn will (``SO_REUSEADDR``, every address the host
name resolves to) and raises :class:`PortUnavailable` with a message that says what to
do. Another process could still take the port between the check and uvicorn's bind;
that race is left to uvicorn's own error.
"""

from __future__ import annotations

import errno
import socket

__all__ = ["PortUnavailable", "check_port"]

_SUGGESTION_RANGE = 20
"""How many ports after the taken one are tried for a suggestion."""


class PortUnavailable(OSError):
    """The server cannot listen on the port it was given; the message says why and what to do.

    Attributes:
        suggestion: A port just above the requested one that is free now, or ``None``.
    """

    def __init__(self, message: str, suggestion: int | None) -> None:
        super().__init__(message)
        self.suggestion = suggestion


def _try_bind(host: str, port: int) -> None:
    """Bind (and close) a listening-style socket on every address ``host`` resolves to."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            # The options asyncio's create_server sets, so the check agrees with uvicorn.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            probe.bind(address)


def _free_port_after(host: str, port: int) -> int | None:
    for candidate in range(port + 1, min(port + 1 + _SUGGESTION_RANGE, 65536)):
        try:
            _try_bind(host, candidate)
        except OSError:
            continue
        return candidate
    return None


def check_port(host: str, port: int) -> None:
    """Make sure ``host``:``port`` can be listened on right now.

    Args:
        host: The address to bind (``127.0.0.1`` by default in ``dosim dev``).
        port: The port to bind.

    Raises:
        PortUnavailable: The port is in use, or needs privileges; the message names the
            port and suggests ``--port N`` with a port that is free now.
    """
    try:
        _try_bind(host, port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            problem = f"port {port} on {host} is already in use"
            fix = "(another dosim dev, wrangler dev or server listens there): stop it, or"
        elif error.errno == errno.EACCES:
            problem = f"not allowed to listen on port {port} on {host}"
            fix = "(ports below 1024 need privileges):"
        else:
            return  # e.g. an address this machine does not have: uvicorn says so itself
        free = _free_port_after(host, port)
        choice = f"dosim dev --port {free}" if free is not None else "--port N"
        raise PortUnavailable(f"{problem} {fix} pick another port: {choice}", free) from None
