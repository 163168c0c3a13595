"""Figures from aggregated tables: accuracy curves (mean line, mean +/- std band over seeds) and timing plots.

Every function takes plain frames and a style mapping (the workflow's `plots` config) and returns a figure;
`save_figure` writes it. matplotlib runs headless (Agg) so that the workflow works without a display.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sbadbal.runfiles import write_atomically  # noqa: E402

DEFAULT_STYLE: dict[str, Any] = {
    "width_in": 6.4,
    "height_in": 4.4,
    "font_size": 10,
    "line_width": 1.8,
    "band_alpha": 0.25,
    "dpi": 150,
    "colours": {},
}


def _style(style: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = {**DEFAULT_STYLE, **(style or {})}
    unknown = sorted(set(merged) - set(DEFAULT_STYLE))
    if unknown:
        raise ValueError(f"unknown plot style keys {unknown}; valid keys: {sorted(DEFAULT_STYLE)}")
    return merged


def accuracy_curve_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and population std (ddof = 0, as the seed) of test accuracy over seeds per algorithm and label count."""
    return (
        runs.groupby(["algorithm", "labelled"], sort=False)["test_accuracy"]
        .agg(mean="mean", std=lambda s: s.std(ddof=0), seeds="count")
        .reset_index()
        .sort_values(["algorithm", "labelled"], kind="stable")
    )


def plot_accuracy_curves(runs: pd.DataFrame, *, title: str, style: Mapping[str, Any] | None = None) -> Figure:
    """Accuracy vs number of labels: one mean line and a mean +/- std band per algorithm, in the runs' order."""
    if runs.empty:
        raise ValueError(f"no runs to plot for {title!r}")
    style = _style(style)
    summary = accuracy_curve_summary(runs)
    with plt.rc_context({"font.size": style["font_size"]}):
        figure, axes = plt.subplots(figsize=(style["width_in"], style["height_in"]), layout="constrained")
        for algorithm in runs["algorithm"].drop_duplicates():
            curve = summary[summary["algorithm"] == algorithm]
            (line,) = axes.plot(
                curve["labelled"], curve["mean"], label=algorithm, lw=style["line_width"],
                color=style["colours"].get(algorithm),
            )
            axes.fill_between(
                curve["labelled"], curve["mean"] - curve["std"], curve["mean"] + curve["std"],
                color=line.get_color(), alpha=style["band_alpha"], linewidth=0,
            )
        seeds = int(summary["seeds"].max())
        axes.set(title=title, xlabel="Number of labelled points", ylabel=f"Test accuracy (%), mean ± std, {seeds} seeds")
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small", ncols=2)
    return figure


def plot_acquisition_timing(timings: pd.DataFrame, *, style: Mapping[str, Any] | None = None) -> Figure:
    """Log-log acquisition time: vs batch size at the largest pool (left), vs pool size at the largest batch."""
    if timings.empty:
        raise ValueError("no timings to plot")
    style = _style(style)
    largest_pool = timings["N"].max()
    at_pool = timings[timings["N"] == largest_pool]
    largest_batch = timings["batch_size"].max()
    at_batch = timings[timings["batch_size"] == largest_batch]
    # Random and friends can take ~0 s; a log axis needs a floor.
    floor = max(timings["median_seconds"][timings["median_seconds"] > 0].min() / 2, 1e-7)
    with plt.rc_context({"font.size": style["font_size"]}):
        figure, (by_batch, by_pool) = plt.subplots(
            1, 2, figsize=(2 * style["width_in"], style["height_in"]), layout="constrained"
        )
        for algorithm in timings["algorithm"].drop_duplicates():
            colour = style["colours"].get(algorithm)
            for axes, frame, x in ((by_batch, at_pool, "batch_size"), (by_pool, at_batch, "N")):
                points = frame[frame["algorithm"] == algorithm].sort_values(x)
                axes.plot(points[x], points["median_seconds"].clip(lower=floor), marker="o",
                          lw=style["line_width"], color=colour, label=algorithm)
        by_batch.set(xscale="log", yscale="log", xlabel="Batch size b", ylabel="Acquisition time (s, median)",
                     title=f"Pool size N = {largest_pool}")
        by_pool.set(xscale="log", yscale="log", xlabel="Pool size N", title=f"Batch size b = {largest_batch}")
        for axes, values in ((by_batch, at_pool["batch_size"]), (by_pool, at_batch["N"])):
            # Ticks at the measured sizes, written plainly (a log axis would print 2x10^0 for 2).
            ticks = sorted(int(v) for v in values.unique())
            axes.set_xticks(ticks, [str(tick) for tick in ticks])
            axes.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            axes.grid(alpha=0.3, which="both")
        # Outside both panels: BatchBALD's curve runs along the top, where a legend inside would hide it.
        figure.legend(*by_pool.get_legend_handles_labels(), loc="outside right upper", fontsize="small")
    return figure


def save_figure(figure: Figure, *paths: str | os.PathLike, dpi: int = 150) -> None:
    """Write one figure to every path (format from the extension), then free it."""
    try:
        for path in paths:
            file_format = Path(path).suffix.lstrip(".")  # the temp file's name says nothing about the format
            write_atomically(path, lambda tmp: figure.savefig(tmp, dpi=dpi, format=file_format))
    finally:
        plt.close(figure)
