"""Shared by the workflow tests: a temporary copy of the workflow and real Snakemake runs in it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW_FILES = ("Snakefile", "config.yaml", "rules", "scripts", "schemas", "report", "envs", "profiles", "sbadbal")
TIMEOUT_S = 600


def copy_workflow(destination: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in WORKFLOW_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        else:
            shutil.copy2(source, destination / name)
    return destination


def snakemake(workdir: Path, *args: str, check: bool = True, env: dict | None = None,
              timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "0", **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}")
    return result


def planned_jobs(workdir: Path, *args: str) -> Counter:
    """Jobs per rule that a dry run would start (empty when there is nothing to do)."""
    result = snakemake(workdir, "--dry-run", "--quiet", "rules", *args)
    output = result.stdout + result.stderr
    if "Nothing to be done" in output:
        return Counter()
    table = output.split("Job stats:", 1)[1]
    counts = Counter({rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)\s*$", table, flags=re.M)})
    counts.pop("total", None)
    return counts


@contextmanager
def edited(path: Path, edit):
    """Apply `edit(text) -> text` to a file, then put the exact content and mtime back."""
    original, stat = path.read_text(), path.stat()
    path.write_text(edit(original))
    try:
        yield
    finally:
        path.write_text(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def edited_config(workdir: Path, change):
    def edit(text: str) -> str:
        config = yaml.safe_load(text)
        change(config)
        return yaml.safe_dump(config, sort_keys=False)

    return edited(workdir / "config.yaml", edit)


TINY = ("--config", "suite=tiny")


def tiny_suite() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())["suites"]["tiny"]
