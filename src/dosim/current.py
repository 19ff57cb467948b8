"""The current incarnation: which Durable Object instance's code is running right now.

A leaf of the runtime. The host sets it around every event it delivers (and around the
constructor); code lower in the stack asks for it without importing the host: a
WebSocket accepted inside an object pins that instance, a message sent from inside an
object waits for its output gate, a stub called from inside an object lets the caller's
writes out first.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .host import Incarnation

__all__ = ["current_incarnation", "running_in"]

_current: contextvars.ContextVar[Incarnation | None] = contextvars.ContextVar(
    "dosim_current_incarnation", default=None
)


def current_incarnation() -> Incarnation | None:
    """Return the object incarnation whose code is running in this context, if any."""
    return _current.get()


@contextmanager
def running_in(incarnation: Incarnation) -> Iterator[None]:
    """Make ``incarnation`` the current one for the duration of the ``with`` block.

    Args:
        incarnation: The instance whose code is about to run.
    """
    token = _current.set(incarnation)
    try:
        yield
    finally:
        _current.reset(token)
