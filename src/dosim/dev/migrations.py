"""``dosim migrate --check``: what ``wrangler deploy`` would refuse about Durable Objects.

Cloudflare applies ``[[migrations]]`` at deploy time, and refuses an upload whose
bindings, migrations and code do not agree. :func:`check_migrations` reads the wrangler
config and imports the Worker's main module, then reports, with the platform's wording
where it has one:

* config errors :func:`dosim.config.load_config` already catches with wrangler's text:
  duplicate tags, deleting or renaming a class that does not exist, creating one that
  does (``new_sqlite_classes`` on a class an earlier migration created), a class in both
  ``new_classes`` and ``new_sqlite_classes``;
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

from dataclasses import dataclass, field
from pathlib import Path

from ..config import AppConfig, ConfigError, load_config

__all__ = ["Finding", "MigrationReport", "check_migrations"]

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


def _exported_classes(config: AppConfig, report: MigrationReport) -> set[str] | None:
    from ..app import load_main_module

    try:
        module = load_main_module(Path(config.main))
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


def check_migrations(path: str | Path = ".", environment: str | None = None) -> MigrationReport:
    """Check an app's Durable Object bindings, migrations and code as a deploy would.

    Args:
        path: The app folder or its wrangler config file.
        environment: A ``[env.<name>]`` section to check instead of the top level.

    Returns:
        The report; :attr:`MigrationReport.ok` tells whether a deploy would accept it.
    """
    try:
        config = load_config(path, env=environment) if environment else load_config(path)
    except ConfigError as error:
        report = MigrationReport(error.path)
        report.findings.append(Finding("error", error.key or "config", error.detail))
        return report
    report = MigrationReport(config.path)
    backends = config.storage_backends()
    report.classes = dict(backends)
    deleted, renamed = _history(config)
    exported = _exported_classes(config, report)

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
