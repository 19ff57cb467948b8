"""The README's example app and its test run as shown."""

import re
import shutil
from pathlib import Path

import pytest

from dosim import App

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
pytestmark = pytest.mark.skipif(not README.exists(), reason="no README here (Pyodide run)")


async def test_readme_app_and_test_work_as_shown(tmp_path):
    worker, test_module = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(worker)  # main = "src/entry.py"
    shutil.copy(ROOT / "examples" / "counter" / "wrangler.toml", tmp_path / "wrangler.toml")
    namespace: dict = {}
    exec(compile(test_module, "README.md", "exec"), namespace)
    app = App.from_config(tmp_path)
    await namespace["test_counts"](app)
    app.close()
