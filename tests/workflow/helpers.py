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
WORKFLOW_FILES = ("Snakefile", "config.yaml", "rules", "scripts", "schemas", "report", "envs", "profiles", "sbadbal",
                  "references")
TIMEOUT_S = 600


def copy_workflow(destination: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    destination.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        else:
            shutil.copy2(source, destination / name)
    return destination


def snakemake_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", *args]


def snakemake_env(extra: dict | None = None) -> dict[str, str]:
    """This checkout's library on the path, stable hashing, and the caller's variables on top."""
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "0", **(extra or {})}


def snakemake(workdir: Path, *args: str, check: bool = True, env: dict | None = None,
              timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    result = subprocess.run(
        snakemake_command(*args),
        cwd=workdir, env=snakemake_env(env), capture_output=True, text=True, timeout=timeout,
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


def config_changed(text: str, change) -> str:
    """config.yaml's text after `change(config)` mutated the parsed config."""
    config = yaml.safe_load(text)
    change(config)
    return yaml.safe_dump(config, sort_keys=False)


def edited_config(workdir: Path, change):
    """`change` applied for the length of a `with` block, then config.yaml put back."""
    return edited(workdir / "config.yaml", lambda text: config_changed(text, change))


def change_config(workdir: Path, change) -> None:
    """`change` applied for good (a throwaway copy of the workflow)."""
    path = workdir / "config.yaml"
    path.write_text(config_changed(path.read_text(), change))


TINY = ("--config", "suite=tiny")


def tiny_suite() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())["suites"]["tiny"]


def tiny_run_csvs(workdir: Path) -> list[Path]:
    """The per-run CSVs the tiny suite declares, in a fixed order."""
    (experiment_key, experiment), = tiny_suite()["experiments"].items()
    runs = workdir / "results" / "tiny" / "runs" / experiment_key
    return [runs / f"b{b}" / alg / f"seed{seed}.csv"
            for b in experiment["batch_sizes"] for alg in experiment["algorithms"] for seed in experiment["seeds"]]


def tiny_outputs(workdir: Path) -> list[Path]:
    """Every file the tiny suite declares: prepared data, runs and sidecars, tables, figures, the timing sweep."""
    suite = tiny_suite()
    (experiment_key, experiment), = suite["experiments"].items()
    (bench_key, _), = suite["benchmarks"].items()
    base = workdir / "results" / "tiny"
    expected = [base / "data" / f"{experiment['dataset']}.pt"]
    for csv in tiny_run_csvs(workdir):
        expected += [csv, csv.with_suffix(".json")]
    expected += [base / "figures" / experiment_key / f"{figure}_b{b}{width}.{ext}"
                 for figure in ("accuracy", "accuracy_time", "diagnostics") for b in experiment["batch_sizes"]
                 for width in ("", "_column") for ext in ("pdf", "png")]
    tables = ("runs.csv", "final_accuracy.csv", "final_accuracy.md", "final_accuracy.html", "acquisition_time.csv",
              "acquisition_time.html", "batch_diagnostics.html")
    expected += [base / "tables" / experiment_key / name for name in tables]
    bench_files = ("log_probs.pt", "timings.csv", "timings.md", "timings.html", "timing.pdf", "timing.png",
                   "timing_column.png")
    expected += [base / "bench" / bench_key / name for name in bench_files]
    return expected


def missing_outputs(workdir: Path) -> list[str]:
    return [str(path.relative_to(workdir)) for path in tiny_outputs(workdir)
            if not path.is_file() or path.stat().st_size == 0]
