"""Durable Object ids, derived exactly as local workerd derives them.

Each namespace has a 32-byte key, ``SHA-256("<worker name>-<class name>")`` (the unique
key Miniflare and ``wrangler dev`` give a namespace). An id is 32 bytes shown as 64
lowercase hex digits:

* ``idFromName(name)``: the first 16 bytes are ``HMAC-SHA256(key, utf8(name))[:16]``;
* ``newUniqueId()``: the first 16 bytes are random (seeded, so runs are reproducible);
* the last 16 bytes are always ``HMAC-SHA256(key, first16)[:16]``, which is how
  ``idFromString`` recognises an id that belongs to another namespace.

So the same worker, class and name give the same id here and under ``wrangler dev``.
Production derives ids differently (its layout is not documented); only "64 hex digits,
same name and class give the same id" holds there too.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from typing import Any

from .errors import (
    MSG_ID_WRONG_NAMESPACE,
    MSG_INVALID_ID,
    MSG_JURISDICTION_LOCAL,
    platform_error,
)

__all__ = ["DurableObjectId", "IdFactory", "JURISDICTIONS"]

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")

JURISDICTIONS = ("eu", "fedramp", "fedramp-high", "us")
"""Jurisdictions the platform accepts in ``newUniqueId`` and ``jurisdiction()``."""


class DurableObjectId:
    """The identity of one Durable Object: 32 bytes, shown as 64 lowercase hex digits.

    Attributes:
        name: The name given to ``idFromName`` / ``getByName``, or ``None`` for ids made
            by ``newUniqueId`` and ids rebuilt with ``idFromString`` (the platform drops
            the name there too).
        jurisdiction: The jurisdiction the id is restricted to, or ``None``.
    """

    __slots__ = ("_raw", "_hex", "name", "jurisdiction", "_namespace_key")

    def __init__(
        self,
        raw: bytes,
        name: str | None,
        namespace_key: bytes,
        jurisdiction: str | None = None,
    ) -> None:
        self._raw = raw
        self._hex = raw.hex()
        self.name = name
        self.jurisdiction = jurisdiction
        self._namespace_key = namespace_key

    def toString(self) -> str:  # noqa: N802 - platform name
        """Return the id as 64 lowercase hex digits (what ``idFromString`` accepts)."""
        return self._hex

    def equals(self, other: DurableObjectId) -> bool:
        """Return whether ``other`` names the same object; names are ignored, as on the platform.

        Args:
            other: Another :class:`DurableObjectId`; any other value gives False.
        """
        return isinstance(other, DurableObjectId) and other._raw == self._raw

    def __str__(self) -> str:
        return self._hex

    def __repr__(self) -> str:
        if self.name is not None:
            return f"DurableObjectId({self._hex[:12]}…, name={self.name!r})"
        return f"DurableObjectId({self._hex[:12]}…)"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, DurableObjectId) and other._raw == self._raw

    def __hash__(self) -> int:
        return hash(self._raw)


class IdFactory:
    """Makes and checks the ids of one namespace.

    Args:
        unique_key: ``"<worker name>-<class name>"``, as Miniflare builds it.
        seed: Seed for ``newUniqueId`` so a run is reproducible.
    """

    def __init__(self, unique_key: str, seed: int = 0) -> None:
        self.unique_key = unique_key
        self._key = hashlib.sha256(unique_key.encode()).digest()
        self._random = random.Random(f"{seed}:{unique_key}")

    def _mac(self, first16: bytes) -> bytes:
        return hmac.new(self._key, first16, hashlib.sha256).digest()[:16]

    def from_name(self, name: str) -> DurableObjectId:
        """Return the id for ``name`` (``idFromName``).

        Args:
            name: Any string; the same name always gives the same id in this namespace.

        Raises:
            TypeError: If ``name`` is not a ``str``.
        """
        if not isinstance(name, str):
            raise TypeError(f"idFromName() expects a string name, got {type(name).__name__}")
        first16 = hmac.new(self._key, name.encode(), hashlib.sha256).digest()[:16]
        return DurableObjectId(first16 + self._mac(first16), name, self._key)

    def unique(self, jurisdiction: str | None = None) -> DurableObjectId:
        """Return a fresh random id (``newUniqueId``), seeded for reproducibility.

        Args:
            jurisdiction: None; every jurisdiction raises, as in local workerd (see
                :func:`check_jurisdiction`).

        Raises:
            TypeError: For a name outside :data:`JURISDICTIONS`.
            JsException: ``Jurisdiction restrictions are not implemented in workerd.`` for
                a name in :data:`JURISDICTIONS`.
        """
        check_jurisdiction(jurisdiction)
        first16 = self._random.getrandbits(128).to_bytes(16, "big")
        return DurableObjectId(first16 + self._mac(first16), None, self._key)

    def from_string(self, text: str) -> DurableObjectId:
        """Parse an id's hex form (``idFromString``) and check it belongs here.

        Args:
            text: The 64 hex digits ``toString()`` returned.

        Returns:
            The id; its ``name`` is None.

        Raises:
            TypeError: ``Invalid Durable Object ID: must be 64 hex digits`` or
                ``Durable Object ID is not valid for this namespace.``
        """
        if not isinstance(text, str) or len(text) != 64 or not _HEX64.fullmatch(text):
            raise TypeError(MSG_INVALID_ID)
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise TypeError(MSG_INVALID_ID) from None
        if self._mac(raw[:16]) != raw[16:]:
            raise TypeError(MSG_ID_WRONG_NAMESPACE)
        return DurableObjectId(raw, None, self._key)

    def rekey(self, text: str) -> DurableObjectId:
        """Return this namespace's id for an object that had id ``text`` in another one.

        A namespace's key derives from ``"<worker name>-<class name>"``, so when a
        migration renames a class or transfers it to another Worker, every id must be
        re-derived for the object to stay reachable. An id made by ``newUniqueId`` keeps
        its first 16 bytes (the object's identity) and gets the last 16 this namespace
        computes from them. (A named object gets :meth:`from_name` of its name instead,
        since its first 16 bytes derive from the key too.) The platform moves objects
        itself; this is for moving stored objects on disk.

        Args:
            text: The object's id in the old namespace, as 64 hex digits; its last 16
                bytes are not checked.

        Returns:
            The id in this namespace; its ``name`` is None.

        Raises:
            TypeError: ``Invalid Durable Object ID: must be 64 hex digits``.
        """
        if not isinstance(text, str) or not _HEX64.fullmatch(text):
            raise TypeError(MSG_INVALID_ID)
        first16 = bytes.fromhex(text)[:16]
        return DurableObjectId(first16 + self._mac(first16), None, self._key)

    def owns(self, object_id: DurableObjectId) -> bool:
        """Return whether ``object_id`` was made by this namespace.

        Args:
            object_id: The id to check.
        """
        return object_id._namespace_key == self._key


def check_jurisdiction(jurisdiction: str | None) -> None:
    """Reject jurisdictions the way local workerd does.

    Production accepts ``eu``, ``fedramp``, ``fedramp-high`` and ``us``; local workerd
    (and so ``wrangler dev``) raises for any of them. dosim follows local workerd, so a
    test here fails where ``wrangler dev`` fails; the message says why.

    Args:
        jurisdiction: A jurisdiction name, or None (no restriction: accepted).

    Raises:
        TypeError: ``Unknown jurisdiction ...`` for a name outside :data:`JURISDICTIONS`.
        JsException: ``Jurisdiction restrictions are not implemented in workerd.`` for a
            name in :data:`JURISDICTIONS`.
    """
    if jurisdiction is None:
        return
    if jurisdiction not in JURISDICTIONS:
        raise TypeError(
            f"Unknown jurisdiction {jurisdiction!r}; expected one of {', '.join(JURISDICTIONS)}"
        )
    raise platform_error("Error", MSG_JURISDICTION_LOCAL)
