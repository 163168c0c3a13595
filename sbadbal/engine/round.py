"""One AL round up to its acquisition, public: fit fresh networks on the labels, evaluate them on the test split and
score the pool (or a random subset of it). The loop (sbadbal/engine/loop.py) runs it every round and then acquires
(sbadbal/engine/acquire.py); the timing benchmark's input (sbadbal/bench/log_probs.py) is round 0 of it, so the
benchmark's model depends on no acquisition code.

Every random draw comes from a generator derived from (seed, round, purpose) (sbadbal/engine/seeds.py).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from sbadbal.engine.devices import Stopwatch
from sbadbal.engine.seeds import derive_seed, derived_generator
from sbadbal.engine.spec import RunSpec
from sbadbal.engine.state import RunState, pool_indices
from sbadbal.engine.training import (
    DivergenceError,
    TrainingReport,
    check_finite_log_probs,
    check_finite_metrics,
    train_posterior,
)
from sbadbal.models.posterior import Posterior, accuracy_and_nll, build_posterior, predict_log_probs
from sbadbal.runs.schema import DIAGNOSTIC_COLUMNS

logger = logging.getLogger(__name__)


def run_label(spec: RunSpec) -> str:
    batch = f" b{spec.batch_size}" if spec.batch_size else ""  # round 0 alone has no batch size (RunSpec.round_zero)
    return f"{spec.dataset} {spec.name}{batch} seed {spec.seed}"


def fit_summary(spec: RunSpec, reports: Sequence[TrainingReport], validation_points: int) -> str:
    """What a round's fit did, in words, from the networks' training reports (the run's log gets it every round)."""
    text = f"fit {len(reports)} network(s) ({spec.uncertainty.method}) by {spec.training.name}"
    if spec.training.name == "iterations":
        return text + f": {' '.join(str(r.steps) for r in reports)} step(s) of {spec.training.batch_size}"
    rates = ", ".join(f"{lr:g}" for lr in reports[0].learning_rates)
    text += f": {reports[0].epochs} epoch(s) at lr {rates}; validation on {validation_points} point(s)"
    best = [str(r.best_epoch) for r in reports if r.best_epoch is not None]
    return text + (f", best epochs {' '.join(best)}" if best else "")


def fit_posterior(prepared: Any, spec: RunSpec, state: RunState, round_index: int, device: torch.device) -> Posterior:
    """Fresh networks of the spec's model, trained on the labelled points of `state`; the log says what they did."""
    posterior = build_posterior(
        spec.architecture,
        method=spec.uncertainty.method,
        num_classes=prepared.num_classes,
        input_shape=prepared.input_shape,
        members=spec.uncertainty.members,
        seeds=[derive_seed(spec.seed, round_index, f"init/{t}") for t in range(spec.num_networks)],
    )
    reports = train_posterior(
        posterior, prepared, state.labelled, spec.training,
        seeds=[derive_seed(spec.seed, round_index, f"train/{t}") for t in range(spec.num_networks)],
        device=device, validation_indices=state.validation or None,
        validation_samples=spec.uncertainty.k_test if spec.uncertainty.method == "mc_dropout" else 1,
        scoring_batch_size=spec.scoring_batch_size,
    )
    logger.info("round %d: %s", round_index, fit_summary(spec, reports, len(state.validation)))
    return posterior


def test_metrics(prepared: Any, spec: RunSpec, posterior: Posterior, round_index: int,
                 device: torch.device) -> tuple[float, float]:
    """Accuracy (percent) and NLL on the test split, with k_test samples."""
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


def score_pool(prepared: Any, spec: RunSpec, posterior: Posterior, candidates_P: torch.Tensor, round_index: int,
               device: torch.device) -> torch.Tensor:
    """log_probs_P_K_C of the candidates (train indices) with k_acquisition samples."""
    return predict_log_probs(
        posterior,
        lambda positions: prepared.train_inputs(candidates_P[positions]),
        len(candidates_P),
        num_samples=spec.uncertainty.k_acquisition,
        batch_size=spec.scoring_batch_size,
        device=device,
        generator=derived_generator(spec.seed, round_index, "pool-masks"),
    )


@dataclass
class ScoredRound:
    """A round up to its acquisition: its row so far (test metrics, training and scoring seconds), and the pool it
    scored (None once the budget is reached: the final round scores nothing)."""

    row: dict[str, Any]
    pool_P: torch.Tensor | None = None
    log_probs_P_K_C: torch.Tensor | None = None


def fit_and_score(prepared: Any, spec: RunSpec, state: RunState, round_index: int, device: torch.device, *,
                  evaluate: bool = True, whole_pool: bool = False) -> ScoredRound:
    """Fit on the labels, evaluate on the test split and, below the budget, score the pool: the spec's random
    `pool_subset` of it, or all of it when `whole_pool`. The timing benchmark's input is round 0 with
    `evaluate=False` (no test pass: its row's test metrics stay NaN) and `whole_pool=True`."""
    training_clock = Stopwatch()
    try:
        with training_clock.measure(device):
            posterior = fit_posterior(prepared, spec, state, round_index, device)
    except DivergenceError as error:
        raise error.located(run=run_label(spec), round_index=round_index) from error
    accuracy = nll = math.nan
    if evaluate:
        accuracy, nll = test_metrics(prepared, spec, posterior, round_index, device)
        check_finite_metrics(accuracy, nll, run=run_label(spec), round_index=round_index, lr=spec.learning_rate)
    row = {
        "round": round_index, "labelled": len(state.labelled), "test_accuracy": accuracy, "test_nll": nll,
        "train_seconds": training_clock.seconds, "score_seconds": math.nan, "acquisition_seconds": math.nan,
        "acquired_indices": "", **{column: math.nan for column in DIAGNOSTIC_COLUMNS},
    }
    if len(state.labelled) >= spec.budget:
        return ScoredRound(row)
    pool_P = pool_indices(prepared.num_train, set(state.labelled) | set(state.validation))
    if not whole_pool and spec.pool_subset is not None and spec.pool_subset < len(pool_P):
        subset = torch.randperm(len(pool_P), generator=derived_generator(spec.seed, round_index, "pool-subset"))
        pool_P = pool_P[subset[: spec.pool_subset].sort().values]
    scoring_clock = Stopwatch()
    with scoring_clock.measure(device):
        log_probs_P_K_C = score_pool(prepared, spec, posterior, pool_P, round_index, device)
    check_finite_log_probs(log_probs_P_K_C, what=f"pool log-probabilities of {run_label(spec)}, round {round_index}",
                           lr=spec.learning_rate)
    row["score_seconds"] = scoring_clock.seconds
    logger.info("round %d: scored %d pool point(s): log_probs_P_K_C %s", round_index, len(pool_P),
                list(log_probs_P_K_C.shape))
    return ScoredRound(row, pool_P, log_probs_P_K_C)
