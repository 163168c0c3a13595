"""The acquisition timing benchmark's input: a first-round model's log-probabilities over a shuffled pool."""

from __future__ import annotations

from typing import Any

import torch

from sbadbal.config.model import RunSpec
from sbadbal.engine.round import _check_fit, _fresh_trained_posterior, _initial_state, _score_pool, pool_indices
from sbadbal.engine.devices import resolve_device
from sbadbal.engine.training import check_finite_log_probs


def trained_pool_log_probs(prepared: Any, spec: RunSpec, *, device: str | torch.device = "auto") -> torch.Tensor:
    """Round 0 of the run: train on the initial set and score the whole pool with k_acquisition samples.

    The input of the acquisition timing benchmark: float64 log_probs_N_K_C over the pool in ascending index order.
    """
    _check_fit(prepared, spec)
    device = resolve_device(device)
    state = _initial_state(prepared, spec)
    posterior = _fresh_trained_posterior(prepared, spec, state, 0, device)
    pool_P = pool_indices(prepared.num_train, set(state.labelled) | set(state.validation))
    log_probs_N_K_C = _score_pool(prepared, spec, posterior, pool_P, 0, device)
    # Never saved when the fit diverged: every timing would then be measured on NaNs.
    check_finite_log_probs(log_probs_N_K_C, what="the benchmark's pool log-probabilities (round 0)",
                           lr=getattr(spec.training, "lr", None))
    return log_probs_N_K_C


def nested_pool_subset(log_probs_N_K_C, size: int, *, seed: int):
    """`size` pool points in a seeded random order, so that every prefix is a uniform subset of the pool."""
    import torch

    pool_size = log_probs_N_K_C.shape[0]
    if size > pool_size:
        raise ValueError(f"pool size {size} exceeds the {pool_size} scored pool points; lower pool_sizes")
    order = torch.randperm(pool_size, generator=torch.Generator().manual_seed(seed))[:size]
    return log_probs_N_K_C[order.to(log_probs_N_K_C.device)]
