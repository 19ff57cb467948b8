"""Small wrangler.toml apps written to a temporary folder, for the config and migration tests."""

from pathlib import Path

import pytest

from dosim.config import AppConfig, ConfigError, load_config

HEAD = """\
name = "py-counter"
main = "src/entry.py"
compatibility_date = "2025-11-01"
compatibility_flags = ["python_workers"]
"""

BINDING = """
[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"
"""

SQLITE_V1 = """
[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]
"""


def write(folder: Path, text: str, filename: str = "wrangler.toml") -> Path:
    """Write a config file plus the default entry module; return the config path."""
    (folder / "src").mkdir(exist_ok=True)
    (folder / "src" / "entry.py").write_text("# entry\n")
    path = folder / filename
    path.write_text(text)
    return path


def load(tmp_path: Path, text: str, filename: str = "wrangler.toml", **kw) -> AppConfig:
    return load_config(write(tmp_path, text, filename), **kw)


def error(tmp_path: Path, text: str, filename: str = "wrangler.toml", **kw) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text, filename, **kw)
    return info.value


def migrations_config(body: str, bindings: str = BINDING) -> str:
    return HEAD + bindings + body
