"""Which code produced a result, for its sidecar: the package version and, in a git checkout, the commit and whether
it was edited. (The checkpoint's code fingerprint is another thing: a hash of the run's code inputs,
sbadbal.engine.checkpoint.sources_sha256.)

Torch-free and cheap (two `git` calls), so a run's sidecar can always record it. Outside a git checkout (an
installed wheel, a copied folder) or without `git` on the PATH, the git fields are None rather than an error.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from sbadbal import __version__

# The checkout holding this package: sbadbal/.. . A package installed elsewhere is simply not in one.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
GIT_TIMEOUT_SECONDS = 10


def _git(root: Path, *arguments: str) -> str | None:
    """stdout of `git -C root ...`, or None when git is missing, fails or hangs."""
    try:
        finished = subprocess.run(
            ["git", "-C", str(root), *arguments], capture_output=True, text=True, timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return finished.stdout if finished.returncode == 0 else None


def _checkout_of(root: Path) -> Path | None:
    """The top of the git work tree that holds `root`'s sbadbal package, else None.

    Checked so that a package installed into some other project's folder does not report that project's commit.
    """
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None:
        return None
    top_path = Path(top.strip()).resolve()
    return top_path if (top_path / "sbadbal" / "__init__.py").is_file() else None


def git_provenance(root: str | Path | None = None) -> dict[str, Any]:
    """{"version": package version, "git_commit": HEAD's hash or None, "git_dirty": True/False or None}.

    git_dirty is True when tracked files differ from HEAD or untracked, not ignored files exist: both can change
    what a run computes. root: where to look for the checkout (default: the folder holding this package).
    """
    checkout = _checkout_of(Path(root) if root is not None else PACKAGE_ROOT)
    commit = _git(checkout, "rev-parse", "HEAD") if checkout else None
    status = _git(checkout, "status", "--porcelain") if checkout else None
    return {
        "version": __version__,
        "git_commit": commit.strip() if commit else None,
        "git_dirty": None if status is None else bool(status.strip()),
    }
