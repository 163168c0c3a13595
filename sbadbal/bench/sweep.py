"""The acquisition timing benchmark: every algorithm at every (pool size, batch size), and its Markdown table."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import torch

from sbadbal.acquisition.function import AcquisitionFunction
from sbadbal.analysis.markdown import markdown_table


def load_log_probs(path: str | os.PathLike) -> torch.Tensor:
    """A benchmark's saved log_probs_N_K_C, checked: one float tensor N x K x C of finite log-probabilities (<= 0).
    A damaged or hand-made file fails with one line naming it and the fix, not inside a timed function."""
    fix = "; delete it and rerun the workflow to remake it (rule bench_log_probs)"
    try:
        loaded = torch.load(path, weights_only=True)
    except Exception as error:  # torch raises many types for a damaged file
        raise ValueError(f"{path}: not a readable tensor file ({type(error).__name__})" + fix) from None
    if not isinstance(loaded, torch.Tensor) or loaded.dim() != 3 or not loaded.is_floating_point():
        shape = tuple(loaded.shape) if isinstance(loaded, torch.Tensor) else type(loaded).__name__
        raise ValueError(f"{path}: expected a float tensor N x K x C of log-probabilities, found {shape}" + fix)
    if not bool(torch.isfinite(loaded).all()):
        count = int((~torch.isfinite(loaded)).sum())
        raise ValueError(f"{path}: {count} of its {loaded.numel()} log-probabilities are NaN or infinite" + fix)
    if bool((loaded > 1e-6).any()):
        raise ValueError(f"{path}: holds values above 0, which no log-probability takes" + fix)
    return loaded


def sweep_acquisition_timing(
    log_probs_N_K_C,
    *,
    functions: Mapping[str, AcquisitionFunction],
    batch_sizes: list[int],
    pool_sizes: list[int],
    repeats: int,
    seed: int,
    algorithm_params: Mapping[str, Mapping[str, Any]] | None = None,
    time_fn: Callable[..., Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """Acquisition time of every function at every (pool size, batch size), on prefixes of one scored pool.

    `functions`: display name (an algorithm's or a variant's) -> the function that runs it, in table order; their
    parameters come from `algorithm_params` by display name. Pool sizes are prefixes of `log_probs_N_K_C`
    (shuffle it first, e.g. with nested_pool_subset); cases with batch size >= pool size are skipped. `time_fn`
    defaults to sbadbal.bench.timing.time_acquisition.
    """
    if time_fn is None:
        from sbadbal.bench.timing import time_acquisition as time_fn
    algorithm_params = algorithm_params or {}
    if max(pool_sizes) > log_probs_N_K_C.shape[0]:
        raise ValueError(f"pool size {max(pool_sizes)} exceeds the {log_probs_N_K_C.shape[0]} pool points given")
    rows = []
    for pool_size in sorted(pool_sizes):
        for batch_size in sorted(batch_sizes):
            if batch_size >= pool_size:
                continue
            for algorithm, function in functions.items():
                result = time_fn(
                    function,
                    log_probs_N_K_C[:pool_size],
                    batch_size,
                    repeats=repeats,
                    seed=seed,
                    params=dict(algorithm_params.get(algorithm, {})) or None,
                )
                rows.append({**dict(result), "algorithm": algorithm, "batch_size": batch_size, "N": pool_size})
    return pd.DataFrame(rows)


def markdown_timing_table(timings: pd.DataFrame) -> str:
    """Median seconds per algorithm (rows) and (pool size, batch size) (columns), like the original's table."""
    cases = timings[["N", "batch_size"]].drop_duplicates().sort_values(["N", "batch_size"])
    header = ["algorithm", *(f"N={n}, b={b}" for n, b in cases.itertuples(index=False))]
    body = []
    for algorithm, per_alg in timings.groupby("algorithm", sort=False):
        cells = {(row.N, row.batch_size): f"{row.median_seconds:.4g}" for row in per_alg.itertuples()}
        body.append([algorithm, *(cells.get(case, "") for case in cases.itertuples(index=False))])
    device = ", ".join(sorted(timings["device"].astype(str).unique())) if "device" in timings else "unknown"
    return f"Acquisition time (median seconds) on {device}\n\n" + markdown_table(header, body)
