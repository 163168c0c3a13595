"""Training protocols of the original code (docs/algorithms.md#protocol), every constant a parameter with its default.

- `IterationsProtocol` (the original's sampling_train.py): a fixed number of sampled training draws per round,
  Adam. The draws follow BlackHC's RandomFixedLengthSampler so every labelled point is seen about equally.
- `EpochsProtocol` (the original's newpipe_train.py ResNet protocol): SGD + momentum + weight decay, MultiStepLR per
  epoch, a fixed number of epochs, the best-validation-accuracy weights kept; validation in eval mode on a
  held-out part of the pool without augmentation (docs/algorithms.md#protocol: the original validated in train mode).

`dataset` arguments are duck-typed `sbadbal.data.prepared.PreparedDataset`s: `train_inputs(indices, augment=,
generator=)`, `train_targets`, `augmentation`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

# The protocols are plain records (sbadbal/engine/protocols.py, torch-free) so that the config model can build them.
from sbadbal.engine.protocols import PROTOCOLS, EpochsProtocol, IterationsProtocol, Protocol
from sbadbal.models.posterior import Posterior, accuracy_and_nll, predict_log_probs

# Log-probabilities (or a loss) beyond this magnitude mean logits a million apart: no converging network gives
# them, an exploding one does. With lr 1e6 the loss stayed finite (0) while outputs reached -1e32 and the test
# NLL 1e31 at 10 % accuracy, so checking for NaN/inf alone would pass that run.
EXPLODED_MAGNITUDE = 1e6
# Training steps between divergence checks: each check waits for the device, so not every step.
DIVERGENCE_CHECK_EVERY = 32


class DivergenceError(RuntimeError):
    """Training or evaluation produced non-finite or exploded numbers; the message names the likely cause.

    The loop re-raises it with the run and round: `raise error.located(run=..., round_index=...) from error`.
    """

    def located(self, *, run: str, round_index: int) -> "DivergenceError":
        return type(self)(f"{run}, round {round_index}: {self}")


def _likely_cause(lr: float | None) -> str:
    value = f" (training.lr = {lr:g})" if lr is not None else " (training.lr)"
    return f"the likely cause is a learning rate too high for this model{value}: lower training.lr"


def check_finite_metrics(accuracy: float, nll: float, *, run: str, round_index: int, lr: float | None = None) -> None:
    """Fail on a test metric that is not a number a trained model can give (NaN, inf, an exploded NLL)."""
    sound = math.isfinite(accuracy) and 0.0 <= accuracy <= 100.0 and math.isfinite(nll) and 0.0 <= nll <= EXPLODED_MAGNITUDE
    if not sound:
        raise DivergenceError(
            f"{run}, round {round_index}: test accuracy {accuracy!r} / NLL {nll!r} is not finite or exploded "
            f"(NLL above {EXPLODED_MAGNITUDE:g}); the model diverged; " + _likely_cause(lr)
        )


def check_finite_log_probs(log_probs: torch.Tensor, *, what: str, lr: float | None = None) -> None:
    """Fail on NaN/inf log-probabilities (pool scores, the benchmark's scored pool) before they are used or saved."""
    bad = int((~torch.isfinite(log_probs)).sum())
    if bad:
        raise DivergenceError(
            f"{what}: {bad} of {log_probs.numel()} log-probabilities are NaN or infinite, so the model diverged; "
            + _likely_cause(lr)
        )




@dataclass
class TrainingReport:
    steps: int = 0
    epochs: int = 0
    best_epoch: int | None = None
    best_validation_accuracy: float | None = None
    validation_accuracies: list[float] = field(default_factory=list)
    learning_rates: list[float] = field(default_factory=list)  # epochs protocol: the rate each epoch trained at


def fixed_length_draws(num_labelled: int, num_draws: int, generator: torch.Generator) -> torch.Tensor:
    """Positions into the labelled set for one round: BlackHC's RandomFixedLengthSampler.

    More labels than draws: one ordinary epoch. Otherwise a permutation of the next multiple of the labelled
    count, taken modulo that count, so no point appears more than ceil(num_draws / num_labelled) times.
    """
    if num_labelled < 1:
        raise ValueError("training needs at least one labelled point")
    if num_draws < num_labelled:
        return torch.randperm(num_labelled, generator=generator)
    length = num_draws + (-num_draws % num_labelled)
    return torch.randperm(length, generator=generator)[:num_draws] % num_labelled


def _memory_format(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    return x.contiguous(memory_format=torch.channels_last) if channels_last and x.dim() == 4 else x


class _BatchSource:
    """Labelled inputs for training steps; without augmentation they are normalised once and kept on the device."""

    def __init__(self, dataset: Any, indices_L: torch.Tensor, device: torch.device, channels_last: bool) -> None:
        self.dataset = dataset
        self.indices_L = indices_L
        self.device = device
        self.channels_last = channels_last
        self.augment = getattr(dataset, "augmentation", "none") != "none"
        self.targets_L = dataset.train_targets[indices_L].to(device, torch.long)
        self.inputs_L = None if self.augment else dataset.train_inputs(indices_L).to(device)

    def batch(self, positions: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        if self.augment:
            x = self.dataset.train_inputs(self.indices_L[positions], augment=True, generator=generator).to(self.device)
        else:
            x = self.inputs_L[positions.to(self.device)]
        return _memory_format(x, self.channels_last), self.targets_L[positions.to(self.device)]


@contextmanager
def _seeded_global_rng(device: torch.device, seed: int) -> Iterator[None]:
    """Dropout in training draws from the global RNG: fork it (the caller's state is untouched) and seed it."""
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def train_network(
    model: nn.Module,
    dataset: Any,
    train_indices: Sequence[int] | torch.Tensor,
    protocol: Protocol,
    *,
    seed: int,
    device: torch.device | str = "cpu",
    validation_indices: Sequence[int] | torch.Tensor | None = None,
    validation_samples: int = 1,
    scoring_batch_size: int = 512,
    channels_last: bool = True,
) -> TrainingReport:
    """Train one network in place from its current weights; every random draw derives from `seed`.

    `channels_last`: image batches (and so the convolutions' activations and gradients) in channels-last memory,
    where oneDNN's and cuDNN's convolution kernels are fastest; the weights keep their layout, so a saved model
    does not depend on it. Same maths, other float rounding than NCHW.
    """
    device = torch.device(device)
    model.to(device)
    indices_L = torch.as_tensor(list(train_indices) if not torch.is_tensor(train_indices) else train_indices, dtype=torch.long)
    generator = torch.Generator().manual_seed(int(seed))
    dropout_seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with _seeded_global_rng(device, dropout_seed):
        if isinstance(protocol, IterationsProtocol):
            return _train_iterations(model, dataset, indices_L, protocol, generator, device, channels_last)
        if isinstance(protocol, EpochsProtocol):
            return _train_epochs(
                model, dataset, indices_L, protocol, generator, device, channels_last,
                validation_indices=validation_indices, validation_samples=validation_samples,
                scoring_batch_size=scoring_batch_size,
            )
    raise ValueError(f"unknown training protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")


def _step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """One optimiser step; returns the step's largest |loss| or |log-probability| (a device scalar, no sync)."""
    optimizer.zero_grad(set_to_none=True)
    log_probs = model(x)
    loss = F.nll_loss(log_probs, y)
    loss.backward()
    optimizer.step()
    return torch.maximum(loss.detach().abs(), log_probs.detach().abs().amax())


class _DivergenceWatch:
    """The largest |loss| / |log-probability| seen so far, checked every DIVERGENCE_CHECK_EVERY steps and at the end."""

    def __init__(self, lr: float) -> None:
        self.lr = lr
        self.worst: torch.Tensor | None = None
        self.steps = 0

    def add(self, magnitude: torch.Tensor) -> None:
        self.worst = magnitude if self.worst is None else torch.maximum(self.worst, magnitude)
        self.steps += 1
        if self.steps % DIVERGENCE_CHECK_EVERY == 0:
            self.check()

    def check(self, model: nn.Module | None = None) -> None:
        worst = float(self.worst) if self.worst is not None else 0.0
        if not worst <= EXPLODED_MAGNITUDE:  # NaN fails this comparison too
            raise DivergenceError(
                f"training diverged by step {self.steps}: the loss or log-probabilities reached {worst:g} "
                f"(NaN/inf or beyond {EXPLODED_MAGNITUDE:g}); " + _likely_cause(self.lr)
            )
        if model is not None and not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
            raise DivergenceError(f"training diverged at step {self.steps}: the weights are NaN or infinite; " + _likely_cause(self.lr))


def _train_iterations(model, dataset, indices_L, protocol: IterationsProtocol, generator, device,
                      channels_last: bool) -> TrainingReport:
    source = _BatchSource(dataset, indices_L, device, channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=protocol.lr)
    draws = fixed_length_draws(len(indices_L), protocol.iterations, generator)
    steps = math.ceil(len(draws) / protocol.batch_size)
    # Cosine: step t of T uses lr * (1 + cos(pi t / T)) / 2, so the last step's size is near 0.
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps) if protocol.lr_schedule == "cosine" else None
    model.train()
    report = TrainingReport()
    watch = _DivergenceWatch(protocol.lr)
    for start in range(0, len(draws), protocol.batch_size):
        x, y = source.batch(draws[start : start + protocol.batch_size], generator)
        watch.add(_step(model, optimizer, x, y))
        if scheduler is not None:
            scheduler.step()
        report.steps += 1
    watch.check(model)
    return report


def _train_epochs(
    model, dataset, indices_L, protocol: EpochsProtocol, generator, device, channels_last: bool, *,
    validation_indices, validation_samples: int, scoring_batch_size: int,
) -> TrainingReport:
    source = _BatchSource(dataset, indices_L, device, channels_last)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=protocol.lr, momentum=protocol.momentum, weight_decay=protocol.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(protocol.milestones), gamma=protocol.gamma)
    validation_V = None
    if validation_indices is not None and len(validation_indices) > 0:
        validation_V = torch.as_tensor(validation_indices, dtype=torch.long)
    method = "mc_dropout" if hasattr(model, "mc_forward") else "ensemble"
    validation_seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    report = TrainingReport()
    watch = _DivergenceWatch(protocol.lr)
    best_state = None
    for epoch in range(protocol.epochs):
        report.learning_rates.append(float(optimizer.param_groups[0]["lr"]))
        model.train()
        order = torch.randperm(len(indices_L), generator=generator)
        for start in range(0, len(order), protocol.batch_size):
            x, y = source.batch(order[start : start + protocol.batch_size], generator)
            watch.add(_step(model, optimizer, x, y))
            report.steps += 1
        watch.check(model)  # once an epoch: a diverged epoch must not be kept as the best-validation weights
        scheduler.step()
        report.epochs = epoch + 1
        if validation_V is None:
            continue
        # Eval mode, unaugmented inputs; the same masks every epoch so epochs are compared on equal terms.
        log_probs = predict_log_probs(
            Posterior(method, [model]),
            lambda positions: dataset.train_inputs(validation_V[positions]),
            len(validation_V),
            num_samples=validation_samples,
            batch_size=scoring_batch_size,
            device=device,
            generator=torch.Generator().manual_seed(validation_seed),
        )
        accuracy, _ = accuracy_and_nll(log_probs, dataset.train_targets[validation_V])
        report.validation_accuracies.append(accuracy)
        if report.best_validation_accuracy is None or accuracy > report.best_validation_accuracy:
            report.best_validation_accuracy = accuracy
            report.best_epoch = epoch + 1
            best_state = {key: value.detach().clone() for key, value in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    return report


def train_posterior(
    posterior: Posterior,
    dataset: Any,
    train_indices: Sequence[int] | torch.Tensor,
    protocol: Protocol,
    *,
    seeds: Sequence[int],
    device: torch.device | str = "cpu",
    validation_indices: Sequence[int] | torch.Tensor | None = None,
    validation_samples: int = 1,
    scoring_batch_size: int = 512,
    channels_last: bool = True,
) -> list[TrainingReport]:
    """Train every network of the posterior on the same labels, each with its own seed (own data order)."""
    if len(seeds) != len(posterior.members):
        raise ValueError(f"{len(posterior.members)} network(s) need as many training seeds, got {len(seeds)}")
    return [
        train_network(
            member, dataset, train_indices, protocol, seed=s, device=device,
            validation_indices=validation_indices, validation_samples=validation_samples,
            scoring_batch_size=scoring_batch_size, channels_last=channels_last,
        )
        for member, s in zip(posterior.members, seeds)
    ]
