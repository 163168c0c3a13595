"""Training protocols of the original code (docs/algorithms.md#protocol), every constant a parameter with its default.

- `IterationsProtocol` (the seed's sampling_train.py): a fixed number of sampled training draws per round,
  Adam. The draws follow BlackHC's RandomFixedLengthSampler so every labelled point is seen about equally.
- `EpochsProtocol` (the seed's newpipe_train.py ResNet protocol): SGD + momentum + weight decay, MultiStepLR per
  epoch, a fixed number of epochs, the best-validation-accuracy weights kept; validation in eval mode on a
  held-out part of the pool without augmentation (docs/algorithms.md#protocol: the original validated in train mode).

`dataset` arguments are duck-typed `sbadbal.data.prepared.PreparedDataset`s: `train_inputs(indices, augment=,
generator=)`, `train_targets`, `augmentation`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from sbadbal.uncertainty import Posterior, accuracy_and_nll, predict_log_probs

# The protocols are plain records (sbadbal/protocols.py, torch-free) so that the config model can build them.
from sbadbal.protocols import (  # noqa: E402,F401
    PROTOCOLS,
    EpochsProtocol,
    IterationsProtocol,
    Protocol,
    protocol_from_config,
    protocol_to_config,
)


@dataclass
class TrainingReport:
    steps: int = 0
    epochs: int = 0
    best_epoch: int | None = None
    best_validation_accuracy: float | None = None
    validation_accuracies: list[float] = field(default_factory=list)


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


class _BatchSource:
    """Labelled inputs for training steps; without augmentation they are normalised once and kept on the device."""

    def __init__(self, dataset: Any, indices_L: torch.Tensor, device: torch.device) -> None:
        self.dataset = dataset
        self.indices_L = indices_L
        self.device = device
        self.augment = getattr(dataset, "augmentation", "none") != "none"
        self.targets_L = dataset.train_targets[indices_L].to(device, torch.long)
        self.inputs_L = None if self.augment else dataset.train_inputs(indices_L).to(device)

    def batch(self, positions: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        if self.augment:
            x = self.dataset.train_inputs(self.indices_L[positions], augment=True, generator=generator).to(self.device)
        else:
            x = self.inputs_L[positions.to(self.device)]
        return x, self.targets_L[positions.to(self.device)]


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
) -> TrainingReport:
    """Train one network in place from its current weights; every random draw derives from `seed`."""
    device = torch.device(device)
    model.to(device)
    indices_L = torch.as_tensor(list(train_indices) if not torch.is_tensor(train_indices) else train_indices, dtype=torch.long)
    generator = torch.Generator().manual_seed(int(seed))
    dropout_seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with _seeded_global_rng(device, dropout_seed):
        if isinstance(protocol, IterationsProtocol):
            return _train_iterations(model, dataset, indices_L, protocol, generator, device)
        if isinstance(protocol, EpochsProtocol):
            return _train_epochs(
                model, dataset, indices_L, protocol, generator, device,
                validation_indices=validation_indices, validation_samples=validation_samples,
                scoring_batch_size=scoring_batch_size,
            )
    raise ValueError(f"unknown training protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")


def _step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss = F.nll_loss(model(x), y)
    loss.backward()
    optimizer.step()


def _train_iterations(model, dataset, indices_L, protocol: IterationsProtocol, generator, device) -> TrainingReport:
    source = _BatchSource(dataset, indices_L, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=protocol.lr)
    draws = fixed_length_draws(len(indices_L), protocol.iterations, generator)
    model.train()
    report = TrainingReport()
    for start in range(0, len(draws), protocol.batch_size):
        x, y = source.batch(draws[start : start + protocol.batch_size], generator)
        _step(model, optimizer, x, y)
        report.steps += 1
    return report


def _train_epochs(
    model, dataset, indices_L, protocol: EpochsProtocol, generator, device, *,
    validation_indices, validation_samples: int, scoring_batch_size: int,
) -> TrainingReport:
    source = _BatchSource(dataset, indices_L, device)
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
    best_state = None
    for epoch in range(protocol.epochs):
        model.train()
        order = torch.randperm(len(indices_L), generator=generator)
        for start in range(0, len(order), protocol.batch_size):
            x, y = source.batch(order[start : start + protocol.batch_size], generator)
            _step(model, optimizer, x, y)
            report.steps += 1
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
) -> list[TrainingReport]:
    """Train every network of the posterior on the same labels, each with its own seed (own data order)."""
    if len(seeds) != len(posterior.members):
        raise ValueError(f"{len(posterior.members)} network(s) need as many training seeds, got {len(seeds)}")
    return [
        train_network(
            member, dataset, train_indices, protocol, seed=s, device=device,
            validation_indices=validation_indices, validation_samples=validation_samples,
            scoring_batch_size=scoring_batch_size,
        )
        for member, s in zip(posterior.members, seeds)
    ]
