"""Fixtures for the acquisition tests: realistic random log-probabilities on a chosen device and dtype."""

from __future__ import annotations

import pytest
import torch


def make_log_probs(N: int, K: int, C: int, seed: int, *, device="cpu", dtype=torch.float64, sample_noise: float = 1.0) -> torch.Tensor:
    """MC-dropout-like log-probabilities: a per-point mean logit plus per-sample noise, so BALD varies across points."""
    generator = torch.Generator().manual_seed(seed)
    mean_logits_N_1_C = torch.randn(N, 1, C, generator=generator, dtype=torch.float64) * 2.0
    noise_scale_N_1_1 = torch.rand(N, 1, 1, generator=generator, dtype=torch.float64) * 2 * sample_noise
    logits_N_K_C = mean_logits_N_1_C + noise_scale_N_1_1 * torch.randn(N, K, C, generator=generator, dtype=torch.float64)
    return torch.log_softmax(logits_N_K_C, dim=-1).to(device=device, dtype=dtype)


@pytest.fixture
def log_probs_factory():
    return make_log_probs
