"""Aggregation (sbadbal.analysis.tables) and figures (sbadbal.analysis.plots) on small hand-made run tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from sbadbal.acquisition.registry import ALGORITHMS
from sbadbal.analysis.plots import accuracy_curve_summary, plot_accuracy_curves, plot_acquisition_timing, save_figure
from sbadbal.analysis.tables import (
    final_accuracy_table,
    first_acquisition_time_table,
    markdown_accuracy_table,
    read_runs,
)
from sbadbal.bench.log_probs import nested_pool_subset
from sbadbal.bench.sweep import markdown_timing_table, sweep_acquisition_timing
from sbadbal.runs.schema import RUN_COLUMNS


def run_frame(accuracies, *, initial=20, batch=10, first_acquisition=1.0):
    rows = []
    for round_index, accuracy in enumerate(accuracies):
        last = round_index == len(accuracies) - 1
        rows.append(
            {
                "round": round_index,
                "labelled": initial + batch * round_index,
                "test_accuracy": accuracy,
                "test_nll": 1.0 / (1 + round_index),
                "train_seconds": 0.1,
                "score_seconds": math.nan if last else 0.2,
                "acquisition_seconds": math.nan if last else first_acquisition / (1 + round_index),
                "acquired_indices": "" if last else " ".join(str(batch * round_index + j) for j in range(batch)),
                "batch_joint_mi": math.nan if last else 0.5,
                "batch_sum_bald": math.nan if last else 0.75,
                "batch_copies": math.nan,
                "batch_nonpositive_gains": math.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


@pytest.fixture
def runs(tmp_path):
    specs = {
        ("BALD", 1): ([50, 60, 70, 80, 90], 2.0),
        ("BALD", 2): ([52, 62, 72, 82, 94], 4.0),
        ("Random", 1): ([50, 55, 60, 65, 70], 0.5),
        ("Random", 2): ([50, 55, 60, 65, 72], 0.5),
    }
    paths, keys = [], []
    for (algorithm, seed), (accuracies, seconds) in specs.items():
        path = tmp_path / f"{algorithm}{seed}.csv"
        run_frame(accuracies, first_acquisition=seconds).to_csv(path, index=False)
        paths.append(path)
        keys.append({"batch_size": 10, "algorithm": algorithm, "seed": seed})
    return read_runs(paths, keys)


def test_read_runs_labels_rows_with_their_run(runs):
    assert list(runs.columns[:3]) == ["batch_size", "algorithm", "seed"]
    assert len(runs) == 4 * 5
    assert set(map(tuple, runs[["algorithm", "seed"]].drop_duplicates().values)) == {
        ("BALD", 1), ("BALD", 2), ("Random", 1), ("Random", 2)
    }


def test_read_runs_keeps_single_acquired_indices_as_text(tmp_path):
    # A batch size of 1 writes one index per row; read as numbers it would come back as 17.0.
    path = tmp_path / "seed1.csv"
    pd.DataFrame({"round": [0, 1], "labelled": [20, 21], "test_accuracy": [50.0, 51.0], "test_nll": [1.0, 0.9],
                  "train_seconds": [1.0, 1.0], "score_seconds": [0.5, float("nan")],
                  "acquisition_seconds": [0.1, float("nan")], "acquired_indices": ["17", ""],
                  "batch_joint_mi": [0.5, float("nan")], "batch_sum_bald": [0.5, float("nan")],
                  "batch_copies": [float("nan")] * 2, "batch_nonpositive_gains": [float("nan")] * 2,
                  }).to_csv(path, index=False)
    runs = read_runs([path], [{"batch_size": 1, "algorithm": "BALD", "seed": 1}])
    assert list(runs["acquired_indices"]) == ["17", ""]
    assert math.isnan(runs["score_seconds"].iloc[1])


def test_read_runs_rejects_unpaired_inputs(tmp_path):
    with pytest.raises(ValueError, match="2 paths but 1 keys"):
        read_runs([tmp_path / "a.csv", tmp_path / "b.csv"], [{"batch_size": 1, "algorithm": "BALD", "seed": 0}])


def test_final_accuracy_at_budget_and_fractions(runs):
    final = final_accuracy_table(runs, [0.5, 1.0])
    # labels 20..60: fraction 0.5 -> 40, 1.0 -> 60
    assert sorted(final["labelled"].unique()) == [40, 60]
    bald = final[(final["algorithm"] == "BALD") & (final["labelled"] == 60)].iloc[0]
    assert bald["accuracy_mean"] == pytest.approx(92.0)
    assert bald["accuracy_std"] == pytest.approx(np.std([90, 94]))  # ddof = 0, as the original
    assert bald["seeds"] == 2
    markdown = markdown_accuracy_table(final)
    assert "| BALD | 71.00 ± 1.00 | 92.00 ± 2.00 | 2 |" in markdown  # each algorithm's own count (extra_seeds)
    assert "mean ± std over seeds" in markdown


def test_first_acquisition_time_is_round_zero(runs):
    table = first_acquisition_time_table(runs).set_index("algorithm")
    assert table.loc["BALD", "seconds_mean"] == pytest.approx(3.0)
    assert table.loc["BALD", "seconds_std"] == pytest.approx(1.0)
    assert table.loc["Random", "seconds_mean"] == pytest.approx(0.5)
    assert table.index[0] == "BALD"  # slowest first


def test_nested_pool_subset_is_a_seeded_sample():
    log_probs_N_K_C = torch.arange(20.0).reshape(20, 1, 1).expand(20, 2, 3)
    first = nested_pool_subset(log_probs_N_K_C, 8, seed=3)
    assert first.shape == (8, 2, 3)
    assert torch.equal(first, nested_pool_subset(log_probs_N_K_C, 8, seed=3))
    assert len(set(first[:, 0, 0].tolist())) == 8
    with pytest.raises(ValueError, match="exceeds the 20 scored pool points"):
        nested_pool_subset(log_probs_N_K_C, 21, seed=0)


def test_sweep_times_every_case_on_pool_prefixes():
    calls = []

    def fake_time(function, log_probs_N_K_C, batch_size, *, repeats, seed, params):
        calls.append((function.name, log_probs_N_K_C.shape[0], batch_size, params))
        return {"algorithm": function.name, "batch_size": batch_size, "N": log_probs_N_K_C.shape[0], "K": 2, "C": 3,
                "median_seconds": 1e-3 * batch_size, "peak_memory_bytes": 0, "device": "cpu"}

    timings = sweep_acquisition_timing(
        torch.zeros(10, 2, 3), functions={name: ALGORITHMS[name] for name in ("BALD", "PowerBALD")},
        batch_sizes=[2, 5], pool_sizes=[4, 10],
        repeats=1, seed=0, algorithm_params={"PowerBALD": {"alpha": 2}}, time_fn=fake_time,
    )
    # b = 5 >= N = 4 is skipped: 3 cases x 2 algorithms
    assert len(timings) == 6
    assert ("PowerBALD", 10, 5, {"alpha": 2}) in calls and ("BALD", 10, 5, None) in calls
    markdown = markdown_timing_table(timings)
    assert "on cpu" in markdown and "| BALD | 0.002 | 0.002 | 0.005 |" in markdown


def test_figures_are_written(runs, tmp_path):
    summary = accuracy_curve_summary(runs)
    assert summary[summary["algorithm"] == "Random"]["mean"].tolist() == [50, 55, 60, 65, 71]
    figure = plot_accuracy_curves(runs, title="test", style={"colours": {"BALD": "red"}, "dpi": 50})
    save_figure(figure, tmp_path / "a.pdf", tmp_path / "a.png", dpi=50)
    assert (tmp_path / "a.pdf").stat().st_size > 0 and (tmp_path / "a.png").stat().st_size > 0
    timings = pd.DataFrame(
        {"algorithm": ["BALD", "BALD", "Random", "Random"], "batch_size": [2, 5, 2, 5], "N": [10] * 4,
         "median_seconds": [1e-3, 2e-3, 0.0, 0.0]}
    )
    save_figure(plot_acquisition_timing(timings), tmp_path / "t.png", dpi=50)
    assert (tmp_path / "t.png").stat().st_size > 0


def test_unknown_style_key_is_named():
    with pytest.raises(ValueError, match=r"unknown plot style keys \['linewidth'\]"):
        plot_accuracy_curves(pd.DataFrame({"algorithm": ["A"], "labelled": [1], "test_accuracy": [1.0]}),
                             title="x", style={"linewidth": 2})


def test_a_table_older_than_one_of_its_own_sources_is_refused(tmp_path):
    import os

    from sbadbal.analysis.tables import StaleTableError, require_newer_than_sources

    paths = {name: tmp_path / name for name in ("a_run.csv", "a_table.csv", "b_run.csv", "b_table.csv")}
    for seconds, path in enumerate(paths.values()):
        path.write_text("x")
        os.utime(path, (1000 + seconds, 1000 + seconds))  # a_run, a_table, b_run, b_table: each table after its run
    tables = {paths["a_table.csv"]: [paths["a_run.csv"]], paths["b_table.csv"]: [paths["b_run.csv"]]}
    require_newer_than_sources(tables)  # b_run is newer than a_table, but it is not a_table's source
    os.utime(paths["a_run.csv"], (2000, 2000))  # a run file remade after its table
    with pytest.raises(StaleTableError, match=r"a_table.csv is older than .*a_run.csv, which it is made from"):
        require_newer_than_sources(tables)
