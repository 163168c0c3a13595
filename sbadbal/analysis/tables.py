"""Tables from run files: the tidy runs table, final accuracy, first-acquisition time and batch quality.

The run schema and the writers live in sbadbal/runs/ (what runs import); this module is what the aggregation
rule imports, so editing it reruns tables, never an AL run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from sbadbal.analysis.markdown import markdown_table
from sbadbal.runs.checks import check_run_provenance, read_run_csv, read_runs_table_rows

RUN_KEY_COLUMNS = ("batch_size", "algorithm", "seed")


def read_runs(paths: list[str | os.PathLike], keys: list[Mapping[str, Any]], *, budget: int | None = None,
              initial_size: int | None = None, sidecars: list[str | os.PathLike] | None = None,
              run: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One tidy frame of many run CSVs; `keys[i]` (batch_size, algorithm, seed) labels the rows of `paths[i]`.
    Every file is validated first; `budget` and `initial_size`, when given, are checked against each run too.
    `sidecars[i]`, when given, must vouch for `paths[i]`: the run of `run` (suite, experiment) and `keys[i]`, and
    the CSV's checksum (sbadbal/runs/sidecar.py); the aggregation rule always passes them."""
    if len(paths) != len(keys) or (sidecars is not None and len(sidecars) != len(paths)):
        raise ValueError(f"read_runs got {len(paths)} paths but {len(keys)} keys; they must pair up")
    frames = []
    for index, (path, key) in enumerate(zip(paths, keys)):
        if sidecars is not None:
            check_run_provenance(path, sidecars[index], {**dict(run or {}), **dict(key)})
        # Checked against the run schema first: a blank, impossible or textual value fails here, naming file, row
        # and column, instead of flowing into a mean over seeds (sbadbal/runs/checks.py).
        frame = read_run_csv(path, expected_budget=budget, expected_initial_size=initial_size)
        for column in RUN_KEY_COLUMNS:
            frame.insert(RUN_KEY_COLUMNS.index(column), column, key[column])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def read_runs_table(path: str | os.PathLike) -> pd.DataFrame:
    """An experiment's tidy runs table (tables/<experiment>/runs.csv) as aggregate wrote it: blank numbers are NaN,
    acquired indices stay text ('' on a run's last round). Checked first as aggregate checks run files (a blank,
    textual or impossible accuracy fails naming file, line and column: sbadbal/runs/checks.py)."""
    header, rows = read_runs_table_rows(path)
    frame = pd.DataFrame(rows, columns=header)
    integers = {column: "int64" for column in ("batch_size", "seed", "round", "labelled")}
    return frame.astype({**integers, "algorithm": str, "acquired_indices": str})


def _nearest_recorded(labelled: list[int], target: float) -> int:
    return min(labelled, key=lambda count: (abs(count - target), count))


def final_accuracy_table(runs: pd.DataFrame, label_fractions: list[float]) -> pd.DataFrame:
    """Mean and std over seeds of test accuracy and NLL at chosen label counts, per batch size and algorithm.

    A fraction f picks the recorded label count nearest to initial + f * (last - initial), where initial and
    last are the smallest and largest counts the runs of that batch size record. The std is the population
    std (ddof = 0) as in the original's plots, so a single seed gives 0, not NaN.
    """
    rows = []
    for batch_size, per_batch in runs.groupby("batch_size", sort=True):
        recorded = sorted(per_batch["labelled"].unique().tolist())
        first, last = recorded[0], recorded[-1]
        chosen = {}
        for fraction in sorted(label_fractions):
            chosen.setdefault(_nearest_recorded(recorded, first + fraction * (last - first)), fraction)
        for algorithm, per_alg in per_batch.groupby("algorithm", sort=False):
            for labelled, fraction in chosen.items():
                at = per_alg[per_alg["labelled"] == labelled]
                if at.empty:
                    continue
                rows.append(
                    {
                        "batch_size": batch_size,
                        "algorithm": algorithm,
                        "fraction": fraction,
                        "labelled": labelled,
                        "accuracy_mean": at["test_accuracy"].mean(),
                        "accuracy_std": at["test_accuracy"].std(ddof=0),
                        "nll_mean": at["test_nll"].mean(),
                        "nll_std": at["test_nll"].std(ddof=0),
                        "seeds": at["seed"].nunique(),
                    }
                )
    return pd.DataFrame(rows)


def markdown_accuracy_table(final: pd.DataFrame) -> str:
    """Accuracy (%) mean +/- std over seeds: one table per batch size, algorithms as rows, label counts as columns."""
    sections = []
    for batch_size, per_batch in final.groupby("batch_size", sort=True):
        counts = sorted(per_batch["labelled"].unique().tolist())
        body = []
        for algorithm, per_alg in per_batch.groupby("algorithm", sort=False):
            cells = {row.labelled: f"{row.accuracy_mean:.2f} ± {row.accuracy_std:.2f}" for row in per_alg.itertuples()}
            body.append([algorithm, *(cells.get(count, "") for count in counts), str(int(per_alg["seeds"].max()))])
        sections.append(
            f"Batch size {batch_size}: test accuracy (%), mean ± std over seeds, by number of labels\n\n"
            + markdown_table(["algorithm", *(f"{count} labels" for count in counts), "seeds"], body)
        )
    return "\n".join(sections)


def first_acquisition_time_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Seconds of the first acquisition (the largest pool) per batch size and algorithm, mean/std over seeds.

    The original's timing table (docs/algorithms.md#protocol) reports exactly this. The first acquisition is the recorded
    acquisition_seconds of the lowest round that has one.
    """
    timed = runs.dropna(subset=["acquisition_seconds"]).sort_values("round")
    first = timed.groupby(list(RUN_KEY_COLUMNS), sort=False).head(1)
    table = (
        first.groupby(["batch_size", "algorithm"], sort=False)["acquisition_seconds"]
        .agg(seconds_mean="mean", seconds_std=lambda s: s.std(ddof=0), seeds="count")
        .reset_index()
    )
    return table.sort_values(["batch_size", "seconds_mean"], ascending=[True, False], ignore_index=True)


def markdown_acquisition_time_table(table: pd.DataFrame) -> str:
    """The first-acquisition seconds as markdown: one table per batch size, slowest first, mean ± std over seeds."""
    sections = []
    for batch_size, per_batch in table.groupby("batch_size", sort=True):
        body = [[row.algorithm, f"{row.seconds_mean:.3g} ± {row.seconds_std:.2g}", str(row.seeds)]
                for row in per_batch.itertuples()]
        sections.append(f"Batch size {batch_size}: seconds of the first acquisition (the largest pool), mean ± std "
                        "over seeds\n\n" + markdown_table(["algorithm", "seconds, mean ± std", "seeds"], body))
    return "\n".join(sections)


def batch_diagnostics_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Batch quality per batch size and algorithm, mean and standard error over seeds of per-run values:
    the mean joint MI of its acquired batches (nats), the mean redundancy joint MI / sum of the picks' BALD (1 for
    independent picks, lower when picks share information), the copies acquired over the run (repeated datasets)
    and the picks made at a non-positive gain over the run (LBB/PLBB). Blank where a column does not apply."""
    acquired = runs[runs["acquired_indices"].astype(str).str.strip() != ""].copy()
    acquired["redundancy"] = acquired["batch_joint_mi"] / acquired["batch_sum_bald"]
    per_run = acquired.groupby(list(RUN_KEY_COLUMNS), sort=False).agg(
        joint_mi=("batch_joint_mi", "mean"), redundancy=("redundancy", "mean"),
        copies=("batch_copies", lambda s: s.sum(min_count=1)),
        nonpositive_gains=("batch_nonpositive_gains", lambda s: s.sum(min_count=1)),
    ).reset_index()
    rows = []
    for (batch_size, algorithm), group in per_run.groupby(["batch_size", "algorithm"], sort=False):
        row = {"batch_size": batch_size, "algorithm": algorithm, "seeds": group["seed"].nunique()}
        for column in ("joint_mi", "redundancy", "copies", "nonpositive_gains"):
            values = group[column].dropna()
            row[f"{column}_mean"] = values.mean() if len(values) else float("nan")
            row[f"{column}_se"] = values.std(ddof=1) / len(values) ** 0.5 if len(values) > 1 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def markdown_diagnostics_table(table: pd.DataFrame) -> str:
    """The batch-quality table as markdown: mean ± standard error over seeds, blank where a column does not apply."""

    def cell(row: Any, column: str, digits: int) -> str:
        mean, se = getattr(row, f"{column}_mean"), getattr(row, f"{column}_se")
        if pd.isna(mean):
            return ""
        return f"{mean:.{digits}f}" + ("" if pd.isna(se) else f" ± {se:.{digits}f}")

    sections = []
    for batch_size, per_batch in table.groupby("batch_size", sort=True):
        body = [[row.algorithm, cell(row, "joint_mi", 3), cell(row, "redundancy", 3), cell(row, "copies", 1),
                 cell(row, "nonpositive_gains", 1), str(row.seeds)] for row in per_batch.itertuples()]
        sections.append(
            f"Batch size {batch_size}: quality of the acquired batches, mean ± standard error over seeds\n\n"
            + markdown_table(["algorithm", "joint MI per batch (nats)", "joint MI / sum BALD", "copies per run",
                         "non-positive gains per run", "seeds"], body))
    return "\n".join(sections)


class StaleTableError(ValueError):
    """A table is older than a file it was made from: it does not hold that file's current content."""


def require_newer_than_sources(sources_of: Mapping[str | os.PathLike, list[str | os.PathLike]]) -> None:
    """Refuse a table older than any of its own sources (a run file remade after its experiment's runs table):
    `sources_of` maps each table to the files it is made from.

    Snakemake remakes such a table before the job that reads it whenever it runs the whole DAG; this closes the ways
    round it (`--allowed-rules`, `--forcerun` of the reader alone, a script run by hand)."""
    for table, sources in sources_of.items():
        if not sources:
            continue
        newest = max(sources, key=lambda path: os.stat(path).st_mtime)
        if os.stat(newest).st_mtime > os.stat(table).st_mtime:
            raise StaleTableError(f"{table} is older than {newest}, which it is made from: remake the tables first "
                                  f"(snakemake --cores N {table})")
