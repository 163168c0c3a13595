"""Figures from aggregated tables: accuracy curves with differences to a reference, batch diagnostics, timings.

Every function takes plain frames and a style mapping (the workflow's `plots` config) and returns a figure;
`save_figure` writes it. matplotlib runs headless (Agg) so that the workflow works without a display.

Every algorithm is drawn in one look everywhere: its record (sbadbal/acquisition/records.py) holds a colour,
line style and marker; hue says the family (BALD blues, LBB reds and oranges, baselines green/purple/grey), a
dashed line says "power variant". The figure rules pass those looks (`registered`: name -> (colour, line,
marker), in the records' order, the legend's) for the algorithms a figure shows. A named variant (`LBB-w2`)
takes its base algorithm's look with a different shade and a hollow marker (see `algorithm_styles`), or another
colour where every shade of its base lies too near a colour already in the figure: every colour in one figure is at
least MIN_COLOUR_DISTANCE (CIEDE2000, sbadbal/analysis/colours.py) from every other.

Every figure comes at two widths: the page's (`plots.width_in`, panels side by side) and a single column
(COLUMN_WIDTH_IN, panels stacked, no text under COLUMN_MIN_FONT_SIZE points). Bands are one standard error of the
mean over seeds everywhere, and the legend says so; the x axis of a learning curve is ticked at the label counts the
runs record.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from matplotlib.patches import Patch

from sbadbal.analysis.colours import far_from

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
# Colours for a variant none of whose shades is far enough from the figure's colours, and for names with no
# registered base; tried in order.
FALLBACK_COLOURS: tuple[str, ...] = ("#8c564b", "#000000", "#bcbd22", "#17becf", "#e6ab02", "#1b9e77", "#fb9a99",
                                     "#6a3d9a", "#b15928", "#999999", "#00429d", "#93003a")
COLUMN_WIDTH_IN = 3.3
COLUMN_MIN_FONT_SIZE = 8.0

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
        for colour in [_shade(base.colour, shade) for shade in VARIANT_SHADES] + list(FALLBACK_COLOURS):
            yield replace(base, colour=colour, marker=marker, filled=False)


def _fallback_styles() -> Iterable[LineStyle]:
    for marker in VARIANT_MARKERS:
        for line in ("-", "--", ":"):
            for colour in FALLBACK_COLOURS:
                yield LineStyle(colour, line, marker, filled=False)


def algorithm_styles(
    names: Iterable[str], bases: Mapping[str, str] | None = None, colours: Mapping[str, str] | None = None,
    registered: Registered | None = None,
) -> dict[str, LineStyle]:
    """A distinct LineStyle for every name, in legend order (registered order, each variant after its base).

    Registered names take their record's look (`registered`); a variant takes the first modification of its base's
    look whose colour lies at least MIN_COLOUR_DISTANCE from every colour already in the figure (`bases` maps
    variant -> base algorithm; without it, the name's prefix says); other names take neutral styles the same way.
    When no colour is left that far, the first unused style (another marker) is taken. `colours` overrides colours
    by name (the workflow's `plots.colours`).
    """
    names = list(dict.fromkeys(names))
    looks = _registered(registered)
    order = list(looks)

    def legend_key(name: str) -> tuple[int, int]:
        base = base_algorithm(name, bases, registered)
        return (order.index(base) if base else len(order), 0 if name == base else 1)

    styles: dict[str, LineStyle] = {}
    used = {looks[name] for name in names if name in looks}
    used_colours = [looks[name].colour for name in names if name in looks]
    for name in sorted(names, key=legend_key):  # sorted() is stable: variants keep the order they were given
        if name in looks:
            chosen = looks[name]
        else:
            base = base_algorithm(name, bases, registered)
            candidates = [c for c in (_variant_styles(looks[base]) if base else _fallback_styles()) if c not in used]
            chosen = next((c for c in candidates if far_from(c.colour, used_colours)), candidates[0])
            used.add(chosen)
            used_colours.append(chosen.colour)
        styles[name] = replace(chosen, colour=colours[name]) if colours and name in colours else chosen
    return styles


def _standard_error(values: pd.Series) -> float:
    # Standard error of the mean over seeds (ddof = 1); one seed gives a mean without a band.
    return values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0


def accuracy_curve_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean, population std (ddof = 0, as the original's tables) and standard error over seeds of test accuracy per
    algorithm and label count. The figures draw mean +/- standard error."""
    return (
        runs.groupby(["algorithm", "labelled"], sort=False)["test_accuracy"]
        .agg(mean="mean", std=lambda s: s.std(ddof=0), se=_standard_error, seeds="count")
        .reset_index()
        .sort_values(["algorithm", "labelled"], kind="stable")
    )


def _mean_and_standard_error(grouped) -> pd.DataFrame:
    return grouped.agg(mean="mean", se=_standard_error, seeds="count").reset_index()


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
    """`b = 10, K = 10, 3 seeds`: the facts a reader needs to weigh the curves, short enough for one line at 3.3 in
    (the seeds themselves and the experiment's description belong in the caption)."""
    parts = []
    if batch_size is None and "batch_size" in runs and runs["batch_size"].nunique() == 1:
        batch_size = int(runs["batch_size"].iloc[0])
    if batch_size is not None:
        parts.append(f"b = {batch_size}")
    if k is not None:
        parts.append(f"K = {k}")
    if "seed" in runs:
        seeds = runs["seed"].nunique()
        parts.append(f"{seeds} seed{'s' * (seeds != 1)}")
    return ", ".join(parts)


def label_ticks(counts: Iterable[float], most: int = 7) -> list[int]:
    """Tick positions at recorded label counts: all of them when there are at most `most`, else every k-th from the
    first, with the last (the budget) always among them."""
    recorded = sorted({int(count) for count in counts})
    if len(recorded) <= most:
        return recorded
    step = -(-(len(recorded) - 1) // (most - 1))  # ceiling: at most `most` ticks
    ticks = recorded[::step]
    if ticks[-1] != recorded[-1]:
        # the budget replaces the last regular tick when it would crowd it (closer than half a step)
        ticks = ticks[:-1] + [recorded[-1]] if len(recorded) - 1 - recorded.index(ticks[-1]) < step / 2 else \
            ticks + [recorded[-1]]
    return ticks


def _layout(settings: Mapping[str, Any], panels: int, column: bool, legend_entries: int) -> dict[str, Any]:
    """Figure size, grid shape, font size and legend columns for the page's width or a single column."""
    if not column:
        return {"figsize": (settings["width_in"], settings["height_in"]), "shape": (1, panels),
                "font_size": settings["font_size"], "legend_columns": min(legend_entries, 5)}
    legend_columns = min(legend_entries, 2)
    legend_rows = -(-legend_entries // legend_columns)
    return {"figsize": (COLUMN_WIDTH_IN, 2.1 * panels + 0.55 + 0.17 * legend_rows), "shape": (panels, 1),
            "font_size": max(settings["font_size"], COLUMN_MIN_FONT_SIZE), "legend_columns": legend_columns}


def _rc(font_size: float) -> dict[str, Any]:
    # Every text at the one size (titles, labels, ticks, legend): at 3.3 in nothing may fall under 8 pt.
    return {"font.size": font_size, "axes.titlesize": "medium", "axes.labelsize": "medium",
            "xtick.labelsize": "medium", "ytick.labelsize": "medium", "legend.fontsize": "medium",
            "figure.titlesize": "medium"}


def _draw_mean_band(axes: Axes, frame: pd.DataFrame, x: str, style: LineStyle, settings, label: str) -> None:
    """The mean as a line, mean +/- one standard error as a band (column `se`)."""
    frame = frame.sort_values(x)
    axes.plot(frame[x], frame["mean"], label=label, **style.line_kwargs(settings["line_width"]))
    axes.fill_between(frame[x], frame["mean"] - frame["se"], frame["mean"] + frame["se"],
                      color=style.colour, alpha=settings["band_alpha"], linewidth=0)


BAND_LABEL = "band: ± 1 SE"


def _band_handle(settings: Mapping[str, Any]) -> Patch:
    return Patch(facecolor="#555555", alpha=max(settings["band_alpha"], 0.3), label=BAND_LABEL)


def _title(figure: Figure, title: str, facts: str) -> None:
    # The experiment's name and, under it, the facts (b, K, seeds); the description goes into the caption.
    figure.suptitle("\n".join(line for line in (title, facts) if line))


def _legend_below(figure: Figure, handles: list, labels: list[str], columns: int) -> None:
    # Below the panels: inside, ten entries would hide the curves.
    figure.legend(handles, labels, loc="outside lower center", ncols=columns, frameon=False,
                  handlelength=2.2, columnspacing=1.0)


def _label_axis(axes: Axes, counts: Iterable[float]) -> None:
    ticks = label_ticks(counts)
    axes.set_xticks(ticks, [str(tick) for tick in ticks])
    axes.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())


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
    column: bool = False,
) -> Figure:
    """Accuracy vs number of labels and, beside it (below it in a `column` figure), each algorithm's accuracy
    minus the reference algorithm's paired by seed, with zero marked; both mean +/- one standard error over seeds.

    title: the experiment's name. caption: the line under it; by default batch size, K and the number of seeds.
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
    points = [ReferencePoint(*point) for point in reference_points]
    layout = _layout(settings, 2 if show_differences else 1, column, len(algorithms) + 1 + bool(points))
    with plt.rc_context(_rc(layout["font_size"])):
        figure, panels = plt.subplots(*layout["shape"], figsize=layout["figsize"], layout="constrained",
                                      squeeze=False)
        accuracy_axes = panels.flat[0]
        for algorithm, line_style in styles.items():
            _draw_mean_band(accuracy_axes, summary[summary["algorithm"] == algorithm], "labelled", line_style,
                            settings, algorithm)
        handles, labels = accuracy_axes.get_legend_handles_labels()
        if points:
            for point in points:
                colour = styles[point.algorithm].colour if point.algorithm in styles else "black"
                accuracy_axes.errorbar(point.labels, point.accuracy, yerr=point.uncertainty or None,
                                       color=colour, capsize=2, lw=1, **REFERENCE_POINT_MARKER)
            handles.append(Line2D([], [], color="grey", linestyle="none", **REFERENCE_POINT_MARKER))
            labels.append("published (original)")
        handles.append(_band_handle(settings))
        labels.append(BAND_LABEL)
        accuracy_axes.set(xlabel="Number of labels", ylabel="Test accuracy (%)", title="mean over seeds")
        if show_differences:
            differences = paired_differences(runs, reference)
            difference_axes = panels.flat[1]
            difference_axes.axhline(0.0, color=styles[reference].colour, lw=1, linestyle=styles[reference].line)
            for algorithm, line_style in styles.items():
                if algorithm != reference:
                    _draw_mean_band(difference_axes, differences[differences["algorithm"] == algorithm], "labelled",
                                    line_style, settings, algorithm)
            difference_axes.set(xlabel="Number of labels", ylabel=f"Accuracy − {reference} (points)",
                                title="paired by seed")
        for axes in panels.flat:
            _label_axis(axes, runs["labelled"])
            axes.grid(alpha=0.3)
        _title(figure, title, caption)
        _legend_below(figure, handles, labels, layout["legend_columns"])
    return figure


def batch_diagnostics_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm and round: mean and standard error over seeds of the acquired batch's joint mutual information
    and, where `batch_sum_bald` is recorded, of its redundancy ratio joint MI / sum of BALD scores (1 = no overlap);
    `labelled` is the label count at which the batch was acquired (the runs' count of that round). Rounds without an
    acquisition (the last) are dropped."""
    frame = runs.dropna(subset=["batch_joint_mi"]).copy()
    measures = {"batch_joint_mi": frame["batch_joint_mi"]}
    if "batch_sum_bald" in frame:
        measures["redundancy"] = frame["batch_joint_mi"] / frame["batch_sum_bald"].where(frame["batch_sum_bald"] > 0)
    tables = []
    for measure, values in measures.items():
        grouped = frame.assign(value=values).dropna(subset=["value"]).groupby(["algorithm", "round"], sort=False)
        summary = _mean_and_standard_error(grouped["value"])
        summary["labelled"] = grouped["labelled"].min().to_numpy() if "labelled" in frame else summary["round"]
        tables.append(summary.assign(measure=measure))
    return pd.concat(tables, ignore_index=True).sort_values(["measure", "algorithm", "round"], kind="stable")


REDUNDANCY_REFERENCE_LABEL = "1 = picks share no information"


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
    column: bool = False,
) -> Figure:
    """Joint mutual information of each acquired batch against the label count at which it was acquired (mean +/-
    one standard error over seeds) and, with `redundancy` and a `batch_sum_bald` column, joint MI / sum of the
    batch's BALD scores, with its reference line at 1 labelled."""
    if "batch_joint_mi" not in runs or runs["batch_joint_mi"].isna().all():
        raise ValueError(f"no batch_joint_mi recorded for {title!r}")
    settings = _style(style)
    summary = batch_diagnostics_summary(runs)
    measures = {"batch_joint_mi": "Joint MI of the batch (nats)"}
    if redundancy and (summary["measure"] == "redundancy").any():
        measures["redundancy"] = "Joint MI / sum of BALD"
    styles = algorithm_styles(runs["algorithm"].drop_duplicates(), bases, settings["colours"], registered)
    caption = run_caption(runs, k=k) if caption is None else caption
    layout = _layout(settings, len(measures), column, len(styles) + 1)
    with plt.rc_context(_rc(layout["font_size"])):
        figure, panels = plt.subplots(*layout["shape"], figsize=layout["figsize"], layout="constrained",
                                      squeeze=False)
        for axes, (measure, label) in zip(panels.flat, measures.items()):
            of_measure = summary[summary["measure"] == measure]
            for algorithm, line_style in styles.items():
                curve = of_measure[of_measure["algorithm"] == algorithm]
                if not curve.empty:
                    _draw_mean_band(axes, curve, "labelled", line_style, settings, algorithm)
            axes.set(xlabel="Labels when the batch was acquired", ylabel=label)
            _label_axis(axes, summary["labelled"])
            axes.grid(alpha=0.3)
        if "redundancy" in measures:
            axes = panels.flat[-1]
            axes.axhline(1.0, color="black", lw=0.8, linestyle=":")
            axes.text(0.02, 1.0, REDUNDANCY_REFERENCE_LABEL, transform=axes.get_yaxis_transform(), va="bottom",
                      ha="left")
            axes.set_ylim(top=max(axes.get_ylim()[1], 1.12))
        handles, labels = panels.flat[0].get_legend_handles_labels()
        _title(figure, title, caption)
        _legend_below(figure, [*handles, _band_handle(settings)], [*labels, BAND_LABEL], layout["legend_columns"])
    return figure


def accuracy_time_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm and round, means over seeds of test accuracy (with its standard error) and of the seconds spent
    before that round's accuracy was known: `acquisition_seconds_cumulative`, the acquisitions of the earlier rounds;
    `total_seconds_cumulative`, the training of this and every earlier round plus the earlier rounds' pool scoring and
    acquisition (test evaluation is not timed)."""
    frame = runs.sort_values(["algorithm", "seed", "round"]).copy()
    keys = [column for column in ("batch_size", "algorithm", "seed") if column in frame]
    acquisition = frame["acquisition_seconds"].fillna(0)
    after_this_round = frame["score_seconds"].fillna(0) + acquisition
    spent = frame.assign(acquisition=acquisition, total=frame["train_seconds"].fillna(0) + after_this_round)
    through = spent.groupby(keys, sort=False)[["acquisition", "total"]].cumsum()
    frame["acquisition_seconds_cumulative"] = through["acquisition"] - acquisition
    frame["total_seconds_cumulative"] = through["total"] - after_this_round
    grouped = frame.groupby(["algorithm", "round"], sort=False)
    summary = grouped.agg(labelled=("labelled", "min"), mean=("test_accuracy", "mean"),
                          se=("test_accuracy", _standard_error), seeds=("seed", "nunique"),
                          acquisition_seconds_cumulative=("acquisition_seconds_cumulative", "mean"),
                          total_seconds_cumulative=("total_seconds_cumulative", "mean")).reset_index()
    return summary.sort_values(["algorithm", "round"], kind="stable", ignore_index=True)


def _plain_log_ticks(axes: Axes) -> None:
    """x ticks of a log axis written plainly (0.02, not 2x10^-2): at powers of ten over more than 2.5 decades
    (1, 2 and 5 overprint each other there: "0.0050.010.02"), else at 1, 2 and 5 times them, else every digit when
    the range holds fewer than two of those; unlabelled minor ticks at the other digits."""
    low, high = axes.get_xlim()
    exponents = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    choices = ((1,), (1, 2, 5), range(1, 10)) if math.log10(high / low) > 2.5 else ((1, 2, 5), range(1, 10))
    for multiples in choices:
        ticks = [m * 10.0**e for e in exponents for m in multiples if low <= m * 10.0**e <= high]
        if len(ticks) >= 2:
            break
    axes.set_xticks(ticks, [f"{tick:g}" for tick in ticks])
    unlabelled = [m * 10.0**e for e in exponents for m in range(1, 10) if low <= m * 10.0**e <= high]
    axes.set_xticks([tick for tick in unlabelled if tick not in ticks], minor=True)
    axes.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes.set_xlim(low, high)


def plot_accuracy_vs_seconds(
    runs: pd.DataFrame,
    *,
    title: str,
    style: Mapping[str, Any] | None = None,
    caption: str | None = None,
    bases: Mapping[str, str] | None = None,
    registered: Registered | None = None,
    k: int | None = None,
    column: bool = False,
) -> Figure:
    """Test accuracy against cumulative acquisition seconds (left) and cumulative total seconds (right), one point
    per round, means over seeds (accuracy +/- one standard error), log x axes. The initial model (no acquisition
    yet, 0 s) is left out of the acquisition panel, whose log axis cannot show 0."""
    if runs.empty:
        raise ValueError(f"no runs to plot for {title!r}")
    settings = _style(style)
    summary = accuracy_time_summary(runs)
    styles = algorithm_styles(runs["algorithm"].drop_duplicates(), bases, settings["colours"], registered)
    caption = run_caption(runs, k=k) if caption is None else caption
    layout = _layout(settings, 2, column, len(styles) + 1)
    panels_spec = (("acquisition_seconds_cumulative", "Cumulative acquisition time (s)"),
                   ("total_seconds_cumulative", "Cumulative total time (s)"))
    with plt.rc_context(_rc(layout["font_size"])):
        figure, panels = plt.subplots(*layout["shape"], figsize=layout["figsize"], layout="constrained",
                                      squeeze=False, sharey=True)
        for axes, (x, label) in zip(panels.flat, panels_spec):
            for algorithm, line_style in styles.items():
                curve = summary[(summary["algorithm"] == algorithm) & (summary[x] > 0)]
                if not curve.empty:
                    _draw_mean_band(axes, curve, x, line_style, settings, algorithm)
            axes.set(xscale="log", xlabel=label)
            _plain_log_ticks(axes)
            axes.grid(alpha=0.3, which="major")
        panels.flat[0].set(ylabel="Test accuracy (%)")
        if column:
            panels.flat[1].set(ylabel="Test accuracy (%)")
        handles, labels = panels.flat[1].get_legend_handles_labels()
        _title(figure, title, caption)
        _legend_below(figure, [*handles, _band_handle(settings)], [*labels, BAND_LABEL], layout["legend_columns"])
    return figure


def timing_spread(timings: pd.DataFrame) -> pd.DataFrame:
    """The timing table with `min_seconds` and `max_seconds` over repeats, from `repeat_seconds` (every timed call,
    space-separated) when the table has no such columns."""
    if all(column in timings for column in TIMING_SPREAD_COLUMNS) or "repeat_seconds" not in timings:
        return timings
    repeats = timings["repeat_seconds"].astype(str).str.split().apply(lambda cells: [float(c) for c in cells])
    return timings.assign(min_seconds=repeats.apply(min), max_seconds=repeats.apply(max))


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
    bases: Mapping[str, str] | None = None, registered: Registered | None = None, column: bool = False,
) -> Figure:
    """Log-log acquisition time: vs batch size at the largest pool (left), vs pool size at the largest batch.

    Markers are the median over repeats; error bars the min-max over repeats where the table has them (or every
    repeat's seconds, `repeat_seconds`). The device's name, the repeats and what is drawn are under the title.
    """
    if timings.empty:
        raise ValueError("no timings to plot")
    settings = _style(style)
    timings = timing_spread(timings)
    largest_pool = timings["N"].max()
    at_pool = timings[timings["N"] == largest_pool]
    largest_batch = timings["batch_size"].max()
    at_batch = timings[timings["batch_size"] == largest_batch]
    has_spread = all(column in timings for column in TIMING_SPREAD_COLUMNS)
    # Random and friends can take ~0 s; a log axis needs a floor.
    floor = max(timings["median_seconds"][timings["median_seconds"] > 0].min() / 2, 1e-7)
    styles = algorithm_styles(timings["algorithm"].drop_duplicates(), bases, settings["colours"], registered)
    most_repeats = int(timings["repeats"].max()) if "repeats" in timings else None
    repeats = f", {most_repeats} repeat{'s' * (most_repeats != 1)}" if most_repeats is not None else ""
    # One call per case has no spread to draw.
    has_spread = has_spread and (most_repeats is None or most_repeats > 1)
    spread = "median, min-max bars" if has_spread else "median"
    layout = _layout(settings, 2, column, len(styles))
    with plt.rc_context(_rc(layout["font_size"])):
        figure, panels = plt.subplots(*layout["shape"], figsize=layout["figsize"], layout="constrained",
                                      sharey=True, squeeze=False)
        by_batch, by_pool = panels.flat
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
        by_batch.set(xscale="log", yscale="log", xlabel=f"Batch size b (pool size N = {largest_pool})",
                     ylabel="Acquisition time (s)")
        by_pool.set(xscale="log", yscale="log", xlabel=f"Pool size N (batch size b = {largest_batch})")
        if column:
            by_pool.set(ylabel="Acquisition time (s)")
        for axes, values in ((by_batch, at_pool["batch_size"]), (by_pool, at_batch["N"])):
            # Ticks at the measured sizes, written plainly (a log axis would print 2x10^0 for 2).
            ticks = sorted(int(v) for v in values.unique())
            axes.set_xticks(ticks, [str(tick) for tick in ticks])
            axes.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            axes.grid(alpha=0.3, which="both")
        _title(figure, title or "Acquisition time", f"on {timing_device(timings)}{repeats}: {spread}")
        _legend_below(figure, *by_pool.get_legend_handles_labels(), layout["legend_columns"])
    return figure


# savefig metadata that leaves the creation date out, per format (each format names it differently).
UNDATED_METADATA: Mapping[str, dict[str, None]] = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}


def save_at_both_widths(draw: Callable[..., Figure], output: Any, *, dpi: int) -> None:
    """`draw(column=...)` at the page's width to output.pdf/.png/.svg and at a 3.3 in column to
    output.column_pdf/.column_png (the names every figure rule gives its outputs)."""
    widths = {False: (output.pdf, output.png, output.svg), True: (output.column_pdf, output.column_png)}
    for column, paths in widths.items():
        save_figure(draw(column=column), *paths, dpi=dpi)


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
