"""Read a Worker's wrangler config: ``wrangler.toml``, ``wrangler.jsonc`` or ``wrangler.json``.

dosim apps are configured exactly as for Cloudflare (spec §4.5). :func:`load_config`
reads the keys the simulator needs (``name``, ``main``, ``compatibility_date``,
``compatibility_flags``, ``durable_objects.bindings``, ``migrations``, ``vars``,
``limits.cpu_ms``, ``secrets.required``, and the other bindings: see
:mod:`dosim.bindingconfig`, which also reads ``.dev.vars`` and ``.env``), checks
them the way wrangler does, and returns a frozen :class:`AppConfig`. Every other key is
ignored, so a real project's config file loads unchanged.

Rules taken from wrangler (``cloudflare/workers-sdk``, ``packages/workers-utils/src/config``
and ``packages/wrangler/src/dev``) and reproduced here:

* **Finding the file.** In a folder, ``wrangler.json`` wins over ``wrangler.jsonc``, which
  wins over ``wrangler.toml``. Unlike wrangler, dosim looks only in the given folder, not
  in its parents.
* **JSON is JSONC.** Both ``.json`` and ``.jsonc`` files may hold ``//`` and ``/* */``
  comments and trailing commas (wrangler parses both with ``allowTrailingComma``).
* **Paths.** ``main`` is resolved relative to the folder holding the config file.
* **Environments** (``load_config(path, env="staging")``): ``name``, ``main``,
  ``compatibility_date``, ``compatibility_flags``, ``migrations`` and ``limits`` are
  *inherited*: a
  value in ``[env.staging]`` replaces the top-level one, otherwise the top-level one is
  used. An inherited ``name`` gets ``-<env>`` appended (``"app"`` becomes
  ``"app-staging"``); a ``name`` set in the environment is used as is. (The docs call
  migrations top-level only; wrangler's code lets ``[env.x]`` replace them, as here.)
  ``durable_objects`` and ``vars`` are *not inherited*: the environment has exactly what
  its own section declares, and a :class:`ConfigWarning` says so when the top level has
  them and the environment does not (wrangler prints the same warning). Asking for an
  environment the file does not define is an error when the file defines other
  environments, and a warning (top-level values, suffixed name) when it defines none.
* **Storage backend** (:meth:`AppConfig.storage_backend`): the migrations decide each
  class's backend, by the rules in :mod:`dosim.migrations` (which also holds the
  :class:`~dosim.migrations.Migration` model and ``dosim migrate --check``); a migration
  those rules refuse is a :class:`ConfigError` here. A bound class that no migration
  created is **KV-backed**, as under ``wrangler dev`` (Miniflare gets ``useSQLite:
  undefined``); ``wrangler deploy`` would refuse such a config because the platform
  requires a migration for every new class.
* ``.py`` entry points need the ``python_workers`` compatibility flag (wrangler's check).
* ``limits.cpu_ms`` is the CPU time each invocation may use (:mod:`dosim.cpulimit`).
  wrangler only checks that it is a number; the platform takes whole milliseconds up to
  300,000 (5 minutes), and dosim refuses other values at load.
  ``limits.subrequests`` is accepted and not enforced.

Choices dosim makes where wrangler is lenient or non-deterministic:

* ``name`` is required (``wrangler deploy`` requires it; ``wrangler dev`` would invent a
  random UUID, which would make Durable Object ids and persistence paths unstable).
* ``compatibility_date`` is required and must be ``YYYY-MM-DD`` (``wrangler deploy``
  requires it; ``wrangler dev`` falls back to a date that depends on the installed runtime).
* ``main`` must name an existing file.
* Migration tags must be unique (wrangler does not check this locally; repeated tags
  break the "apply each tag once" rule). dosim's other stricter migration rules, and
  the backend of ``transferred_classes``, are described in :mod:`dosim.migrations`.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from .bindingconfig import (
    BINDING_KEYS,
    BindingConfig,
    BindingConfigProblem,
    load_secrets,
    read_bindings,
)
from .cpulimit import MAX_CPU_MS
from .migrations import Migration, MigrationError, StorageBackend, apply_migrations

__all__ = [
    "AppConfig",
    "BindingConfig",
    "CONFIG_FILE_NAMES",
    "ConfigError",
    "ConfigWarning",
    "DurableObjectBinding",
    "load_config",
    "strip_jsonc",
]

CONFIG_FILE_NAMES: tuple[str, ...] = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")
"""Config file names looked for in a folder, in wrangler's order of preference."""

_NAME_RE = re.compile(r"^[a-z0-9_][a-z0-9_-]*$")  # wrangler's isValidName
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BINDING_KEYS = frozenset({"name", "class_name", "script_name", "environment"})
_MIGRATION_KEYS = frozenset(
    {
        "tag",
        "new_classes",
        "new_sqlite_classes",
        "renamed_classes",
        "deleted_classes",
        "transferred_classes",
    }
)
_LIMITS_KEYS = frozenset({"cpu_ms", "subrequests"})
_PYTHON_FLAG_MSG = "The `python_workers` compatibility flag is required to use Python."


class ConfigError(ValueError):
    """A wrangler config file that cannot be used, with the place and the reason.

    The message reads ``"<file>: <key path>: <what was expected and what was found>"``,
    e.g. ``"/app/wrangler.toml: migrations[0].new_sqlite_classes: expected an array of
    strings, found "Counter" (a string)"``.

    Attributes:
        path: The config file (or the folder or path that was given, when no file
            could be read).
        key: The key path inside the file, e.g. ``"durable_objects.bindings[1].name"``,
            or ``None`` when the problem concerns the whole file.
        detail: The reason alone, without file and key.
    """

    def __init__(self, path: str | os.PathLike[str], key: str | None, detail: str) -> None:
        self.path = Path(path)
        self.key = key
        self.detail = detail
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        super().__init__(where + detail)


class ConfigWarning(UserWarning):
    """A config that loads but probably does not do what its author meant.

    Issued with :func:`warnings.warn` for the cases wrangler warns about, e.g. top-level
    ``vars`` that a named environment does not inherit.
    """


@dataclass(frozen=True)
class DurableObjectBinding:
    """One ``[[durable_objects.bindings]]`` entry.

    Attributes:
        name: The attribute on ``env`` that holds the namespace, e.g. ``"COUNTER"``.
        class_name: The exported Durable Object class, e.g. ``"Counter"``.
        script_name: The Worker that defines the class, or ``None`` for this Worker.
        environment: The environment of ``script_name`` to bind to, or ``None``.
    """

    name: str
    class_name: str
    script_name: str | None = None
    environment: str | None = None

    def is_local(self, worker_name: str) -> bool:
        """Tell whether the class is defined by the Worker called ``worker_name``.

        Args:
            worker_name: The name of the Worker holding this binding.

        Returns:
            True when ``script_name`` is absent or equals ``worker_name`` (wrangler's rule).
        """
        return self.script_name is None or self.script_name == worker_name


@dataclass(frozen=True)
class AppConfig:
    """A Worker's configuration, as read by :func:`load_config`.

    Attributes:
        name: The Worker's name (with ``-<env>`` appended when inherited by an
            environment). Namespace keys, and so object ids, derive from it.
        main: Absolute path of the entry module.
        compatibility_date: ``YYYY-MM-DD``.
        compatibility_flags: The compatibility flags, in file order.
        bindings: The Durable Object namespace bindings, in file order.
        migrations: The migrations, in file order.
        vars: ``[vars]``: name to value; strings, or any JSON value (which wrangler
            binds as parsed JSON).
        path: Absolute path of the config file.
        env: The selected environment, or ``None`` for the top level.
        cpu_ms: ``limits.cpu_ms``: the CPU time, in ms, one invocation may use, or
            ``None`` when the file sets none (the platform's default applies,
            :data:`dosim.cpulimit.DEFAULT_CPU_MS`).
        other_bindings: KV namespaces, D1 databases, R2 buckets, service bindings and
            the bindings dosim does not simulate (:mod:`dosim.bindingconfig`).
        secrets: Secrets from ``.dev.vars`` or the ``.env`` files next to the config
            (strings; they win over ``vars`` of the same name).
        secrets_files: The files the secrets were read from.
    """

    name: str
    main: Path
    compatibility_date: str
    compatibility_flags: tuple[str, ...]
    bindings: tuple[DurableObjectBinding, ...]
    migrations: tuple[Migration, ...]
    vars: dict[str, Any]
    path: Path
    env: str | None = None
    cpu_ms: int | None = None
    other_bindings: tuple[BindingConfig, ...] = ()
    secrets: dict[str, str] = field(default_factory=dict)
    secrets_files: tuple[Path, ...] = ()

    def class_names(self) -> tuple[str, ...]:
        """List the bound classes this Worker defines itself.

        Returns:
            Class names of bindings without ``script_name`` or whose ``script_name`` is
            this Worker's name, each once, in binding order.
        """
        names = (b.class_name for b in self.bindings if b.is_local(self.name))
        return tuple(dict.fromkeys(names))

    def storage_backends(self) -> dict[str, StorageBackend]:
        """Map every class the migrations leave in existence to its backend.

        Returns:
            Class name to ``"sqlite"`` or ``"kv"``, after applying all migrations.

        Raises:
            ValueError: A migration deletes or renames a missing class, or creates an
                existing one (:func:`load_config` reports this as a :class:`ConfigError`).
        """
        return apply_migrations(self.migrations)

    def storage_backend(self, class_name: str) -> StorageBackend:
        """Tell whether a class defined by this Worker is SQLite- or KV-backed.

        Args:
            class_name: A class created by the migrations or bound without
                ``script_name``.

        Returns:
            The backend the migrations give the class; ``"kv"`` for a bound class no
            migration created (``wrangler dev`` behaviour; deploy would refuse it).

        Raises:
            KeyError: The class is neither created by a migration nor bound as a class
                of this Worker (for a class of another Worker ask that Worker's config).
        """
        backends = self.storage_backends()
        if class_name in backends:
            return backends[class_name]
        if class_name in self.class_names():
            return "kv"
        raise KeyError(
            f"{class_name!r} is not a Durable Object class of Worker {self.name!r}: "
            f"no migration in {self.path.name} creates it and no binding without "
            "script_name refers to it"
        )


# --- JSONC ---------------------------------------------------------------------------


def strip_jsonc(text: str) -> str:
    """Turn JSONC into JSON: remove comments and trailing commas, keep strings intact.

    Comments and removed commas become spaces (newlines are kept), so line and column
    numbers in JSON parse errors still match the original text.

    Args:
        text: JSON with ``//`` line comments, ``/* */`` block comments and trailing
            commas before ``]`` or ``}``.

    Returns:
        Plain JSON text of the same length.

    Raises:
        ValueError: A block comment is not closed.
    """
    out = list(text)
    n = len(text)
    i = 0
    commas: list[int] = []  # positions of commas seen since the last significant char
    while i < n:
        c = text[i]
        if c == '"':
            commas.clear()
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif c == "/" and i + 1 < n and text[i + 1] == "/":
            while i < n and text[i] not in "\r\n":
                out[i] = " "
                i += 1
        elif c == "/" and i + 1 < n and text[i + 1] == "*":
            end = text.find("*/", i + 2)
            if end < 0:
                line = text.count("\n", 0, i) + 1
                raise ValueError(f"unterminated /* comment starting on line {line}")
            for j in range(i, end + 2):
                if text[j] not in "\r\n":
                    out[j] = " "
            i = end + 2
        elif c == ",":
            commas = [i]
            i += 1
        elif c in "]}":
            for j in commas:
                out[j] = " "
            commas.clear()
            i += 1
        else:
            if not c.isspace():
                commas.clear()
            i += 1
    return "".join(out)


# --- reading and checking values -------------------------------------------------------


def _kind(value: Any, fmt: str) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float" if fmt == "toml" else "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table" if fmt == "toml" else "an object"
    if isinstance(value, datetime.datetime):
        return "a TOML date-time"
    if isinstance(value, datetime.date):
        return "a TOML date"
    if isinstance(value, datetime.time):
        return "a TOML time"
    if value is None:
        return "null"
    return type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


class _Reader:
    """Checks values of one config file and raises :class:`ConfigError` on mismatch."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.fmt = fmt
        self.table = "table" if fmt == "toml" else "object"

    def fail(self, key: str | None, detail: str) -> NoReturn:
        raise ConfigError(self.path, key, detail)

    def wrong(self, key: str, expected: str, value: Any) -> NoReturn:
        self.fail(key, f"expected {expected}, found {_show(value)} ({_kind(value, self.fmt)})")

    def missing(self, key: str, expected: str) -> NoReturn:
        self.fail(key, f"required key is missing; expected {expected}")

    def warn(self, key: str | None, detail: str) -> None:
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        warnings.warn(where + detail, ConfigWarning, stacklevel=3)

    def string(self, key: str, value: Any) -> str:
        if not isinstance(value, str):
            self.wrong(key, "a string", value)
        return value

    def class_name(self, key: str, value: Any) -> str:
        # An exported class name is an identifier. Checking it here also keeps a name such
        # as "../x" from ever reaching a path (dosim keeps each class's objects in a folder
        # named after it).
        name = self.string(key, value)
        if not name.isidentifier():
            self.fail(key, f"{_show(name)} is not a class name (letters, digits, underscores)")
        return name

    def class_names(self, key: str, value: Any) -> tuple[str, ...]:
        names = self.strings(key, value)
        for j, name in enumerate(names):
            self.class_name(f"{key}[{j}]", name)
        return names

    def strings(self, key: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.wrong(key, "an array of strings", value)
        return tuple(value)

    def mapping(self, key: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.wrong(key, ("an " if self.fmt != "toml" else "a ") + self.table, value)
        return value

    def records(self, key: str, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            self.wrong(key, f"an array of {self.table}s", value)
        for i, item in enumerate(value):
            self.mapping(f"{key}[{i}]", item)
        return value

    def unexpected(self, key: str, entry: Mapping[str, Any], allowed: frozenset[str]) -> None:
        extra = sorted(set(entry) - allowed)
        if extra:
            self.warn(key, f"unexpected key(s) {', '.join(extra)} ignored")


@dataclass
class _Section:
    """The keys dosim reads from the top level or from one ``[env.<name>]`` table."""

    prefix: str
    name: str | None = None
    main: str | None = None
    compatibility_date: str | None = None
    compatibility_flags: tuple[str, ...] | None = None
    bindings: tuple[DurableObjectBinding, ...] | None = None
    migrations: tuple[Migration, ...] | None = None
    vars: dict[str, Any] | None = None
    cpu_ms: int | None = None
    other_bindings: tuple[BindingConfig, ...] = ()
    secrets_required: tuple[str, ...] | None = None
    present: set[str] = field(default_factory=set)


def _read_section(r: _Reader, raw: dict[str, Any], prefix: str) -> _Section:
    s = _Section(prefix=prefix)
    s.present = {k for k in raw if raw[k] is not None}
    p = prefix

    if raw.get("name") is not None:
        s.name = r.string(p + "name", raw["name"])
        if not _NAME_RE.match(s.name):
            r.wrong(
                p + "name",
                "a name of lowercase letters, digits, '-' and '_', not starting with '-'",
                s.name,
            )
    if raw.get("main") is not None:
        s.main = r.string(p + "main", raw["main"])
    if raw.get("compatibility_date") is not None:
        value = raw["compatibility_date"]
        key = p + "compatibility_date"
        if isinstance(value, datetime.date):
            r.wrong(key, 'a quoted string such as "2025-11-01"', value)
        s.compatibility_date = r.string(key, value)
        try:
            if not _DATE_RE.match(value):
                raise ValueError
            datetime.date.fromisoformat(value)
        except ValueError:
            r.wrong(key, "a date written YYYY-MM-DD", value)
    if raw.get("compatibility_flags") is not None:
        s.compatibility_flags = r.strings(p + "compatibility_flags", raw["compatibility_flags"])
    if raw.get("durable_objects") is not None:
        s.bindings = _read_bindings(r, raw["durable_objects"], p + "durable_objects")
    if raw.get("migrations") is not None:
        s.migrations = _read_migrations(r, raw["migrations"], p + "migrations")
    if raw.get("vars") is not None:
        s.vars = _read_vars(r, raw["vars"], p + "vars")
    if raw.get("limits") is not None:
        s.cpu_ms = _read_limits(r, raw["limits"], p + "limits")
    try:
        s.other_bindings = read_bindings(raw, p)
    except BindingConfigProblem as problem:
        r.fail(problem.key, problem.detail)
    secrets = raw.get("secrets")
    if secrets is not None:
        table = r.mapping(p + "secrets", secrets)
        if table.get("required") is not None:
            s.secrets_required = r.strings(p + "secrets.required", table["required"])
    return s


def _read_limits(r: _Reader, raw: Any, key: str) -> int | None:
    limits = r.mapping(key, raw)
    r.unexpected(key, limits, _LIMITS_KEYS)
    value = limits.get("cpu_ms")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_CPU_MS:
        r.wrong(key + ".cpu_ms", f"a whole number of milliseconds from 1 to {MAX_CPU_MS}", value)
    return value


def _read_bindings(r: _Reader, raw: Any, key: str) -> tuple[DurableObjectBinding, ...]:
    table = r.mapping(key, raw)
    entries = r.records(key + ".bindings", table.get("bindings", []))
    bindings = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        k = f"{key}.bindings[{i}]"
        if entry.get("name") is None:
            r.missing(k + ".name", 'a string: the attribute name on env, e.g. "COUNTER"')
        if entry.get("class_name") is None:
            r.missing(k + ".class_name", "a string: the exported Durable Object class name")
        name = r.string(k + ".name", entry["name"])
        class_name = r.class_name(k + ".class_name", entry["class_name"])
        script = entry.get("script_name")
        if script is not None:
            script = r.string(k + ".script_name", script)
        environment = entry.get("environment")
        if environment is not None:
            environment = r.string(k + ".environment", environment)
            if script is None:
                r.fail(
                    k + ".environment",
                    'expected "script_name" as well when "environment" is present, '
                    "found no script_name",
                )
        if name in seen:
            r.fail(
                k + ".name",
                f"duplicate binding name {name!r} (already used by "
                f"{key}.bindings[{seen[name]}]); expected unique binding names",
            )
        seen[name] = i
        r.unexpected(k, entry, _BINDING_KEYS)
        bindings.append(DurableObjectBinding(name, class_name, script, environment))
    return tuple(bindings)


def _names(r: _Reader, entry: dict[str, Any], key: str, directive: str) -> tuple[str, ...]:
    value = entry.get(directive)
    return () if value is None else r.class_names(f"{key}.{directive}", value)


def _tuples(
    r: _Reader, entry: dict[str, Any], key: str, directive: str, fields: tuple[str, ...]
) -> tuple[Any, ...]:
    value = entry.get(directive)
    if value is None:
        return ()
    shape = "{" + ", ".join(f"{f}: string" for f in fields) + "}"
    if not isinstance(value, list):
        r.wrong(f"{key}.{directive}", f"an array of {shape} {r.table}s", value)
    out = []
    for j, item in enumerate(value):
        if not isinstance(item, dict) or not all(isinstance(item.get(f), str) for f in fields):
            r.wrong(f"{key}.{directive}[{j}]", f"a {shape} {r.table}", item)
        for f in fields:
            if f in ("from", "to"):  # class names; ``from_script`` is a Worker's name
                r.class_name(f"{key}.{directive}[{j}].{f}", item[f])
        out.append(tuple(item[f] for f in fields))
    return tuple(out)


def _read_migrations(r: _Reader, raw: Any, key: str) -> tuple[Migration, ...]:
    entries = r.records(key, raw)
    migrations = []
    tags: dict[str, int] = {}
    for i, entry in enumerate(entries):
        k = f"{key}[{i}]"
        if entry.get("tag") is None:
            r.missing(k + ".tag", 'a string naming this migration, e.g. "v1"')
        tag = r.string(k + ".tag", entry["tag"])
        if tag in tags:
            r.fail(
                k + ".tag",
                f"duplicate tag {tag!r} (already used by {key}[{tags[tag]}]); "
                "expected every migration tag to be unique",
            )
        tags[tag] = i

        r.unexpected(k, entry, _MIGRATION_KEYS)
        migrations.append(
            Migration(
                tag=tag,
                new_classes=_names(r, entry, k, "new_classes"),
                new_sqlite_classes=_names(r, entry, k, "new_sqlite_classes"),
                renamed_classes=_tuples(r, entry, k, "renamed_classes", ("from", "to")),
                deleted_classes=_names(r, entry, k, "deleted_classes"),
                transferred_classes=_tuples(
                    r, entry, k, "transferred_classes", ("from", "from_script", "to")
                ),
            )
        )
    result = tuple(migrations)
    try:
        apply_migrations(result)
    except MigrationError as e:
        r.fail(f"{key}[{e.index}].{e.key}", str(e))
    return result


def _check_json_value(r: _Reader, key: str, value: Any) -> None:
    if isinstance(value, datetime.date | datetime.time):
        r.wrong(key, 'a string (TOML dates are not supported; quote it, e.g. "2025-12-19")', value)
    if isinstance(value, dict):
        for k, v in value.items():
            _check_json_value(r, f"{key}.{k}", v)
    elif isinstance(value, list):
        for j, v in enumerate(value):
            _check_json_value(r, f"{key}[{j}]", v)


def _read_vars(r: _Reader, raw: Any, key: str) -> dict[str, Any]:
    table = r.mapping(key, raw)
    for name, value in table.items():
        _check_json_value(r, f"{key}.{name}", value)
    return dict(table)


# --- loading ---------------------------------------------------------------------------


def _find_file(path: Path) -> Path:
    if path.is_dir():
        for candidate in CONFIG_FILE_NAMES:
            if (path / candidate).is_file():
                return path / candidate
        raise ConfigError(
            path,
            None,
            "no wrangler config file in this folder; expected one "
            "of " + ", ".join(CONFIG_FILE_NAMES),
        )
    if not path.is_file():
        raise ConfigError(path, None, "config file not found")
    if path.suffix not in (".toml", ".json", ".jsonc"):
        raise ConfigError(
            path,
            None,
            "expected a .toml, .json or .jsonc file, found a "
            f"{path.suffix or 'suffix-less'} file",
        )
    return path


def _parse(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(path, None, f"cannot read the file: {e}") from e
    if path.suffix == ".toml":
        try:
            return tomllib.loads(text), "toml"
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(path, None, f"invalid TOML: {e}") from e
    try:
        data = json.loads(strip_jsonc(text))
    except json.JSONDecodeError as e:
        raise ConfigError(
            path, None, f"invalid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
        ) from e
    except ValueError as e:
        raise ConfigError(path, None, f"invalid JSON: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(
            path, None, f"expected a JSON object at the top, found {_kind(data, 'json')}"
        )
    return data, "json"


def load_config(path: str | os.PathLike[str], env: str | None = None) -> AppConfig:
    """Read and check a Worker's wrangler config.

    Args:
        path: A ``wrangler.json``, ``wrangler.jsonc`` or ``wrangler.toml`` file, or a
            folder holding one (``wrangler.json`` preferred, then ``.jsonc``, then
            ``.toml``).
        env: A ``[env.<name>]`` environment to select (wrangler's ``--env``), or
            ``None`` (or ``""``) for the top-level configuration.

    Returns:
        The configuration, with ``main`` and ``path`` absolute.

    Raises:
        ConfigError: The file is missing or unreadable, does not parse, or a key is
            missing, has the wrong type or an invalid value; the message names the file
            and the key path.
    """
    file = _find_file(Path(os.path.abspath(path)))
    raw, fmt = _parse(file)
    r = _Reader(file, fmt)
    top = _read_section(r, raw, "")

    section = top
    if env:
        envs = raw.get("env")
        envs = {} if envs is None else r.mapping("env", envs)
        if env in envs:
            section = _read_section(r, r.mapping(f"env.{env}", envs[env]), f"env.{env}.")
        elif envs:
            r.fail(
                "env",
                f'No environment found in configuration with name "{env}"; the '
                f"available configured environment names are: {json.dumps(list(envs))}",
            )
        else:
            r.warn(
                "env",
                f'No environment found in configuration with name "{env}"; using '
                "the top-level configuration",
            )

    def inherited(attr: str) -> Any:
        own = getattr(section, attr)
        return own if own is not None else getattr(top, attr)

    where = f" (neither at the top level nor in [env.{env}])" if section is not top else ""
    name = section.name if section is not top else None
    if name is None:
        if top.name is None:
            r.missing("name", "a string: the Worker's name" + where)
        name = f"{top.name}-{env}" if env else top.name

    main = inherited("main")
    if main is None:
        r.missing("main", 'a string: the path of the entry module, e.g. "src/entry.py"' + where)
    main_path = Path(os.path.normpath(file.parent / main))
    main_key = section.prefix + "main" if section.main is not None else "main"
    if not main_path.is_file():
        r.fail(
            main_key,
            f"expected an existing file, found no file at {main_path} "
            f"({main!r} relative to {file.parent})",
        )

    compatibility_date = inherited("compatibility_date")
    if compatibility_date is None:
        r.missing("compatibility_date", 'a date string such as "2025-11-01"' + where)
    flags = inherited("compatibility_flags") or ()
    if main.endswith(".py") and "python_workers" not in flags:
        r.fail("compatibility_flags", _PYTHON_FLAG_MSG + f" Found {json.dumps(list(flags))}.")

    if section is not top:
        for key in ("durable_objects", "vars", *sorted(BINDING_KEYS)):
            if key in top.present and key not in section.present:
                r.warn(
                    f"env.{env}",
                    f'"{key}" exists at the top level, but not on "env.{env}". '
                    f'This is not what you probably want, since "{key}" is not inherited '
                    f'by environments. Please add "{key}" to "env.{env}".',
                )
    bindings = section.bindings or ()
    variables = section.vars or {}
    for b in bindings:
        if b.name in variables:
            r.fail(
                section.prefix + "vars." + b.name,
                f"{b.name} assigned to Durable Object "
                "and Environment Variable bindings; expected unique binding names",
            )
    _check_unique_names(r, section)
    required = section.secrets_required if "secrets" in section.present else top.secrets_required
    secrets, secret_files, missing = load_secrets(file.parent, env or None, required)
    if missing:
        r.warn(
            "secrets.required",
            "required secrets missing from "
            + (", ".join(f.name for f in secret_files) or ".dev.vars / .env")
            + ": "
            + ", ".join(missing),
        )

    return AppConfig(
        name=name,
        main=main_path,
        compatibility_date=compatibility_date,
        compatibility_flags=tuple(flags),
        bindings=bindings,
        migrations=inherited("migrations") or (),
        vars=dict(variables),
        path=file,
        env=env or None,
        # ``limits`` is inherited as a whole: an environment's table replaces the top one.
        cpu_ms=section.cpu_ms if "limits" in section.present else top.cpu_ms,
        other_bindings=section.other_bindings,
        secrets=secrets,
        secrets_files=tuple(secret_files),
    )


def _check_unique_names(r: _Reader, section: _Section) -> None:
    """Refuse a binding name used twice, as wrangler's config validation does."""
    seen: dict[str, str] = {}
    for b in section.bindings or ():
        seen[b.name] = f"{section.prefix}durable_objects.bindings"
    for name in section.vars or {}:
        seen.setdefault(name, f"{section.prefix}vars")
    for b in section.other_bindings:
        if b.name in seen:
            r.fail(
                b.config_key + ".binding",
                f"{b.name} is bound twice (also in {seen[b.name]}); "
                "expected unique binding names",
            )
        seen[b.name] = b.config_key
