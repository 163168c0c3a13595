"""The acquisition timing benchmark's input: a first-round model's log-probabilities over a shuffled pool."""

from __future__ import annotations

from typing import Any

import torch

from sbadbal.engine.devices import resolve_device
from sbadbal.engine.round import fit_and_score
from sbadbal.engine.spec import RunSpec
from sbadbal.engine.state import check_fit, initial_state


def trained_pool_log_probs(prepared: Any, spec: RunSpec, *, device: str | torch.device = "auto") -> torch.Tensor:
    """Round 0 of the run (sbadbal/engine/round.py), up to its scoring: train on the initial set and score the whole
    pool with k_acquisition samples (no test pass).

    The input of the acquisition timing benchmark: float64 log_probs_N_K_C over the pool in ascending index order;
    never returned when the fit diverged (every timing would then be measured on NaNs).
    """
    check_fit(prepared, spec)
    scored = fit_and_score(prepared, spec, initial_state(prepared, spec), 0, resolve_device(device), evaluate=False,
                           whole_pool=True)
    return scored.log_probs_P_K_C


def nested_pool_subset(log_probs_N_K_C: torch.Tensor, size: int, *, seed: int) -> torch.Tensor:
    """`size` pool points in a seeded random order, so that every prefix is a uniform subset of the pool."""
    pool_size = log_probs_N_K_C.shape[0]
    if size > pool_size:
        raise ValueError(f"pool size {size} exceeds the {pool_size} scored pool points; lower pool_sizes")
    order = torch.randperm(pool_size, generator=torch.Generator().manual_seed(seed))[:size]
    return log_probs_N_K_C[order.to(log_probs_N_K_C.device)]
