"""The Snakemake workflow, run for real: the tiny suite in a temporary copy of the repository.

One real run (the session fixture `tiny_run` in conftest.py) is shared by the checks that follow it; the re-run checks are dry runs
that count the jobs Snakemake would start after an edit, then undo the edit (content and mtime).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from .helpers import (
    TINY,
    change_config,
    copy_workflow,
    edited,
    edited_config,
    missing_outputs,
    planned_jobs,
    snakemake,
    snakemake_env,
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
    # Batch diagnostics in every acquiring row; LBB's non-positive gains counted, BALD's blank; no repeats, no copies.
    acquiring = runs[runs["acquired_indices"].notna()]
    assert acquiring["batch_joint_mi"].notna().all() and (acquiring["batch_sum_bald"] > 0).all()
    assert acquiring["batch_copies"].isna().all()
    assert acquiring.loc[acquiring["algorithm"] == "LBB", "batch_nonpositive_gains"].notna().all()
    assert acquiring.loc[acquiring["algorithm"] == "BALD", "batch_nonpositive_gains"].isna().all()
    # The claims table decides what the tiny suite can decide and says "not run" for the rest (no BatchBALD here).
    claims = pd.read_csv(base / "tables" / "claims.csv")
    assert set(claims["verdict"]) <= {"reproduced", "not reproduced", "inconclusive", "not run", "reported"}
    assert (claims.loc[claims["comparison"].str.contains("BatchBALD"), "verdict"] == "not run").all()
    assert "Claims and verdicts" in (base / "tables" / "claims.md").read_text()
    comparison = pd.read_csv(base / "bench" / bench_key / "reference_comparison.csv")
    assert (comparison.loc[comparison["numerator"] == "BatchBALD", "status"] == "ours not run").all()
    assert (comparison.loc[(comparison["numerator"] == "LBB") & (comparison["denominator"] == "BALD"),
                           "status"] == "compared").any()
    # One progress line per round in each run's log, as it happens.
    rounds = (budget - experiment["initial_size"]) // experiment["batch_sizes"][0] + 1
    for log in (tiny_run / "logs" / "tiny" / "run_al").rglob("*.log"):
        assert len(re.findall(r"round \d+/\d+: \d+ labels, test accuracy", log.read_text())) == rounds, log


def test_second_run_has_nothing_to_do(tiny_run):
    assert planned_jobs(tiny_run, *TINY) == Counter()


def test_plotting_option_reruns_only_figures(tiny_run):
    with edited_config(tiny_run, lambda config: config["plots"].update(dpi=config["plots"]["dpi"] + 1)):
        jobs = planned_jobs(tiny_run, *TINY)
    assert jobs == Counter(plot_curves=1, plot_diagnostics=1, plot_accuracy_time=1, plot_bench=1, all=1)


def test_plots_source_change_reruns_only_figures(tiny_run):
    with edited(tiny_run / "sbadbal" / "analysis" / "plots.py", lambda text: text + "\n# an edit\n"):
        jobs = planned_jobs(tiny_run, *TINY)
    assert jobs == Counter(plot_curves=1, plot_diagnostics=1, plot_accuracy_time=1, plot_bench=1, all=1)


def test_new_seed_runs_only_new_runs(tiny_run):
    experiment_key = next(iter(tiny_suite()["experiments"]))

    def add_seed(config):
        experiment = config["suites"]["tiny"]["experiments"][experiment_key]
        experiment["seeds"].append(max(experiment["seeds"]) + 1)

    with edited_config(tiny_run, add_seed):
        jobs = planned_jobs(tiny_run, *TINY)
    algorithms = tiny_suite()["experiments"][experiment_key]["algorithms"]
    assert jobs == Counter(initial_round=1, run_al=len(algorithms), aggregate=1, plot_curves=1, plot_diagnostics=1,
                           plot_accuracy_time=1, table_page=3, claims=1, claims_page=1, all=1)


def test_round_zero_is_computed_once_per_seed_and_read_by_every_run(tiny_run):
    experiment = tiny_suite()["experiments"]["tiny_mc"]
    runs = pd.read_csv(tiny_run / "results" / "tiny" / "tables" / "tiny_mc" / "runs.csv")
    round_zero = runs[runs["round"] == 0]
    shared = ["test_accuracy", "test_nll", "train_seconds", "score_seconds"]
    for seed in experiment["seeds"]:
        of_seed = round_zero[round_zero["seed"] == seed]
        assert len(of_seed) == len(experiment["algorithms"]) * len(experiment["batch_sizes"])
        # Equal seconds too: one measurement, read by every run (a recomputation would time differently).
        assert (of_seed[shared].nunique() == 1).all(), of_seed[shared]
        assert (tiny_run / "results" / "tiny" / "initial" / "tiny_mc" / f"seed{seed}.pt").is_file()
    assert round_zero.groupby("seed")["train_seconds"].first().nunique() == len(experiment["seeds"])


def algorithms_using(source: str, algorithms: list[str]) -> set[str]:
    """The listed algorithms whose runs run acquisition/`source`: its own module's, or every one for a file that
    all acquisition runs import (validation.py)."""
    from sbadbal.acquisition.records import record_of

    if source == "validation.py":
        return set(algorithms)
    return {name for name in algorithms if record_of(name).module == f"sbadbal.acquisition.{source[:-3]}"}


@pytest.mark.parametrize("source", ["lbb.py", "simple.py", "validation.py"])
def test_acquisition_source_change_reruns_the_runs_that_use_it(tiny_run, source):
    experiment = tiny_suite()["experiments"]["tiny_mc"]
    rerun_algorithms = algorithms_using(source, experiment["algorithms"])
    assert rerun_algorithms, f"the tiny suite runs no algorithm of {source}: pick another module"
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


def test_table_source_change_reruns_only_tables(tiny_run):
    with edited(tiny_run / "sbadbal" / "analysis" / "tables.py", lambda text: text + "\n# an edit\n"):
        jobs = planned_jobs(tiny_run, *TINY)
    # The rules that make or read tables (the figures read the runs table through it); no run, no model, no data,
    # no timing (the sweep's markdown comes from sbadbal/analysis/markdown.py).
    assert jobs == Counter(aggregate=1, plot_curves=1, plot_diagnostics=1, plot_accuracy_time=1, claims=1,
                           compare_bench_references=1, table_page=3, bench_table_page=1, claims_page=1, all=1)


@pytest.mark.parametrize(
    "module",
    ["config/model.py", "config/checks.py", "acquisition/records.py", "data/records.py", "models/records.py",
     "ops/scheduling.py", "ops/gpu_slots.py", "ops/progress.py", "ops/provenance.py", "data/idx.py"],
)
def test_code_that_computes_no_number_of_these_jobs_reruns_nothing(tiny_run, module):
    """The configuration model and the records are parse-time data (a job gets its own record as a parameter), ops/
    never changes a number, and the tiny suite's MNIST5K is not read by the IDX source."""
    with edited(tiny_run / "sbadbal" / module, lambda text: text + "\n# an edit\n"):
        assert planned_jobs(tiny_run, *TINY) == Counter()


def test_data_root_elsewhere_with_the_same_data_reruns_nothing(tiny_run, tmp_path):
    """data.root says where raw files are, not what is prepared (the prepared file carries its content's
    checksum): pointing it at another folder plans no job at all, neither preparation nor anything after it, and
    the preparation job reads the new folder when it does run."""
    from sbadbal.data.store import load_prepared, prepared_checksum

    elsewhere = tmp_path / "shared-datasets"
    elsewhere.mkdir()
    with edited_config(tiny_run, lambda config: config["data"].update(root=str(elsewhere))):
        assert planned_jobs(tiny_run, *TINY) == Counter()
    workdir = tmp_path / "root"
    shutil.copytree(tiny_run, workdir, symlinks=True, ignore=shutil.ignore_patterns("report.html"))
    change_config(workdir, lambda config: config["data"].update(root=str(elsewhere)))
    prepared = workdir / "results" / "tiny" / "data" / "MNIST5K.pt"
    before = prepared_checksum(load_prepared(prepared))
    snakemake(workdir, "--cores", "1", "--forcerun", "prepare_data", str(prepared.relative_to(workdir)), *TINY)
    log = (workdir / "logs" / "tiny" / "prepare_data" / "MNIST5K.log").read_text()
    assert f"preparing MNIST5K from {elsewhere}" in log
    assert prepared_checksum(load_prepared(prepared)) == before  # the same data: the same prepared content


def test_a_data_source_edit_reprepares_the_datasets_it_reads(tiny_run):
    with edited(tiny_run / "sbadbal" / "data" / "mnist5k.py", lambda text: text + "\n# an edit\n"):
        jobs = planned_jobs(tiny_run, *TINY)
    assert jobs["prepare_data"] == 1


def test_training_source_change_reruns_every_run(tiny_run):
    experiment = tiny_suite()["experiments"]["tiny_mc"]
    runs = len(experiment["batch_sizes"]) * len(experiment["algorithms"]) * len(experiment["seeds"])
    with edited(tiny_run / "sbadbal" / "engine" / "training.py", lambda text: text + "\n# an edit\n"):
        jobs = planned_jobs(tiny_run, *TINY)
    assert jobs["run_al"] == runs and jobs["bench_log_probs"] == 1 and jobs["prepare_data"] == 0


def test_a_variant_reruns_only_its_runs_and_reaches_every_output(tiny_run, tmp_path):
    """LBB-w2 (config.yaml's variant) added to the tiny suite: its own runs, under its own name everywhere."""
    workdir = tmp_path / "variant"
    shutil.copytree(tiny_run, workdir, symlinks=True, ignore=shutil.ignore_patterns("report.html"))

    def add_variant(config):
        config["suites"]["tiny"]["experiments"]["tiny_mc"]["algorithms"].append("LBB-w2")
        config["suites"]["tiny"]["benchmarks"]["tiny_timing"]["algorithms"].append("LBB-w2")

    change_config(workdir, add_variant)
    experiment = tiny_suite()["experiments"]["tiny_mc"]
    jobs = planned_jobs(workdir, *TINY)
    assert jobs == Counter(run_al=len(experiment["seeds"]), aggregate=1, plot_curves=1, plot_diagnostics=1,
                           plot_accuracy_time=1, bench_acquisition=1, plot_bench=1, claims=1, compare_bench_references=1,
                           table_page=3, bench_table_page=2, claims_page=1, all=1)
    snakemake(workdir, "--cores", "2", *TINY)
    base = workdir / "results" / "tiny"
    for seed in experiment["seeds"]:
        sidecar = json.loads((base / "runs" / "tiny_mc" / "b10" / "LBB-w2" / f"seed{seed}.json").read_text())
        assert sidecar["config"]["name"] == "LBB-w2" and sidecar["config"]["algorithm"] == "LBB"
        assert sidecar["config"]["algorithm_params"] == {"pair_weight": 2.0}
    for table in ("runs.csv", "final_accuracy.csv", "acquisition_time.csv", "batch_diagnostics.csv"):
        assert "LBB-w2" in set(pd.read_csv(base / "tables" / "tiny_mc" / table)["algorithm"]), table
    assert "LBB-w2" in (base / "tables" / "tiny_mc" / "final_accuracy.md").read_text()
    assert "LBB-w2" in (base / "tables" / "tiny_mc" / "batch_diagnostics.md").read_text()
    # The figures draw it too: its legend entry is text in the SVG.
    for figure in ("accuracy_b10.svg", "diagnostics_b10.svg"):
        assert "LBB-w2" in (base / "figures" / "tiny_mc" / figure).read_text(), figure
    assert "LBB-w2" in set(pd.read_csv(base / "bench" / "tiny_timing" / "timings.csv")["algorithm"])
    assert "LBB-w2" in (base / "bench" / "tiny_timing" / "timings.md").read_text()
    assert planned_jobs(workdir, *TINY) == Counter()


def test_the_cli_run_equals_the_workflow_run(tiny_run, tmp_path):
    """`python -m sbadbal run` on the tiny suite's experiment, preparing its data in memory: the same rows."""
    csv = tmp_path / "BALD.csv"
    result = subprocess.run(
        [sys.executable, "-m", "sbadbal", "run", "--experiment", "config.yaml", "--key", "suites.tiny.experiments.tiny_mc",
         "--algorithm", "BALD", "--batch-size", "10", "--seed", "1", "--csv", str(csv), "--device", "cpu", "--quiet"],
        cwd=tiny_run, env=snakemake_env({"OMP_NUM_THREADS": "1"}), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    timing = ["train_seconds", "score_seconds", "acquisition_seconds"]
    ours = pd.read_csv(csv).drop(columns=timing)
    workflow = pd.read_csv(tiny_run / "results" / "tiny" / "runs" / "tiny_mc" / "b10" / "BALD" / "seed1.csv").drop(columns=timing)
    pd.testing.assert_frame_equal(ours, workflow)
    sidecar = json.loads(csv.with_suffix(".json").read_text())["config"]
    assert sidecar == json.loads((tiny_run / "results/tiny/runs/tiny_mc/b10/BALD/seed1.json").read_text())["config"]


def test_scripts_run_by_hand_as_the_workflow_runs_them(tiny_run, tmp_path):
    """`python scripts/<rule>.py WILDCARD=VALUE ...` builds its job from the real Snakefile (mock_snakemake)."""
    workdir = tmp_path / "by_hand"
    shutil.copytree(tiny_run, workdir, symlinks=True, ignore=shutil.ignore_patterns("report.html"))
    run = Path("results/tiny/runs/tiny_mc/b10/LBB/seed2.csv")
    table = Path("results/tiny/tables/tiny_mc/runs.csv")
    for path in (run, table):
        (workdir / path).unlink()
    for command in (["scripts/run_al.py", "experiment=tiny_mc", "batch_size=10", "alg=LBB", "seed=2"],
                    ["scripts/aggregate.py", "experiment=tiny_mc"]):
        result = subprocess.run([sys.executable, *command, "--config", "suite=tiny"], cwd=workdir,
                                env=snakemake_env({"OMP_NUM_THREADS": "1"}), capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
    timing = ["train_seconds", "score_seconds", "acquisition_seconds"]
    pd.testing.assert_frame_equal(pd.read_csv(workdir / run).drop(columns=timing),
                                  pd.read_csv(tiny_run / run).drop(columns=timing))
    assert pd.read_csv(workdir / table).shape == pd.read_csv(tiny_run / table).shape


def test_report_collects_figures_and_tables(tiny_run):
    snakemake(tiny_run, "--report", "report.html", *TINY)
    html = (tiny_run / "report.html").read_text()
    for name in ("accuracy_b10.png", "final_accuracy.csv", "timing.png", "timings.csv"):
        assert name in html, f"{name} is not in the report"


def test_lint_is_clean(tiny_run):
    result = snakemake(tiny_run, "--lint", *TINY)
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


# Configuration errors: tests/config/test_config.py.


@pytest.fixture
def fresh_copy(tmp_path) -> Path:
    return copy_workflow(tmp_path)


# --- the paper suite: a dry run lists the original's grid --------------------------------------------------------


def test_paper_suite_dry_run_lists_the_expected_jobs(fresh_copy):
    jobs = planned_jobs(fresh_copy, "--config", "suite=paper")
    experiments = yaml.safe_load((fresh_copy / "config.yaml").read_text())["suites"]["paper"]["experiments"]
    # 8 datasets; runs = batch sizes x algorithms x seeds per experiment (config.yaml's lists: no test restates
    # them); three figures per batch size (RCIFAR10 has 2); comparisons with the original repository for FMNIST,
    # CIFAR100 and the timing benchmark; one claims table.
    runs = sum(len(e["batch_sizes"]) * len(e["algorithms"]) * len(e["seeds"]) for e in experiments.values())
    assert len(experiments) == 8 and runs > 0
    assert jobs == Counter(
        retrieve_raw=8,  # one local retrieval per raw source (rules/retrieve.smk), before its preparation
        prepare_data=8,
        initial_round=sum(len(e["seeds"]) for e in experiments.values()),  # round 0 once per seed
        run_al=runs,
        aggregate=8,
        plot_curves=9,
        plot_diagnostics=9,
        plot_accuracy_time=9,
        bench_log_probs=1,
        bench_acquisition=1,
        plot_bench=1,
        compare_references=2,
        compare_bench_references=1,
        claims=1,
        # every table's page: final accuracy, batch quality and first acquisition times of each experiment and the
        # two reference comparisons; the benchmark's timings and its comparison; the claims
        table_page=8 * 3 + 2,
        bench_table_page=2,
        claims_page=1,
        all=1,
    )


# --- deleted or damaged intermediate outputs (issue 13 item 7) ------------------------------------------------


def test_a_deleted_run_file_is_remade_by_a_plain_rerun(tiny_run, tmp_path):
    workdir = tmp_path / "deleted"
    shutil.copytree(tiny_run, workdir, symlinks=True, ignore=shutil.ignore_patterns("report.html"))
    run_csv = next((workdir / "results" / "tiny" / "runs").rglob("seed*.csv"))
    run_csv.unlink()
    jobs = planned_jobs(workdir, *TINY)
    assert jobs["run_al"] == 1 and jobs["prepare_data"] == 0  # the tables alone no longer satisfy the suite
    prepared = workdir / "results" / "tiny" / "data" / "MNIST5K.pt"
    prepared.unlink()
    assert planned_jobs(workdir, *TINY)["prepare_data"] == 1


def test_the_hint_for_a_damaged_prepared_file_remakes_it(tiny_run, tmp_path, monkeypatch):
    from sbadbal.data.store import load_prepared

    workdir = tmp_path / "damaged"
    shutil.copytree(tiny_run, workdir, symlinks=True, ignore=shutil.ignore_patterns("report.html"))
    prepared = workdir / "results" / "tiny" / "data" / "MNIST5K.pt"
    prepared.write_bytes(prepared.read_bytes()[:1000])
    monkeypatch.chdir(workdir)  # a job loads its input by the rule's relative path
    with pytest.raises(ValueError, match="corrupt or truncated") as error:
        load_prepared("results/tiny/data/MNIST5K.pt")
    hint = re.search(r"`(snakemake [^`]+)`", str(error.value)).group(1)
    assert hint == "snakemake --cores 1 --force results/tiny/data/MNIST5K.pt --config suite=tiny"
    result = snakemake(workdir, *hint.split()[1:])  # the command as the message gives it, in the workflow folder
    assert "prepare_data" in result.stdout + result.stderr
    assert load_prepared(prepared).num_train == 4000
