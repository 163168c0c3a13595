"""The original repository's published numbers (references/original_repository.yaml) and our numbers next to them.

Those numbers are repository artifacts (stored notebook outputs, the README figure, development runs), not the
paper's tables; every value carries its source and how it was read. Names are ours: the original code's LBB and PLBB
are our LBB-code and PLBB-code (original_name keeps theirs). Torch-free.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sbadbal.analysis.claims import bench_ratio, first_acquisition_ratio, t_interval
from sbadbal.analysis.markdown import format_cell, markdown_table
from sbadbal.analysis.reference_file import REFERENCE_FIELDS as REQUIRED_FIELDS

QUANTITIES = ("test_accuracy", "first_acquisition_seconds")
SETTING_FIELDS = ("dataset", "uncertainty", "model", "k", "batch_size", "initial_size", "budget", "pool", "seeds")
# Ratios of the timing reference's means that the comparison reports (the original's "about 22x" and "about 14x").
TIMING_RATIOS = (("BatchBALD", "LBB-code"), ("LBB-code", "BALD"))
# Our greedy LBB is the method the claims are about; its ratios are shown next to the code's LBB-code ones.
OUR_COUNTERPART = {"LBB-code": "LBB"}


@dataclass(frozen=True)
class ReferenceValue:
    algorithm: str  # our name
    original_name: str  # the name at the source
    value: float
    labelled: int | None = None  # label count of an accuracy value
    std: float | None = None  # where the source published one


@dataclass(frozen=True)
class Reference:
    id: str
    quantity: str
    source: Mapping[str, Any]
    reading: str
    precision: float | None
    setting: Mapping[str, Any]
    values: tuple[ReferenceValue, ...]

    @property
    def source_text(self) -> str:
        return f"{self.source.get('artifact', '?')} @ {self.source.get('commit', '?')}"


def _fail(where: str, message: str) -> None:
    raise ValueError(f"{where}: {message}")


def _number(where: str, value: Any, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        _fail(where, f"expected a finite number, got {value!r}")
    return float(value)


def _parse_value(where: str, raw: Any, quantity: str) -> ReferenceValue:
    if not isinstance(raw, Mapping):
        _fail(where, f"expected a mapping, got {raw!r}")
    unknown = sorted(set(raw) - {"algorithm", "original_name", "value", "labelled", "std"})
    if unknown:
        _fail(where, f"unknown fields {unknown}")
    # Our algorithm's name, or "*" for a value shared by every algorithm (the accuracy of the initial labelled set);
    # the configuration model checks the names of the entries a suite uses against the records.
    algorithm = raw.get("algorithm")
    if not isinstance(algorithm, str) or not algorithm:
        _fail(where, f"algorithm (our name, or * for all) is required, got {algorithm!r}")
    if not isinstance(raw.get("original_name"), str):
        _fail(where, "original_name (the name at the source) is required")
    labelled = raw.get("labelled")
    if quantity == "test_accuracy" and (isinstance(labelled, bool) or not isinstance(labelled, int) or labelled < 1):
        _fail(where, f"an accuracy needs its label count (labelled, a positive integer), got {labelled!r}")
    value = _number(f"{where}.value", raw.get("value"))
    if quantity == "test_accuracy" and not 0 <= value <= 100:
        _fail(where, f"accuracy {value} is not a percentage")
    return ReferenceValue(algorithm, raw["original_name"], value, labelled,
                          _number(f"{where}.std", raw.get("std"), optional=True))


def parse_reference(raw: Any, where: str) -> Reference:
    """One validated reference entry; every error names the entry and field."""
    if not isinstance(raw, Mapping):
        _fail(where, f"expected a mapping, got {type(raw).__name__}")
    missing = [name for name in REQUIRED_FIELDS if name not in raw]
    if missing:
        _fail(where, f"missing fields {missing}")
    unknown = [name for name in raw if name not in REQUIRED_FIELDS]
    if unknown:
        _fail(where, f"unknown field {unknown[0]!r}; the fields of an entry: {', '.join(REQUIRED_FIELDS)}")
    where = f"{where} ({raw['id']})"
    if raw["quantity"] not in QUANTITIES:
        _fail(where, f"quantity {raw['quantity']!r} is not one of {QUANTITIES}")
    if not isinstance(raw["source"], Mapping) or not {"artifact", "repository", "commit"} <= set(raw["source"]):
        _fail(where, "source needs artifact, repository and commit")
    if not isinstance(raw["reading"], str) or not raw["reading"].strip():
        _fail(where, "reading (how the numbers were obtained) must be a non-empty text")
    precision = _number(f"{where}.precision", raw["precision"], optional=True)
    if not isinstance(raw["setting"], Mapping) or set(SETTING_FIELDS) - set(raw["setting"]):
        _fail(where, f"setting needs {list(SETTING_FIELDS)} (null where unknown)")
    if not isinstance(raw["values"], list) or not raw["values"]:
        _fail(where, "values must be a non-empty list")
    values = tuple(_parse_value(f"{where}.values[{i}]", value, raw["quantity"]) for i, value in enumerate(raw["values"]))
    keys = [(value.algorithm, value.labelled) for value in values]
    if len(set(keys)) != len(keys):
        _fail(where, "an (algorithm, labelled) pair appears twice")
    return Reference(str(raw["id"]), raw["quantity"], dict(raw["source"]), raw["reading"], precision,
                     dict(raw["setting"]), values)


def load_references(path: str | Path) -> dict[str, Reference]:
    """The reference file's entries by id, validated; the file must say they are repository artifacts."""
    from sbadbal.strict_yaml import load_yaml_file

    document = load_yaml_file(path)  # duplicate keys and YAML errors as one line naming the file (a ValueError)
    if not isinstance(document, Mapping) or "references" not in document:
        raise ValueError(f"{path}: expected a mapping with a 'references' list")
    if "not paper tables" not in str(document.get("kind", "")):
        raise ValueError(f"{path}: kind must say that the numbers are repository artifacts, not paper tables")
    references = [parse_reference(raw, f"{path}: references[{i}]") for i, raw in enumerate(document["references"])]
    ids = [reference.id for reference in references]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: duplicate reference ids {sorted({i for i in ids if ids.count(i) > 1})}")
    return {reference.id: reference for reference in references}


def setting_mismatches(reference: Reference, experiment: Mapping[str, Any]) -> list[str]:
    """Where an experiment's config (the workflow's experiment mapping) departs from a reference's setting.

    Compares dataset, batch size (one of the experiment's batch_sizes), initial_size, budget (the reference's
    largest label count when it has no budget), and for MC dropout K (k_acquisition). An empty list: comparable.
    """
    setting, found = reference.setting, []

    def differs(name: str, ours: Any, theirs: Any) -> None:
        if theirs is not None and ours != theirs:
            found.append(f"{name}: ours {ours!r}, reference {theirs!r}")

    differs("dataset", experiment.get("dataset"), setting.get("dataset"))
    if setting.get("batch_size") is not None and setting["batch_size"] not in experiment.get("batch_sizes", []):
        found.append(f"batch_size: ours {experiment.get('batch_sizes')!r}, reference {setting['batch_size']!r}")
    differs("initial_size", experiment.get("initial_size"), setting.get("initial_size"))
    differs("budget", experiment.get("budget"), setting.get("budget"))
    uncertainty = experiment.get("uncertainty", {})
    if uncertainty.get("method") == "mc_dropout":
        differs("k", uncertainty.get("k_acquisition"), setting.get("k"))
    return found


COMPARISON_COLUMNS = ("reference", "source", "reading", "algorithm", "original_name", "labelled", "reference_value",
                      "reference_precision", "ours_mean", "ours_se", "ours_n", "difference", "status")


def _ours_at(runs: pd.DataFrame, algorithm: str, labelled: int) -> pd.Series:
    """Our accuracy per seed at a label count; '*' averages every algorithm of a seed (they share the initial set)."""
    at = runs[runs["labelled"] == labelled]
    if algorithm != "*":
        at = at[at["algorithm"] == algorithm]
    return at.groupby("seed")["test_accuracy"].mean()


def reference_comparison(runs: pd.DataFrame | None, reference_entries: Iterable[Reference]) -> pd.DataFrame:
    """Our mean +- standard error over seeds at each accuracy reference's label counts, next to the reference value,
    and the difference ours - reference; status 'ours not run' where we have no run at that algorithm and count.

    runs: one experiment (its batch size is taken from the reference's setting when the table holds several).
    """
    rows = []
    for reference in reference_entries:
        if reference.quantity != "test_accuracy":
            continue
        ours_runs = runs if runs is not None else pd.DataFrame(
            columns=["batch_size", "algorithm", "seed", "labelled", "test_accuracy"])
        batch_size = reference.setting.get("batch_size")
        if batch_size is not None and "batch_size" in ours_runs:
            ours_runs = ours_runs[ours_runs["batch_size"] == batch_size]
        for value in reference.values:
            per_seed = _ours_at(ours_runs, value.algorithm, value.labelled)
            interval = t_interval(per_seed.to_numpy(), 0.95)
            ran = interval.n > 0
            rows.append({
                "reference": reference.id, "source": reference.source_text, "reading": reference.reading,
                "algorithm": value.algorithm, "original_name": value.original_name, "labelled": value.labelled,
                "reference_value": value.value, "reference_precision": reference.precision,
                "ours_mean": interval.estimate, "ours_se": interval.se, "ours_n": interval.n,
                "difference": interval.estimate - value.value if ran else math.nan,
                "status": "compared" if ran else "ours not run",
            })
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def reference_points(reference_entries: Iterable[Reference], *, batch_size: int | None = None) -> list[tuple]:
    """(algorithm, labels, accuracy, +/- precision) of every accuracy value, for drawing on an accuracy figure
    (sbadbal.analysis.plots.ReferencePoint's fields); references of another batch size are left out."""
    points = []
    for reference in reference_entries:
        if reference.quantity != "test_accuracy":
            continue
        if batch_size is not None and reference.setting.get("batch_size") not in (None, batch_size):
            continue
        points += [(value.algorithm, int(value.labelled), float(value.value), float(reference.precision or 0.0))
                   for value in reference.values if value.labelled is not None]
    return points


def timing_references(reference_entries: Iterable[Reference]) -> pd.DataFrame:
    """The ratios of the timing references' means (BatchBALD / LBB-code about 22x, LBB-code / BALD about 14x)."""
    rows = []
    for reference in reference_entries:
        if reference.quantity != "first_acquisition_seconds":
            continue
        seconds = {value.algorithm: value.value for value in reference.values}
        for numerator, denominator in TIMING_RATIOS:
            if numerator in seconds and seconds.get(denominator, 0) > 0:
                rows.append({"reference": reference.id, "source": reference.source_text, "numerator": numerator,
                             "denominator": denominator, "reference_ratio": seconds[numerator] / seconds[denominator]})
    return pd.DataFrame(rows, columns=["reference", "source", "numerator", "denominator", "reference_ratio"])


TIMING_COLUMNS = ("reference", "numerator", "denominator", "reference_ratio", "ours_from", "ours_ratio", "ours_ci_low",
                  "ours_ci_high", "ours_n", "status", "note")


def timing_reference_comparison(
    reference_entries: Iterable[Reference], timings: pd.DataFrame | None = None, runs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each reference ratio next to ours: from the benchmark at its largest pool and batch size, and from the runs'
    first acquisitions paired by seed; for LBB-code also with our greedy LBB in its place."""
    rows = []
    for reference in timing_references(reference_entries).itertuples(index=False):
        pairs = [(reference.numerator, reference.denominator)]
        pairs += [(OUR_COUNTERPART.get(reference.numerator, reference.numerator),
                   OUR_COUNTERPART.get(reference.denominator, reference.denominator))]
        for numerator, denominator in dict.fromkeys(pairs):
            bench, case = bench_ratio(timings, numerator, denominator)
            sources = [(f"benchmark, N = {case[0]}, b = {case[1]}" if case else "benchmark", bench)]
            if runs is not None and not runs.empty:
                sources.append(("first acquisition, paired by seed", first_acquisition_ratio(runs, numerator, denominator)))
            for ours_from, interval in sources:
                rows.append({
                    "reference": reference.reference, "numerator": numerator, "denominator": denominator,
                    "reference_ratio": reference.reference_ratio, "ours_from": ours_from,
                    "ours_ratio": interval.estimate, "ours_ci_low": interval.ci_low, "ours_ci_high": interval.ci_high,
                    "ours_n": interval.n, "status": "compared" if interval.n else "ours not run",
                    "note": "" if (numerator, denominator) == pairs[0] else "our greedy LBB in place of the code's LBB",
                })
    return pd.DataFrame(rows, columns=list(TIMING_COLUMNS))


def _interval_cell(estimate: float, low: float, high: float) -> str:
    if pd.isna(estimate):
        return ""
    return format_cell(estimate) + ("" if pd.isna(low) else f" [{format_cell(low)}, {format_cell(high)}]")


def markdown_reference_comparison(comparison: pd.DataFrame, timing: pd.DataFrame | None = None) -> str:
    """The comparison tables, headed by what the reference numbers are: human column names with their units, our
    value with its error in one cell (standard error for accuracy, 95% interval for ratios). The CSV keeps every
    column under its machine name."""
    text = ("Reference numbers are the original repository's artifacts (notebook outputs, README figure, development "
            "runs), not the paper's tables; their LBB/PLBB are the original code's (our LBB-code/PLBB-code).\n\n")
    if not comparison.empty:
        for reference, rows in comparison.groupby("reference", sort=False):
            first = rows.iloc[0]
            body = [[row.algorithm, str(row.original_name), str(int(row.labelled)), format_cell(row.reference_value),
                     "" if pd.isna(row.ours_mean) else f"{format_cell(row.ours_mean, 2)} ± {format_cell(row.ours_se, 2)}",
                     str(int(row.ours_n)), format_cell(row.difference, 2), row.status]
                    for row in rows.itertuples(index=False)]
            text += (f"{reference}: {first['source']}; {first['reading']}\n\n"
                     + markdown_table(["algorithm", "their name", "labels", "published (%)", "ours (%), mean ± SE",
                                       "seeds", "ours − published (points)", "status"], body) + "\n")
    if timing is not None and not timing.empty:
        body = [[f"{row.numerator} / {row.denominator}", format_cell(row.reference_ratio), row.ours_from,
                 _interval_cell(row.ours_ratio, row.ours_ci_low, row.ours_ci_high), str(int(row.ours_n)), row.status,
                 row.note] for row in timing.itertuples(index=False)]
        text += ("Timing ratios\n\n"
                 + markdown_table(["ratio of seconds", "published", "ours from", "ours [95% CI]", "n", "status", "note"],
                                  body))
    return text
