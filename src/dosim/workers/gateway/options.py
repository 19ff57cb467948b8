"""Options the ASGI and WSGI adapters accept (``asgi.Options``, ``wsgi.Options``).

As in the Python Workers SDK (workers-runtime-sdk 1.9.5, ``workers/gateway/options.py``)
the one shared option is ``encode_body``: ``"automatic"`` (the default) lets the runtime
compress a response body whose ``Content-Encoding`` header asks for it, ``"manual"`` says
the app already encoded it. dosim never compresses bodies, so both give the same bytes
here; the value is checked as the SDK checks it, and otherwise changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = ["BaseOptions", "EncodeBody"]

EncodeBody = Literal["automatic", "manual"]
"""The values ``encode_body`` accepts."""


@dataclass(frozen=True, kw_only=True)
class BaseOptions:
    """Adapter options; ``asgi.Options`` and ``wsgi.Options`` derive from it.

    Attributes:
        encode_body: ``"automatic"`` or ``"manual"``.

    Raises:
        ValueError: For any other ``encode_body``.
    """

    encode_body: EncodeBody = "automatic"

    def __post_init__(self) -> None:
        allowed = get_args(EncodeBody)
        if self.encode_body not in allowed:
            raise ValueError(f"encode_body must be one of {allowed}, got {self.encode_body!r}")

    def response_init(self) -> dict[str, Any]:
        """The extra ``Response`` options these settings call for (none by default)."""
        return {} if self.encode_body == "automatic" else {"encodeBody": self.encode_body}
