import json
import os
import warnings

import pytest
from wrangler_files import BINDING, HEAD, SQLITE_V1, error, load, migrations_config, write

from dosim.config import (
    AppConfig,
    ConfigError,
    ConfigWarning,
    DurableObjectBinding,
    load_config,
    strip_jsonc,
)
from dosim.migrations import Migration

# --- parsing ---------------------------------------------------------------------------


def test_toml_config_is_parsed_into_app_config(tmp_path):
    config = load(tmp_path, HEAD + BINDING + SQLITE_V1 + '[vars]\nGREETING = "hi"\n')

    assert config.name == "py-counter"
    assert config.main == tmp_path / "src" / "entry.py"
    assert config.compatibility_date == "2025-11-01"
    assert config.compatibility_flags == ("python_workers",)
    assert config.bindings == (DurableObjectBinding("COUNTER", "Counter"),)
    assert config.migrations == (Migration("v1", new_sqlite_classes=("Counter",)),)
    assert config.vars == {"GREETING": "hi"}
    assert config.path == tmp_path / "wrangler.toml"
    assert config.env is None


def test_clean_config_loads_without_warnings(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load(tmp_path, HEAD + BINDING + SQLITE_V1)


def test_main_is_resolved_relative_to_the_config_file_not_the_cwd(tmp_path, monkeypatch):
    app = tmp_path / "app"
    app.mkdir()
    path = write(app, HEAD)
    monkeypatch.chdir(tmp_path)

    config = load_config(os.path.relpath(path))

    assert config.main == app / "src" / "entry.py"
    assert config.main.is_absolute()
    assert config.path == path


def test_jsonc_comments_and_trailing_commas_are_accepted(tmp_path):
    text = """{
      // the Worker
      "name": "py-counter", /* inline */
      "main": "src/entry.py",
      "compatibility_date": "2025-11-01",
      "compatibility_flags": ["python_workers",],
      "durable_objects": {"bindings": [{"name": "COUNTER", "class_name": "Counter",},],},
      "migrations": [{"tag": "v1", "new_sqlite_classes": ["Counter"]}, /* last */ ],
    }"""

    config = load(tmp_path, text, "wrangler.jsonc")

    assert config.name == "py-counter"
    assert config.bindings == (DurableObjectBinding("COUNTER", "Counter"),)
    assert config.storage_backend("Counter") == "sqlite"


def test_jsonc_comment_markers_and_commas_inside_strings_are_kept(tmp_path):
    text = """{
      "name": "app", "main": "src/entry.py", "compatibility_date": "2025-11-01",
      "compatibility_flags": ["python_workers"],
      "vars": {
        "URL": "https://example.com//path", // a real comment
        "BLOCK": "/* not a comment */",
        "COMMA": "a,}",
        "QUOTE": "say \\"hi\\" // still a string",
      }
    }"""

    config = load(tmp_path, text, "wrangler.jsonc")

    assert config.vars == {
        "URL": "https://example.com//path",
        "BLOCK": "/* not a comment */",
        "COMMA": "a,}",
        "QUOTE": 'say "hi" // still a string',
    }


def test_wrangler_json_is_also_read_as_jsonc(tmp_path):
    text = """{
      // comments are allowed in wrangler.json too
      "name": "app", "main": "src/entry.py", "compatibility_date": "2025-11-01",
      "compatibility_flags": ["python_workers"],
    }"""

    assert load(tmp_path, text, "wrangler.json").name == "app"


def test_strip_jsonc_keeps_length_and_line_breaks():
    text = '{"a": 1, // note\n/* x\ny */ "b": [2,],\n}'

    stripped = strip_jsonc(text)

    assert len(stripped) == len(text)
    assert stripped.count("\n") == text.count("\n")
    assert json.loads(stripped) == {"a": 1, "b": [2]}


def test_folder_prefers_wrangler_json_then_jsonc_then_toml(tmp_path):
    def make(filename, name):
        write(tmp_path, json.dumps({**json.loads(base), "name": name}), filename)

    base = json.dumps(
        {
            "main": "src/entry.py",
            "compatibility_date": "2025-11-01",
            "compatibility_flags": ["python_workers"],
        }
    )
    write(tmp_path, HEAD.replace("py-counter", "from-toml"))
    assert load_config(tmp_path).name == "from-toml"
    make("wrangler.jsonc", "from-jsonc")
    assert load_config(tmp_path).name == "from-jsonc"
    make("wrangler.json", "from-json")
    assert load_config(tmp_path).name == "from-json"


def test_folder_without_config_file_raises(tmp_path):
    with pytest.raises(ConfigError, match="no wrangler config file in this folder") as info:
        load_config(tmp_path)
    assert info.value.path == tmp_path


def test_missing_config_file_raises(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "wrangler.toml")


def test_file_with_unknown_suffix_raises(tmp_path):
    with pytest.raises(ConfigError, match=r"expected a \.toml, \.json or \.jsonc file"):
        load_config(write(tmp_path, HEAD, "wrangler.yaml"))


def test_invalid_toml_names_the_file(tmp_path):
    err = error(tmp_path, 'name = "app"\nmain = \n')

    assert str(err).startswith(f"{tmp_path / 'wrangler.toml'}: invalid TOML")


def test_invalid_json_reports_line_and_column(tmp_path):
    err = error(tmp_path, '{\n  "name": "app"\n  "main": "x"\n}', "wrangler.jsonc")

    assert "invalid JSON" in str(err)
    assert "line 3, column 3" in str(err)


def test_unterminated_block_comment_raises(tmp_path):
    err = error(tmp_path, '{"name": "app" /* oops\n}', "wrangler.jsonc")

    assert "unterminated /* comment starting on line 1" in str(err)


def test_json_top_level_must_be_an_object(tmp_path):
    err = error(tmp_path, "[1, 2]", "wrangler.json")

    assert "expected a JSON object at the top, found an array" in str(err)


def test_vars_keep_strings_and_json_values(tmp_path):
    config = load(
        tmp_path,
        HEAD + '[vars]\nS = "text"\nN = 3\nB = true\nL = [1, "x"]\n[vars.OBJ]\nk = "v"\n',
    )

    assert config.vars == {"S": "text", "N": 3, "B": True, "L": [1, "x"], "OBJ": {"k": "v"}}


def test_vars_reject_toml_dates(tmp_path):
    err = error(tmp_path, HEAD + "[vars]\nRELEASE = 2025-12-19\n")

    assert err.key == "vars.RELEASE"
    assert "TOML dates are not supported" in str(err)
    assert "found 2025-12-19 (a TOML date)" in str(err)


def test_vars_must_be_a_table(tmp_path):
    err = error(tmp_path, HEAD.replace("compatibility_flags", 'vars = ["A"]\ncompatibility_flags'))

    assert err.key == "vars"
    assert 'expected a table, found ["A"] (an array)' in str(err)


def test_non_python_main_needs_no_flags_and_optional_keys_default_to_empty(tmp_path):
    (tmp_path / "index.js").write_text("export default {}\n")
    text = 'name = "js"\nmain = "index.js"\ncompatibility_date = "2025-11-01"\n'

    config = load(tmp_path, text)

    assert config.compatibility_flags == ()
    assert config.bindings == ()
    assert config.migrations == ()
    assert config.vars == {}


def test_binding_script_name_and_environment_are_read(tmp_path):
    config = load(
        tmp_path,
        HEAD
        + '[[durable_objects.bindings]]\nname = "REMOTE"\nclass_name = "Room"\n'
        + 'script_name = "chat"\nenvironment = "production"\n',
    )

    assert config.bindings == (DurableObjectBinding("REMOTE", "Room", "chat", "production"),)


def test_class_names_lists_classes_defined_by_this_worker_once(tmp_path):
    bindings = "".join(
        f'[[durable_objects.bindings]]\nname = "{n}"\nclass_name = "{c}"\n{extra}\n'
        for n, c, extra in [
            ("A", "Counter", ""),
            ("B", "Counter", ""),
            ("C", "Room", 'script_name = "py-counter"'),
            ("D", "Other", 'script_name = "elsewhere"'),
        ]
    )

    assert load(tmp_path, HEAD + bindings).class_names() == ("Counter", "Room")


# --- validation errors -----------------------------------------------------------------


def test_config_error_is_a_value_error_carrying_file_and_key(tmp_path):
    err = error(tmp_path, HEAD.replace('name = "py-counter"\n', ""))

    assert isinstance(err, ValueError)
    assert err.path == tmp_path / "wrangler.toml"
    assert err.key == "name"
    assert str(err) == f"{err.path}: name: {err.detail}"


def test_missing_name_raises(tmp_path):
    err = error(tmp_path, HEAD.replace('name = "py-counter"\n', ""))

    assert "name: required key is missing; expected a string: the Worker's name" in str(err)


def test_invalid_name_raises(tmp_path):
    err = error(tmp_path, HEAD.replace('"py-counter"', '"Py Counter"'))

    assert err.key == "name"
    assert 'found "Py Counter" (a string)' in str(err)


def test_name_of_wrong_type_raises(tmp_path):
    err = error(tmp_path, HEAD.replace('"py-counter"', "42"))

    assert "name: expected a string, found 42 (an integer)" in str(err)


def test_missing_main_raises(tmp_path):
    err = error(tmp_path, HEAD.replace('main = "src/entry.py"\n', ""))

    assert err.key == "main"
    assert "required key is missing" in str(err)
    assert "path of the entry module" in str(err)


def test_main_file_not_existing_raises(tmp_path):
    err = error(tmp_path, HEAD.replace("src/entry.py", "src/missing.py"))

    assert err.key == "main"
    assert f"found no file at {tmp_path / 'src' / 'missing.py'}" in str(err)
    assert "expected an existing file" in str(err)


def test_main_pointing_at_a_folder_raises(tmp_path):
    err = error(tmp_path, HEAD.replace("src/entry.py", "src"))

    assert err.key == "main"
    assert "expected an existing file" in str(err)


def test_missing_compatibility_date_raises(tmp_path):
    err = error(tmp_path, HEAD.replace('compatibility_date = "2025-11-01"\n', ""))

    assert err.key == "compatibility_date"
    assert "required key is missing" in str(err)


def test_unquoted_toml_compatibility_date_raises(tmp_path):
    err = error(tmp_path, HEAD.replace('"2025-11-01"', "2025-11-01"))

    assert err.key == "compatibility_date"
    assert 'expected a quoted string such as "2025-11-01", found 2025-11-01 (a TOML date)' in str(
        err
    )


def test_malformed_compatibility_date_raises(tmp_path):
    err = error(tmp_path, HEAD.replace('"2025-11-01"', '"2025-13-01"'))

    assert 'expected a date written YYYY-MM-DD, found "2025-13-01"' in str(err)


def test_python_main_without_python_workers_flag_raises(tmp_path):
    err = error(tmp_path, HEAD.replace('["python_workers"]', '["nodejs_compat"]'))

    assert err.key == "compatibility_flags"
    assert "The `python_workers` compatibility flag is required to use Python." in str(err)
    assert 'Found ["nodejs_compat"]' in str(err)


def test_compatibility_flags_must_be_an_array_of_strings(tmp_path):
    err = error(tmp_path, HEAD.replace('["python_workers"]', '"python_workers"'))

    assert 'expected an array of strings, found "python_workers" (a string)' in str(err)


def test_binding_without_name_raises(tmp_path):
    err = error(tmp_path, HEAD + '[[durable_objects.bindings]]\nclass_name = "Counter"\n')

    assert err.key == "durable_objects.bindings[0].name"
    assert "required key is missing" in str(err)


def test_binding_without_class_name_raises(tmp_path):
    err = error(tmp_path, HEAD + '[[durable_objects.bindings]]\nname = "COUNTER"\n')

    assert err.key == "durable_objects.bindings[0].class_name"
    assert "required key is missing" in str(err)


def test_binding_class_name_of_wrong_type_raises(tmp_path):
    err = error(
        tmp_path, HEAD + '[[durable_objects.bindings]]\nname = "C"\nclass_name = ["Counter"]\n'
    )

    assert err.key == "durable_objects.bindings[0].class_name"
    assert 'expected a string, found ["Counter"] (an array)' in str(err)


def test_binding_environment_without_script_name_raises(tmp_path):
    err = error(tmp_path, HEAD + BINDING + 'environment = "production"\n')

    assert err.key == "durable_objects.bindings[0].environment"


def test_duplicate_binding_names_raise(tmp_path):
    err = error(tmp_path, HEAD + BINDING + BINDING.replace('"Counter"', '"Other"'))

    assert err.key == "durable_objects.bindings[1].name"
    assert "duplicate binding name 'COUNTER' (already used by durable_objects.bindings[0])" in (
        str(err)
    )


def test_binding_name_also_used_by_a_var_raises(tmp_path):
    err = error(tmp_path, HEAD + BINDING + '[vars]\nCOUNTER = "x"\n')

    assert err.key == "vars.COUNTER"
    assert "COUNTER assigned to Durable Object and Environment Variable bindings" in str(err)


def test_durable_objects_bindings_must_be_an_array_of_tables(tmp_path):
    err = error(tmp_path, HEAD + '[durable_objects]\nbindings = "COUNTER"\n')

    assert err.key == "durable_objects.bindings"
    assert 'expected an array of tables, found "COUNTER" (a string)' in str(err)


def test_json_errors_use_json_type_names(tmp_path):
    text = json.dumps(
        {
            "name": "app",
            "main": "src/entry.py",
            "compatibility_date": "2025-11-01",
            "compatibility_flags": ["python_workers"],
            "durable_objects": {"bindings": [["COUNTER"]]},
        }
    )

    err = error(tmp_path, text, "wrangler.json")

    assert err.key == "durable_objects.bindings[0]"
    assert 'expected an object, found ["COUNTER"] (an array)' in str(err)


def test_migration_without_tag_raises(tmp_path):
    err = error(tmp_path, HEAD + '[[migrations]]\nnew_sqlite_classes = ["Counter"]\n')

    assert err.key == "migrations[0].tag"
    assert "required key is missing" in str(err)


def test_duplicate_migration_tags_raise(tmp_path):
    err = error(tmp_path, HEAD + SQLITE_V1 + SQLITE_V1.replace("Counter", "Room"))

    assert err.key == "migrations[1].tag"
    assert "duplicate tag 'v1' (already used by migrations[0])" in str(err)


def test_new_sqlite_classes_as_a_string_raises(tmp_path):
    err = error(tmp_path, HEAD + '[[migrations]]\ntag = "v1"\nnew_sqlite_classes = "Counter"\n')

    assert str(err) == (
        f"{tmp_path / 'wrangler.toml'}: migrations[0].new_sqlite_classes: "
        'expected an array of strings, found "Counter" (a string)'
    )


def test_renamed_classes_entries_need_from_and_to(tmp_path):
    err = error(
        tmp_path,
        HEAD + SQLITE_V1 + '[[migrations]]\ntag = "v2"\nrenamed_classes = [{from = "Counter"}]\n',
    )

    assert err.key == "migrations[1].renamed_classes[0]"
    assert 'expected a {from: string, to: string} table, found {"from": "Counter"}' in str(err)


def test_transferred_classes_entries_need_from_script(tmp_path):
    err = error(
        tmp_path,
        HEAD
        + '[[migrations]]\ntag = "v1"\n'
        + 'transferred_classes = [{from = "Old", to = "Counter"}]\n',
    )

    assert err.key == "migrations[0].transferred_classes[0]"
    assert "{from: string, from_script: string, to: string}" in str(err)


def test_migrations_must_be_an_array(tmp_path):
    err = error(tmp_path, HEAD + '[migrations]\ntag = "v1"\n')

    assert err.key == "migrations"
    assert 'expected an array of tables, found {"tag": "v1"} (a table)' in str(err)


def test_unexpected_migration_key_warns(tmp_path):
    with pytest.warns(ConfigWarning, match=r"migrations\[0\]: unexpected key\(s\) new_clases"):
        load(tmp_path, HEAD + SQLITE_V1 + 'new_clases = ["Room"]\n')


def test_unexpected_binding_key_warns(tmp_path):
    with pytest.warns(ConfigWarning, match=r"bindings\[0\]: unexpected key\(s\) classname"):
        load(tmp_path, HEAD + BINDING + 'classname = "Counter"\n')


# --- storage backends ------------------------------------------------------------------
# What AppConfig adds to the migration rules; the rules are tested in test_migrations.py.


def test_bound_class_without_migration_is_kv_backed(tmp_path):
    config = load(tmp_path, HEAD + BINDING)

    assert config.storage_backend("Counter") == "kv"


def test_bound_class_deleted_by_a_migration_falls_back_to_kv(tmp_path):
    body = SQLITE_V1 + '[[migrations]]\ntag = "v2"\ndeleted_classes = ["Counter"]\n'

    assert load(tmp_path, migrations_config(body)).storage_backend("Counter") == "kv"


def test_storage_backend_of_an_unknown_class_raises_key_error(tmp_path):
    config = load(tmp_path, migrations_config(SQLITE_V1))

    with pytest.raises(KeyError):
        config.storage_backend("Nope")


def test_storage_backend_of_another_workers_class_raises_key_error(tmp_path):
    config = load(tmp_path, HEAD + BINDING + 'script_name = "elsewhere"\n')

    with pytest.raises(KeyError):
        config.storage_backend("Counter")


def test_storage_backend_works_on_a_directly_built_config(tmp_path):
    config = AppConfig(
        name="app",
        main=tmp_path / "entry.py",
        compatibility_date="2025-11-01",
        compatibility_flags=("python_workers",),
        bindings=(DurableObjectBinding("C", "Counter"), DurableObjectBinding("R", "Room")),
        migrations=(Migration("v1", new_classes=("Counter",)),),
        vars={},
        path=tmp_path / "wrangler.toml",
    )

    assert config.storage_backend("Counter") == "kv"
    assert config.storage_backend("Room") == "kv"


# --- environments ----------------------------------------------------------------------

ENV_BASE = HEAD + BINDING + SQLITE_V1 + '[vars]\nMODE = "top"\n'


def test_env_none_selects_the_top_level(tmp_path):
    config = load(
        tmp_path, ENV_BASE + '[env.staging]\nname = "other"\n[env.staging.vars]\nMODE = "s"\n'
    )

    assert (config.name, config.vars, config.env) == ("py-counter", {"MODE": "top"}, None)


def test_env_name_defaults_to_top_level_name_with_env_suffix(tmp_path):
    config = load(
        tmp_path,
        ENV_BASE + BINDING.replace("[[", "[[env.staging.") + "[env.staging.vars]\nMODE = 's'\n",
        env="staging",
    )

    assert config.name == "py-counter-staging"
    assert config.env == "staging"


def test_env_name_set_in_the_env_is_used_as_is(tmp_path):
    config = load(tmp_path, HEAD + '[env.staging]\nname = "counter-stage"\n', env="staging")

    assert config.name == "counter-stage"


def test_env_inherits_main_date_flags_and_migrations(tmp_path):
    config = load(tmp_path, HEAD + SQLITE_V1 + "[env.staging]\n", env="staging")

    assert config.main == tmp_path / "src" / "entry.py"
    assert config.compatibility_date == "2025-11-01"
    assert config.compatibility_flags == ("python_workers",)
    assert config.migrations == (Migration("v1", new_sqlite_classes=("Counter",)),)


def test_env_overrides_inheritable_keys(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "staging.py").write_text("")
    text = (
        HEAD
        + SQLITE_V1
        + '[env.staging]\nmain = "src/staging.py"\ncompatibility_date = "2026-01-01"\n'
        + 'compatibility_flags = ["python_workers", "python_workflows"]\n'
        + '[[env.staging.migrations]]\ntag = "s1"\nnew_classes = ["Counter"]\n'
        + '[[env.staging.durable_objects.bindings]]\nname = "COUNTER"\nclass_name = "Counter"\n'
    )

    config = load(tmp_path, text, env="staging")

    assert config.main == tmp_path / "src" / "staging.py"
    assert config.compatibility_date == "2026-01-01"
    assert config.compatibility_flags == ("python_workers", "python_workflows")
    assert config.storage_backend("Counter") == "kv"


def test_env_does_not_inherit_durable_objects(tmp_path):
    with pytest.warns(ConfigWarning, match='"durable_objects" is not inherited by environments'):
        config = load(tmp_path, ENV_BASE + '[env.staging.vars]\nMODE = "s"\n', env="staging")

    assert config.bindings == ()
    assert config.class_names() == ()


def test_env_does_not_inherit_vars(tmp_path):
    text = ENV_BASE + BINDING.replace("[[", "[[env.staging.")

    with pytest.warns(ConfigWarning, match='"vars" is not inherited by environments'):
        config = load(tmp_path, text, env="staging")

    assert config.vars == {}
    assert config.bindings == (DurableObjectBinding("COUNTER", "Counter"),)


def test_env_uses_its_own_bindings_and_vars(tmp_path):
    text = (
        ENV_BASE
        + '[[env.staging.durable_objects.bindings]]\nname = "STAGED"\nclass_name = "Counter"\n'
        + '[env.staging.vars]\nMODE = "staging"\n'
    )

    config = load(tmp_path, text, env="staging")

    assert config.bindings == (DurableObjectBinding("STAGED", "Counter"),)
    assert config.vars == {"MODE": "staging"}


def test_env_binding_to_the_suffixed_worker_name_is_local(tmp_path):
    text = (
        HEAD
        + SQLITE_V1
        + '[[env.staging.durable_objects.bindings]]\nname = "C"\nclass_name = "Counter"\n'
        + 'script_name = "py-counter-staging"\n'
    )

    assert load(tmp_path, text, env="staging").class_names() == ("Counter",)


def test_unknown_env_raises_when_other_envs_exist(tmp_path):
    err = error(tmp_path, HEAD + "[env.production]\n", env="staging")

    assert err.key == "env"
    assert 'No environment found in configuration with name "staging"' in str(err)
    assert '["production"]' in str(err)


def test_unknown_env_warns_and_uses_top_level_when_no_envs_exist(tmp_path):
    with pytest.warns(ConfigWarning, match='No environment found .* "staging"'):
        config = load(tmp_path, HEAD + BINDING, env="staging")

    assert config.name == "py-counter-staging"
    assert config.bindings == (DurableObjectBinding("COUNTER", "Counter"),)


def test_env_errors_report_the_env_key_path(tmp_path):
    err = error(tmp_path, HEAD + '[env.staging]\nvars = "x"\n', env="staging")

    assert err.key == "env.staging.vars"


def test_env_main_not_existing_reports_the_env_key_path(tmp_path):
    err = error(tmp_path, HEAD + '[env.staging]\nmain = "nope.py"\n', env="staging")

    assert err.key == "env.staging.main"


def test_top_level_errors_are_reported_when_an_env_is_selected(tmp_path):
    err = error(
        tmp_path, HEAD + '[[migrations]]\ntag = 1\n[env.staging]\nname = "s"\n', env="staging"
    )

    assert err.key == "migrations[0].tag"


def test_env_section_must_be_a_table(tmp_path):
    err = error(tmp_path, HEAD + 'env = {staging = "yes"}\n', env="staging")

    assert err.key == "env.staging"
    assert 'expected a table, found "yes" (a string)' in str(err)


def test_missing_key_in_env_mentions_both_places(tmp_path):
    err = error(
        tmp_path, HEAD.replace('main = "src/entry.py"\n', "") + "[env.staging]\n", env="staging"
    )

    assert err.key == "main"
    assert "neither at the top level nor in [env.staging]" in str(err)
