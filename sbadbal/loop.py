"""One active-learning run: (experiment, batch size, algorithm, seed) -> one row per round.

Round r: build fresh networks, train them on the L_r labelled points, evaluate on the test split, and, until the
label budget is reached, score the pool (or a random subset of it), acquire a batch and add it to the labels.

Every random draw comes from a generator derived from (seed, round, purpose) (`derive_seed`, in
sbadbal/rounds.py with the other pieces of a round), so a run needs no RNG state to resume: the checkpoint written atomically after every round holds the rows and the labelled
indices, and a restarted run continues from the last finished round with the same rows as an uninterrupted one.
"""

from __future__ import annotations

import json
import logging
import math
import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch

# The run spec is a record of the configuration model (one validator); re-exported under its old home.
from sbadbal.config import RunSpec, UncertaintySpec  # noqa: F401
from sbadbal.runfiles import RUN_COLUMNS, run_sidecar, write_csv_atomic, write_json_atomic
from sbadbal.rounds import (  # noqa: F401  (re-exported: the round pieces' old home)
    SHARED_INITIAL_SEED,
    _check_fit,
    _fresh_trained_posterior,
    _initial_state,
    _RunState,
    _score_pool,
    balanced_initial_indices,
    derive_seed,
    derived_generator,
    initial_sets,
    pool_indices,
)
from sbadbal.runtime import Stopwatch, device_name, resolve_device
from sbadbal.uncertainty import Posterior, accuracy_and_nll, predict_log_probs

logger = logging.getLogger(__name__)

CHECKPOINT_VERSION = 1


def _format_indices(indices: list[int]) -> str:
    return " ".join(str(i) for i in indices)


def _test_metrics(prepared: Any, spec: RunSpec, posterior: Posterior, round_index: int, device: torch.device) -> tuple[float, float]:
    log_probs_T_K_C = predict_log_probs(
        posterior,
        lambda positions: prepared.test_inputs(positions),
        prepared.num_test,
        num_samples=spec.uncertainty.k_test,
        batch_size=spec.scoring_batch_size,
        device=device,
        generator=derived_generator(spec.seed, round_index, "test-masks"),
    )
    return accuracy_and_nll(log_probs_T_K_C, prepared.test_targets)


def _load_checkpoint(path: Path, spec: RunSpec, num_train: int) -> _RunState | None:
    if not path.exists():
        return None
    try:
        saved = json.loads(path.read_text())
        if not isinstance(saved, dict):
            raise TypeError(f"expected a JSON object, found {type(saved).__name__}")
        if saved.get("version") != CHECKPOINT_VERSION or saved.get("spec") != spec.to_config():
            warnings.warn(f"checkpoint {path} belongs to a different run configuration; starting this run afresh")
            return None
        state = _RunState(labelled=[int(i) for i in saved["labelled"]], validation=[int(i) for i in saved["validation"]],
                          rows=list(saved["rows"]))
        incomplete = [row for row in state.rows if not isinstance(row, dict) or set(RUN_COLUMNS) - set(row)]
        if incomplete:
            raise KeyError(f"{len(incomplete)} row(s) lack run columns")
    except (ValueError, KeyError, TypeError) as error:
        warnings.warn(f"checkpoint {path} is unreadable ({error}); starting this run afresh")
        return None
    if any(not 0 <= i < num_train for i in state.labelled):
        warnings.warn(f"checkpoint {path} holds indices outside the dataset; starting this run afresh")
        return None
    return state


def _save_checkpoint(path: Path, spec: RunSpec, state: _RunState) -> None:
    write_json_atomic(
        {"version": CHECKPOINT_VERSION, "spec": spec.to_config(), "labelled": state.labelled,
         "validation": state.validation, "rows": state.rows},
        path,
    )


def run_active_learning(
    prepared: Any,
    spec: RunSpec,
    *,
    checkpoint_path: str | os.PathLike | None = None,
    device: str | torch.device = "auto",
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> pd.DataFrame:
    """Run (or resume) one AL run; one row per round with the columns of `sbadbal.runfiles.RUN_COLUMNS`.

    Row r: the labelled count L_r, accuracy (percent) and NLL on the test split of the model trained on those
    labels, the round's training / pool-scoring / acquisition seconds, and the global train indices acquired
    after it (space-separated). The last row (L >= budget) acquires nothing: empty indices, NaN score and
    acquisition times. `checkpoint_path`: resume from it when present, rewrite it after every round.
    `progress(row)` is called after each round is checkpointed.
    """
    from sbadbal.acquisition.registry import acquire

    _check_fit(prepared, spec)
    device = resolve_device(device)
    checkpoint = Path(checkpoint_path) if checkpoint_path is not None else None
    state = _load_checkpoint(checkpoint, spec, prepared.num_train) if checkpoint is not None else None
    if state is None:
        state = _initial_state(prepared, spec)
    else:
        # A rerun after a crash, a kill or a scheduler's cancel: say so, since the rows before it are not redone.
        logger.info("resuming from checkpoint %s: %d round(s) done, %d labelled", checkpoint, len(state.rows),
                    len(state.labelled))
    finished = bool(state.rows) and state.rows[-1]["acquired_indices"] == ""
    while not finished:
        round_index = len(state.rows)
        training_clock = Stopwatch()
        with training_clock.measure(device):
            posterior = _fresh_trained_posterior(prepared, spec, state, round_index, device)
        accuracy, nll = _test_metrics(prepared, spec, posterior, round_index, device)
        row = {
            "round": round_index, "labelled": len(state.labelled), "test_accuracy": accuracy, "test_nll": nll,
            "train_seconds": training_clock.seconds, "score_seconds": math.nan, "acquisition_seconds": math.nan,
            "acquired_indices": "",
        }
        if len(state.labelled) < spec.budget:
            pool_P = pool_indices(prepared.num_train, set(state.labelled) | set(state.validation))
            if spec.pool_subset is not None and spec.pool_subset < len(pool_P):
                subset = torch.randperm(len(pool_P), generator=derived_generator(spec.seed, round_index, "pool-subset"))
                pool_P = pool_P[subset[: spec.pool_subset].sort().values]
            scoring_clock = Stopwatch()
            with scoring_clock.measure(device):
                log_probs_P_K_C = _score_pool(prepared, spec, posterior, pool_P, round_index, device)
            del posterior
            log_probs_P_K_C = log_probs_P_K_C.to(device)
            batch_size = min(spec.batch_size, spec.budget - len(state.labelled), len(pool_P))
            acquisition_clock = Stopwatch()
            with acquisition_clock.measure(device):
                candidate = acquire(
                    spec.algorithm, log_probs_P_K_C, batch_size,
                    generator=derived_generator(spec.seed, round_index, "acquisition"),  # CPU: same picks on every device
                    **spec.algorithm_params,
                )
            acquired = [int(pool_P[i]) for i in candidate.indices]
            if len(set(acquired)) != len(acquired) or len(acquired) != batch_size:
                raise RuntimeError(f"{spec.algorithm} returned {candidate.indices!r} for a batch of {batch_size}")
            row.update(score_seconds=scoring_clock.seconds, acquisition_seconds=acquisition_clock.seconds,
                       acquired_indices=_format_indices(acquired))
            state.labelled = state.labelled + acquired
        state.rows.append(row)
        if checkpoint is not None:
            _save_checkpoint(checkpoint, spec, state)
        if progress is not None:
            progress(dict(row))
        finished = row["acquired_indices"] == ""
    return pd.DataFrame(state.rows, columns=list(RUN_COLUMNS))


def default_checkpoint_path(csv_path: str | os.PathLike) -> Path:
    csv_path = Path(csv_path)
    return csv_path.with_name(csv_path.name + ".checkpoint.json")


def run_to_files(
    prepared_path: str | os.PathLike | Any,
    experiment: Mapping[str, Any] | RunSpec,
    *,
    algorithm: str | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    algorithm_params: Mapping[str, Any] | None = None,
    csv_path: str | os.PathLike,
    sidecar_path: str | os.PathLike,
    checkpoint_path: str | os.PathLike | None = None,
    device: str | torch.device = "auto",
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> pd.DataFrame:
    """Load a prepared dataset file, run (or resume) the AL run, write the CSV and its JSON sidecar atomically.

    `experiment` is a RunSpec (what the workflow and the CLI pass: `Experiment.run(...)`), or an experiment
    mapping plus algorithm, batch_size and seed. `prepared_path` may also be an already loaded PreparedDataset.
    `checkpoint_path` defaults to `<csv_path>.checkpoint.json`; it is removed once both files are written.
    """
    from sbadbal.data.store import load_prepared

    if isinstance(experiment, RunSpec):
        spec = experiment
    else:
        spec = RunSpec.from_experiment(experiment, algorithm=algorithm, batch_size=batch_size, seed=seed,
                                       algorithm_params=algorithm_params)
    prepared = load_prepared(prepared_path) if isinstance(prepared_path, (str, os.PathLike)) else prepared_path
    resolved = resolve_device(device)
    checkpoint = Path(checkpoint_path) if checkpoint_path is not None else default_checkpoint_path(csv_path)
    rows = run_active_learning(prepared, spec, checkpoint_path=checkpoint, device=resolved, progress=progress)
    write_json_atomic(run_sidecar(spec.to_config(), device_name(resolved)), sidecar_path)
    # The CSV last: its presence means the run (and its sidecar) finished.
    write_csv_atomic(rows, csv_path)
    checkpoint.unlink(missing_ok=True)
    return rows
