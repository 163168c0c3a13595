"""Every paper experiment through the real workflow on CPU: the paper suite's smoke twin (sbadbal/config/smoke.py)
on small files in each source's real on-disk format under data.root, by real `snakemake`, prepare -> run_al ->
aggregate -> figures -> claims -> comparisons -> report.

The code paths a paper experiment takes are asserted from what the jobs wrote (run logs, run tables, prepared
files), not from the configuration: a path that silently stopped being taken fails here. The expectations are
derived per experiment from the smoke suite itself, so a new paper experiment is covered without an edit.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sbadbal.config import load_config
from sbadbal.config.smoke import SmokeScale, smoke_config, smoke_data_points
from sbadbal.data.records import SPECS as DATASET_SPECS

from ..data.formats import SOURCE_WRITERS
from .helpers import REPO, copy_workflow, planned_jobs, snakemake

# Test splits: a handful of points (the test pass of a ResNet ensemble is paid every round).
TEST_POINTS = 8
SMOKE_TIMEOUT_S = 3600  # a loaded machine runs it several times slower than a quiet one

# The paths the paper suite takes that no other workflow test reaches; each is read off the outputs below.
REQUIRED_PATHS = {
    "ensemble of 5",
    "ensemble of 10",
    "epochs protocol with validation split and every milestone",
    "47 classes",
    "100 classes",
    "repeated CIFAR",
    "two batch sizes in one experiment",
    "MiniLM text embeddings",
    "BatchBALD exact and sampled phases",
    "MC dropout",
    "pool scored in several batches",
    "reference comparison",
    "timing benchmark",
}


def write_smoke_data(root: Path, suite) -> dict[str, int]:
    """Each dataset's base files, as many training points as the smoke suite needs; returns those counts."""
    points = smoke_data_points(suite)
    for dataset, n_train in points.items():
        base = DATASET_SPECS[dataset].base
        assert base in SOURCE_WRITERS, f"no real-format writer for {base} in tests/data/formats.py: add one"
        SOURCE_WRITERS[base](root, n_train, TEST_POINTS)
    return points


def smoke_workflow(tmp_path: Path, scale: SmokeScale) -> tuple[Path, object, dict[str, int]]:
    """A copy of the workflow whose config.yaml selects the paper suite's smoke twin, its data files written in
    their real formats under its data.root: (folder, suite, training points per dataset)."""
    workdir = copy_workflow(tmp_path / "workflow")
    data_root = tmp_path / "data"
    raw = smoke_config(yaml.safe_load((REPO / "config.yaml").read_text()), "paper", scale)
    raw["data"] = {**raw.get("data", {}), "root": str(data_root)}
    (workdir / "config.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    suite = load_config(raw).selected_suite()
    return workdir, suite, write_smoke_data(data_root, suite)


def run_smoke(tmp_path: Path, scale: SmokeScale) -> tuple[Path, object, dict[str, int], float]:
    workdir, suite, points = smoke_workflow(tmp_path, scale)
    started = time.perf_counter()
    snakemake(workdir, "--cores", "2", timeout=SMOKE_TIMEOUT_S)
    snakemake(workdir, "--report", "report.html", timeout=SMOKE_TIMEOUT_S)
    return workdir, suite, points, time.perf_counter() - started


def run_logs(workdir: Path, key: str, batch_size: int, name: str) -> list[str]:
    """Each run's whole story: its seed's round 0 (fitted and scored once per seed by `initial_round`), then the
    run's own log (round 0's acquisition and every later round)."""
    logs = workdir / "logs" / "paper_smoke"
    runs = sorted((logs / "run_al" / key / f"b{batch_size}" / name).glob("seed*.log"))
    assert runs, f"no run log of {key} b{batch_size} {name}"
    round_zero = [logs / "initial_round" / key / run.name for run in runs]
    assert all(log.is_file() for log in round_zero), f"no round-0 log beside {runs}"
    return [zero.read_text() + run.read_text() for zero, run in zip(round_zero, runs)]


def check_experiment(workdir: Path, key: str, experiment, points: dict[str, int]) -> set[str]:
    """One experiment's outputs, and the code paths they prove it took."""
    from sbadbal.data.store import load_prepared

    reached = set()
    base = workdir / "results" / "paper_smoke"
    spec = DATASET_SPECS[experiment.dataset]
    prepared = load_prepared(base / "data" / f"{experiment.dataset}.pt")
    assert prepared.num_classes == spec.num_classes
    assert prepared.num_base_train >= points[experiment.dataset], "the prepared file holds the files the test wrote"
    runs = pd.read_csv(base / "tables" / key / "runs.csv")
    expected = {(b, name, seed) for b in experiment.batch_sizes for name in experiment.algorithm_names
                for seed in experiment.seeds}
    assert set(runs[["batch_size", "algorithm", "seed"]].itertuples(index=False, name=None)) == expected
    assert runs.groupby(["batch_size", "algorithm", "seed"])["labelled"].max().eq(experiment.budget).all()
    assert runs["test_accuracy"].between(0, 100).all()
    for b in experiment.batch_sizes:
        for ext in ("pdf", "png", "svg"):
            assert (base / "figures" / key / f"accuracy_b{b}.{ext}").stat().st_size > 0
    if experiment.references:
        assert len(pd.read_csv(base / "tables" / key / "reference_comparison.csv")) > 0
        reached.add("reference comparison")
    if len(experiment.batch_sizes) > 1:
        reached.add("two batch sizes in one experiment")

    # What each round fitted and scored, from the run logs (sbadbal/engine/round.py writes one line of each).
    method = experiment.uncertainty.method
    networks = experiment.uncertainty.members if method == "ensemble" else 1
    samples = networks if method == "ensemble" else experiment.uncertainty.k_acquisition
    training = experiment.training
    for b in experiment.batch_sizes:
        rounds = -(-(experiment.budget - experiment.initial_size) // b) + 1
        for name in experiment.algorithm_names:
            for text in run_logs(workdir, key, b, name):
                fits = re.findall(r"round \d+: fit (\d+) network\(s\) \((\w+)\) by (\w+): (.*)", text)
                assert len(fits) == rounds, f"{key} b{b} {name}: {len(fits)} fit lines for {rounds} rounds"
                assert all((int(n), m, p) == (networks, method, training.name) for n, m, p, _ in fits), fits
                if training.name == "epochs":
                    expected_rates = [training.lr * training.gamma ** sum(e >= m for m in training.milestones)
                                      for e in range(training.epochs)]
                    for *_, detail in fits:
                        found = re.match(r"(\d+) epoch\(s\) at lr ([\d.e, -]+); validation on (\d+) point\(s\), "
                                         r"best epochs ([\d ]+)$", detail)
                        assert found, f"{key}: unexpected epochs line {detail!r}"
                        assert int(found[1]) == training.epochs
                        assert [float(x) for x in found[2].split(", ")] == pytest.approx(expected_rates, rel=1e-4)
                        assert int(found[3]) == training.validation_size > 0
                        assert len(found[4].split()) == networks
                    if len(set(expected_rates)) == len(training.milestones) + 1:
                        reached.add("epochs protocol with validation split and every milestone")
                scored = [tuple(map(int, s)) for s in
                          re.findall(r"round \d+: scored \d+ pool point\(s\): log_probs_P_K_C \[(\d+), (\d+), (\d+)\]",
                                     text)]
                assert len(scored) == rounds - 1, f"{key} b{b} {name}: {len(scored)} scoring lines"
                assert all(k == samples and c == spec.num_classes for _, k, c in scored), scored
                if max(p for p, _, _ in scored) > experiment.scoring_batch_size:
                    reached.add("pool scored in several batches")
                if spec.base != experiment.dataset and spec.base.startswith("CIFAR"):
                    # the scored pool holds the copies: more points than the base split has
                    assert max(p for p, _, _ in scored) > prepared.num_base_train
                if experiment.choice(name).algorithm == "BatchBALD":
                    phases = re.findall(r"BatchBALD: (.*) \(C = (\d+), K = (\d+)\)", text)
                    assert len(phases) == rounds - 1, f"{key} b{b} {name}: {phases}"
                    if all("exact joint" in p and "importance-sampled" in p for p, _, _ in phases):
                        reached.add("BatchBALD exact and sampled phases")
    if method == "ensemble":
        reached.add(f"ensemble of {networks}")
    else:
        reached.add("MC dropout")
    reached.add(f"{spec.num_classes} classes")
    if spec.is_repeated and spec.base.startswith("CIFAR"):
        assert prepared.repeats == DATASET_SPECS[experiment.dataset].repeats == 4
        assert prepared.num_train == prepared.repeats * prepared.num_base_train
        acquiring = runs[runs["acquired_indices"].notna()]
        assert acquiring["batch_copies"].notna().all(), "copies are counted on a repeated dataset"
        reached.add("repeated CIFAR")
    if spec.kind == "embedding":
        embedding = prepared.metadata["embedding"]
        assert embedding["encoder"] == "all-MiniLM-L6-v2" and embedding["dim"] == 384 == prepared.input_shape[0]
        assert embedding["weights_sha256"] and embedding["computed"] == prepared.num_train + prepared.num_test
        reached.add("MiniLM text embeddings")
    return reached


def check_smoke_run(workdir: Path, suite, points: dict[str, int]) -> set[str]:
    base = workdir / "results" / "paper_smoke"
    reached = set()
    for key, experiment in suite.experiments.items():
        reached |= check_experiment(workdir, key, experiment, points)
    for key, bench in suite.benchmarks.items():
        timings = pd.read_csv(base / "bench" / key / "timings.csv")
        assert set(timings["algorithm"]) == set(bench.timing_settings()["algorithms"])
        assert (timings["median_seconds"] >= 0).all()
        if bench.references:
            assert len(pd.read_csv(base / "bench" / key / "reference_comparison.csv")) > 0
        reached.add("timing benchmark")
    claims = pd.read_csv(base / "tables" / "claims.csv")
    assert set(claims["verdict"]) <= {"reproduced", "not reproduced", "inconclusive", "not run", "reported"}
    assert "Claims and verdicts" in (workdir / "report.html").read_text()
    # Every target the suite declares was made: a dry run has nothing left to do.
    assert planned_jobs(workdir) == Counter()
    return reached


# The default run's twin keeps these of each experiment's algorithms (with their variants): the experiment-level
# paths are the same, at under half the jobs; the full twin, every algorithm, is the slow case.
FAST_ALGORITHMS = ("BALD", "BatchBALD", "LBB")


@pytest.mark.parametrize("scale", [
    pytest.param(SmokeScale(algorithms=FAST_ALGORITHMS), id="fast"),
    pytest.param(SmokeScale(), id="every-algorithm", marks=pytest.mark.slow),
])
def test_every_paper_experiment_runs_through_the_workflow(tmp_path, scale):
    workdir, suite, points, seconds = run_smoke(tmp_path, scale)
    reached = check_smoke_run(workdir, suite, points)
    paper = load_config(yaml.safe_load((REPO / "config.yaml").read_text())).suites["paper"]
    assert set(suite.experiments) == set(paper.experiments)
    missing = REQUIRED_PATHS - reached
    assert not missing, f"code paths of the paper suite that the smoke run did not reach: {sorted(missing)}"
    jobs = sum(1 for _ in (workdir / "results" / "paper_smoke" / "runs").rglob("seed*.csv"))
    print(f"paper smoke twin: {len(suite.experiments)} experiments, {jobs} AL runs, {seconds:.0f} s wall")
