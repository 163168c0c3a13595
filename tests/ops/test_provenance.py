"""sbadbal.ops.provenance: the code version in and outside a git checkout, without torch."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sbadbal
from sbadbal.ops.provenance import git_provenance

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _checkout(tmp_path: Path) -> Path:
    """A throwaway git checkout holding a copy of the package marker."""
    root = tmp_path / "checkout"
    (root / "sbadbal").mkdir(parents=True)
    (root / "sbadbal" / "__init__.py").write_text('__version__ = "0"\n')
    for command in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(root), *command], check=True)
    return root


@needs_git
def test_commit_and_dirty_flag_of_a_checkout(tmp_path):
    root = _checkout(tmp_path)
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    clean = git_provenance(root)
    assert clean == {"version": sbadbal.__version__, "git_commit": head, "git_dirty": False}
    (root / "sbadbal" / "new.py").write_text("")
    assert git_provenance(root)["git_dirty"] is True


def test_outside_a_checkout_git_fields_are_none(tmp_path):
    assert git_provenance(tmp_path) == {"version": sbadbal.__version__, "git_commit": None, "git_dirty": None}


@needs_git
def test_another_projects_checkout_is_not_reported(tmp_path):
    root = _checkout(tmp_path)
    (root / "sbadbal" / "__init__.py").unlink()  # a git folder that does not hold this package
    (root / "elsewhere").mkdir()
    assert git_provenance(root / "elsewhere")["git_commit"] is None


def test_this_repository_and_no_torch():
    code = "import sys, sbadbal.ops.provenance as p; v = p.git_provenance(); print('torch' in sys.modules, v['version'])"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[2]).stdout.split()
    assert output == ["False", sbadbal.__version__]
