"""`dosim migrate --check`: what a deploy would refuse about bindings, migrations and code."""

from pathlib import Path

from dosim.cli import main
from dosim.dev.migrations import (
    MSG_DELETED_BUT_BOUND,
    MSG_NO_MIGRATION,
    MSG_NOT_EXPORTED,
    check_migrations,
)

HEAD = """\
name = "shop"
main = "worker.py"
compatibility_date = "2025-11-01"
compatibility_flags = ["python_workers"]
"""

CODE = """\
from workers import DurableObject


class Cart(DurableObject):
    pass


class Order(DurableObject):
    pass
"""


def bind(binding: str, class_name: str) -> str:
    return f'\n[[durable_objects.bindings]]\nname = "{binding}"\nclass_name = "{class_name}"\n'


def migration(tag: str, **directives: str) -> str:
    lines = [f'\n[[migrations]]\ntag = "{tag}"']
    lines += [f"{key} = {value}" for key, value in directives.items()]
    return "\n".join(lines) + "\n"


def app(tmp_path: Path, config: str, code: str = CODE) -> Path:
    (tmp_path / "wrangler.toml").write_text(HEAD + config)
    (tmp_path / "worker.py").write_text(code)
    return tmp_path


def errors(report) -> list[str]:
    return [f.message for f in report.findings if f.severity == "error"]


def test_a_consistent_app_passes(tmp_path):
    report = check_migrations(
        app(tmp_path, bind("CART", "Cart") + migration("v1", new_sqlite_classes='["Cart"]'))
    )
    assert report.ok and report.findings == []
    assert report.classes == {"Cart": "sqlite"}


def test_a_bound_class_without_migration_is_refused_with_the_platform_text(tmp_path):
    report = check_migrations(app(tmp_path, bind("CART", "Cart")))
    assert not report.ok
    assert errors(report) == [MSG_NO_MIGRATION.format(name="Cart")]
    assert "code: 10061" in errors(report)[0]
    assert 'new_sqlite_classes = ["Cart"]' in report.findings[0].hint


def test_deleting_a_class_that_is_still_bound_is_refused(tmp_path):
    config = (
        bind("CART", "Cart")
        + migration("v1", new_sqlite_classes='["Cart"]')
        + migration("v2", deleted_classes='["Cart"]')
    )
    report = check_migrations(app(tmp_path, config))
    assert errors(report) == [MSG_DELETED_BUT_BOUND.format(name="Cart")]
    assert "'v2'" in report.findings[0].hint


def test_binding_the_old_name_of_a_renamed_class_is_refused(tmp_path):
    config = (
        bind("CART", "Cart")
        + migration("v1", new_sqlite_classes='["Cart"]')
        + migration("v2", renamed_classes='[{from = "Cart", to = "Order"}]')
    )
    report = check_migrations(app(tmp_path, config))
    assert errors(report) == [MSG_NO_MIGRATION.format(name="Cart")]
    assert "'Order'" in report.findings[0].hint


def test_new_sqlite_classes_on_an_existing_class_is_refused(tmp_path):
    config = (
        bind("CART", "Cart")
        + migration("v1", new_classes='["Cart"]')
        + migration("v2", new_sqlite_classes='["Cart"]')
    )
    report = check_migrations(app(tmp_path, config))
    assert errors(report) == ["Cannot apply new_sqlite_classes migration to existing class Cart"]
    assert report.findings[0].where == "migrations[1].new_sqlite_classes"


def test_duplicate_tags_are_refused(tmp_path):
    config = (
        bind("CART", "Cart")
        + migration("v1", new_sqlite_classes='["Cart"]')
        + migration("v1", new_sqlite_classes='["Order"]')
    )
    report = check_migrations(app(tmp_path, config))
    assert not report.ok
    assert "duplicate tag 'v1'" in errors(report)[0]


def test_a_bound_class_the_code_does_not_define_is_refused(tmp_path):
    config = bind("GHOST", "Ghost") + migration("v1", new_sqlite_classes='["Ghost"]')
    report = check_migrations(app(tmp_path, config))
    assert errors(report) == [MSG_NOT_EXPORTED.format(name="Ghost")]


def test_a_migrated_class_the_code_no_longer_defines_is_refused(tmp_path):
    config = bind("CART", "Cart") + migration("v1", new_sqlite_classes='["Cart", "Gone"]')
    report = check_migrations(app(tmp_path, config))
    assert len(errors(report)) == 1 and "'Gone'" in errors(report)[0]


def test_code_that_does_not_import_is_reported(tmp_path):
    config = bind("CART", "Cart") + migration("v1", new_sqlite_classes='["Cart"]')
    report = check_migrations(app(tmp_path, config, code="raise RuntimeError('no import')\n"))
    assert not report.ok
    assert "RuntimeError: no import" in errors(report)[0]


def test_kv_backed_classes_get_a_warning_not_an_error(tmp_path):
    config = bind("CART", "Cart") + migration("v1", new_classes='["Cart"]')
    report = check_migrations(app(tmp_path, config))
    assert report.ok
    [warning] = report.findings
    assert warning.severity == "warning" and "code: 10099" in warning.message


def test_classes_of_another_worker_are_left_to_its_deploy(tmp_path):
    config = bind("CART", "Cart") + migration("v1", new_sqlite_classes='["Cart"]')
    config += '\n[[durable_objects.bindings]]\nname = "X"\nclass_name = "Elsewhere"\n'
    config += 'script_name = "other-worker"\n'
    assert check_migrations(app(tmp_path, config)).ok


def test_the_command_prints_the_report_and_exits_1_on_errors(tmp_path, capsys):
    assert main(["migrate", "--check", str(app(tmp_path, bind("CART", "Cart")))]) == 1
    out = capsys.readouterr().out
    assert "error: durable_objects.bindings[0] (CART → Cart)" in out
    assert "a deploy would refuse this" in out


def test_the_command_exits_0_when_a_deploy_would_accept(tmp_path, capsys):
    config = bind("CART", "Cart") + migration("v1", new_sqlite_classes='["Cart"]')
    assert main(["migrate", "--check", str(app(tmp_path, config))]) == 0
    assert "OK" in capsys.readouterr().out


def test_a_missing_config_is_reported(tmp_path, capsys):
    assert main(["migrate", "--check", str(tmp_path / "nothing")]) == 1
    assert "config file not found" in capsys.readouterr().out
