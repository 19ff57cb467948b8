"""Bindings in the wrangler config, secrets files, and the bindings dosim does not simulate.

Sources: wrangler's configuration reference
(https://developers.cloudflare.com/workers/wrangler/configuration/: bindings are
non-inheritable keys, binding names are unique) and the local-development secrets page
(https://developers.cloudflare.com/workers/local-development/environment-variables/).
"""

import warnings

import pytest
from wrangler_files import HEAD, load, write

from dosim import App
from dosim.bindingconfig import parse_dotenv
from dosim.bindings.unsupported import BindingNotSimulated
from dosim.config import ConfigError, ConfigWarning
from dosim.ffi import JsObject

BINDINGS = """
[[kv_namespaces]]
binding = "CACHE"
id = "0f2ac74b498b48028cb68387c421e279"

[[d1_databases]]
binding = "DB"
database_name = "prod-db"
database_id = "bc81b8e2-0000-4b4b-8d2d-6f1e3c1a2b3c"

[[r2_buckets]]
binding = "UPLOADS"
bucket_name = "uploads"

[[services]]
binding = "AUTH"
service = "auth-worker"
entrypoint = "Sessions"
"""


def test_each_simulated_binding_kind_is_read_with_its_key(tmp_path):
    config = load(tmp_path, HEAD + BINDINGS)
    found = {(b.name, b.type): dict(b.options) for b in config.other_bindings}
    assert found == {
        ("CACHE", "kv"): {"id": "0f2ac74b498b48028cb68387c421e279"},
        ("DB", "d1"): {"id": "bc81b8e2-0000-4b4b-8d2d-6f1e3c1a2b3c", "database_name": "prod-db"},
        ("UPLOADS", "r2"): {"bucket_name": "uploads"},
        ("AUTH", "service"): {"service": "auth-worker", "entrypoint": "Sessions"},
    }
    assert [b.config_key for b in config.other_bindings][0] == "kv_namespaces[0]"


def test_a_kv_namespace_without_an_id_is_keyed_by_its_binding_name(tmp_path):
    config = load(tmp_path, HEAD + '[[kv_namespaces]]\nbinding = "CACHE"\n')
    assert config.other_bindings[0].options["id"] == "CACHE"


def test_a_binding_entry_without_binding_is_an_error_naming_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"kv_namespaces\[0\]\.binding: expected a non-empty"):
        load(tmp_path, HEAD + '[[kv_namespaces]]\nid = "x"\n')


def test_a_service_binding_needs_the_service_name(tmp_path):
    with pytest.raises(ConfigError, match=r"services\[0\]\.service"):
        load(tmp_path, HEAD + '[[services]]\nbinding = "AUTH"\n')


def test_binding_names_must_be_unique_across_kinds(tmp_path):
    text = HEAD + '[vars]\nCACHE = "x"\n' + '[[kv_namespaces]]\nbinding = "CACHE"\n'
    with pytest.raises(ConfigError, match="CACHE is bound twice"):
        load(tmp_path, text)


@pytest.mark.filterwarnings("ignore::dosim.config.ConfigWarning")  # one per binding key
def test_bindings_are_not_inherited_by_an_environment_and_wrangler_warns(tmp_path):
    text = HEAD + BINDINGS + '[env.staging]\nname = "staging"\n'
    with pytest.warns(ConfigWarning, match='"kv_namespaces" exists at the top level'):
        config = load(tmp_path, text, env="staging")
    assert config.other_bindings == ()


def test_an_environment_declares_its_own_bindings(tmp_path):
    text = HEAD + '[env.staging]\n[[env.staging.kv_namespaces]]\nbinding = "CACHE"\nid = "s"\n'
    config = load(tmp_path, text, env="staging")
    assert [(b.name, b.options["id"]) for b in config.other_bindings] == [("CACHE", "s")]
    assert config.other_bindings[0].config_key == "env.staging.kv_namespaces[0]"


# -- secrets ----------------------------------------------------------------------------


def test_parse_dotenv_reads_quotes_comments_export_and_multiline_values():
    text = (
        "# a comment\n"
        "PLAIN=value # trailing comment\n"
        "export EXPORTED=yes\n"
        "SINGLE='keeps \\n as is'\n"
        'DOUBLE="line one\\nline two"\n'
        'MULTI="first\nsecond"\n'
        "EMPTY=\n"
        "not an assignment\n"
        "PLAIN=later wins\n"
    )
    assert parse_dotenv(text) == {
        "PLAIN": "later wins",
        "EXPORTED": "yes",
        "SINGLE": "keeps \\n as is",
        "DOUBLE": "line one\nline two",
        "MULTI": "first\nsecond",
        "EMPTY": "",
    }


def test_dev_vars_secrets_reach_env_and_win_over_vars(tmp_path):
    path = write(tmp_path, HEAD + '[vars]\nAPI_HOST = "example.com"\nTOKEN = "from vars"\n')
    (tmp_path / ".dev.vars").write_text('TOKEN="s3cret"\n')
    (tmp_path / ".env").write_text("IGNORED=1\n")  # .dev.vars present: .env is not read
    app = App.from_config(path)
    assert app.env.TOKEN == "s3cret"
    assert app.env.API_HOST == "example.com"
    assert "IGNORED" not in app.env


def test_only_the_environment_dev_vars_file_is_read_when_it_exists(tmp_path):
    path = write(tmp_path, HEAD + '[env.staging]\nname = "staging"\n')
    (tmp_path / ".dev.vars").write_text("A=top\nB=top\n")
    (tmp_path / ".dev.vars.staging").write_text("A=staging\n")
    config = load(tmp_path, path.read_text(), env="staging")
    assert config.secrets == {"A": "staging"}


def test_env_files_merge_with_the_most_specific_winning(tmp_path):
    path = write(tmp_path, HEAD + '[env.staging]\nname = "staging"\n')
    (tmp_path / ".env").write_text("A=env\nB=env\nC=env\nD=env\n")
    (tmp_path / ".env.staging").write_text("B=env.staging\nC=env.staging\nD=env.staging\n")
    (tmp_path / ".env.local").write_text("C=env.local\nD=env.local\n")
    (tmp_path / ".env.staging.local").write_text("D=env.staging.local\n")
    config = load(tmp_path, path.read_text(), env="staging")
    assert config.secrets == {
        "A": "env",
        "B": "env.staging",
        "C": "env.local",
        "D": "env.staging.local",
    }


def test_secrets_required_keeps_only_the_listed_names_and_warns_about_missing_ones(tmp_path):
    path = write(tmp_path, HEAD + '[secrets]\nrequired = ["TOKEN", "OTHER"]\n')
    (tmp_path / ".dev.vars").write_text("TOKEN=t\nEXTRA=x\n")
    with pytest.warns(ConfigWarning, match="required secrets missing from .dev.vars: OTHER"):
        config = load(tmp_path, path.read_text())
    assert config.secrets == {"TOKEN": "t"}


# -- vars as Python reads them ----------------------------------------------------------


def test_a_json_var_arrives_as_a_javascript_object_not_a_dict(tmp_path):
    # The SDK's env wrapper returns a value of no binding type as it is: the JsProxy of
    # the JSON object (workers-runtime-sdk 1.9.5 workers/rpc.py, _EnvWrapper).
    text = HEAD + '[vars]\nLIMITS = { per_minute = 10, burst = [1, 2] }\nNAME = "x"\nN = 3\n'
    app = App.from_config(write(tmp_path, text))
    limits = app.env.LIMITS
    assert isinstance(limits, JsObject)
    assert limits.per_minute == 10
    assert limits.to_py() == {"per_minute": 10, "burst": [1, 2]}
    with pytest.raises(TypeError):
        limits["per_minute"]
    assert app.env.NAME == "x" and app.env.N == 3


# -- not simulated ----------------------------------------------------------------------


def test_a_binding_dosim_does_not_simulate_loads_with_a_warning_and_a_clear_stand_in(tmp_path):
    text = HEAD + '[[queues.producers]]\nbinding = "JOBS"\nqueue = "jobs"\n[ai]\nbinding = "AI"\n'
    path = write(tmp_path, text)
    with pytest.warns(ConfigWarning) as caught:
        app = App.from_config(path)
    messages = [str(w.message) for w in caught]
    assert any("env.JOBS is a Queue producer (queues.producers[0]" in m for m in messages)
    assert any("env.AI is Workers AI (ai in the wrangler config)" in m for m in messages)
    with pytest.raises(BindingNotSimulated, match=r"env\.JOBS is a Queue producer .*test double"):
        app.env.JOBS.send({"job": 1})
    with pytest.raises(BindingNotSimulated):
        bool(app.env.AI)


def test_a_stand_in_can_replace_a_binding_that_is_not_simulated(tmp_path):
    class FakeQueue:
        def __init__(self):
            self.sent = []

        async def send(self, body):
            self.sent.append(body)

    fake = FakeQueue()
    app = App(None, {}, bindings={"JOBS": fake})
    assert app.env.JOBS is fake


def test_assets_without_a_binding_declare_nothing_in_env(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = load(tmp_path, HEAD + '[assets]\ndirectory = "./public"\n')
    assert config.other_bindings == ()
