"""The current incarnation: which Durable Object instance's code is running right now.

A leaf of the runtime. The host sets it around every event it delivers (and around the
constructor); code lower in the stack asks for it without importing the host: a
WebSocket accepted inside an object pins that instance, a message sent from inside an
object waits for its output gate, a stub called from inside an object lets the caller's
writes out first.
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .host import Incarnation

__all__ = ["current_incarnation", "enter", "leave"]

_current: contextvars.ContextVar[Incarnation | None] = contextvars.ContextVar(
    "dosim_current_incarnation", default=None
)


def current_incarnation() -> Incarnation | None:
    """Return the object incarnation whose code is running in this context, if any."""
    return _current.get()


def enter(incarnation: Incarnation) -> contextvars.Token[Incarnation | None]:
    """Make ``incarnation`` the current one until :func:`leave` is called with the token.

    A pair of calls rather than a context manager: the host does this for every event,
    and a generator-based ``with`` costs more than the rest of a no-op RPC's bookkeeping.

    Args:
        incarnation: The instance whose code is about to run.

    Returns:
        The token to pass to :func:`leave`.
    """
    return _current.set(incarnation)


def leave(token: contextvars.Token[Incarnation | None]) -> None:
    """Restore the current incarnation that :func:`enter` replaced.

    Args:
        token: What :func:`enter` returned.
    """
    _current.reset(token)
