"""Durable Object migrations: the ``[[migrations]]`` model, its rules, and the deploy check.

What this module holds:

* :class:`Migration`, one ``[[migrations]]`` entry, and :data:`StorageBackend`, a
  class's backend (``"sqlite"`` or ``"kv"``);
* :func:`apply_migrations` and :class:`MigrationError`: the rules, with wrangler's text,
  that give every class its backend (:meth:`dosim.config.AppConfig.storage_backends`);
* :data:`TRANSFERRED_CLASS_BACKEND`: the backend of a transferred-in class;
* :func:`check_migrations`, :class:`MigrationReport`, :class:`Finding` and the ``MSG_*``
  texts: ``dosim migrate --check``, what ``wrangler deploy`` would refuse.

Elsewhere: :mod:`dosim.config` reads the ``[[migrations]]`` entries (and checks their
tags are unique); :mod:`dosim.dev.state` applies pending migrations to the objects
``dosim dev`` keeps on disk.

**The rules**, taken from wrangler (``cloudflare/workers-sdk``,
``getDurableObjectClassNameToUseSQLiteMap``): migrations are applied in order, and inside
one migration entry in wrangler's order: ``deleted_classes``, ``renamed_classes``,
``new_classes`` (KV), ``new_sqlite_classes`` (SQLite), then ``transferred_classes``.
Deleting or renaming a class that does not exist, or creating one that does, is an error
with wrangler's text. Transferring onto, or renaming onto, a class that already exists is
an error. Where wrangler checks nothing locally, a class may not appear in both
``new_classes`` and ``new_sqlite_classes`` of one entry (a class with two backends makes
no sense).

``transferred_classes``: wrangler's local dev ignores them, so a transferred-in class is
KV-backed there; its real backend is the one it had in the source Worker, which this
Worker's config cannot see. dosim treats it as **SQLite** (:data:`TRANSFERRED_CLASS_BACKEND`),
the recommended backend; change that constant to ``"kv"`` to match ``wrangler dev`` instead.

**The deploy check.** Cloudflare applies ``[[migrations]]`` at deploy time, and refuses an
upload whose bindings, migrations and code do not agree. :func:`check_migrations` takes
the loaded wrangler config and imports the Worker's main module, then reports, with the
platform's wording where it has one:

* config errors :func:`dosim.config.load_config` already catches with wrangler's text
  (:meth:`MigrationReport.from_config_error` reports them): duplicate tags, deleting or
  renaming a class that does not exist, creating one that does (``new_sqlite_classes`` on
  a class an earlier migration created), a class in both ``new_classes`` and
  ``new_sqlite_classes``;
* a bound class that no migration created — ``Cannot create binding for class 'X'
  because it is not currently configured to implement Durable Objects. Ensure a
  --new-class migration has been applied to it. [code: 10061]``;
* a class deleted by a migration but still bound — ``Cannot apply --delete-class
  migration to class 'X' without also removing the binding that references it.``;
* a bound class the code does not define — ``Cannot create binding for class 'X' that
  is not exported by the script [code: 10061]``;
* a class the migrations leave in existence that the code does not define (dosim's
  wording: Cloudflare refuses to drop the export of a class that has objects);

and, as warnings that do not fail the check, KV-backed classes (``new_classes``), which
accounts created since 2025 cannot create (``[code: 10099]``).

What this cannot see: which tags the deployed Worker already applied. It checks the
migrations as a whole, as a first deploy would apply them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    # Typing only: dosim.config imports this module to build Migration objects.
    from .config import AppConfig, ConfigError

__all__ = [
    "Finding",
    "Migration",
    "MigrationError",
    "MigrationReport",
    "StorageBackend",
    "TRANSFERRED_CLASS_BACKEND",
    "apply_migrations",
    "check_migrations",
]

StorageBackend = Literal["sqlite", "kv"]
"""The storage backend of a Durable Object class: ``"sqlite"`` or legacy ``"kv"``."""

TRANSFERRED_CLASS_BACKEND: StorageBackend = "sqlite"
"""Backend dosim gives a class created by ``transferred_classes`` (see module docs)."""

MSG_NO_MIGRATION = (
    "Cannot create binding for class '{name}' because it is not currently configured to "
    "implement Durable Objects. Ensure a --new-class migration has been applied to it. "
    "[code: 10061]"
)
MSG_DELETED_BUT_BOUND = (
    "Cannot apply --delete-class migration to class '{name}' without also removing the "
    "binding that references it."
)
MSG_NOT_EXPORTED = (
    "Cannot create binding for class '{name}' that is not exported by the script [code: 10061]"
)
MSG_KV_BACKED = (
    "Creating new key-value backed Durable Object namespaces is no longer supported on "
    "this account. Please create a namespace using a `new_sqlite_classes` migration "
    "instead. [code: 10099]"
)


@dataclass(frozen=True)
class Migration:
    """One ``[[migrations]]`` entry.

    Attributes:
        tag: The migration's unique tag, e.g. ``"v1"``.
        new_classes: Classes created with the legacy KV backend.
        new_sqlite_classes: Classes created with the SQLite backend.
        renamed_classes: ``(from, to)`` pairs; objects and data move to ``to``.
        deleted_classes: Classes whose objects and data are deleted.
        transferred_classes: ``(from, from_script, to)`` triples moving a class in from
            another Worker.
    """

    tag: str
    new_classes: tuple[str, ...] = ()
    new_sqlite_classes: tuple[str, ...] = ()
    renamed_classes: tuple[tuple[str, str], ...] = ()
    deleted_classes: tuple[str, ...] = ()
    transferred_classes: tuple[tuple[str, str, str], ...] = ()


# --- the rules -------------------------------------------------------------------------


class MigrationError(ValueError):
    """A migration that cannot be applied, with wrangler's text.

    :func:`dosim.config.load_config` reports it as a
    :class:`~dosim.config.ConfigError` at ``migrations[<index>].<key>``.

    Attributes:
        index: The position of the migration entry in the list.
        key: The directive at fault, e.g. ``"deleted_classes"``.
    """

    def __init__(self, index: int, key: str, message: str) -> None:
        self.index = index
        self.key = key
        super().__init__(message)


def apply_migrations(migrations: tuple[Migration, ...]) -> dict[str, StorageBackend]:
    """Apply migrations in order, as wrangler's ``getDurableObjectClassNameToUseSQLiteMap``.

    Args:
        migrations: The entries, in file order.

    Returns:
        Class name to backend, for every class the migrations leave in existence.

    Raises:
        MigrationError: A directive refers to a missing class or recreates one.
    """
    backends: dict[str, StorageBackend] = {}
    for i, migration in enumerate(migrations):
        both = sorted(set(migration.new_classes) & set(migration.new_sqlite_classes))
        if both:
            raise MigrationError(
                i,
                "new_sqlite_classes",
                f"class {both[0]!r} is listed in both new_classes and new_sqlite_classes; "
                "expected each class in exactly one of them (new_sqlite_classes for "
                "SQLite storage, new_classes for legacy KV storage)",
            )
        for name in migration.deleted_classes:
            if backends.pop(name, None) is None:
                raise MigrationError(
                    i,
                    "deleted_classes",
                    f"Cannot apply deleted_classes migration to non-existent class {name}",
                )
        for old, new in migration.renamed_classes:
            if old not in backends:
                raise MigrationError(
                    i,
                    "renamed_classes",
                    f"Cannot apply renamed_classes migration to non-existent class {old}",
                )
            if new in backends and new != old:
                raise MigrationError(
                    i,
                    "renamed_classes",
                    f"Cannot apply renamed_classes migration to existing class {new}",
                )
            backends[new] = backends.pop(old)
        for directive, names, backend in (
            ("new_classes", migration.new_classes, "kv"),
            ("new_sqlite_classes", migration.new_sqlite_classes, "sqlite"),
        ):
            for name in names:
                if name in backends:
                    raise MigrationError(
                        i,
                        directive,
                        f"Cannot apply {directive} migration to existing class {name}",
                    )
                backends[name] = backend  # type: ignore[assignment]
        for _old, _script, new in migration.transferred_classes:
            if new in backends:
                raise MigrationError(
                    i,
                    "transferred_classes",
                    f"Cannot apply transferred_classes migration to existing class {new}",
                )
            backends[new] = TRANSFERRED_CLASS_BACKEND
    return backends


# --- the deploy check ------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One thing a deploy would refuse (an error) or that deserves a look (a warning).

    Attributes:
        severity: ``"error"`` or ``"warning"``.
        where: The config key or binding concerned.
        message: The platform's message where it has one.
        hint: What to change.
    """

    severity: str
    where: str
    message: str
    hint: str = ""


@dataclass
class MigrationReport:
    """The result of :func:`check_migrations`.

    Attributes:
        config_path: The config file checked (or the path given, if none was found).
        findings: Errors and warnings, in the order found.
        classes: Class name → backend after all migrations (empty if the config failed).
    """

    config_path: Path
    findings: list[Finding] = field(default_factory=list)
    classes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config_error(cls, error: ConfigError) -> MigrationReport:
        """Report a config that does not load: one error, at the key it names.

        Args:
            error: What :func:`dosim.config.load_config` raised.

        Returns:
            A failed report on ``error.path``.
        """
        report = cls(error.path)
        report.findings.append(Finding("error", error.key or "config", error.detail))
        return report

    @property
    def ok(self) -> bool:
        """Whether a deploy would accept the Durable Object setup (no errors)."""
        return not any(f.severity == "error" for f in self.findings)

    def render(self) -> str:
        """Format the report for the terminal."""
        lines = [f"dosim migrate --check: {self.config_path}"]
        if self.classes:
            shown = ", ".join(f"{name} ({backend})" for name, backend in self.classes.items())
            lines.append(f"  classes after all migrations: {shown}")
        for finding in self.findings:
            lines.append(f"  {finding.severity}: {finding.where}: {finding.message}")
            if finding.hint:
                lines.append(f"      → {finding.hint}")
        errors = sum(f.severity == "error" for f in self.findings)
        warnings = len(self.findings) - errors
        if errors:
            lines.append(f"{errors} error(s), {warnings} warning(s): a deploy would refuse this.")
        else:
            lines.append(f"OK: a deploy would accept these migrations ({warnings} warning(s)).")
        return "\n".join(lines)


def _history(config: AppConfig) -> tuple[dict[str, str], dict[str, str]]:
    """Return (deleted class → tag, renamed-away class → new name) over all migrations."""
    deleted: dict[str, str] = {}
    renamed: dict[str, str] = {}
    for migration in config.migrations:
        for name in migration.deleted_classes:
            deleted[name] = migration.tag
        for old, new in migration.renamed_classes:
            renamed[old] = new
        for name in (*migration.new_classes, *migration.new_sqlite_classes):
            deleted.pop(name, None)
            renamed.pop(name, None)
    return deleted, renamed


def _exported_classes(
    config: AppConfig, load_main: Callable[[Path], Any], report: MigrationReport
) -> set[str] | None:
    try:
        module = load_main(Path(config.main))
    except Exception as error:  # noqa: BLE001 - user code: report whatever it raised
        report.findings.append(
            Finding(
                "error",
                "main",
                f"importing {config.main} failed: {type(error).__name__}: {error}",
                "fix the module so it imports; the checks against the code were skipped",
            )
        )
        return None
    return {name for name, value in vars(module).items() if isinstance(value, type)}


def check_migrations(config: AppConfig, load_main: Callable[[Path], Any]) -> MigrationReport:
    """Check an app's Durable Object bindings, migrations and code as a deploy would.

    A config that does not load has no :class:`~dosim.config.AppConfig` to check; report
    its :class:`~dosim.config.ConfigError` with :meth:`MigrationReport.from_config_error`.

    Args:
        config: The app's wrangler config, from :func:`dosim.config.load_config`.
        load_main: Imports the Worker's main module from its path, as the simulator
            does (:func:`dosim.loader.load_main_module`). It is passed in because this
            module sits below :mod:`dosim.app` in the import graph.

    Returns:
        The report; :attr:`MigrationReport.ok` tells whether a deploy would accept it.
    """
    report = MigrationReport(config.path)
    backends = config.storage_backends()
    report.classes = dict(backends)
    deleted, renamed = _history(config)
    exported = _exported_classes(config, load_main, report)

    for index, binding in enumerate(config.bindings):
        if not binding.is_local(config.name):
            continue  # the other Worker's deploy checks its own classes
        where = f"durable_objects.bindings[{index}] ({binding.name} → {binding.class_name})"
        name = binding.class_name
        if name not in backends:
            if name in deleted:
                report.findings.append(
                    Finding(
                        "error",
                        where,
                        MSG_DELETED_BUT_BOUND.format(name=name),
                        f"migration {deleted[name]!r} deletes it: remove this binding first",
                    )
                )
            elif name in renamed:
                report.findings.append(
                    Finding(
                        "error",
                        where,
                        MSG_NO_MIGRATION.format(name=name),
                        f"a migration renames it to {renamed[name]!r}: bind that name instead",
                    )
                )
            else:
                report.findings.append(
                    Finding(
                        "error",
                        where,
                        MSG_NO_MIGRATION.format(name=name),
                        f'add [[migrations]] with tag = "v{len(config.migrations) + 1}" and '
                        f'new_sqlite_classes = ["{name}"]',
                    )
                )
        if exported is not None and name not in exported:
            report.findings.append(
                Finding(
                    "error",
                    where,
                    MSG_NOT_EXPORTED.format(name=name),
                    f"define class {name} in {Path(config.main).name}",
                )
            )

    bound = {b.class_name for b in config.bindings if b.is_local(config.name)}
    for name, backend in backends.items():
        if exported is not None and name not in exported and name not in bound:
            report.findings.append(
                Finding(
                    "error",
                    "migrations",
                    f"class '{name}' exists after the migrations but "
                    f"{Path(config.main).name} does not define it (dosim's wording)",
                    "keep exporting the class, or delete it with deleted_classes",
                )
            )
        if backend == "kv":
            report.findings.append(
                Finding(
                    "warning",
                    "migrations",
                    f"class '{name}' is KV-backed (new_classes): {MSG_KV_BACKED}",
                    "use new_sqlite_classes for new classes unless the account still allows KV",
                )
            )
    return report
