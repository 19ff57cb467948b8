"""Durable Object storage: one SQLite database per object behind the platform's APIs.

- :class:`DurableObjectStorage` is ``ctx.storage`` (async KV, transactions, alarms);
- :class:`SqlStorage` is ``ctx.storage.sql`` and :class:`SyncKvStorage` is
  ``ctx.storage.kv`` (SQLite-backed classes);
- :class:`ObjectDatabase` is the database and its implicit transaction, driven by the
  object host through the :class:`StorageHost` protocol.

Limits and error texts are in :mod:`dosim.storage.limits`.
"""

from .api import DurableObjectStorage as DurableObjectStorage
from .database import ObjectDatabase as ObjectDatabase
from .database import StorageHost as StorageHost
from .kv import SyncKvListIterator as SyncKvListIterator
from .kv import SyncKvStorage as SyncKvStorage
from .sql import SqlStorage as SqlStorage
from .sql import SqlStorageCursor as SqlStorageCursor
from .sql import SqlStorageRawIterator as SqlStorageRawIterator
from .transaction import DurableObjectTransaction as DurableObjectTransaction

__all__ = [
    "DurableObjectStorage",
    "DurableObjectTransaction",
    "ObjectDatabase",
    "SqlStorage",
    "SqlStorageCursor",
    "SqlStorageRawIterator",
    "StorageHost",
    "SyncKvListIterator",
    "SyncKvStorage",
]
