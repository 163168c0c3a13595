"""A round's acquisition: the batch the run's acquisition function picks from the scored pool, timed alone, and
the batch's diagnostics (sbadbal/acquisition/diagnostics.py), written into the round's row."""

from __future__ import annotations

import math
from typing import Any

import torch

from sbadbal.acquisition.candidate import CandidateBatch
from sbadbal.acquisition.diagnostics import base_indices, batch_diagnostics
from sbadbal.acquisition.function import AcquisitionFunction
from sbadbal.engine.devices import Stopwatch
from sbadbal.engine.round import ScoredRound
from sbadbal.engine.seeds import derive_seed, derived_generator
from sbadbal.engine.spec import RunSpec
from sbadbal.engine.state import RunState

# The diagnostics' importance-sampled joint MI draws this many label configurations from its own fixed seed: a few
# hundredths of a second per batch, next to seconds of pool scoring.
DIAGNOSTIC_SAMPLES = 10_000


def _diagnostics(prepared: Any, spec: RunSpec, function: AcquisitionFunction, log_probs_P_K_C: torch.Tensor,
                 candidate: CandidateBatch, acquired: list[int], labelled: list[int]) -> dict[str, Any]:
    """The acquired batch's joint MI, sum of BALD, copies (repeated datasets) and non-positive gains (LBB/PLBB)."""
    repeated = prepared.repeats > 1
    values = batch_diagnostics(
        log_probs_P_K_C, candidate.indices, scores_are_gains=function.scores_are_gains, scores=candidate.scores,
        pick_base_indices=base_indices(acquired, prepared.num_base_train) if repeated else None,
        labelled_base_indices=base_indices(labelled, prepared.num_base_train) if repeated else None,
        num_samples=DIAGNOSTIC_SAMPLES, seed=derive_seed(spec.seed, 0, "diagnostics"),
    )
    # A column that does not apply is blank in the CSV, as NaN is.
    return {column: math.nan if value is None else value for column, value in values.items()}


def acquire_batch(scored: ScoredRound, prepared: Any, spec: RunSpec, state: RunState, round_index: int,
                  device: torch.device, function: AcquisitionFunction) -> dict[str, Any]:
    """The scored round's row with its acquisition (seconds, acquired train indices, diagnostics); the acquired
    indices are appended to `state.labelled`. A round that scored nothing (the final one) acquires nothing."""
    row = scored.row
    if scored.log_probs_P_K_C is None:
        return row
    pool_P = scored.pool_P
    log_probs_P_K_C = scored.log_probs_P_K_C.to(device)
    batch_size = min(spec.batch_size, spec.budget - len(state.labelled), len(pool_P))
    acquisition_clock = Stopwatch()
    with acquisition_clock.measure(device):
        candidate = function(
            log_probs_P_K_C, batch_size,
            generator=derived_generator(spec.seed, round_index, "acquisition"),  # CPU: same picks on every device
            **spec.algorithm_params,
        )
    acquired = [int(pool_P[i]) for i in candidate.indices]
    if len(set(acquired)) != len(acquired) or len(acquired) != batch_size:
        raise RuntimeError(f"{spec.algorithm} returned {candidate.indices!r} for a batch of {batch_size}")
    row.update(acquisition_seconds=acquisition_clock.seconds, acquired_indices=" ".join(str(i) for i in acquired),
               **_diagnostics(prepared, spec, function, log_probs_P_K_C, candidate, acquired, state.labelled))
    state.labelled = state.labelled + acquired
    return row
