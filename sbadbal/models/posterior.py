"""Posterior samples of a trained model: consistent MC dropout or a deep ensemble -> log_probs_N_K_C.

A `Posterior` is the list of trained networks behind the predictive distribution: one `BayesianModule`
(K consistent dropout masks) or T ensemble members (K = T). `predict_log_probs` scores any set of inputs in
batches and returns float64 log-probabilities on the CPU, the precision the acquisition functions expect.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from sbadbal.models.bayesian import BayesianModule, build_model, reset_consistent_masks

CPU_ROWS_PER_FORWARD = 256
# Factorised MC dropout shares per-input work across the K samples, so its forwards are cut by the per-sample rows
# they stand for: ~256 (2-3 images at K = 100, ~4 MiB of combined mnist_cnn activations, cache-sized) scored
# 1.8 ms/image at K = 100 on one core where ~1,024 (10 images) took 3.7-4.1 ms, alone or beside a second job;
# the same at K = 10, better at K = 20. At most 32 inputs at a time: mnist_cnn's conv2 partials take 0.5 MiB per
# image whatever K, so small K would otherwise make cache-busting forwards.
CPU_FACTORISED_ROWS_PER_FORWARD = 256
CPU_FACTORISED_MAX_INPUTS = 32
InputLoader = Callable[[torch.Tensor], torch.Tensor]  # positions 0..N-1 of a batch -> model inputs


@dataclass
class Posterior:
    method: str  # "mc_dropout" or "ensemble"
    members: list[nn.Module]

    def __post_init__(self) -> None:
        if self.method not in ("mc_dropout", "ensemble"):
            raise ValueError(f"unknown uncertainty method {self.method!r}; choose mc_dropout or ensemble")
        if not self.members:
            raise ValueError("a posterior needs at least one network")
        if self.method == "mc_dropout" and (len(self.members) != 1 or not isinstance(self.members[0], BayesianModule)):
            raise ValueError("an mc_dropout posterior is exactly one BayesianModule")

    def to(self, device: torch.device | str) -> "Posterior":
        for member in self.members:
            member.to(device)
        return self


def build_posterior(
    architecture: Mapping[str, Any],
    *,
    method: str,
    num_classes: int,
    input_shape: Sequence[int],
    members: int = 5,
    seeds: Sequence[int],
) -> Posterior:
    """Freshly initialised networks: one for mc_dropout, `members` independently initialised ones for ensemble.

    `architecture`: the model record's plain values (`ModelRecord.architecture()`); `seeds` gives one
    initialisation seed per network (length 1 for mc_dropout, `members` for ensemble).
    """
    count = 1 if method == "mc_dropout" else members
    if method == "ensemble" and members < 1:
        raise ValueError(f"an ensemble needs members >= 1, got {members}")
    if len(seeds) != count:
        raise ValueError(f"{method} with {count} network(s) needs {count} seed(s), got {len(seeds)}")
    nets = [
        build_model(architecture, num_classes=num_classes, input_shape=input_shape, uncertainty=method, seed=s)
        for s in seeds
    ]
    return Posterior(method, nets)


def as_loader(inputs: torch.Tensor | InputLoader) -> InputLoader:
    if callable(inputs):
        return inputs
    return lambda positions: inputs[positions]


@torch.no_grad()
def predict_log_probs(
    posterior: Posterior,
    inputs: torch.Tensor | InputLoader,
    num_points: int,
    *,
    num_samples: int,
    batch_size: int = 512,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
    cpu_rows_per_forward: int | None = None,
    factorised: bool = True,
) -> torch.Tensor:
    """log_probs_N_K_C (float64, CPU) of `num_points` inputs, loaded in batches of `batch_size`.

    On the CPU each forward pass is further cut to about `cpu_rows_per_forward` network rows (inputs x K; default
    CPU_ROWS_PER_FORWARD, or CPU_FACTORISED_ROWS_PER_FORWARD and at most CPU_FACTORISED_MAX_INPUTS inputs for
    factorised MC dropout): cache-sized passes run about twice as fast there as 512 x K rows at once, and memory
    stays bounded whatever `batch_size`. The result does not depend on it.

    MC dropout: K = num_samples masks drawn once from `generator` at the start of this pass and shared by
    every batch, so the result does not depend on `batch_size`. `factorised` (default): the exact factorised
    forward (`BayesianModule.factorised_mc_forward`, which shares the mask-independent work of the K samples);
    False: the reference K-pass forward. Both draw the same masks and agree up to float rounding.
    Ensemble: K = number of members (num_samples and factorised are ignored), every member in eval mode.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    load = as_loader(inputs)
    device = torch.device(device)
    posterior.to(device)
    for member in posterior.members:
        member.eval()
    if posterior.method == "mc_dropout":
        if num_samples < 1:
            raise ValueError(f"num_samples must be >= 1 for mc_dropout, got {num_samples}")
        reset_consistent_masks(posterior.members[0], generator)
    mc_dropout = posterior.method == "mc_dropout"
    if cpu_rows_per_forward is None:
        cpu_rows_per_forward = CPU_FACTORISED_ROWS_PER_FORWARD if mc_dropout and factorised else CPU_ROWS_PER_FORWARD
    rows_per_input = num_samples if mc_dropout else 1
    micro_batch = max(1, cpu_rows_per_forward // rows_per_input) if device.type == "cpu" else None
    if micro_batch and mc_dropout and factorised:
        micro_batch = min(micro_batch, CPU_FACTORISED_MAX_INPUTS)
    if num_points < 1:
        raise ValueError("predict_log_probs needs at least one input point")
    # Filled in place: no list of chunks concatenated at the end (twice the result's memory), and no small long-lived
    # tensors interleaved with each forward's large temporaries in the CPU allocator's heap.
    log_probs_N_K_C: torch.Tensor | None = None
    row = 0
    for start in range(0, num_points, batch_size):
        positions = torch.arange(start, min(start + batch_size, num_points))
        x_B = load(positions).to(device, non_blocking=True)
        for x_b in x_B.split(micro_batch) if micro_batch else (x_B,):
            if mc_dropout and factorised:
                log_probs_b_K_C = posterior.members[0].factorised_mc_forward(x_b, num_samples)
            elif mc_dropout:
                log_probs_b_K_C = posterior.members[0].mc_forward(x_b, num_samples)
            else:
                log_probs_b_K_C = torch.stack([member(x_b) for member in posterior.members], dim=1)
            if log_probs_N_K_C is None:
                log_probs_N_K_C = torch.empty((num_points, *log_probs_b_K_C.shape[1:]), dtype=torch.float64)
            log_probs_N_K_C[row : row + len(log_probs_b_K_C)] = log_probs_b_K_C.to("cpu", torch.float64)
            row += len(log_probs_b_K_C)
    return log_probs_N_K_C


def mean_log_predictive(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """log of the mean predictive, log (1/K) sum_k p_k, computed stably."""
    return torch.logsumexp(log_probs_N_K_C, dim=1) - math.log(log_probs_N_K_C.shape[1])


def accuracy_and_nll(log_probs_N_K_C: torch.Tensor, targets_N: torch.Tensor) -> tuple[float, float]:
    """Accuracy (percent, as the original) and mean NLL of the mean predictive distribution."""
    log_predictive_N_C = mean_log_predictive(log_probs_N_K_C)
    targets_N = targets_N.to(log_predictive_N_C.device, torch.long)
    accuracy = (log_predictive_N_C.argmax(dim=1) == targets_N).double().mean().item() * 100.0
    nll = -log_predictive_N_C.gather(1, targets_N[:, None]).mean().item()
    return accuracy, nll
