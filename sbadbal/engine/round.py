"""The pieces of one AL round: derived seeds, initial sets, a freshly trained posterior, pool scoring.

Every random draw comes from a generator derived from (seed, round, purpose) (`derive_seed`), so a run needs no
RNG state to resume. Apart from the loop (sbadbal/engine/loop.py) so that the timing benchmark's first-round model
(sbadbal/bench/log_probs.py) does not depend on acquisition code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import torch

from sbadbal.config.model import RunSpec
from sbadbal.engine.training import train_posterior
from sbadbal.models.posterior import Posterior, build_posterior, predict_log_probs

SHARED_INITIAL_SEED = 42  # the original code drew its one initial set under seed 42 at import (docs/algorithms.md)


def derive_seed(seed: int, round_index: int, purpose: str) -> int:
    """A 63-bit seed for one purpose in one round of one run: stable across processes, platforms and resumes."""
    digest = hashlib.sha256(f"sbadbal/{int(seed)}/{int(round_index)}/{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def derived_generator(seed: int, round_index: int, purpose: str, device: torch.device | str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(derive_seed(seed, round_index, purpose))


# ------------------------------------------------------------------------------------------- pure pieces


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
    """Unlabelled, non-validation train indices in ascending order (the seed's pool order)."""
    keep_N = torch.ones(num_train, dtype=torch.bool)
    if excluded:
        keep_N[torch.tensor(sorted(excluded), dtype=torch.long)] = False
    return torch.nonzero(keep_N).flatten()


# ---------------------------------------------------------------------------------------------- the run


@dataclass
class _RunState:
    labelled: list[int]
    validation: list[int]
    rows: list[dict[str, Any]]


def _check_fit(prepared: Any, spec: RunSpec) -> None:
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


def _initial_state(prepared: Any, spec: RunSpec) -> _RunState:
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
    return _RunState(labelled=labelled, validation=validation, rows=[])


def initial_sets(prepared: Any, spec: RunSpec) -> tuple[list[int], list[int]]:
    """The run's initial labelled indices and (epochs protocol) validation indices, as the run draws them."""
    _check_fit(prepared, spec)
    state = _initial_state(prepared, spec)
    return state.labelled, state.validation


def _fresh_trained_posterior(prepared: Any, spec: RunSpec, state: _RunState, round_index: int, device: torch.device) -> Posterior:
    posterior = build_posterior(
        spec.model,
        method=spec.uncertainty.method,
        num_classes=prepared.num_classes,
        input_shape=prepared.input_shape,
        members=spec.uncertainty.members,
        seeds=[derive_seed(spec.seed, round_index, f"init/{t}") for t in range(spec.num_networks)],
    )
    train_posterior(
        posterior, prepared, state.labelled, spec.training,
        seeds=[derive_seed(spec.seed, round_index, f"train/{t}") for t in range(spec.num_networks)],
        device=device, validation_indices=state.validation or None,
        validation_samples=spec.uncertainty.k_test if spec.uncertainty.method == "mc_dropout" else 1,
        scoring_batch_size=spec.scoring_batch_size,
    )
    return posterior


def _score_pool(prepared: Any, spec: RunSpec, posterior: Posterior, candidates_P: torch.Tensor, round_index: int,
                device: torch.device) -> torch.Tensor:
    return predict_log_probs(
        posterior,
        lambda positions: prepared.train_inputs(candidates_P[positions]),
        len(candidates_P),
        num_samples=spec.uncertainty.k_acquisition,
        batch_size=spec.scoring_batch_size,
        device=device,
        generator=derived_generator(spec.seed, round_index, "pool-masks"),
    )
