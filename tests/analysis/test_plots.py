"""Figures (sbadbal.analysis.plots) from small synthetic frames: styles and colour distances, differences, ticks,
bands, both widths, diagnostics, accuracy against seconds, timing spread."""

from __future__ import annotations

from pathlib import Path

import matplotlib.text
import numpy as np
import pandas as pd
import pytest
import yaml

from sbadbal.acquisition import ALGORITHM_NAMES
from sbadbal.acquisition.records import looks
from sbadbal.analysis.colours import MIN_COLOUR_DISTANCE, closest_pair, delta_e_2000_lab
from sbadbal.analysis.plots import (
    BAND_LABEL,
    COLUMN_MIN_FONT_SIZE,
    COLUMN_WIDTH_IN,
    REDUNDANCY_REFERENCE_LABEL,
    LineStyle,
    accuracy_curve_summary,
    accuracy_time_summary,
    algorithm_styles,
    base_algorithm,
    batch_diagnostics_summary,
    label_ticks,
    paired_differences,
    plot_accuracy_curves,
    plot_accuracy_vs_seconds,
    plot_acquisition_timing,
    plot_batch_diagnostics,
    run_caption,
    save_figure,
    timing_device,
    timing_spread,
)

REPO = Path(__file__).resolve().parents[2]

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
    for axes in figure.axes:  # ticks at the recorded label counts, not a locator's half-integers
        assert axes.get_xticks().tolist() == [20, 23, 26, 29]
    assert "Random" in difference_axes.get_ylabel()
    title = figure._suptitle.get_text()
    assert title == "Every algorithm on MNIST5K\nb = 3, K = 10, 3 seeds"
    legend_labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert "published (original)" in legend_labels and "LBB-w2" in legend_labels
    save_figure(figure, tmp_path / "a.png", dpi=40)
    assert (tmp_path / "a.png").stat().st_size > 0


def test_accuracy_figure_without_reference_has_one_panel():
    figure = plot_accuracy_curves(synthetic_runs(["BALD", "LBB"]), title="x", reference="auto")
    assert len(figure.axes) == 2  # BALD is the fallback reference
    figure = plot_accuracy_curves(synthetic_runs(["LBB", "PLBB"]), title="x")
    assert len(figure.axes) == 1


def test_caption_names_batch_size_k_and_seeds():
    assert run_caption(synthetic_runs(["BALD"]), k=5) == "b = 10, K = 5, 3 seeds"


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
    assert "NVIDIA H100, 3 repeats: median, min-max bars" in figure._suptitle.get_text()
    save_figure(figure, tmp_path / "t.png", dpi=40)
    without = plot_acquisition_timing(timings.drop(columns=["min_seconds", "max_seconds"]))
    assert "min-max" not in without._suptitle.get_text()


def test_vector_files_are_reproducible(tmp_path):
    runs = synthetic_runs(["BALD", "Random"])
    for name in ("a", "b"):
        save_figure(plot_accuracy_curves(runs, title="x"), tmp_path / f"{name}.svg", tmp_path / f"{name}.pdf")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


# --- print: ticks, widths, palette, bands ---------------------------------------------------------------------


def test_label_ticks_are_recorded_counts_with_the_budget():
    assert label_ticks([20, 30, 40, 50, 60]) == [20, 30, 40, 50, 60]
    paper = list(range(20, 501, 10))  # 49 counts: at most 7 ticks, every one recorded, the budget among them
    ticks = label_ticks(paper)
    assert len(ticks) <= 7 and set(ticks) <= set(paper) and ticks[0] == 20 and ticks[-1] == 500
    assert label_ticks(range(2000, 10001, 100))[-1] == 10000


def test_diagnostics_x_axis_is_the_label_count_with_a_labelled_reference_line():
    runs = synthetic_runs(["BALD", "LBB"], rounds=5)  # acquisitions at 20, 30, 40, 50 labels
    figure = plot_batch_diagnostics(runs, title="d")
    for axes in figure.axes:
        assert axes.get_xticks().tolist() == [20, 30, 40, 50] and "labels" in axes.get_xlabel().lower()
    assert REDUNDANCY_REFERENCE_LABEL in [text.get_text() for text in figure.axes[1].texts]


def test_bands_are_standard_errors_and_the_legend_says_so():
    runs = synthetic_runs(["BALD", "Random"])
    summary = accuracy_curve_summary(runs).set_index(["algorithm", "labelled"])
    # seeds 1, 2, 3 shift accuracy by 1, 2, 3: SE = std(ddof=1) / sqrt(3) = 1 / sqrt(3)
    assert summary.loc[("BALD", 20), "se"] == pytest.approx(1 / np.sqrt(3))
    # BALD's band (the first drawn) spans its mean at 20 labels - SE to its mean at 50 labels + SE
    band = plot_accuracy_curves(runs, title="x").axes[0].collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(summary.loc[("BALD", 20), "mean"] - 1 / np.sqrt(3))
    assert band.max() == pytest.approx(summary.loc[("BALD", 50), "mean"] + 1 / np.sqrt(3))
    for figure in (plot_accuracy_curves(runs, title="x"), plot_batch_diagnostics(runs, title="x")):
        assert BAND_LABEL in [text.get_text() for text in figure.legends[0].get_texts()]


def _texts(figure):
    return [text for text in figure.findobj(matplotlib.text.Text) if text.get_text().strip()]


@pytest.mark.parametrize("draw", ["accuracy", "diagnostics", "seconds", "timing"])
def test_column_variant_is_3_3_in_wide_with_no_text_under_8_pt(draw, tmp_path):
    runs = synthetic_runs([*ALGORITHM_NAMES, "LBB-w2"])
    runs = runs.assign(train_seconds=1.0, score_seconds=0.5, acquisition_seconds=0.1)
    timings = pd.DataFrame([{"algorithm": a, "batch_size": b, "N": n, "median_seconds": 1e-3 * b, "repeats": 3,
                             "repeat_seconds": f"{1e-3 * b} {1.1e-3 * b} {0.9e-3 * b}", "device": "cpu"}
                            for a in ALGORITHM_NAMES for b in (5, 10) for n in (100, 1000)])
    plot = {"accuracy": lambda column: plot_accuracy_curves(runs, title="mnist_mc", k=100, column=column),
            "diagnostics": lambda column: plot_batch_diagnostics(runs, title="mnist_mc", column=column),
            "seconds": lambda column: plot_accuracy_vs_seconds(runs, title="mnist_mc", column=column),
            "timing": lambda column: plot_acquisition_timing(timings, title="mnist_timing", column=column)}[draw]
    column = plot(True)
    assert column.get_figwidth() == pytest.approx(COLUMN_WIDTH_IN)
    column.canvas.draw()
    assert min(text.get_fontsize() for text in _texts(column)) >= COLUMN_MIN_FONT_SIZE
    # everything drawn lies inside the figure: nothing cut off at the edges (the tight box is in inches)
    drawn = column.get_tightbbox(column.canvas.get_renderer())
    assert drawn.x0 >= -0.01 and drawn.y0 >= -0.01
    assert drawn.x1 <= column.get_figwidth() + 0.01 and drawn.y1 <= column.get_figheight() + 0.01
    page = plot(False)
    assert page.get_figwidth() > COLUMN_WIDTH_IN and len(page.axes) == len(column.axes)


def test_ciede2000_matches_published_pairs():
    # Sharma, Wu and Dalal (2005), table 1: pairs 1, 7 and 17
    assert delta_e_2000_lab((50, 2.6772, -79.7751), (50, 0, -82.7485)) == pytest.approx(2.0425, abs=1e-4)
    assert delta_e_2000_lab((50, 0, 0), (50, -1, 2)) == pytest.approx(2.3669, abs=1e-4)
    assert delta_e_2000_lab((50, 2.5, 0), (73, 25, -18)) == pytest.approx(27.1492, abs=1e-4)


def _suite_figures(suite_name):
    """(figure, algorithm names, bases) of every figure a suite of config.yaml draws, from its algorithm lists."""
    from sbadbal.config import load_config

    config = load_config(yaml.safe_load((REPO / "config.yaml").read_text()), source="config.yaml", base=REPO)
    suite = config.suites[suite_name]
    for key, experiment in suite.experiments.items():
        bases = {name: experiment.choice(name).algorithm for name in experiment.algorithm_names}
        yield key, list(experiment.algorithm_names), bases
    for key, bench in suite.benchmarks.items():
        bases = bench.timing_settings()["bases"]
        yield key, list(bases), bases


@pytest.mark.parametrize("suite_name", ["paper", "default"])
def test_every_colour_in_every_figure_of_a_suite_is_distinct(suite_name):
    figures = list(_suite_figures(suite_name))
    assert figures
    for key, names, bases in figures:
        styles = algorithm_styles(names, bases, registered=looks(bases.values()))
        distance, first, second = closest_pair(style.colour for style in styles.values())
        assert distance >= MIN_COLOUR_DISTANCE, f"{key}: {first} and {second} differ by {distance:.1f} (CIEDE2000)"


def test_a_variant_leaves_its_base_shades_when_they_are_too_near():
    names = ["LBB", "LBB-w2", "LBB-code", "PLBB-code", "PLBB"]
    styles = algorithm_styles(names, {"LBB-w2": "LBB"}, registered=REGISTERED)
    assert closest_pair(style.colour for style in styles.values())[0] >= MIN_COLOUR_DISTANCE


# --- accuracy against seconds -----------------------------------------------------------------------------


def test_accuracy_time_summary_accumulates_seconds_before_each_round():
    runs = synthetic_runs(["BALD", "BatchBALD"], rounds=3)
    runs["train_seconds"] = 1.0
    runs["score_seconds"] = 0.5
    runs["acquisition_seconds"] = np.where(runs["algorithm"] == "BatchBALD", 10.0, 0.01)
    runs.loc[runs["round"] == 2, "acquisition_seconds"] = np.nan  # the last round acquires nothing
    summary = accuracy_time_summary(runs).set_index(["algorithm", "round"])
    assert summary.loc[("BatchBALD", 0), "acquisition_seconds_cumulative"] == 0.0
    assert summary.loc[("BatchBALD", 2), "acquisition_seconds_cumulative"] == pytest.approx(20.0)
    assert summary.loc[("BALD", 1), "acquisition_seconds_cumulative"] == pytest.approx(0.01)
    # round r: training of rounds 0..r, scoring and acquisition of rounds 0..r-1
    assert summary.loc[("BALD", 0), "total_seconds_cumulative"] == pytest.approx(1.0)
    assert summary.loc[("BatchBALD", 2), "total_seconds_cumulative"] == pytest.approx(3 * 1.0 + 2 * 0.5 + 20.0)
    # accuracy: mean over the seeds (offsets 1, 2, 3), SE 1/sqrt(3)
    assert summary.loc[("BALD", 1), "mean"] == pytest.approx(55.0 + 2.0)
    assert summary.loc[("BALD", 1), "se"] == pytest.approx(1 / np.sqrt(3))
    assert summary.loc[("BALD", 2), "labelled"] == 40 and summary.loc[("BALD", 2), "seeds"] == 3


def test_accuracy_time_figure_draws_means_on_log_seconds(tmp_path):
    runs = synthetic_runs(["BALD", "BatchBALD"], rounds=3).assign(train_seconds=1.0, score_seconds=0.5)
    runs["acquisition_seconds"] = np.where(runs["algorithm"] == "BatchBALD", 10.0, 0.01)
    figure = plot_accuracy_vs_seconds(runs, title="rmnist5k_mc", k=100)
    acquisition_axes, total_axes = figure.axes
    assert acquisition_axes.get_xscale() == "log" and "acquisition" in acquisition_axes.get_xlabel()
    assert "total" in total_axes.get_xlabel()
    batchbald = [line for line in acquisition_axes.get_lines() if line.get_label() == "BatchBALD"][0]
    # the initial model (0 s of acquisition) is left out of the log axis
    assert batchbald.get_xdata().tolist() == [10.0, 20.0]
    assert batchbald.get_ydata().tolist() == pytest.approx([57.0 + 1, 62.0 + 1])
    save_figure(figure, tmp_path / "s.png", dpi=40)


@pytest.mark.parametrize("fast_seconds", [0.005, 0.01, 0.1, 1.0])
def test_seconds_tick_labels_never_overprint(fast_seconds):
    """From a few ms (Random) to 10 s (BatchBALD) the labelled ticks are powers of ten: 1, 2 and 5 times them
    overprinted each other ("0.0050.010.02"); over a narrow range 1, 2 and 5 stay."""
    runs = synthetic_runs(["Random", "BatchBALD"], rounds=3).assign(train_seconds=1.0, score_seconds=0.5)
    runs["acquisition_seconds"] = np.where(runs["algorithm"] == "BatchBALD", 5.0, fast_seconds)
    figure = plot_accuracy_vs_seconds(runs, title="rmnist5k_mc", k=100, column=True)
    figure.canvas.draw()
    for axes in figure.axes:
        labels = [label for label in axes.get_xticklabels() if label.get_text()]
        assert len(labels) >= 2
        boxes = sorted((label.get_window_extent() for label in labels), key=lambda box: box.x0)
        assert all(left.x1 < right.x0 for left, right in zip(boxes, boxes[1:])), [x.get_text() for x in labels]
    low, high = figure.axes[0].get_xlim()
    if high / low > 10**2.5:
        assert {float(label.get_text()) for label in figure.axes[0].get_xticklabels()} <= {0.001, 0.01, 0.1, 1, 10}


def test_timing_spread_from_every_repeat():
    timings = pd.DataFrame({"algorithm": ["BALD"], "batch_size": [5], "N": [100], "median_seconds": [0.002],
                            "repeats": [3], "repeat_seconds": ["0.003 0.002 0.0015"]})
    spread = timing_spread(timings)
    assert spread["min_seconds"].item() == 0.0015 and spread["max_seconds"].item() == 0.003
    assert "min-max" in plot_acquisition_timing(timings)._suptitle.get_text()
