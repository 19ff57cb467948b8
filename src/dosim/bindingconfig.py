"""The binding entries of a wrangler config, and the secrets files next to it.

:func:`dosim.config.load_config` hands each section (top level or ``[env.<name>]``) to
:func:`read_bindings`, which reads the keys that declare bindings other than Durable
Objects:

=============================  =========================================================
key                            binding
=============================  =========================================================
``kv_namespaces``              Workers KV: ``binding``, ``id`` (the data is keyed by the
                               id; without one, by the binding name)
``d1_databases``               D1: ``binding``, ``database_id``, ``database_name``
``r2_buckets``                 R2: ``binding``, ``bucket_name``
``services``                   a service binding: ``binding``, ``service``,
                               ``entrypoint``
the others (below)             not simulated: they load as stand-ins that say so
=============================  =========================================================

Like ``vars`` and ``durable_objects``, none of these is inherited by an environment
(wrangler's rule for bindings).

:func:`load_secrets` reads the secrets ``wrangler dev`` reads for local development
(https://developers.cloudflare.com/workers/local-development/environment-variables/):
``.dev.vars`` (or only ``.dev.vars.<env>`` when it exists for the selected environment);
when there is no ``.dev.vars`` file, the ``.env`` files, merged, the most specific winning:
``.env.<env>.local``, ``.env.local``, ``.env.<env>``, ``.env``. When the config lists
``secrets.required``, only those names are kept, and missing ones are reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BindingConfig",
    "BindingConfigProblem",
    "BINDING_KEYS",
    "NOT_SIMULATED",
    "read_bindings",
    "parse_dotenv",
    "secrets_files",
    "load_secrets",
]


class BindingConfigProblem(ValueError):
    """A binding entry that cannot be used (``load_config`` turns it into a ConfigError).

    Attributes:
        key: The key path, e.g. ``"kv_namespaces[0].binding"``.
        detail: What was expected and found.
    """

    def __init__(self, key: str, detail: str) -> None:
        super().__init__(f"{key}: {detail}")
        self.key = key
        self.detail = detail


@dataclass(frozen=True)
class BindingConfig:
    """One binding declared in the config (other than a Durable Object namespace).

    Attributes:
        name: The attribute on ``env``, e.g. ``"CACHE"``.
        type: ``"kv"``, ``"d1"``, ``"r2"``, ``"service"`` or ``"unsupported"``.
        config_key: Where it was declared, e.g. ``"kv_namespaces[0]"``.
        options: What the entry says: ``id`` (KV, D1), ``database_name`` (D1),
            ``bucket_name`` (R2), ``service`` and ``entrypoint`` (services), or
            ``description`` (a binding dosim does not simulate).
    """

    name: str
    type: str
    config_key: str
    options: Mapping[str, Any] = field(default_factory=dict)


# Simulated kinds: config key -> binding type.
_SIMULATED: dict[str, str] = {
    "kv_namespaces": "kv",
    "d1_databases": "d1",
    "r2_buckets": "r2",
    "services": "service",
}

NOT_SIMULATED: dict[str, str] = {
    "queues.producers": "a Queue producer",
    "workflows": "a Workflow",
    "ai": "Workers AI",
    "vectorize": "a Vectorize index",
    "hyperdrive": "a Hyperdrive configuration",
    "analytics_engine_datasets": "an Analytics Engine dataset",
    "browser": "Browser Rendering",
    "dispatch_namespaces": "a dispatch namespace (Workers for Platforms)",
    "mtls_certificates": "an mTLS certificate",
    "send_email": "an email sender",
    "version_metadata": "version metadata",
    "images": "the Images binding",
    "pipelines": "a Pipeline",
    "secrets_store_secrets": "a Secrets Store secret",
    "ratelimits": "a rate limiter",
    "assets": "static assets",
    "unsafe.bindings": "an unsafe binding",
}
"""Binding keys dosim reads but does not simulate, with what each declares."""

BINDING_KEYS: frozenset[str] = frozenset(_SIMULATED) | frozenset(
    key.split(".")[0] for key in NOT_SIMULATED
)
"""Top-level config keys that declare bindings (none is inherited by environments)."""


def _string(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise BindingConfigProblem(key, f"expected a non-empty string, found {value!r}")
    return value


def _entries(key: str, value: Any) -> list[tuple[str, dict[str, Any]]]:
    """The entries under a binding key: an array of tables, or one table."""
    if isinstance(value, dict):
        return [(key, value)]
    if not isinstance(value, list):
        raise BindingConfigProblem(key, f"expected an array of tables, found {value!r}")
    found = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise BindingConfigProblem(f"{key}[{index}]", f"expected a table, found {item!r}")
        found.append((f"{key}[{index}]", item))
    return found


def _lookup(section: Mapping[str, Any], dotted: str) -> Any:
    value: Any = section
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def read_bindings(section: Mapping[str, Any], prefix: str = "") -> tuple[BindingConfig, ...]:
    """Read the binding keys of one config section.

    Args:
        section: The top-level table or one ``[env.<name>]`` table.
        prefix: ``""`` or ``"env.<name>."``, for key paths in errors.

    Returns:
        The declared bindings, simulated kinds first, each in file order.

    Raises:
        BindingConfigProblem: An entry lacks a required key or has a wrong type.
    """
    found: list[BindingConfig] = []
    for config_key, kind in _SIMULATED.items():
        raw = section.get(config_key)
        if raw is None:
            continue
        for key, entry in _entries(prefix + config_key, raw):
            name = _string(key + ".binding", entry.get("binding"))
            found.append(BindingConfig(name, kind, key, _options(kind, key, name, entry)))
    for config_key, description in NOT_SIMULATED.items():
        raw = _lookup(section, config_key)
        if raw is None:
            continue
        for key, entry in _entries(prefix + config_key, raw):
            name = entry.get("binding", entry.get("name"))
            if name is None and config_key == "assets":
                continue  # assets without a binding: served files, no env entry
            name = _string(key + ".binding", name)
            found.append(BindingConfig(name, "unsupported", key, {"description": description}))
    return tuple(found)


def _options(kind: str, key: str, name: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    if kind == "kv":
        namespace = entry.get("id")
        return {"id": _string(key + ".id", namespace) if namespace is not None else name}
    if kind == "d1":
        database = entry.get("database_id")
        label = entry.get("database_name")
        label = _string(key + ".database_name", label) if label is not None else name
        if database is not None:
            database = _string(key + ".database_id", database)
        return {"id": database or label, "database_name": label}
    if kind == "r2":
        bucket = entry.get("bucket_name")
        return {"bucket_name": _string(key + ".bucket_name", bucket) if bucket else name}
    service = _string(key + ".service", entry.get("service"))
    entrypoint = entry.get("entrypoint")
    if entrypoint is not None:
        entrypoint = _string(key + ".entrypoint", entrypoint)
    return {"service": service, "entrypoint": entrypoint}


# -- secrets files ----------------------------------------------------------------------

_LINE = re.compile(
    r"""^\s*(?:export\s+)?([\w.-]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|`([^`]*)`|([^\n#]*?))\s*(?:\#.*)?$""",
    re.DOTALL,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}


def parse_dotenv(text: str) -> dict[str, str]:
    """Parse a ``.dev.vars`` or ``.env`` file (dotenv syntax).

    ``NAME=value`` per line; ``#`` starts a comment (outside quotes); values may be
    single-, double- or back-quoted, and quoted values may span lines; in double quotes
    a backslash-n is a newline; an optional ``export`` prefix is ignored. Lines that are not
    assignments are skipped, as dotenv skips them.

    Args:
        text: The file's contents.

    Returns:
        Name to value, later lines winning.
    """
    values: dict[str, str] = {}
    pending = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        candidate = pending + line if pending else line
        if _open_quote(candidate):
            pending = candidate + "\n"
            continue
        pending = ""
        match = _LINE.match(candidate)
        if match is None:
            continue
        name, single, double, back, bare = match.groups()
        if double is not None:
            value = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], "\\" + m[1]), double)
        elif single is not None:
            value = single
        elif back is not None:
            value = back
        else:
            value = (bare or "").strip()
        values[name] = value
    return values


def _open_quote(line: str) -> bool:
    """Whether a line's value starts a quote it does not close (a multi-line value)."""
    head, sep, value = line.partition("=")
    if not sep:
        return False
    value = value.lstrip()
    if not value or value[0] not in "\"'`":
        return False
    quote = value[0]
    rest = value[1:]
    index = 0
    while index < len(rest):
        if rest[index] == "\\" and quote != "`":
            index += 2
            continue
        if rest[index] == quote:
            return False
        index += 1
    return True


def secrets_files(folder: Path, env: str | None) -> list[Path]:
    """The secrets files ``wrangler dev`` would read, least specific first.

    Args:
        folder: The folder holding the wrangler config.
        env: The selected environment, or ``None``.
    """
    if env and (folder / f".dev.vars.{env}").is_file():
        return [folder / f".dev.vars.{env}"]
    if (folder / ".dev.vars").is_file():
        return [folder / ".dev.vars"]
    names = [".env", f".env.{env}" if env else None, ".env.local"]
    names.append(f".env.{env}.local" if env else None)
    return [folder / name for name in names if name and (folder / name).is_file()]


def load_secrets(
    folder: Path, env: str | None, required: tuple[str, ...] | None = None
) -> tuple[dict[str, str], list[Path], list[str]]:
    """Read the local secrets for a config in ``folder``.

    Args:
        folder: The folder holding the wrangler config.
        env: The selected environment, or ``None``.
        required: ``secrets.required`` from the config: when given, only these names
            are kept.

    Returns:
        ``(secrets, files read, required names no file defines)``.
    """
    files = secrets_files(folder, env)
    values: dict[str, str] = {}
    for file in files:
        values.update(parse_dotenv(file.read_text(encoding="utf-8-sig")))
    missing: list[str] = []
    if required is not None:
        missing = [name for name in required if name not in values]
        values = {name: value for name, value in values.items() if name in required}
    return values, files, missing
