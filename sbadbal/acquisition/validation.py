"""Checks on what a caller passes in, each failing with one ValueError that says what is wrong and how to fix it."""

from __future__ import annotations

import math

import torch

SUPPORTED_DTYPES = (torch.float64, torch.float32)
# A row of log-probabilities has logsumexp 0; float32 log_softmax is accurate to ~1e-6, so 1e-3 only catches real
# mistakes (logits, probabilities, unnormalised scores) and never rounding.
LOGSUMEXP_TOLERANCE = 1e-3


def chunk_ranges(num_rows: int, chunk_size: int) -> list[tuple[int, int]]:
    """[start, end) row ranges of at most chunk_size rows covering 0..num_rows."""
    return [(start, min(start + chunk_size, num_rows)) for start in range(0, num_rows, chunk_size)]


def validate_chunk_size(chunk_size: int, name: str = "chunk_size") -> int:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"{name} must be a positive integer (pool rows per chunk), got {chunk_size!r}")
    return chunk_size


def validate_batch_size(batch_size: int, num_pool_points: int) -> int:
    """The number of points to select: batch_size, capped at the pool size."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r} of type {type(batch_size).__name__}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return min(batch_size, num_pool_points)


def validate_log_probs(log_probs_N_K_C: torch.Tensor, chunk_size: int = 4096) -> None:
    """log_probs_N_K_C must be a finite float32/float64 tensor [N, K, C] whose rows are log-probabilities over C."""
    if not isinstance(log_probs_N_K_C, torch.Tensor):
        raise ValueError(f"log_probs_N_K_C must be a torch.Tensor of shape [N, K, C], got {type(log_probs_N_K_C).__name__}")
    if log_probs_N_K_C.ndim != 3:
        raise ValueError(
            f"log_probs_N_K_C must have rank 3 [N pool points, K posterior samples, C classes], got shape {tuple(log_probs_N_K_C.shape)}"
        )
    if log_probs_N_K_C.dtype not in SUPPORTED_DTYPES:
        raise ValueError(f"log_probs_N_K_C must be float64 or float32, got {log_probs_N_K_C.dtype}; convert with .double()")
    N, K, C = log_probs_N_K_C.shape
    if N < 1 or K < 1 or C < 1:
        raise ValueError(f"log_probs_N_K_C must have N, K, C >= 1, got shape {(N, K, C)}")
    # One reduction finds any NaN/inf: a finite sum of log-probabilities cannot come from a non-finite element
    # (only an overflow of absurd values could make it non-finite, and then the exact check below runs).
    if not torch.isfinite(log_probs_N_K_C.sum()):
        num_bad = int((~torch.isfinite(log_probs_N_K_C)).sum())
        if num_bad:
            raise ValueError(f"log_probs_N_K_C contains {num_bad} NaN or infinite values; pass finite log-probabilities (log_softmax outputs)")
    worst_deviation = 0.0
    for start, end in chunk_ranges(N, max(1, chunk_size)):
        sums_n_K = log_probs_N_K_C[start:end].exp().sum(dim=2)
        worst_deviation = max(worst_deviation, float((sums_n_K - 1).abs().max()))
    if not worst_deviation <= math.expm1(LOGSUMEXP_TOLERANCE):
        raise ValueError(
            f"log_probs_N_K_C rows are not log-probabilities: sum over C of exp(row) deviates from 1 by up to {worst_deviation:.3g} "
            f"(tolerance {math.expm1(LOGSUMEXP_TOLERANCE):.1e}); pass log_softmax outputs, not logits or probabilities"
        )


def require_generator(generator: torch.Generator | None, algorithm: str) -> torch.Generator:
    """Stochastic functions draw on a CPU generator so that picks are identical on CPU and CUDA for one seed."""
    if generator is None:
        raise ValueError(
            f"{algorithm} is stochastic and needs an explicit generator: pass generator=torch.Generator().manual_seed(seed)"
        )
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if generator.device.type != "cpu":
        raise ValueError(
            f"generator must be a CPU generator (got one on {generator.device}) so that picks do not depend on the device; "
            "pass torch.Generator().manual_seed(seed)"
        )
    return generator
