"""Acquisition functions that score each point on its own: BALD, Entropy, MaxProb, PowerBALD, Random."""

from __future__ import annotations

import torch

from .candidate import CandidateBatch
from .sampling import power_log_weights, sample_without_replacement, uniform_without_replacement
from .scores import bald_scores, entropy_scores, least_confidence_scores, top_b
from .validation import require_generator


def get_bald_batch(log_probs_N_K_C: torch.Tensor, batch_size: int, *, chunk_size: int = 1024, progress: bool | None = None) -> CandidateBatch:
    """Top-b mutual information I(y; theta)."""
    return top_b(bald_scores(log_probs_N_K_C, chunk_size), min(batch_size, log_probs_N_K_C.shape[0]))


def get_entropy_batch(log_probs_N_K_C: torch.Tensor, batch_size: int, *, chunk_size: int = 1024, progress: bool | None = None) -> CandidateBatch:
    """Top-b predictive entropy."""
    return top_b(entropy_scores(log_probs_N_K_C, chunk_size), min(batch_size, log_probs_N_K_C.shape[0]))


def get_max_prob_batch(log_probs_N_K_C: torch.Tensor, batch_size: int, *, chunk_size: int = 1024, progress: bool | None = None) -> CandidateBatch:
    """Least confidence: top-b of 1 - max_c mean_k p (the lowest maximum predicted probability)."""
    return top_b(least_confidence_scores(log_probs_N_K_C, chunk_size), min(batch_size, log_probs_N_K_C.shape[0]))


def get_powerbald_batch(
    log_probs_N_K_C: torch.Tensor,
    batch_size: int,
    *,
    alpha: float = 5.0,
    generator: torch.Generator | None = None,
    chunk_size: int = 1024,
    progress: bool | None = None,
) -> CandidateBatch:
    """b draws without replacement with probability proportional to max(BALD, 0)^alpha; scores are the BALD values."""
    generator = require_generator(generator, "PowerBALD")
    bald_N = bald_scores(log_probs_N_K_C, chunk_size).cpu()
    indices = sample_without_replacement(power_log_weights(bald_N, alpha), min(batch_size, bald_N.shape[0]), generator)
    return CandidateBatch(indices=indices.tolist(), scores=bald_N[indices].tolist())


def get_random_batch(
    log_probs_N_K_C: torch.Tensor,
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
    chunk_size: int = 1024,
    progress: bool | None = None,
) -> CandidateBatch:
    """Uniform without replacement (the original's randperm); every score is 0.0."""
    generator = require_generator(generator, "Random")
    N = log_probs_N_K_C.shape[0]
    indices = uniform_without_replacement(N, min(batch_size, N), generator)
    return CandidateBatch(indices=indices.tolist(), scores=[0.0] * len(indices))
