"""The release artifacts: what `python -m build` makes is what PyPI would show and install.

`nox -s package` builds the sdist and the wheel into a temporary folder, runs
`twine check --strict` on them, then this module with ``DOSIM_DIST_DIR`` pointing at the
folder (and ``DOSIM_PACKAGE_REQUIRED=1``, so a missing build fails instead of skipping).
Elsewhere the module skips: building needs the `build` package and an index for hatchling.
"""

from __future__ import annotations

import os
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

DIST = os.environ.get("DOSIM_DIST_DIR")
if not DIST and os.environ.get("DOSIM_PACKAGE_REQUIRED") != "1":
    pytest.skip("no built distribution (nox -s package builds one)", allow_module_level=True)


def _only(pattern: str) -> Path:
    found = sorted(Path(DIST or "").glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {DIST}, found {found}"
    return found[0]


@pytest.fixture(scope="module")
def wheel() -> zipfile.ZipFile:
    with zipfile.ZipFile(_only("dosim-*.whl")) as archive:
        yield archive


@pytest.fixture(scope="module")
def sdist_names() -> set[str]:
    with tarfile.open(_only("dosim-*.tar.gz")) as archive:
        names = archive.getnames()
    root = names[0].split("/")[0]  # dosim-<version>/
    return {name.removeprefix(root + "/") for name in names}


def _dist_info(wheel: zipfile.ZipFile, name: str) -> str:
    [path] = [n for n in wheel.namelist() if n.endswith(f".dist-info/{name}")]
    return wheel.read(path).decode("utf-8")


def test_wheel_metadata_has_the_readme_as_markdown(wheel):
    metadata = Parser().parsestr(_dist_info(wheel, "METADATA"))
    assert metadata["Name"] == "dosim"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload().startswith("# dosim\n")


def test_wheel_metadata_declares_the_licence_and_ships_its_text(wheel):
    metadata = Parser().parsestr(_dist_info(wheel, "METADATA"))
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert "MIT License" in _dist_info(wheel, "licenses/LICENSE")
    assert not [c for c in metadata.get_all("Classifier") if c.startswith("License ::")]


def test_wheel_installs_the_command_and_the_pytest_plugin(wheel):
    entry_points = _dist_info(wheel, "entry_points.txt")
    assert "dosim = dosim.cli:main" in entry_points
    assert "[pytest11]" in entry_points and "dosim.testing.plugin" in entry_points


def test_wheel_holds_the_package_and_the_starters_only(wheel):
    names = wheel.namelist()
    assert "dosim/__init__.py" in names
    assert "dosim/workers/__init__.py" in names
    # `dosim new` copies its templates from here when dosim is installed from the wheel.
    assert "dosim/_examples/counter/wrangler.toml" in names
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"dosim"}


def test_sdist_holds_what_the_wheel_is_built_from(sdist_names):
    # `python -m build` builds the wheel from the sdist, so the sdist must carry the
    # package, the starters the wheel includes, and the files its metadata reads.
    for required in (
        "PKG-INFO",
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "src/dosim/__init__.py",
        "examples/counter/wrangler.toml",
    ):
        assert required in sdist_names, required
    for absent in (".nox/", "site/", "node_modules/", ".dosim/"):
        assert not [name for name in sdist_names if f"/{absent}" in f"/{name}/"], absent
