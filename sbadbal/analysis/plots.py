"""Figures from aggregated tables: accuracy curves with differences to a reference, batch diagnostics, timings.

Every function takes plain frames and a style mapping (the workflow's `plots` config) and returns a figure;
`save_figure` writes it. matplotlib runs headless (Agg) so that the workflow works without a display.

Every algorithm is drawn in one look everywhere: its record (sbadbal/acquisition/records.py) holds a colour,
line style and marker; hue says the family (BALD blues, LBB reds and oranges, baselines green/purple/grey), a
dashed line says "power variant". The figure rules pass those looks (`registered`: name -> (colour, line,
marker), in the records' order, the legend's) for the algorithms a figure shows. A named variant (`LBB-w2`)
takes its base algorithm's look with a different shade and a hollow marker (see `algorithm_styles`).
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib
import matplotlib.colors
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sbadbal.runs.writers import write_atomically

DEFAULT_STYLE: dict[str, Any] = {
    "width_in": 6.4,
    "height_in": 4.4,
    "font_size": 10,
    "line_width": 1.8,
    "band_alpha": 0.25,
    "dpi": 150,
    # Colour overrides by algorithm name, applied over the registered looks (an empty mapping keeps them).
    "colours": {},
}


@dataclass(frozen=True)
class LineStyle:
    """How one algorithm is drawn: line colour, matplotlib line style, marker, and whether the marker is filled."""

    colour: str
    line: str
    marker: str
    filled: bool = True

    def line_kwargs(self, line_width: float) -> dict[str, Any]:
        return {
            "color": self.colour,
            "linestyle": self.line,
            "marker": self.marker,
            "markersize": 4.5,
            "markerfacecolor": self.colour if self.filled else "white",
            "markeredgecolor": self.colour,
            "lw": line_width,
        }


# A variant's modifications of its base's look, tried in order until the look is unused: a shade (> 0 towards
# white, < 0 towards black) and a marker; variants always have hollow markers.
VARIANT_SHADES: tuple[float, ...] = (0.45, -0.4, 0.7, -0.65)
VARIANT_MARKERS: tuple[str, ...] = ("d", "*", "h", "p", "X", "<", ">", "8")
# Names with no registered base: neutral colours, never a family hue.
FALLBACK_COLOURS: tuple[str, ...] = ("#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#000000")

REFERENCE_POINT_MARKER = {"marker": "*", "markersize": 10, "markeredgecolor": "black", "markeredgewidth": 0.6}


class ReferencePoint(NamedTuple):
    """A published accuracy to compare with: algorithm, number of labels, accuracy (%), +/- reading uncertainty."""

    algorithm: str
    labels: int
    accuracy: float
    uncertainty: float = 0.0


def _style(style: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = {**DEFAULT_STYLE, **(style or {})}
    unknown = sorted(set(merged) - set(DEFAULT_STYLE))
    if unknown:
        raise ValueError(f"unknown plot style keys {unknown}; valid keys: {sorted(DEFAULT_STYLE)}")
    return merged


def _shade(colour: str, amount: float) -> str:
    """The colour mixed towards white (amount > 0) or black (amount < 0) by |amount|."""
    rgb = np.array(matplotlib.colors.to_rgb(colour))
    target = np.ones(3) if amount > 0 else np.zeros(3)
    return matplotlib.colors.to_hex(rgb + abs(amount) * (target - rgb))


Registered = Mapping[str, Sequence[str]]  # algorithm name -> (colour, line style, marker), in legend order


def _registered(registered: Registered | None) -> dict[str, LineStyle]:
    return {name: LineStyle(*look) for name, look in (registered or {}).items()}


def base_algorithm(name: str, bases: Mapping[str, str] | None = None, registered: Registered | None = None) -> str | None:
    """The registered algorithm a name varies: from `bases` first, else the longest registered name that the name
    starts with followed by '-' (`LBB-code-w2` -> `LBB-code`); None when there is none."""
    known = registered or {}
    if name in known:
        return name
    if bases and name in bases:
        return bases[name] if bases[name] in known else None
    prefixes = [algorithm for algorithm in known if name.startswith(algorithm + "-")]
    return max(prefixes, key=len) if prefixes else None


def _variant_styles(base: LineStyle) -> Iterable[LineStyle]:
    for marker in VARIANT_MARKERS:
        for shade in VARIANT_SHADES:
            yield replace(base, colour=_shade(base.colour, shade), marker=marker, filled=False)


def _fallback_styles() -> Iterable[LineStyle]:
    for marker in VARIANT_MARKERS:
        for colour in FALLBACK_COLOURS:
            for line in ("-", "--", ":"):
                yield LineStyle(colour, line, marker, filled=False)


def algorithm_styles(
    names: Iterable[str], bases: Mapping[str, str] | None = None, colours: Mapping[str, str] | None = None,
    registered: Registered | None = None,
) -> dict[str, LineStyle]:
    """A distinct LineStyle for every name, in legend order (registered order, each variant after its base).

    Registered names take their record's look (`registered`); a variant takes the first unused modification of its
    base's look (`bases` maps variant -> base algorithm; without it, the name's prefix says); other names take
    neutral styles. `colours` overrides colours by name (the workflow's `plots.colours`).
    """
    names = list(dict.fromkeys(names))
    looks = _registered(registered)
    order = list(looks)

    def legend_key(name: str) -> tuple[int, int]:
        base = base_algorithm(name, bases, registered)
        return (order.index(base) if base else len(order), 0 if name == base else 1)

    styles: dict[str, LineStyle] = {}
    used = {looks[name] for name in names if name in looks}
    for name in sorted(names, key=legend_key):  # sorted() is stable: variants keep the order they were given
        if name in looks:
            chosen = looks[name]
        else:
            base = base_algorithm(name, bases, registered)
            candidates = _variant_styles(looks[base]) if base else _fallback_styles()
            chosen = next(candidate for candidate in candidates if candidate not in used)
            used.add(chosen)
        styles[name] = replace(chosen, colour=colours[name]) if colours and name in colours else chosen
    return styles


def accuracy_curve_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and population std (ddof = 0, as the original) of test accuracy over seeds per algorithm and label count."""
    return (
        runs.groupby(["algorithm", "labelled"], sort=False)["test_accuracy"]
        .agg(mean="mean", std=lambda s: s.std(ddof=0), seeds="count")
        .reset_index()
        .sort_values(["algorithm", "labelled"], kind="stable")
    )


def _mean_and_standard_error(grouped) -> pd.DataFrame:
    # Standard error of the mean over seeds (ddof = 1); one seed gives a mean without a band.
    return grouped.agg(mean="mean", se=lambda s: s.std(ddof=1) / np.sqrt(len(s)) if len(s) > 1 else 0.0,
                       seeds="count").reset_index()


def paired_differences(runs: pd.DataFrame, reference: str, *, value: str = "test_accuracy") -> pd.DataFrame:
    """Each algorithm's `value` minus the reference algorithm's, paired by seed (and batch size and label count),
    then mean and standard error over seeds per algorithm and label count. Seeds the reference lacks are dropped."""
    pair_keys = [column for column in ("batch_size", "seed", "labelled") if column in runs]
    reference_values = runs.loc[runs["algorithm"] == reference, [*pair_keys, value]]
    others = runs[runs["algorithm"] != reference]
    paired = others.merge(reference_values, on=pair_keys, suffixes=("", "_reference"))
    paired["difference"] = paired[value] - paired[f"{value}_reference"]
    summary = _mean_and_standard_error(paired.groupby(["algorithm", "labelled"], sort=False)["difference"])
    return summary.sort_values(["algorithm", "labelled"], kind="stable", ignore_index=True)


def default_reference(algorithms: Iterable[str], preferred: Sequence[str] = ("Random", "BALD")) -> str | None:
    """The first preferred algorithm that was run: differences are drawn against it."""
    present = set(algorithms)
    return next((name for name in preferred if name in present), None)


def run_caption(runs: pd.DataFrame, *, batch_size: int | None = None, k: int | None = None) -> str:
    """`b = 10, K = 10, seeds 42, 227, 346`: what a reader needs to weigh the curves."""
    parts = []
    if batch_size is None and "batch_size" in runs and runs["batch_size"].nunique() == 1:
        batch_size = int(runs["batch_size"].iloc[0])
    if batch_size is not None:
        parts.append(f"batch size b = {batch_size}")
    if k is not None:
        parts.append(f"K = {k} posterior samples")
    if "seed" in runs:
        seeds = sorted(runs["seed"].unique().tolist())
        parts.append(f"{len(seeds)} seed{'s' * (len(seeds) != 1)} ({', '.join(map(str, seeds))})")
    return ", ".join(parts)


def _rc(settings: Mapping[str, Any]) -> dict[str, Any]:
    # Panel titles at the text size: the default "large" overruns a 3.3 in column.
    return {"font.size": settings["font_size"], "axes.titlesize": "medium"}


def _integer_x_ticks(axes: Axes) -> None:
    axes.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=6))


def _draw_mean_band(axes: Axes, frame: pd.DataFrame, x: str, spread: str, style: LineStyle, settings, label: str):
    axes.plot(frame[x], frame["mean"], label=label, **style.line_kwargs(settings["line_width"]))
    axes.fill_between(frame[x], frame["mean"] - frame[spread], frame["mean"] + frame[spread],
                      color=style.colour, alpha=settings["band_alpha"], linewidth=0)


def _title(figure: Figure, title: str, caption: str, width_in: float, font_size: float) -> None:
    # Wrapped to the figure's width: experiment descriptions run to two lines.
    characters_per_line = max(int(width_in * 72 / (0.6 * font_size)), 30)
    lines = [textwrap.fill(line, characters_per_line) for line in (title, caption) if line]
    figure.suptitle("\n".join(lines), fontsize=font_size)


def _legend_below(figure: Figure, handles: list, labels: list[str]) -> None:
    # Below the panels: inside, ten entries would hide the curves.
    figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 5), fontsize="small",
                  frameon=False)


def plot_accuracy_curves(
    runs: pd.DataFrame,
    *,
    title: str,
    style: Mapping[str, Any] | None = None,
    caption: str | None = None,
    reference: str | None = "auto",
    reference_points: Iterable[ReferencePoint | tuple] = (),
    bases: Mapping[str, str] | None = None,
    registered: Registered | None = None,
    k: int | None = None,
) -> Figure:
    """Accuracy vs number of labels (mean line, mean +/- std band over seeds) and, beside it, each algorithm's
    accuracy minus the reference algorithm's paired by seed (mean +/- standard error), with zero marked.

    title: the experiment's description. caption: the line under it; by default batch size, K and the seeds.
    reference: the algorithm differences are taken to; "auto" = Random, else BALD; None = no difference panel.
    reference_points: published numbers (algorithm, labels, accuracy, +/- uncertainty), drawn as stars.
    bases: variant name -> base algorithm, for the variants' styles; registered: the algorithms' looks.
    """
    if runs.empty:
        raise ValueError(f"no runs to plot for {title!r}")
    settings = _style(style)
    algorithms = runs["algorithm"].drop_duplicates().tolist()
    styles = algorithm_styles(algorithms, bases, settings["colours"], registered)
    if reference == "auto":
        reference = default_reference(algorithms)
    show_differences = reference in algorithms and len(algorithms) > 1
    summary = accuracy_curve_summary(runs)
    caption = run_caption(runs, k=k) if caption is None else caption
    with plt.rc_context(_rc(settings)):
        figure, panels = plt.subplots(
            1, 2 if show_differences else 1, figsize=(settings["width_in"], settings["height_in"]),
            layout="constrained", squeeze=False,
        )
        accuracy_axes = panels[0, 0]
        for algorithm, line_style in styles.items():
            curve = summary[summary["algorithm"] == algorithm]
            _draw_mean_band(accuracy_axes, curve, "labelled", "std", line_style, settings, algorithm)
        handles, labels = accuracy_axes.get_legend_handles_labels()
        points = [ReferencePoint(*point) for point in reference_points]
        if points:
            for point in points:
                colour = styles[point.algorithm].colour if point.algorithm in styles else "black"
                accuracy_axes.errorbar(point.labels, point.accuracy, yerr=point.uncertainty or None,
                                       color=colour, capsize=2, lw=1, **REFERENCE_POINT_MARKER)
            handles.append(Line2D([], [], color="grey", linestyle="none", **REFERENCE_POINT_MARKER))
            labels.append("published (original repository)")
        accuracy_axes.set(xlabel="Number of labels", ylabel="Test accuracy (%)", title="mean ± std")
        if show_differences:
            differences = paired_differences(runs, reference)
            difference_axes = panels[0, 1]
            difference_axes.axhline(0.0, color=styles[reference].colour, lw=1, linestyle=styles[reference].line)
            for algorithm, line_style in styles.items():
                if algorithm != reference:
                    curve = differences[differences["algorithm"] == algorithm]
                    _draw_mean_band(difference_axes, curve, "labelled", "se", line_style, settings, algorithm)
            difference_axes.set(xlabel="Number of labels", ylabel=f"Accuracy − {reference} (points)",
                                title="paired by seed, ± SE")
        for axes in panels.flat:
            _integer_x_ticks(axes)
            axes.grid(alpha=0.3)
        _title(figure, title, caption, settings["width_in"], settings["font_size"])
        _legend_below(figure, handles, labels)
    return figure


def batch_diagnostics_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm and round: mean and standard error over seeds of the acquired batch's joint mutual information
    and, where `batch_sum_bald` is recorded, of its redundancy ratio joint MI / sum of BALD scores (1 = no overlap).
    Rounds without an acquisition (the last) are dropped."""
    frame = runs.dropna(subset=["batch_joint_mi"]).copy()
    measures = {"batch_joint_mi": frame["batch_joint_mi"]}
    if "batch_sum_bald" in frame:
        measures["redundancy"] = frame["batch_joint_mi"] / frame["batch_sum_bald"].where(frame["batch_sum_bald"] > 0)
    tables = []
    for measure, values in measures.items():
        grouped = frame.assign(value=values).dropna(subset=["value"]).groupby(["algorithm", "round"], sort=False)
        tables.append(_mean_and_standard_error(grouped["value"]).assign(measure=measure))
    return pd.concat(tables, ignore_index=True).sort_values(["measure", "algorithm", "round"], kind="stable")


def plot_batch_diagnostics(
    runs: pd.DataFrame,
    *,
    title: str,
    style: Mapping[str, Any] | None = None,
    caption: str | None = None,
    redundancy: bool = True,
    bases: Mapping[str, str] | None = None,
    registered: Registered | None = None,
    k: int | None = None,
) -> Figure:
    """Joint mutual information of each acquired batch against round (mean +/- SE over seeds) and, with
    `redundancy` and a `batch_sum_bald` column, joint MI / sum of the batch's BALD scores."""
    if "batch_joint_mi" not in runs or runs["batch_joint_mi"].isna().all():
        raise ValueError(f"no batch_joint_mi recorded for {title!r}")
    settings = _style(style)
    summary = batch_diagnostics_summary(runs)
    measures = {"batch_joint_mi": "Joint MI of the batch (nats)"}
    if redundancy and (summary["measure"] == "redundancy").any():
        measures["redundancy"] = "Joint MI / sum of BALD"
    styles = algorithm_styles(runs["algorithm"].drop_duplicates(), bases, settings["colours"], registered)
    caption = run_caption(runs, k=k) if caption is None else caption
    with plt.rc_context(_rc(settings)):
        figure, panels = plt.subplots(1, len(measures), figsize=(settings["width_in"], settings["height_in"]),
                                      layout="constrained", squeeze=False)
        for axes, (measure, label) in zip(panels.flat, measures.items()):
            of_measure = summary[summary["measure"] == measure]
            for algorithm, line_style in styles.items():
                curve = of_measure[of_measure["algorithm"] == algorithm]
                if not curve.empty:
                    _draw_mean_band(axes, curve, "round", "se", line_style, settings, algorithm)
            axes.set(xlabel="Acquisition round", ylabel=label)
            _integer_x_ticks(axes)
            axes.grid(alpha=0.3)
        if "redundancy" in measures:
            panels[0, -1].axhline(1.0, color="black", lw=0.8, linestyle=":")
        _title(figure, title, caption, settings["width_in"], settings["font_size"])
        _legend_below(figure, *panels[0, 0].get_legend_handles_labels())
    return figure


# Columns a timing table may hold for the spread over repeats, lowest and highest; drawn as error bars when present.
TIMING_SPREAD_COLUMNS = ("min_seconds", "max_seconds")


def timing_device(timings: pd.DataFrame) -> str:
    """The device's name: `device_name` (e.g. "NVIDIA H100 80GB HBM3") when recorded, else `device` ("cpu")."""
    for column in ("device_name", "device"):
        if column in timings:
            return ", ".join(sorted(timings[column].dropna().astype(str).unique())) or "unknown device"
    return "unknown device"


def plot_acquisition_timing(
    timings: pd.DataFrame, *, style: Mapping[str, Any] | None = None, title: str | None = None,
    bases: Mapping[str, str] | None = None, registered: Registered | None = None,
) -> Figure:
    """Log-log acquisition time: vs batch size at the largest pool (left), vs pool size at the largest batch.

    Markers are the median over repeats; error bars the min-max over repeats where the table has
    TIMING_SPREAD_COLUMNS. The device's name and the repeats are in the title.
    """
    if timings.empty:
        raise ValueError("no timings to plot")
    settings = _style(style)
    largest_pool = timings["N"].max()
    at_pool = timings[timings["N"] == largest_pool]
    largest_batch = timings["batch_size"].max()
    at_batch = timings[timings["batch_size"] == largest_batch]
    has_spread = all(column in timings for column in TIMING_SPREAD_COLUMNS)
    # Random and friends can take ~0 s; a log axis needs a floor.
    floor = max(timings["median_seconds"][timings["median_seconds"] > 0].min() / 2, 1e-7)
    styles = algorithm_styles(timings["algorithm"].drop_duplicates(), bases, settings["colours"], registered)
    repeats = f", {int(timings['repeats'].max())} repeats" if "repeats" in timings else ""
    spread = "median, min-max bars" if has_spread else "median"
    with plt.rc_context(_rc(settings)):
        figure, (by_batch, by_pool) = plt.subplots(
            1, 2, figsize=(settings["width_in"], settings["height_in"]), layout="constrained", sharey=True
        )
        for algorithm, line_style in styles.items():
            for axes, frame, x in ((by_batch, at_pool, "batch_size"), (by_pool, at_batch, "N")):
                points = frame[frame["algorithm"] == algorithm].sort_values(x)
                median = points["median_seconds"].clip(lower=floor)
                axes.plot(points[x], median, label=algorithm, **line_style.line_kwargs(settings["line_width"]))
                if has_spread:
                    below = median - points["min_seconds"].clip(lower=floor)
                    above = points["max_seconds"].clip(lower=floor) - median
                    axes.errorbar(points[x], median, yerr=[below.clip(lower=0), above.clip(lower=0)],
                                  color=line_style.colour, linestyle="none", capsize=2, lw=1)
        by_batch.set(xscale="log", yscale="log", xlabel="Batch size b", ylabel=f"Acquisition time (s, {spread})",
                     title=f"pool size N = {largest_pool}")
        by_pool.set(xscale="log", yscale="log", xlabel="Pool size N", title=f"batch size b = {largest_batch}")
        for axes, values in ((by_batch, at_pool["batch_size"]), (by_pool, at_batch["N"])):
            # Ticks at the measured sizes, written plainly (a log axis would print 2x10^0 for 2).
            ticks = sorted(int(v) for v in values.unique())
            axes.set_xticks(ticks, [str(tick) for tick in ticks])
            axes.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            axes.grid(alpha=0.3, which="both")
        _title(figure, title or "Acquisition time", f"on {timing_device(timings)}{repeats}", settings["width_in"],
               settings["font_size"])
        _legend_below(figure, *by_pool.get_legend_handles_labels())
    return figure


# savefig metadata that leaves the creation date out, per format (each format names it differently).
UNDATED_METADATA: Mapping[str, dict[str, None]] = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}


def save_figure(figure: Figure, *paths: str | os.PathLike, dpi: int = 150) -> None:
    """Write one figure to every path (format from the extension), then free it."""
    try:
        for path in paths:
            file_format = Path(path).suffix.lstrip(".")  # the temp file's name says nothing about the format
            # No creation date and fixed SVG element ids (a salt instead of random ones): the same figure gives the
            # same bytes, so a rerun does not look like a change.
            metadata = UNDATED_METADATA.get(file_format)
            with plt.rc_context({"svg.hashsalt": "sbadbal"}):
                write_atomically(path, lambda tmp: figure.savefig(tmp, dpi=dpi, format=file_format, metadata=metadata))
    finally:
        plt.close(figure)
