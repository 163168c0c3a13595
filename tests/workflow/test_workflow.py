"""The Snakemake workflow, run for real: the tiny suite in a temporary copy of the repository.

One real run (the session fixture `tiny_run` in conftest.py) is shared by the checks that follow it; the re-run checks are dry runs
that count the jobs Snakemake would start after an edit, then undo the edit (content and mtime).
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from .helpers import (
    TINY,
    change_config,
    copy_workflow,
    edited,
    edited_config,
    missing_outputs,
    planned_jobs,
    snakemake,
    tiny_suite,
)


def test_tiny_run_writes_every_declared_output(tiny_run):
    suite = tiny_suite()
    (experiment_key, experiment), = suite["experiments"].items()
    (bench_key, _), = suite["benchmarks"].items()
    base = tiny_run / "results" / "tiny"
    missing = missing_outputs(tiny_run)
    assert not missing, f"missing or empty outputs: {missing}"
    assert all(log.stat().st_size > 0 for log in (tiny_run / "logs" / "tiny").rglob("*.log"))

    runs = pd.read_csv(base / "tables" / experiment_key / "runs.csv")
    budget = experiment["budget"]
    assert set(runs["algorithm"]) == set(experiment["algorithms"])
    assert set(runs["seed"]) == set(experiment["seeds"])
    assert runs.groupby(["algorithm", "seed"])["labelled"].max().eq(budget).all()
    final = pd.read_csv(base / "tables" / experiment_key / "final_accuracy.csv")
    at_budget = final[final["labelled"] == budget]
    assert sorted(at_budget["algorithm"]) == sorted(experiment["algorithms"])
    assert (at_budget["seeds"] == len(experiment["seeds"])).all()
    timings = pd.read_csv(base / "bench" / bench_key / "timings.csv")
    assert set(timings["algorithm"]) == set(suite["benchmarks"][bench_key]["algorithms"])
    assert (timings["median_seconds"] >= 0).all()


def test_second_run_has_nothing_to_do(tiny_run):
    assert planned_jobs(tiny_run, *TINY) == Counter()


def test_plotting_option_reruns_only_figures(tiny_run):
    with edited_config(tiny_run, lambda config: config["plots"].update(dpi=config["plots"]["dpi"] + 1)):
        jobs = planned_jobs(tiny_run, *TINY)
    assert jobs == Counter(plot_curves=1, plot_bench=1, all=1)


def test_plots_source_change_reruns_only_figures(tiny_run):
    with edited(tiny_run / "sbadbal" / "plots.py", lambda text: text + "\n# an edit\n"):
        jobs = planned_jobs(tiny_run, *TINY)
    assert jobs == Counter(plot_curves=1, plot_bench=1, all=1)


def test_new_seed_runs_only_new_runs(tiny_run):
    experiment_key = next(iter(tiny_suite()["experiments"]))

    def add_seed(config):
        experiment = config["suites"]["tiny"]["experiments"][experiment_key]
        experiment["seeds"].append(max(experiment["seeds"]) + 1)

    with edited_config(tiny_run, add_seed):
        jobs = planned_jobs(tiny_run, *TINY)
    algorithms = tiny_suite()["experiments"][experiment_key]["algorithms"]
    assert jobs == Counter(run_al=len(algorithms), aggregate=1, plot_curves=1, all=1)


@pytest.mark.parametrize(
    "source, rerun_algorithms",
    [("lbb.py", {"LBB"}), ("simple.py", {"BALD"}), ("validation.py", {"BALD", "LBB"})],
)
def test_acquisition_source_change_reruns_the_runs_that_use_it(tiny_run, source, rerun_algorithms):
    experiment = tiny_suite()["experiments"]["tiny_mc"]
    assert set(experiment["algorithms"]) == {"BALD", "LBB"}, "the expectations below name the tiny suite's algorithms"
    with edited(tiny_run / "sbadbal" / "acquisition" / source, lambda text: text + "\n# an edit\n"):
        jobs = planned_jobs(tiny_run, *TINY)
        dry_run = snakemake(tiny_run, "--dry-run", *TINY)
    plan = dry_run.stdout + dry_run.stderr
    runs_per_algorithm = len(experiment["batch_sizes"]) * len(experiment["seeds"])
    assert jobs["run_al"] == runs_per_algorithm * len(rerun_algorithms)
    outputs = [line for line in plan.splitlines() if line.strip().startswith("output:")]
    rerun = set(re.findall(r"runs/tiny_mc/b\d+/([\w-]+)/seed\d+\.csv", "\n".join(outputs)))
    assert rerun == rerun_algorithms
    assert jobs["bench_acquisition"] == 1  # the timing sweep runs every algorithm of the benchmark
    assert jobs["prepare_data"] == 0 and jobs["bench_log_probs"] == 0


def test_report_collects_figures_and_tables(tiny_run):
    snakemake(tiny_run, "--report", "report.html", *TINY)
    html = (tiny_run / "report.html").read_text()
    for name in ("accuracy_b10.png", "final_accuracy.csv", "timing.png", "timings.csv"):
        assert name in html, f"{name} is not in the report"


def test_lint_is_clean(tiny_run):
    result = snakemake(tiny_run, "--lint", *TINY)
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


# --- configuration errors stop the workflow at start, naming the bad value ---------------------------------


@pytest.fixture
def fresh_copy(tmp_path) -> Path:
    return copy_workflow(tmp_path)


def break_tiny(workdir: Path, change) -> subprocess.CompletedProcess:
    change_config(workdir, lambda config: change(config["suites"]["tiny"]["experiments"]["tiny_mc"]))
    return snakemake(workdir, "--dry-run", *TINY, check=False)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda exp: exp["algorithms"].append("SuperBALD"), "unknown algorithm 'SuperBALD'"),
        (lambda exp: exp.update(budget=-5), "-5 is less than the minimum of 1"),
        (lambda exp: exp.pop("seeds"), "'seeds' is a required property"),
        (lambda exp: exp["uncertainty"].update(method="laplace"), "'laplace' is not one of"),
        (lambda exp: exp.update(budget=10), "budget 10 must exceed initial_size 20"),
        (lambda exp: exp.update(learning_rate=0.1), "'learning_rate' was unexpected"),
        (lambda exp: exp.update(model="resnet18"), "resnet18"),
    ],
    ids=["unknown-algorithm", "negative-budget", "missing-key", "bad-uncertainty", "budget-below-initial", "unknown-key",
         "model-without-mc-dropout"],
)
def test_wrong_config_fails_at_start_with_a_clear_message(fresh_copy, change, message):
    result = break_tiny(fresh_copy, change)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (fresh_copy / "results").exists()


def test_unknown_suite_names_the_valid_ones(fresh_copy):
    result = snakemake(fresh_copy, "--dry-run", "--config", "suite=nope", check=False)
    assert result.returncode != 0
    assert "suite 'nope' is not defined; valid suites: default, paper, tiny" in result.stdout + result.stderr


# --- the paper suite: a dry run lists the seed's grid --------------------------------------------------------


def test_paper_suite_dry_run_lists_the_expected_jobs(fresh_copy):
    jobs = planned_jobs(fresh_copy, "--config", "suite=paper")
    # 8 datasets; runs = batch sizes x algorithms x 5 seeds per experiment: FMNIST 1x10, MNIST 1x10,
    # RCIFAR10 2x5, CIFAR100 1x5, EMNIST 1x6, KMNIST 1x6, SVHN 1x5, AG News 1x6; one figure per batch size.
    assert jobs == Counter(
        prepare_data=8,
        run_al=5 * (10 + 10 + 2 * 5 + 5 + 6 + 6 + 5 + 6),
        aggregate=8,
        plot_curves=9,
        bench_log_probs=1,
        bench_acquisition=1,
        plot_bench=1,
        all=1,
    )
