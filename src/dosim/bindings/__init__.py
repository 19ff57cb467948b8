"""The bindings a Worker and its Durable Objects talk to: KV, D1, R2, services.

A wrangler config's ``kv_namespaces``, ``d1_databases``, ``r2_buckets`` and ``services``
become simulated bindings in ``env`` (:mod:`dosim.bindings.declarations`), reached from
Python through the same conversions as on Cloudflare (:mod:`dosim.bindings.wrapper`),
stored in memory for tests and in SQLite files under ``dosim dev``
(:mod:`dosim.bindings.store`). Bindings dosim does not simulate load as stand-ins that
say so (:mod:`dosim.bindings.unsupported`).
"""

from __future__ import annotations

from .declarations import (
    BindingDeclaration,
    D1DatabaseBinding,
    KvNamespaceBinding,
    R2BucketBinding,
    ServiceBinding,
    UnsupportedBinding,
)

__all__ = [
    "BindingDeclaration",
    "KvNamespaceBinding",
    "D1DatabaseBinding",
    "R2BucketBinding",
    "ServiceBinding",
    "UnsupportedBinding",
]
