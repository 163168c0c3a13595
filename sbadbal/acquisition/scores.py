"""Per-point uncertainty scores, computed in chunks of pool rows so that memory stays bounded.

Each row is independent, so the chunk size never changes a value beyond floating-point rounding of sums over K and C
(which are done in the same order whatever the chunk size).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .validation import chunk_ranges


def xlogx(probs: torch.Tensor) -> torch.Tensor:
    """probs * log(probs) with 0 log 0 = 0, as a new tensor.

    Clamping before the log then multiplying in place is about twice as fast as torch.special.xlogy on CPU, and
    exact: a clamped zero contributes 0 * log(tiny) = 0.
    """
    return probs.clamp_min(torch.finfo(probs.dtype).tiny).log_().mul_(probs)


@dataclass(frozen=True)
class PointUncertainty:
    """Per-point terms shared by several functions, all of shape [N], in the input's dtype and device."""

    predictive_entropy_N: torch.Tensor  # H(mean_k p[n,k,:])
    expected_conditional_entropy_N: torch.Tensor  # mean_k H(p[n,k,:])
    max_mean_prob_N: torch.Tensor  # max_c mean_k p[n,k,c]

    @property
    def bald_N(self) -> torch.Tensor:
        return self.predictive_entropy_N - self.expected_conditional_entropy_N


def point_uncertainty(log_probs_N_K_C: torch.Tensor, chunk_size: int) -> PointUncertainty:
    """One pass over the pool: a single exp per element serves all three terms."""
    N, K, _ = log_probs_N_K_C.shape
    options = dict(dtype=log_probs_N_K_C.dtype, device=log_probs_N_K_C.device)
    predictive_entropy_N = torch.empty(N, **options)
    conditional_entropy_N = torch.empty(N, **options)
    max_mean_prob_N = torch.empty(N, **options)
    for start, end in chunk_ranges(N, chunk_size):
        log_probs_n_K_C = log_probs_N_K_C[start:end]
        probs_n_K_C = log_probs_n_K_C.exp()
        # Finite log-probs (validated) make p*log p well defined; an underflowed p=0 gives 0*finite = 0.
        conditional_entropy_N[start:end] = -(probs_n_K_C * log_probs_n_K_C).sum(dim=(1, 2)) / K
        mean_probs_n_C = probs_n_K_C.mean(dim=1)
        predictive_entropy_N[start:end] = -xlogx(mean_probs_n_C).sum(dim=1)
        max_mean_prob_N[start:end] = mean_probs_n_C.amax(dim=1)
    return PointUncertainty(predictive_entropy_N, conditional_entropy_N, max_mean_prob_N)


def bald_scores(log_probs_N_K_C: torch.Tensor, chunk_size: int = 4096) -> torch.Tensor:
    """BALD[n] = H(mean_k p[n,k]) - mean_k H(p[n,k]), the mutual information I(y_n; theta)."""
    return point_uncertainty(log_probs_N_K_C, chunk_size).bald_N


def entropy_scores(log_probs_N_K_C: torch.Tensor, chunk_size: int = 4096) -> torch.Tensor:
    """Predictive entropy H(mean_k p[n,k])."""
    return point_uncertainty(log_probs_N_K_C, chunk_size).predictive_entropy_N


def least_confidence_scores(log_probs_N_K_C: torch.Tensor, chunk_size: int = 4096) -> torch.Tensor:
    """MaxProb / least confidence: 1 - max_c mean_k p[n,k,c]."""
    return 1 - point_uncertainty(log_probs_N_K_C, chunk_size).max_mean_prob_N


def top_b(scores_N: torch.Tensor, batch_size: int):
    """Indices of the batch_size largest scores, best first, as a CandidateBatch."""
    from .candidate import CandidateBatch

    top_scores, top_indices = torch.topk(scores_N, batch_size)
    return CandidateBatch(indices=top_indices.tolist(), scores=top_scores.tolist())
