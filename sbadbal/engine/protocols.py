"""Training protocols as records: how many draws or epochs, batch size and optimiser settings. Torch-free.

`protocol_from_config` is the one check of an experiment's `training` mapping, used by the config model
(sbadbal/config/model.py) and by the library alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Union

PROTOCOLS = ("iterations", "epochs")
# How the iterations protocol's learning rate moves over a round's steps: held (the original code), or cosine-
# annealed from `lr` to 0, which ends every fit at a small step size and so with less seed-to-seed spread in
# accuracy (benchmarks/training_noise.py measures it).
LR_SCHEDULES = ("constant", "cosine")
# Upper bounds of what sizes a fit's work (or makes it diverge): far above the paper's recipes (24,576 draws, 50
# epochs, lr 0.05), so that a typo (iterations: 10**15) fails when the configuration is read, naming the key.
UPPER_BOUNDS = {"iterations": 100_000_000, "epochs": 10_000, "batch_size": 100_000, "lr": 10.0, "gamma": 1.0,
                "momentum": 1.0, "weight_decay": 1.0, "validation_size": 10_000_000}


@dataclass(frozen=True)
class IterationsProtocol:
    iterations: int = 24_576  # training draws per round (384 steps of 64 in the original)
    batch_size: int = 64
    lr: float = 1e-3
    lr_schedule: str = "constant"

    name = "iterations"

    def __post_init__(self) -> None:
        _check_positive(self, ("iterations", "batch_size"), ("lr",))
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"training.lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}")


@dataclass(frozen=True)
class EpochsProtocol:
    epochs: int = 50
    batch_size: int = 128
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    milestones: tuple[int, ...] = (25, 40)
    gamma: float = 0.1
    validation_size: int = 5000  # pool points held out for checkpoint selection (they are never acquired)

    name = "epochs"

    def __post_init__(self) -> None:
        milestones = self.milestones
        if not isinstance(milestones, (list, tuple)) or not all(_is_int(m) for m in milestones):
            raise ValueError(f"training.milestones must be a list of epochs, e.g. [25, 40], got {milestones!r}")
        object.__setattr__(self, "milestones", tuple(milestones))
        _check_positive(self, ("epochs", "batch_size"), ("lr", "gamma"))
        for key in ("momentum", "weight_decay"):
            value = getattr(self, key)
            if not _is_number(value) or value < 0:
                raise ValueError(f"training.{key} must be a number >= 0, got {value!r}")
        if not _is_int(self.validation_size) or self.validation_size < 0:
            raise ValueError(f"training.validation_size must be an integer >= 0, got {self.validation_size!r}")
        if not 0 < self.gamma <= 1:
            raise ValueError(f"training.gamma must be in (0, 1], got {self.gamma!r}")
        if list(self.milestones) != sorted(set(self.milestones)) or any(m < 1 for m in self.milestones):
            raise ValueError(f"training.milestones must be increasing positive epochs, got {list(self.milestones)}")


Protocol = Union[IterationsProtocol, EpochsProtocol]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_positive(protocol: Any, ints: Sequence[str], floats: Sequence[str]) -> None:
    for key in ints:
        value = getattr(protocol, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"training.{key} must be a positive integer, got {value!r}")
    for key in floats:
        value = getattr(protocol, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
            raise ValueError(f"training.{key} must be a positive number, got {value!r}")


def check_upper_bounds(protocol: Protocol) -> None:
    """The UPPER_BOUNDS of a configured protocol (the configuration's check; the library still builds an
    out-of-bounds protocol, so that divergence handling can be tested on one)."""
    for key, upper in UPPER_BOUNDS.items():
        value = getattr(protocol, key, None)
        if value is not None and value > upper:
            raise ValueError(f"training.{key} must be at most {upper:,}, got {value!r}")


def protocol_from_config(config: Mapping[str, Any] | None) -> Protocol:
    """`{protocol: iterations, ...}` or `{protocol: epochs, ...}` -> a protocol; unknown keys are errors."""
    config = dict(config or {"protocol": "iterations"})
    name = config.pop("protocol", "iterations")
    classes = {"iterations": IterationsProtocol, "epochs": EpochsProtocol}
    if name not in classes:
        raise ValueError(f"unknown training protocol {name!r}; choose one of {', '.join(PROTOCOLS)}")
    cls = classes[name]
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} for training protocol {name!r}; valid keys: {sorted(known)}")
    protocol = cls(**config)
    check_upper_bounds(protocol)
    return protocol


def protocol_to_config(protocol: Protocol) -> dict[str, Any]:
    config = {"protocol": protocol.name, **asdict(protocol)}
    if "milestones" in config:
        config["milestones"] = list(config["milestones"])
    return config
