"""Packaging (issue 19, item 6): the type annotations ship (PEP 561), the changelog follows its format, and the
jobs' conda environment is pyproject's dependency list pinned within pyproject's bounds."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import sbadbal

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

REPO = Path(__file__).resolve().parents[1]


def pin_versions():
    spec = importlib.util.spec_from_file_location("pin_versions", REPO / "envs" / "pin_versions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_wheel_ships_py_typed(tmp_path):
    pytest.importorskip("setuptools")
    assert (REPO / "sbadbal" / "py.typed").is_file()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["sbadbal"]
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "sbadbal", source / "sbadbal", ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [sys.executable, "-c", "import sys, setuptools.build_meta as b; print(b.build_wheel(sys.argv[1]))",
         str(tmp_path / "dist")], cwd=source, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = tmp_path / "dist" / built.stdout.strip().splitlines()[-1]
    names = zipfile.ZipFile(wheel).namelist()
    assert "sbadbal/py.typed" in names and "sbadbal/ops/summary.py" in names


def test_the_changelog_keeps_a_changelog():
    text = (REPO / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog\n") and "https://keepachangelog.com/en/1.1.0/" in text
    versions = re.findall(r"^## \[([^\]]+)\]", text, flags=re.M)
    assert versions[0] == "Unreleased", "new entries go under ## [Unreleased], at the top"
    # A released version is a section with its date; until then sbadbal.__version__ is what [Unreleased] becomes.
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", text, flags=re.M)
    assert released == versions[1:]
    assert sbadbal.__version__ in released or sbadbal.__version__ not in versions
    kinds = set(re.findall(r"^### (.+)$", text, flags=re.M))
    assert kinds and kinds <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_the_conda_environment_is_pyprojects_dependencies_pinned_within_their_bounds():
    requirements = pytest.importorskip("packaging.requirements")
    specifiers = pytest.importorskip("packaging.specifiers")
    pins = pin_versions()
    text = (REPO / "envs" / "sbadbal.yaml").read_text()
    python, versions = pins.pins(text)
    # The file is the script's rendering of its own pins: no hand-made entry that pyproject does not know.
    assert text == pins.render(python, versions), "regenerate it: python envs/pin_versions.py"
    dependencies = pins.pyproject_dependencies()
    assert sorted(versions) == sorted(dependencies)
    for name, requirement in dependencies.items():
        assert requirements.Requirement(requirement).specifier.contains(versions[name]), (name, versions[name])
    requires_python = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert specifiers.SpecifierSet(requires_python).contains(python)

