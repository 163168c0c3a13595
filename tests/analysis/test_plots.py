"""Figures (sbadbal.analysis.plots) from small synthetic frames: styles, differences, ticks, diagnostics, timing spread."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sbadbal.acquisition import ALGORITHM_NAMES
from sbadbal.acquisition.records import looks
from sbadbal.analysis.plots import (
    LineStyle,
    algorithm_styles,
    base_algorithm,
    batch_diagnostics_summary,
    paired_differences,
    plot_accuracy_curves,
    plot_acquisition_timing,
    plot_batch_diagnostics,
    run_caption,
    save_figure,
    timing_device,
)

VARIANTS = {"LBB-w2": "LBB", "LBB-w4": "LBB", "PowerBALD-a1": "PowerBALD", "PLBB-a1": "PLBB", "mystery": "nope"}
# The records' looks, as the figure rules pass them.
REGISTERED = looks(ALGORITHM_NAMES)
STYLES = {name: LineStyle(*look) for name, look in REGISTERED.items()}


def synthetic_runs(algorithms, seeds=(1, 2, 3), rounds=4, batch_size=10):
    rows = []
    for index, algorithm in enumerate(algorithms):
        for seed in seeds:
            for round_index in range(rounds):
                acquires = round_index < rounds - 1
                rows.append({
                    "batch_size": batch_size, "algorithm": algorithm, "seed": seed, "round": round_index,
                    "labelled": 20 + batch_size * round_index,
                    "test_accuracy": 50.0 + 5 * round_index + index + seed,
                    "batch_joint_mi": 2.0 + index if acquires else np.nan,
                    "batch_sum_bald": 4.0 if acquires else np.nan,
                })
    return pd.DataFrame(rows)


def test_the_looks_come_from_the_records_in_their_order():
    assert list(REGISTERED) == list(ALGORITHM_NAMES)
    assert list(looks(["Random", "BALD", "not-an-algorithm"])) == ["BALD", "Random"]


def test_styles_are_distinct_for_registered_names_and_variants():
    names = [*ALGORITHM_NAMES, *VARIANTS, "PLBB-code-w3", "other1", "other2"]
    styles = algorithm_styles(names, VARIANTS, registered=REGISTERED)
    assert set(styles) == set(names)
    assert len(set(styles.values())) == len(names)
    # colour + line + marker differ, not only a shade: at least two of them for any two registered algorithms
    for first in ALGORITHM_NAMES:
        for second in ALGORITHM_NAMES:
            a, b = STYLES[first], STYLES[second]
            if first != second:
                assert a.colour != b.colour and (a.line, a.marker) != (b.line, b.marker)


def test_many_variants_of_one_base_stay_distinct():
    names = [f"LBB-w{i}" for i in range(20)]
    styles = algorithm_styles(names, registered=REGISTERED)
    assert len(set(styles.values())) == 20
    assert all(style.line == STYLES["LBB"].line and not style.filled for style in styles.values())


def test_variant_base_from_mapping_then_prefix():
    assert base_algorithm("LBB-w2", {"LBB-w2": "PLBB"}, registered=REGISTERED) == "PLBB"
    assert base_algorithm("LBB-code-w2", registered=REGISTERED) == "LBB-code"
    assert base_algorithm("Unrelated", registered=REGISTERED) is None
    styles = algorithm_styles(["Random", "LBB-w2", "BALD", "LBB"], registered=REGISTERED)
    assert list(styles) == ["BALD", "LBB", "LBB-w2", "Random"]  # families together, variant after its base


def test_colour_overrides_apply():
    assert algorithm_styles(["BALD"], colours={"BALD": "red"}, registered=REGISTERED)["BALD"].colour == "red"


def test_power_variants_share_the_dashed_line():
    for power, plain in (("PowerBALD", "BALD"), ("PLBB", "LBB"), ("PLBB-code", "LBB-code")):
        assert STYLES[power].line == "--" and STYLES[plain].line == "-"


def test_paired_differences_pair_by_seed():
    runs = synthetic_runs(["Random", "BALD", "LBB"])
    differences = paired_differences(runs, "Random").set_index(["algorithm", "labelled"])
    assert set(differences.index.get_level_values(0)) == {"BALD", "LBB"}
    # the seed offset cancels in the pairing: differences are exact, standard error zero
    assert differences.loc[("BALD", 20), "mean"] == pytest.approx(1.0)
    assert differences.loc[("LBB", 40), "mean"] == pytest.approx(2.0)
    assert differences.loc[("LBB", 40), "se"] == pytest.approx(0.0)
    assert differences.loc[("LBB", 40), "seeds"] == 3


def test_accuracy_figure_has_difference_panel_integer_ticks_title_and_references(tmp_path):
    runs = synthetic_runs([*ALGORITHM_NAMES, "LBB-w2"], batch_size=3)
    runs["labelled"] = 20 + 3 * runs["round"]  # 20, 23, 26, 29: a default locator would place half-integers
    figure = plot_accuracy_curves(runs, title="Every algorithm on MNIST5K", k=10,
                                  reference_points=[("BALD", 29, 60.0, 1.0)], bases={"LBB-w2": "LBB"})
    accuracy_axes, difference_axes = figure.axes
    for axes in figure.axes:
        assert all(float(tick).is_integer() for tick in axes.get_xticks())
    assert "Random" in difference_axes.get_ylabel()
    title = figure._suptitle.get_text()
    assert "Every algorithm on MNIST5K" in title and "K = 10" in title and "3 seeds (1, 2, 3)" in title
    legend_labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert "published (original repository)" in legend_labels and "LBB-w2" in legend_labels
    save_figure(figure, tmp_path / "a.png", dpi=40)
    assert (tmp_path / "a.png").stat().st_size > 0


def test_accuracy_figure_without_reference_has_one_panel():
    figure = plot_accuracy_curves(synthetic_runs(["BALD", "LBB"]), title="x", reference="auto")
    assert len(figure.axes) == 2  # BALD is the fallback reference
    figure = plot_accuracy_curves(synthetic_runs(["LBB", "PLBB"]), title="x")
    assert len(figure.axes) == 1


def test_caption_names_batch_size_k_and_seeds():
    assert run_caption(synthetic_runs(["BALD"]), k=5) == "batch size b = 10, K = 5 posterior samples, 3 seeds (1, 2, 3)"


def test_batch_diagnostics(tmp_path):
    runs = synthetic_runs(["BALD", "PLBB"])
    summary = batch_diagnostics_summary(runs).set_index(["measure", "algorithm", "round"])
    assert summary.loc[("batch_joint_mi", "PLBB", 0), "mean"] == pytest.approx(3.0)
    assert summary.loc[("redundancy", "BALD", 1), "mean"] == pytest.approx(0.5)
    assert 3 not in summary.index.get_level_values("round")  # the last round acquires nothing
    figure = plot_batch_diagnostics(runs, title="diagnostics")
    assert len(figure.axes) == 2
    assert len(plot_batch_diagnostics(runs.drop(columns="batch_sum_bald"), title="d").axes) == 1
    save_figure(figure, tmp_path / "d.png", dpi=40)
    with pytest.raises(ValueError, match="no batch_joint_mi"):
        plot_batch_diagnostics(runs.drop(columns="batch_joint_mi"), title="d")


def test_timing_figure_shows_spread_and_device(tmp_path):
    timings = pd.DataFrame({
        "algorithm": ["BALD", "BALD", "Random", "Random"], "batch_size": [2, 5, 2, 5], "N": [10] * 4,
        "median_seconds": [1e-3, 2e-3, 0.0, 0.0], "min_seconds": [0.9e-3, 1.5e-3, 0.0, 0.0],
        "max_seconds": [1.2e-3, 2.5e-3, 0.0, 0.0], "device": "cuda:0", "device_name": "NVIDIA H100", "repeats": 3,
    })
    assert timing_device(timings) == "NVIDIA H100"
    assert timing_device(timings.drop(columns="device_name")) == "cuda:0"
    figure = plot_acquisition_timing(timings)
    assert "NVIDIA H100, 3 repeats" in figure._suptitle.get_text() and "min-max" in figure.axes[0].get_ylabel()
    save_figure(figure, tmp_path / "t.png", dpi=40)
    assert "min-max" not in plot_acquisition_timing(timings.drop(columns=["min_seconds", "max_seconds"])).axes[0].get_ylabel()


def test_vector_files_are_reproducible(tmp_path):
    runs = synthetic_runs(["BALD", "Random"])
    for name in ("a", "b"):
        save_figure(plot_accuracy_curves(runs, title="x"), tmp_path / f"{name}.svg", tmp_path / f"{name}.pdf")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
