"""Type names of the ``workers`` SDK (its ``workers.types`` module), for annotations.

``Body``, ``JSBody`` and ``Headers`` are type aliases (strings at run time, as in the
SDK), ``FetchKwargs`` and ``RequestInitCfProperties`` are ``TypedDict``s describing the
keyword options of ``fetch()``/``Request()`` and the ``cf`` option, and ``Context`` is
the protocol of the execution context (``waitUntil``).

dosim's ``JSBody`` names its stand-ins for JavaScript body objects
(:class:`~dosim.workers.body.ArrayBuffer`, :class:`~dosim.workers.body.ReadableStream`).
"""

from __future__ import annotations

from collections.abc import Awaitable
from http import HTTPMethod
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypedDict

from .headers import Headers

if TYPE_CHECKING:
    from .body import ArrayBuffer, ReadableStream
    from .formdata import FormData

__all__ = ["Body", "Context", "FetchKwargs", "Headers", "JSBody", "RequestInitCfProperties"]

JSBody: TypeAlias = "ArrayBuffer | ReadableStream"
"""Body values that stand for JavaScript objects."""

Body: TypeAlias = "str | bytes | FormData | JSBody"
"""What ``body=`` accepts."""


class Context(Protocol):
    """The execution context a Worker entry point receives as ``self.ctx``."""

    def waitUntil(self, other: Awaitable[Any]) -> None:  # noqa: N802 - JS name
        """Keep the invocation alive until ``other`` settles."""


class RequestInitCfProperties(TypedDict, total=False):
    """The ``cf=`` option of an outgoing request (Cloudflare cache and image settings).

    dosim stores the value and returns it from ``request.cf``; it has no cache or image
    service to apply it to.
    """

    apps: bool | None
    cacheEverything: bool | None
    cacheKey: str | None
    cacheTags: list[str] | None
    cacheTtl: int
    cacheTtlByStatus: dict[str, int]
    image: Any | None
    mirage: bool | None
    polish: str | None
    resolveOverride: str | None
    scrapeShield: bool | None
    webp: bool | None


class FetchKwargs(TypedDict, total=False):
    """Keyword options of ``fetch()``, ``Request()`` and ``stub.fetch()``."""

    headers: Headers | None
    body: Body | None
    method: HTTPMethod | str | None
    redirect: str | None
    cf: RequestInitCfProperties | None
    fetcher: Any | None
