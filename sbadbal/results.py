"""Result files: the per-run schema and atomic writers (temp file + rename, never appended to)."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

# One row per evaluated round of one AL run. Timing columns are seconds; acquisition time is the acquisition
# function alone (device-synchronised), scoring is the pool's forward passes, training the model fit.
RUN_COLUMNS = (
    "round",
    "labelled",
    "test_accuracy",
    "test_nll",
    "train_seconds",
    "score_seconds",
    "acquisition_seconds",
    "acquired_indices",
)


def write_atomically(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Write through a temp file in the same folder, then rename: readers never see a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_csv_atomic(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    return write_atomically(path, lambda tmp: frame.to_csv(tmp, index=False))


def write_json_atomic(obj: Any, path: str | os.PathLike) -> Path:
    def write(tmp: Path) -> None:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")

    return write_atomically(path, write)


def write_text_atomic(text: str, path: str | os.PathLike) -> Path:
    return write_atomically(path, lambda tmp: tmp.write_text(text))


def software_versions() -> dict[str, str]:
    """Versions that decide a run's numbers, for the JSON sidecar."""
    import numpy
    import torch

    import sbadbal

    versions = {
        "python": platform.python_version(),
        "sbadbal": sbadbal.__version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "pandas": pd.__version__,
        "cuda": str(torch.version.cuda),
    }
    return versions


def run_sidecar(config: Mapping[str, Any], device_name: str) -> dict[str, Any]:
    """The JSON sidecar of a result file: the config that produced it, versions, device and time of the run."""
    return {
        "config": dict(config),
        "versions": software_versions(),
        "device": device_name,
        "host": platform.node(),
        "finished_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


# --- aggregation: many run files -> tables (the workflow's aggregate and bench rules) -------------------------

RUN_KEY_COLUMNS = ("batch_size", "algorithm", "seed")


def read_runs(paths: list[str | os.PathLike], keys: list[Mapping[str, Any]]) -> pd.DataFrame:
    """One tidy frame of many run CSVs; `keys[i]` (batch_size, algorithm, seed) labels the rows of `paths[i]`."""
    if len(paths) != len(keys):
        raise ValueError(f"read_runs got {len(paths)} paths but {len(keys)} keys; they must pair up")
    frames = []
    for path, key in zip(paths, keys):
        # As text: a batch of one index would otherwise read back as a float (17 -> 17.0).
        frame = pd.read_csv(path, dtype={"acquired_indices": str}, keep_default_na=False, na_values={
            column: [""] for column in RUN_COLUMNS if column != "acquired_indices"})
        missing = [column for column in RUN_COLUMNS if column not in frame.columns]
        if missing:
            raise ValueError(f"{path} lacks the run columns {missing}; expected {list(RUN_COLUMNS)}")
        for column in RUN_KEY_COLUMNS:
            frame.insert(RUN_KEY_COLUMNS.index(column), column, key[column])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _nearest_recorded(labelled: list[int], target: float) -> int:
    return min(labelled, key=lambda count: (abs(count - target), count))


def final_accuracy_table(runs: pd.DataFrame, label_fractions: list[float]) -> pd.DataFrame:
    """Mean and std over seeds of test accuracy and NLL at chosen label counts, per batch size and algorithm.

    A fraction f picks the recorded label count nearest to initial + f * (last - initial), where initial and
    last are the smallest and largest counts the runs of that batch size record. The std is the population
    std (ddof = 0) as in the seed's plots, so a single seed gives 0, not NaN.
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


def _markdown(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def markdown_accuracy_table(final: pd.DataFrame) -> str:
    """Accuracy (%) mean +/- std over seeds: one table per batch size, algorithms as rows, label counts as columns."""
    sections = []
    for batch_size, per_batch in final.groupby("batch_size", sort=True):
        counts = sorted(per_batch["labelled"].unique().tolist())
        body = []
        for algorithm, per_alg in per_batch.groupby("algorithm", sort=False):
            cells = {row.labelled: f"{row.accuracy_mean:.2f} ± {row.accuracy_std:.2f}" for row in per_alg.itertuples()}
            body.append([algorithm, *(cells.get(count, "") for count in counts)])
        seeds = int(per_batch["seeds"].max())
        sections.append(
            f"Batch size {batch_size}: test accuracy (%), mean ± std over {seeds} seed{'s' * (seeds != 1)}, "
            "by number of labels\n\n"
            + _markdown(["algorithm", *(str(count) for count in counts)], body)
        )
    return "\n".join(sections)


def first_acquisition_time_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Seconds of the first acquisition (the largest pool) per batch size and algorithm, mean/std over seeds.

    The seed's timing table (SEED_SPEC 3.6) reports exactly this. The first acquisition is the recorded
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


def nested_pool_subset(log_probs_N_K_C, size: int, *, seed: int):
    """`size` pool points in a seeded random order, so that every prefix is a uniform subset of the pool."""
    import torch

    pool_size = log_probs_N_K_C.shape[0]
    if size > pool_size:
        raise ValueError(f"pool size {size} exceeds the {pool_size} scored pool points; lower pool_sizes")
    order = torch.randperm(pool_size, generator=torch.Generator().manual_seed(seed))[:size]
    return log_probs_N_K_C[order.to(log_probs_N_K_C.device)]


def sweep_acquisition_timing(
    log_probs_N_K_C,
    *,
    algorithms: list[str],
    batch_sizes: list[int],
    pool_sizes: list[int],
    repeats: int,
    seed: int,
    algorithm_params: Mapping[str, Mapping[str, Any]] | None = None,
    time_fn: Callable[..., Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """Acquisition time of every algorithm at every (pool size, batch size), on prefixes of one scored pool.

    Pool sizes are prefixes of `log_probs_N_K_C` (shuffle it first, e.g. with nested_pool_subset); cases with
    batch size >= pool size are skipped. `time_fn` defaults to sbadbal.acquisition.timing.time_acquisition.
    """
    if time_fn is None:
        from sbadbal.acquisition.timing import time_acquisition as time_fn
    algorithm_params = algorithm_params or {}
    if max(pool_sizes) > log_probs_N_K_C.shape[0]:
        raise ValueError(f"pool size {max(pool_sizes)} exceeds the {log_probs_N_K_C.shape[0]} pool points given")
    rows = []
    for pool_size in sorted(pool_sizes):
        for batch_size in sorted(batch_sizes):
            if batch_size >= pool_size:
                continue
            for algorithm in algorithms:
                result = time_fn(
                    algorithm,
                    log_probs_N_K_C[:pool_size],
                    batch_size,
                    repeats=repeats,
                    seed=seed,
                    params=dict(algorithm_params.get(algorithm, {})) or None,
                )
                rows.append({**dict(result), "algorithm": algorithm, "batch_size": batch_size, "N": pool_size})
    return pd.DataFrame(rows)


def markdown_timing_table(timings: pd.DataFrame) -> str:
    """Median seconds per algorithm (rows) and (pool size, batch size) (columns), like the seed's table."""
    cases = timings[["N", "batch_size"]].drop_duplicates().sort_values(["N", "batch_size"])
    header = ["algorithm", *(f"N={n}, b={b}" for n, b in cases.itertuples(index=False))]
    body = []
    for algorithm, per_alg in timings.groupby("algorithm", sort=False):
        cells = {(row.N, row.batch_size): f"{row.median_seconds:.4g}" for row in per_alg.itertuples()}
        body.append([algorithm, *(cells.get(case, "") for case in cases.itertuples(index=False))])
    device = ", ".join(sorted(timings["device"].astype(str).unique())) if "device" in timings else "unknown"
    return f"Acquisition time (median seconds) on {device}\n\n" + _markdown(header, body)
