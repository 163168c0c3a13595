"""benchmarks/stability.py on two copies of a finished tiny-suite run: real Snakemake in each arm (nothing left to
run there), the comparison of verdicts and per-seed differences, and a flipped verdict found and counted."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import pandas as pd

from .helpers import REPO, snakemake_env

SCRIPT = REPO / "benchmarks" / "stability.py"


def _stability_module():
    spec = importlib.util.spec_from_file_location("stability_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _arms(tiny_run, tmp_path):
    arms = {}
    for name in ("default", "avx2"):
        arms[name] = tmp_path / name
        shutil.copytree(tiny_run, arms[name], symlinks=True, ignore=shutil.ignore_patterns("report.html"))
    return arms


def test_two_finished_arms_agree_and_the_table_says_so_even_under_a_shadowing_pythonpath(tiny_run, tmp_path):
    arms = _arms(tiny_run, tmp_path)
    # A PYTHONPATH whose `sbadbal` cannot import: the comparison must still use this checkout's package.
    shadow = tmp_path / "shadow" / "sbadbal"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('the shadowing sbadbal was imported')\n")
    out = tmp_path / "stability.md"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(tmp_path / "unused"), "--suite", "tiny", "--cores", "1",
         "--arm", f"default={arms['default']}", "--arm", f"avx2={arms['avx2']}", "--out", str(out)],
        env={**snakemake_env(), "PYTHONPATH": str(shadow.parent)}, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr  # each arm's workflow had finished
    table = out.read_text()
    assert "**0 of " in table and "| **no** |" not in table
    seed_rows = [line for line in table.splitlines() if line.startswith("| tiny_mc | LBB - BALD |")]
    assert len(seed_rows) == 2 and all(line.endswith("| 0.00 |") for line in seed_rows)  # seeds 1 and 2, no change


def test_a_verdict_that_differs_between_the_arms_is_found_and_counted(tiny_run, tmp_path):
    arms = _arms(tiny_run, tmp_path)
    # LBB's accuracy at the budget set by hand in each arm's runs table (the comparison reads nothing else): in the
    # default arm +50 and -50 points against BALD on the two seeds (undecided), in the avx2 arm +90 on both, a
    # paired difference without spread whose interval clears the margin (reproduced).
    for name, differences in {"default": {1: 50.0, 2: -50.0}, "avx2": {1: 90.0, 2: 90.0}}.items():
        table_path = arms[name] / "results" / "tiny" / "tables" / "tiny_mc" / "runs.csv"
        runs = pd.read_csv(table_path)
        at_budget = runs["labelled"] == runs["labelled"].max()
        for seed, difference in differences.items():
            of_seed = at_budget & (runs["seed"] == seed)
            runs.loc[of_seed & (runs["algorithm"] == "LBB"), "test_accuracy"] = 50.0 + difference / 2
            runs.loc[of_seed & (runs["algorithm"] == "BALD"), "test_accuracy"] = 50.0 - difference / 2
        runs.to_csv(table_path, index=False)
    stability = _stability_module()
    merged, seeds = stability.compare(arms, "tiny")
    row = merged[merged["comparison"].str.startswith("LBB - BALD")].iloc[0]
    assert (row["verdict (default)"], row["verdict (avx2)"]) == ("inconclusive", "reproduced")
    assert not row["same verdict"] and int((~merged["same verdict"]).sum()) == 1
    lbb = seeds[seeds["comparison"] == "LBB - BALD"]
    assert sorted(lbb["seed"]) == [1, 2] and (lbb["difference (avx2)"] == 90.0).all()
    assert sorted(lbb["difference (default)"]) == [-50.0, 50.0]
    text = stability.markdown(merged, seeds, list(arms), {"default": 1.0, "avx2": 1.0})
    assert "**1 of " in text and "| **no** |" in text
