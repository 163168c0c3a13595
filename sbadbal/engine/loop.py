"""One active-learning run: (experiment, batch size, algorithm, seed) -> one row per round.

Round r: build fresh networks, train them on the L_r labelled points, evaluate on the test split, and, until the
label budget is reached, score the pool (or a random subset of it), acquire a batch and add it to the labels.

Every random draw comes from a generator derived from (seed, round, purpose) (`derive_seed`, in
sbadbal/engine/round.py with the other pieces of a round), so a run needs no RNG state to resume: the checkpoint written atomically after every round holds the rows and the labelled
indices, and a restarted run continues from the last finished round with the same rows as an uninterrupted one.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch

# The run spec is a record of the configuration model (one validator); re-exported under its old home.
from sbadbal.config.model import RunSpec, UncertaintySpec  # noqa: F401
from sbadbal.acquisition.diagnostics import base_indices, batch_diagnostics
from sbadbal.engine.checkpoint import RunState, load_checkpoint, run_fingerprint, save_checkpoint
from sbadbal.ops.provenance import code_version
from sbadbal.runs.writers import DIAGNOSTIC_COLUMNS, RUN_COLUMNS, run_sidecar, write_csv_atomic, write_json_atomic
from sbadbal.engine.round import (  # noqa: F401  (re-exported: the round pieces' old home)
    SHARED_INITIAL_SEED,
    _check_fit,
    _fresh_trained_posterior,
    _initial_state,
    _score_pool,
    balanced_initial_indices,
    derive_seed,
    derived_generator,
    initial_sets,
    pool_indices,
)
from sbadbal.engine.devices import Stopwatch, device_name, environment_facts, resolve_device
from sbadbal.engine.training import DivergenceError, check_finite_log_probs, check_finite_metrics
from sbadbal.models.posterior import Posterior, accuracy_and_nll, predict_log_probs

logger = logging.getLogger(__name__)

# Each row also carries the batch-quality diagnostics of its acquisition (sbadbal/acquisition/diagnostics.py).
# Their importance-sampled joint MI draws this many label configurations from its own fixed seed: a few
# hundredths of a second per batch, next to seconds of pool scoring.
DIAGNOSTIC_SAMPLES = 10_000


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


def run_source_files(spec: RunSpec) -> list[Path]:
    """The library files a run of `spec` executes: this module's imports and its acquisition function's module.
    Their content is the code part of a checkpoint's fingerprint (the same files are the rule's code inputs)."""
    from sbadbal.acquisition.records import RECORDS_BY_NAME
    from sbadbal.ops.codegraph import PACKAGE_ROOT, import_closure

    module = PACKAGE_ROOT / RECORDS_BY_NAME[spec.algorithm].module_file
    return [PACKAGE_ROOT / path for path in import_closure(Path(__file__), module)]


def _run_label(spec: RunSpec) -> str:
    return f"{spec.dataset} {spec.name} b{spec.batch_size} seed {spec.seed}"


def _learning_rate(spec: RunSpec) -> float | None:
    return getattr(spec.training, "lr", None)


def _diagnostics(prepared: Any, spec: RunSpec, log_probs_P_K_C: torch.Tensor, candidate: Any, acquired: list[int],
                 labelled: list[int]) -> dict[str, Any]:
    """The acquired batch's joint MI, sum of BALD, copies (repeated datasets) and non-positive gains (LBB/PLBB)."""
    repeated = prepared.repeats > 1
    values = batch_diagnostics(
        log_probs_P_K_C, candidate.indices, algorithm=spec.algorithm, scores=candidate.scores,
        pick_base_indices=base_indices(acquired, prepared.num_base_train) if repeated else None,
        labelled_base_indices=base_indices(labelled, prepared.num_base_train) if repeated else None,
        num_samples=DIAGNOSTIC_SAMPLES, seed=derive_seed(spec.seed, 0, "diagnostics"),
    )
    # A column that does not apply is blank in the CSV, as NaN is.
    return {column: math.nan if value is None else value for column, value in values.items()}


def run_active_learning(
    prepared: Any,
    spec: RunSpec,
    *,
    checkpoint_path: str | os.PathLike | None = None,
    device: str | torch.device = "auto",
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> pd.DataFrame:
    """Run (or resume) one AL run; one row per round with the columns of `sbadbal.runs.writers.RUN_COLUMNS`.

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
    initial = _initial_state(prepared, spec)
    initial = RunState(labelled=list(initial.labelled), validation=list(initial.validation), rows=[])
    fingerprint = run_fingerprint(prepared, spec.to_config(), run_source_files(spec))
    state = None
    if checkpoint is not None:
        state = load_checkpoint(checkpoint, fingerprint, initial=initial, num_train=prepared.num_train,
                                budget=spec.budget)
    if state is None:
        state = initial
    else:
        # A rerun after a crash, a kill or a scheduler's cancel: say so, since the rows before it are not redone.
        logger.info("resuming from checkpoint %s: %d round(s) done, %d labelled", checkpoint, len(state.rows),
                    len(state.labelled))
    finished = bool(state.rows) and state.rows[-1]["acquired_indices"] == ""
    while not finished:
        round_index = len(state.rows)
        training_clock = Stopwatch()
        try:
            with training_clock.measure(device):
                posterior = _fresh_trained_posterior(prepared, spec, state, round_index, device)
        except DivergenceError as error:
            raise error.located(run=_run_label(spec), round_index=round_index) from error
        accuracy, nll = _test_metrics(prepared, spec, posterior, round_index, device)
        check_finite_metrics(accuracy, nll, run=_run_label(spec), round_index=round_index, lr=_learning_rate(spec))
        row = {
            "round": round_index, "labelled": len(state.labelled), "test_accuracy": accuracy, "test_nll": nll,
            "train_seconds": training_clock.seconds, "score_seconds": math.nan, "acquisition_seconds": math.nan,
            "acquired_indices": "", **{column: math.nan for column in DIAGNOSTIC_COLUMNS},
        }
        if len(state.labelled) < spec.budget:
            pool_P = pool_indices(prepared.num_train, set(state.labelled) | set(state.validation))
            if spec.pool_subset is not None and spec.pool_subset < len(pool_P):
                subset = torch.randperm(len(pool_P), generator=derived_generator(spec.seed, round_index, "pool-subset"))
                pool_P = pool_P[subset[: spec.pool_subset].sort().values]
            scoring_clock = Stopwatch()
            with scoring_clock.measure(device):
                log_probs_P_K_C = _score_pool(prepared, spec, posterior, pool_P, round_index, device)
            check_finite_log_probs(log_probs_P_K_C, what=f"pool log-probabilities of {_run_label(spec)}, round "
                                   f"{round_index}", lr=_learning_rate(spec))
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
                       acquired_indices=_format_indices(acquired),
                       **_diagnostics(prepared, spec, log_probs_P_K_C, candidate, acquired, state.labelled))
            state.labelled = state.labelled + acquired
        state.rows.append(row)
        if checkpoint is not None:
            save_checkpoint(checkpoint, fingerprint, state)
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
    sidecar = {**run_sidecar(spec.to_config(), device_name(resolved)), **environment_facts(prepared),
               "code": code_version()}
    write_json_atomic(sidecar, sidecar_path)
    # The CSV last: its presence means the run (and its sidecar) finished.
    write_csv_atomic(rows, csv_path)
    checkpoint.unlink(missing_ok=True)
    return rows
