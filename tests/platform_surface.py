"""The platform's API surface, as the spec and the published SDK define it.

Tests compare dosim and the starter apps against these names, so an app never uses a
name that only dosim knows.
"""

# ``__all__`` of ``workers/__init__.py`` in workers-runtime-sdk 1.9.5 (PyPI), read with ``ast``.
SDK_NAMES = (
    "Blob",
    "BlobEnding",
    "BlobValue",
    "Body",
    "Context",
    "DurableObject",
    "FetchKwargs",
    "FetchResponse",
    "File",
    "FormData",
    "FormDataValue",
    "Headers",
    "JSBody",
    "Request",
    "RequestInitCfProperties",
    "Response",
    "WorkerEntrypoint",
    "WorkflowEntrypoint",
    "env",
    "fetch",
    "handler",
    "import_from_javascript",
    "patch_env",
    "python_from_rpc",
    "python_to_rpc",
    "waitUntil",
    "wait_until",
)

JS_NAMES = ("WebSocketPair", "WebSocketRequestResponsePair")
"""Globals Python Workers import from ``js`` that dosim provides."""

CTX_MEMBERS = frozenset(
    {
        "id",
        "storage",
        "waitUntil",
        "blockConcurrencyWhile",
        "abort",
        "acceptWebSocket",
        "getWebSockets",
        "getTags",
        "setWebSocketAutoResponse",
        "getWebSocketAutoResponse",
        "getWebSocketAutoResponseTimestamp",
        "setHibernatableWebSocketEventTimeout",
        "getHibernatableWebSocketEventTimeout",
    }
)
"""``DurableObjectState`` members (spec §4.2)."""

STORAGE_MEMBERS = frozenset(
    {
        "get",
        "put",
        "delete",
        "deleteAll",
        "list",
        "transaction",
        "transactionSync",
        "sync",
        "getAlarm",
        "setAlarm",
        "deleteAlarm",
        "sql",
        "kv",
        "getCurrentBookmark",
        "getBookmarkForTime",
        "onNextSessionRestoreBookmark",
    }
)
"""``ctx.storage`` members (spec §5.1, §6, §7.1)."""

SQL_MEMBERS = frozenset({"exec", "databaseSize"})
"""``ctx.storage.sql`` members (spec §6.1)."""

KV_MEMBERS = frozenset({"get", "put", "delete", "list"})
"""``ctx.storage.kv`` members (spec §5.6)."""

KV_NAMESPACE_MEMBERS = frozenset({"get", "getWithMetadata", "put", "delete", "list"})
"""A Workers KV binding's methods (https://developers.cloudflare.com/kv/api/)."""

R2_BUCKET_MEMBERS = frozenset(
    {"head", "get", "put", "delete", "list", "createMultipartUpload", "resumeMultipartUpload"}
)
"""An R2 bucket binding's methods
(https://developers.cloudflare.com/r2/api/workers/workers-api-reference/)."""

D1_DATABASE_MEMBERS = frozenset({"prepare", "batch", "exec", "withSession", "dump"})
"""A D1 binding's methods (https://developers.cloudflare.com/d1/worker-api/d1-database/)."""

NAMESPACE_MEMBERS = frozenset(
    {"idFromName", "idFromString", "newUniqueId", "get", "getByName", "jurisdiction"}
)
"""``env.<BINDING>`` members (spec §2.1)."""
