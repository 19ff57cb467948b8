"""Migrations: the rules that give each class its backend, and the deploy check.

The rules are reached as a config meets them, through ``load_config`` (a refused migration
is a ``ConfigError`` at ``migrations[<index>].<directive>``); the deploy check runs on
small apps written to ``tmp_path``, as ``dosim migrate --check`` does.
"""

from pathlib import Path

import pytest
from wrangler_files import BINDING, HEAD, SQLITE_V1, error, load, migrations_config

from dosim.config import ConfigError, load_config
from dosim.loader import load_main_module
from dosim.migrations import (
    MSG_DELETED_BUT_BOUND,
    MSG_NO_MIGRATION,
    MSG_NOT_EXPORTED,
    TRANSFERRED_CLASS_BACKEND,
    Migration,
    MigrationError,
    MigrationReport,
    apply_migrations,
    check_migrations,
)

# --- the rules -------------------------------------------------------------------------


def test_apply_migrations_maps_classes_to_backends_and_locates_a_refused_directive():
    assert apply_migrations(
        (Migration("v1", new_classes=("A",)), Migration("v2", new_sqlite_classes=("B",)))
    ) == {"A": "kv", "B": "sqlite"}
    with pytest.raises(MigrationError) as info:
        apply_migrations(
            (Migration("v1", new_classes=("A",)), Migration("v2", deleted_classes=("Z",)))
        )
    assert (info.value.index, info.value.key) == (1, "deleted_classes")
    assert str(info.value) == "Cannot apply deleted_classes migration to non-existent class Z"


def test_class_in_both_new_classes_and_new_sqlite_classes_raises(tmp_path):
    err = error(tmp_path, HEAD + SQLITE_V1 + 'new_classes = ["Counter"]\n')

    assert err.key == "migrations[0].new_sqlite_classes"
    assert "'Counter' is listed in both new_classes and new_sqlite_classes" in str(err)


def test_new_sqlite_classes_are_sqlite_backed(tmp_path):
    config = load(tmp_path, migrations_config(SQLITE_V1))

    assert config.storage_backend("Counter") == "sqlite"


def test_new_classes_are_kv_backed(tmp_path):
    config = load(
        tmp_path, migrations_config('[[migrations]]\ntag = "v1"\nnew_classes = ["Counter"]\n')
    )

    assert config.storage_backend("Counter") == "kv"


def test_rename_carries_the_backend_to_the_new_name(tmp_path):
    body = (
        '[[migrations]]\ntag = "v1"\nnew_classes = ["OldCounter"]\n'
        '[[migrations]]\ntag = "v2"\nrenamed_classes = [{from = "OldCounter", to = "Counter"}]\n'
    )

    config = load(tmp_path, migrations_config(body))

    assert config.storage_backend("Counter") == "kv"
    assert config.storage_backends() == {"Counter": "kv"}


def test_renamed_away_class_no_longer_exists(tmp_path):
    body = (
        SQLITE_V1
        + '[[migrations]]\ntag = "v2"\nrenamed_classes = [{from = "Counter", to = "Tally"}]\n'
    )

    config = load(tmp_path, migrations_config(body, BINDING.replace("Counter", "Tally")))

    with pytest.raises(KeyError):
        config.storage_backend("Counter")


def test_deleted_class_no_longer_exists(tmp_path):
    body = (
        SQLITE_V1.replace('["Counter"]', '["Counter", "Legacy"]')
        + '[[migrations]]\ntag = "v2"\ndeleted_classes = ["Legacy"]\n'
    )

    config = load(tmp_path, migrations_config(body))

    assert config.storage_backends() == {"Counter": "sqlite"}
    with pytest.raises(KeyError, match="'Legacy' is not a Durable Object class"):
        config.storage_backend("Legacy")


def test_deleted_class_can_be_recreated_with_another_backend(tmp_path):
    body = (
        '[[migrations]]\ntag = "v1"\nnew_classes = ["Counter"]\n'
        '[[migrations]]\ntag = "v2"\ndeleted_classes = ["Counter"]\n'
        '[[migrations]]\ntag = "v3"\nnew_sqlite_classes = ["Counter"]\n'
    )

    assert load(tmp_path, migrations_config(body)).storage_backend("Counter") == "sqlite"


def test_transferred_class_is_treated_as_sqlite(tmp_path):
    body = (
        '[[migrations]]\ntag = "v1"\n'
        'transferred_classes = [{from = "Counter", from_script = "old-worker", to = "Counter"}]\n'
    )

    config = load(tmp_path, migrations_config(body))

    assert config.storage_backend("Counter") == TRANSFERRED_CLASS_BACKEND == "sqlite"
    assert config.migrations[0].transferred_classes == (("Counter", "old-worker", "Counter"),)


def test_deleting_a_non_existent_class_raises(tmp_path):
    err = error(tmp_path, HEAD + '[[migrations]]\ntag = "v1"\ndeleted_classes = ["Ghost"]\n')

    assert err.key == "migrations[0].deleted_classes"
    assert "Cannot apply deleted_classes migration to non-existent class Ghost" in str(err)


def test_renaming_a_non_existent_class_raises(tmp_path):
    err = error(
        tmp_path,
        HEAD + '[[migrations]]\ntag = "v1"\nrenamed_classes = [{from = "Ghost", to = "Counter"}]\n',
    )

    assert err.key == "migrations[0].renamed_classes"
    assert "Cannot apply renamed_classes migration to non-existent class Ghost" in str(err)


def test_renaming_onto_an_existing_class_raises(tmp_path):
    body = (
        SQLITE_V1.replace('["Counter"]', '["Counter", "Room"]')
        + '[[migrations]]\ntag = "v2"\nrenamed_classes = [{from = "Room", to = "Counter"}]\n'
    )

    err = error(tmp_path, HEAD + body)

    assert "Cannot apply renamed_classes migration to existing class Counter" in str(err)


def test_creating_an_existing_class_raises(tmp_path):
    err = error(tmp_path, HEAD + SQLITE_V1 + SQLITE_V1.replace("v1", "v2"))

    assert err.key == "migrations[1].new_sqlite_classes"
    assert "Cannot apply new_sqlite_classes migration to existing class Counter" in str(err)


def test_transferring_onto_an_existing_class_raises(tmp_path):
    body = (
        SQLITE_V1
        + '[[migrations]]\ntag = "v2"\n'
        + 'transferred_classes = [{from = "X", from_script = "other", to = "Counter"}]\n'
    )

    err = error(tmp_path, HEAD + body)

    assert err.key == "migrations[1].transferred_classes"


def test_storage_backends_include_migrated_classes_that_are_not_bound(tmp_path):
    body = SQLITE_V1.replace('["Counter"]', '["Counter", "Unbound"]')

    assert load(tmp_path, migrations_config(body)).storage_backends() == {
        "Counter": "sqlite",
        "Unbound": "sqlite",
    }


# --- the deploy check ------------------------------------------------------------------

APP = """\
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
    (tmp_path / "wrangler.toml").write_text(APP + config)
    (tmp_path / "worker.py").write_text(code)
    return tmp_path


def check(folder: Path) -> MigrationReport:
    """Check the app in ``folder`` as ``dosim migrate --check`` does."""
    try:
        config = load_config(folder)
    except ConfigError as config_error:
        return MigrationReport.from_config_error(config_error)
    return check_migrations(config, load_main_module)


def errors(report) -> list[str]:
    return [f.message for f in report.findings if f.severity == "error"]


def test_a_consistent_app_passes(tmp_path):
    report = check(
        app(tmp_path, bind("CART", "Cart") + migration("v1", new_sqlite_classes='["Cart"]'))
    )
    assert report.ok and report.findings == []
    assert report.classes == {"Cart": "sqlite"}


def test_a_bound_class_without_migration_is_refused_with_the_platform_text(tmp_path):
    report = check(app(tmp_path, bind("CART", "Cart")))
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
    report = check(app(tmp_path, config))
    assert errors(report) == [MSG_DELETED_BUT_BOUND.format(name="Cart")]
    assert "'v2'" in report.findings[0].hint


def test_binding_the_old_name_of_a_renamed_class_is_refused(tmp_path):
    config = (
        bind("CART", "Cart")
        + migration("v1", new_sqlite_classes='["Cart"]')
        + migration("v2", renamed_classes='[{from = "Cart", to = "Order"}]')
    )
    report = check(app(tmp_path, config))
    assert errors(report) == [MSG_NO_MIGRATION.format(name="Cart")]
    assert "'Order'" in report.findings[0].hint


def test_new_sqlite_classes_on_an_existing_class_is_refused(tmp_path):
    config = (
        bind("CART", "Cart")
        + migration("v1", new_classes='["Cart"]')
        + migration("v2", new_sqlite_classes='["Cart"]')
    )
    report = check(app(tmp_path, config))
    assert errors(report) == ["Cannot apply new_sqlite_classes migration to existing class Cart"]
    assert report.findings[0].where == "migrations[1].new_sqlite_classes"


def test_duplicate_tags_are_refused(tmp_path):
    config = (
        bind("CART", "Cart")
        + migration("v1", new_sqlite_classes='["Cart"]')
        + migration("v1", new_sqlite_classes='["Order"]')
    )
    report = check(app(tmp_path, config))
    assert not report.ok
    assert "duplicate tag 'v1'" in errors(report)[0]


def test_a_bound_class_the_code_does_not_define_is_refused(tmp_path):
    config = bind("GHOST", "Ghost") + migration("v1", new_sqlite_classes='["Ghost"]')
    report = check(app(tmp_path, config))
    assert errors(report) == [MSG_NOT_EXPORTED.format(name="Ghost")]


def test_a_migrated_class_the_code_no_longer_defines_is_refused(tmp_path):
    config = bind("CART", "Cart") + migration("v1", new_sqlite_classes='["Cart", "Gone"]')
    report = check(app(tmp_path, config))
    assert len(errors(report)) == 1 and "'Gone'" in errors(report)[0]


def test_code_that_does_not_import_is_reported(tmp_path):
    config = bind("CART", "Cart") + migration("v1", new_sqlite_classes='["Cart"]')
    report = check(app(tmp_path, config, code="raise RuntimeError('no import')\n"))
    assert not report.ok
    assert "RuntimeError: no import" in errors(report)[0]


def test_kv_backed_classes_get_a_warning_not_an_error(tmp_path):
    config = bind("CART", "Cart") + migration("v1", new_classes='["Cart"]')
    report = check(app(tmp_path, config))
    assert report.ok
    [warning] = report.findings
    assert warning.severity == "warning" and "code: 10099" in warning.message


def test_classes_of_another_worker_are_left_to_its_deploy(tmp_path):
    config = bind("CART", "Cart") + migration("v1", new_sqlite_classes='["Cart"]')
    config += '\n[[durable_objects.bindings]]\nname = "X"\nclass_name = "Elsewhere"\n'
    config += 'script_name = "other-worker"\n'
    assert check(app(tmp_path, config)).ok


@pytest.mark.parametrize(
    "body",
    [
        '[[migrations]]\ntag = "v1"\ndeleted_classes = ["../outside"]\n',
        '[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["a/b"]\n',
        '[[migrations]]\ntag = "v1"\nrenamed_classes = [{from = "A", to = "..\\\\x"}]\n',
    ],
    ids=["deleted-dotdot", "new-slash", "renamed-backslash"],
)
def test_class_names_that_are_not_identifiers_are_refused_at_load(tmp_path, body):
    # dosim keeps each class's objects in a folder named after it: a name with ".." or a
    # separator once made `deleted_classes` remove a folder outside the app.
    with pytest.raises(ConfigError, match="is not a class name"):
        load(tmp_path, migrations_config(body))
