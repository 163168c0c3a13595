"""Where an AL run stands, and where it starts: labelled indices (the initial set, then each acquisition in order),
validation indices and the rows of the rounds done. One `RunState` for the loop and its checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from sbadbal.engine.seeds import SHARED_INITIAL_SEED, derived_generator
from sbadbal.engine.spec import RunSpec


@dataclass
class RunState:
    """Where a run stands: labelled indices (initial set, then acquisitions in order), validation indices, rows."""

    labelled: list[int]
    validation: list[int]
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """Whether the last row is the final round's (it acquires nothing)."""
        return bool(self.rows) and self.rows[-1]["acquired_indices"] == ""


def balanced_initial_indices(targets_N: torch.Tensor, num_classes: int, size: int, generator: torch.Generator) -> list[int]:
    """`size` indices, as even over classes as possible: size // C per class, the remainder to random classes.

    Unlike the original code, the set is balanced also when C does not divide `size` (EMNIST: 20/47; see
    docs/algorithms.md#protocol).
    """
    targets_N = torch.as_tensor(targets_N, dtype=torch.long)
    if size > len(targets_N):
        raise ValueError(f"initial_size ({size}) is larger than the pool ({len(targets_N)} points)")
    per_class_C = torch.full((num_classes,), size // num_classes, dtype=torch.long)
    extra = torch.randperm(num_classes, generator=generator)[: size % num_classes]
    per_class_C[extra] += 1
    chosen = []
    for c in range(num_classes):
        members = torch.nonzero(targets_N == c).flatten()
        need = int(per_class_C[c])
        if need > len(members):
            raise ValueError(
                f"a class-balanced initial set of {size} needs {need} points of class {c}, but the pool has {len(members)}"
            )
        chosen.append(members[torch.randperm(len(members), generator=generator)[:need]])
    return sorted(torch.cat(chosen).tolist())


def pool_indices(num_train: int, excluded: set[int]) -> torch.Tensor:
    """Unlabelled, non-validation train indices in ascending order (the original's pool order)."""
    keep_N = torch.ones(num_train, dtype=torch.bool)
    if excluded:
        keep_N[torch.tensor(sorted(excluded), dtype=torch.long)] = False
    return torch.nonzero(keep_N).flatten()


def check_fit(prepared: Any, spec: RunSpec) -> None:
    """The prepared dataset is the spec's, and its pool holds the initial set and the budget."""
    name = getattr(prepared, "name", None)
    if name is not None and str(name).upper() != spec.dataset.upper():
        raise ValueError(f"the prepared dataset is {name!r} but the experiment names dataset {spec.dataset!r}")
    pool_size = prepared.num_train - spec.validation_size
    if spec.initial_size > pool_size:
        raise ValueError(
            f"initial_size ({spec.initial_size}) is larger than the pool ({pool_size} points"
            + (f" after {spec.validation_size} validation points" if spec.validation_size else "") + ")"
        )
    if spec.budget > pool_size:
        raise ValueError(
            f"budget ({spec.budget}) exceeds the labelable pool ({pool_size} points"
            + (f" after {spec.validation_size} validation points" if spec.validation_size else "") + ")"
        )


def initial_state(prepared: Any, spec: RunSpec) -> RunState:
    """The run's state before round 0: its initial labelled set and (epochs protocol) validation indices."""
    initial_seed = SHARED_INITIAL_SEED if spec.shared_initial_set else spec.seed
    labelled = balanced_initial_indices(
        prepared.train_targets, prepared.num_classes, spec.initial_size, derived_generator(initial_seed, 0, "initial-set")
    )
    validation: list[int] = []
    if spec.validation_size:
        rest = pool_indices(prepared.num_train, set(labelled))
        if spec.validation_size > len(rest) - 1:
            raise ValueError(
                f"training.validation_size ({spec.validation_size}) leaves no pool: only {len(rest)} unlabelled points"
            )
        order = torch.randperm(len(rest), generator=derived_generator(spec.seed, 0, "validation-set"))
        validation = sorted(rest[order[: spec.validation_size]].tolist())
    return RunState(labelled=labelled, validation=validation, rows=[])


def initial_sets(prepared: Any, spec: RunSpec) -> tuple[list[int], list[int]]:
    """The run's initial labelled indices and (epochs protocol) validation indices, as the run draws them."""
    check_fit(prepared, spec)
    state = initial_state(prepared, spec)
    return state.labelled, state.validation
