"""Random selection on a CPU generator, so that one seed gives the same picks on CPU and CUDA."""

from __future__ import annotations

import torch


def gumbel_noise(num: int, generator: torch.Generator) -> torch.Tensor:
    """Standard Gumbel draws in float64 on the CPU."""
    uniform = torch.rand(num, generator=generator, dtype=torch.float64)
    # rand is in [0, 1); nudging away from 0 keeps -log(-log u) finite.
    uniform = uniform.clamp_min(torch.finfo(torch.float64).tiny)
    return -torch.log(-torch.log(uniform))


def power_log_weights(scores_N: torch.Tensor, alpha: float) -> torch.Tensor:
    """log(max(score, 0)^alpha) in float64 on the CPU; -inf marks a zero weight.

    Working in the log domain keeps score^alpha from underflowing for small scores and large alpha, and clamping
    at 0 stops a rounding-negative score (BALD of a certain point can be -1e-17) from giving a NaN weight.
    """
    clamped_N = scores_N.detach().to(device="cpu", dtype=torch.float64).clamp_min(0.0)
    return alpha * torch.log(clamped_N)


def sample_without_replacement(log_weights_N: torch.Tensor, num: int, generator: torch.Generator) -> torch.Tensor:
    """num distinct indices drawn one after another, each with probability proportional to its weight among the rest.

    Gumbel-top-k: sorting log w + Gumbel noise is distributed exactly as sequential sampling without replacement
    (Plackett-Luce), in one pass. Zero-weight points (log w = -inf) come after every positive-weight point, in uniformly
    random order, so asking for more points than have positive weight never fails and never yields NaN.
    """
    N = log_weights_N.shape[0]
    noise_N = gumbel_noise(N, generator)
    positive_N = torch.isfinite(log_weights_N)
    # Positive weights rank by log w + G; zero weights rank below all of them, ordered by G alone.
    keys_N = torch.where(positive_N, log_weights_N + noise_N, noise_N)
    order_positive = torch.argsort(keys_N[positive_N], descending=True, stable=True)
    order_zero = torch.argsort(keys_N[~positive_N], descending=True, stable=True)
    indices_positive = torch.nonzero(positive_N).flatten()[order_positive]
    indices_zero = torch.nonzero(~positive_N).flatten()[order_zero]
    return torch.cat([indices_positive, indices_zero])[:num]


def draw_one(log_weights_N: torch.Tensor, generator: torch.Generator) -> int:
    """One index drawn with probability proportional to exp(log weight); uniform if every weight is zero."""
    return int(sample_without_replacement(log_weights_N, 1, generator)[0])


def uniform_without_replacement(num_pool_points: int, num: int, generator: torch.Generator) -> torch.Tensor:
    """The original's random acquisition: the first num entries of a random permutation."""
    return torch.randperm(num_pool_points, generator=generator)[:num]
