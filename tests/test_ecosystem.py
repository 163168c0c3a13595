"""Conventions: ruff-clean Python, snakefmt-formatted workflow files, profiles Snakemake finds, the catalog file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ["Snakefile", *sorted(str(path.relative_to(REPO)) for path in (REPO / "rules").glob("*.smk"))]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed: pip install -e '.[test]'")
def test_the_python_is_ruff_clean():
    # ruff reads [tool.ruff] (line length, rules) from pyproject.toml in the repository root.
    result = subprocess.run(["ruff", "check", "--no-cache", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, f"run `ruff check .` and fix what it reports:\n{result.stdout}{result.stderr}"


@pytest.mark.skipif(shutil.which("snakefmt") is None, reason="snakefmt is not installed: pip install -e '.[test]'")
def test_workflow_files_are_snakefmt_formatted():
    # snakefmt reads [tool.snakefmt] (line length) from pyproject.toml in the repository root.
    result = subprocess.run(["snakefmt", "--check", "--diff", *WORKFLOW_FILES], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, f"run `snakefmt Snakefile rules/` to format:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("profile", ["default", "slurm"])
def test_profiles_are_found_by_snakemake(profile):
    cli = pytest.importorskip("snakemake.cli")
    found = cli.get_profile_dir(str(REPO / "profiles" / profile))
    assert found is not None and found[1].name == "config.v8+.yaml"
    assert isinstance(yaml.safe_load(found[1].read_text()), dict)
    assert not (REPO / "profiles" / profile / "config.yaml").exists()  # one profile file, not two to keep in step


def test_workflow_catalog_file():
    catalog = yaml.safe_load((REPO / ".snakemake-workflow-catalog.yml").read_text())["usage"]
    assert catalog["report"] is True and catalog["software-stack-deployment"]["conda"] is True
    assert "suite=" in catalog["mandatory-flags"]["flags"]
