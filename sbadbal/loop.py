"""One active-learning run: (experiment, batch size, algorithm, seed) -> one row per round.

Round r: build fresh networks, train them on the L_r labelled points, evaluate on the test split, and, until the
label budget is reached, score the pool (or a random subset of it), acquire a batch and add it to the labels.

Every random draw comes from a generator derived from (seed, round, purpose) (`derive_seed`), so a run needs no
RNG state to resume: the checkpoint written atomically after every round holds the rows and the labelled
indices, and a restarted run continues from the last finished round with the same rows as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from sbadbal.models import MODEL_NAMES, UNCERTAINTY_METHODS, check_model_pair
from sbadbal.results import RUN_COLUMNS, run_sidecar, write_csv_atomic, write_json_atomic
from sbadbal.runtime import Stopwatch, device_name, resolve_device
from sbadbal.training import Protocol, protocol_from_config, protocol_to_config, train_posterior
from sbadbal.uncertainty import Posterior, accuracy_and_nll, build_posterior, predict_log_probs

logger = logging.getLogger(__name__)

SHARED_INITIAL_SEED = 42  # the seed code drew its one initial set under seed 42 at import (SEED_SPEC 3.1)
CHECKPOINT_VERSION = 1

EXPERIMENT_KEYS = (
    "dataset", "model", "uncertainty", "training", "initial_size", "shared_initial_set", "budget",
    "pool_subset", "scoring_batch_size",
)
PIPELINE_ONLY_KEYS = ("batch_sizes", "algorithms", "seeds", "description", "algorithm_params")
REQUIRED_KEYS = ("dataset", "model", "initial_size", "budget")


def derive_seed(seed: int, round_index: int, purpose: str) -> int:
    """A 63-bit seed for one purpose in one round of one run: stable across processes, platforms and resumes."""
    digest = hashlib.sha256(f"sbadbal/{int(seed)}/{int(round_index)}/{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def derived_generator(seed: int, round_index: int, purpose: str, device: torch.device | str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(derive_seed(seed, round_index, purpose))


# ------------------------------------------------------------------------------------------------ the spec


@dataclass(frozen=True)
class UncertaintySpec:
    method: str = "mc_dropout"
    k_acquisition: int = 100  # consistent masks for pool scoring (mc_dropout)
    k_test: int = 5  # consistent masks for the test pass (mc_dropout)
    members: int = 5  # ensemble size T; K = T for both scoring and test (ensemble)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> "UncertaintySpec":
        config = dict(config or {})
        method = config.pop("method", "mc_dropout")
        if method not in UNCERTAINTY_METHODS:
            raise ValueError(f"unknown uncertainty.method {method!r}; choose one of {', '.join(UNCERTAINTY_METHODS)}")
        valid = ("k_acquisition", "k_test") if method == "mc_dropout" else ("members",)
        unknown = sorted(set(config) - set(valid))
        if unknown:
            raise ValueError(f"unknown key(s) {unknown} in uncertainty for method {method!r}; valid keys: {list(valid)}")
        for key, value in config.items():
            _require_int(f"uncertainty.{key}", value, minimum=1)
        return cls(method=method, **config)

    def to_config(self) -> dict[str, Any]:
        if self.method == "mc_dropout":
            return {"method": self.method, "k_acquisition": self.k_acquisition, "k_test": self.k_test}
        return {"method": self.method, "members": self.members}


def _require_int(name: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


@dataclass(frozen=True)
class RunSpec:
    dataset: str
    model: str
    uncertainty: UncertaintySpec
    training: Protocol
    initial_size: int
    budget: int
    algorithm: str
    batch_size: int
    seed: int
    algorithm_params: dict[str, Any] = field(default_factory=dict)
    shared_initial_set: bool = False
    pool_subset: int | None = None
    scoring_batch_size: int = 512

    @classmethod
    def from_experiment(
        cls,
        experiment: Mapping[str, Any],
        *,
        algorithm: str,
        batch_size: int,
        seed: int,
        algorithm_params: Mapping[str, Any] | None = None,
    ) -> "RunSpec":
        """Validate one experiment of config.yaml plus the run's coordinates; one clear ValueError per mistake."""
        experiment = dict(experiment)
        unknown = sorted(set(experiment) - set(EXPERIMENT_KEYS) - set(PIPELINE_ONLY_KEYS))
        if unknown:
            raise ValueError(f"unknown experiment key(s) {unknown}; valid keys: {list(EXPERIMENT_KEYS)}")
        missing = [key for key in REQUIRED_KEYS if key not in experiment]
        if missing:
            raise ValueError(f"experiment is missing required key(s) {missing}")
        from sbadbal.data import DATASET_NAMES

        dataset = experiment["dataset"]
        if dataset not in DATASET_NAMES:
            raise ValueError(f"unknown dataset {dataset!r}; valid names: {', '.join(DATASET_NAMES)}")
        model = experiment["model"]
        if model not in MODEL_NAMES:
            raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODEL_NAMES)}")
        uncertainty = UncertaintySpec.from_config(experiment.get("uncertainty"))
        check_model_pair(model, uncertainty.method)
        training = protocol_from_config(experiment.get("training"))
        initial_size = _require_int("initial_size", experiment["initial_size"], minimum=1)
        budget = _require_int("budget", experiment["budget"], minimum=1)
        if budget < initial_size:
            raise ValueError(f"budget ({budget}) is below initial_size ({initial_size}); the budget counts all labels")
        shared = experiment.get("shared_initial_set", False)
        if not isinstance(shared, bool):
            raise ValueError(f"shared_initial_set must be true or false, got {shared!r}")
        pool_subset = experiment.get("pool_subset")
        batch_size = _require_int("batch_size", batch_size, minimum=1)
        if pool_subset is not None:
            _require_int("pool_subset", pool_subset, minimum=1)
            if pool_subset < batch_size:
                raise ValueError(f"pool_subset ({pool_subset}) is smaller than the acquisition batch size ({batch_size})")
        scoring_batch_size = _require_int("scoring_batch_size", experiment.get("scoring_batch_size", 512), minimum=1)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        from sbadbal import acquisition

        name = acquisition.canonical_name(algorithm)
        params = acquisition.validate_params(name, dict(algorithm_params or {}))
        return cls(
            dataset=dataset, model=model, uncertainty=uncertainty, training=training, initial_size=initial_size,
            budget=budget, algorithm=name, batch_size=batch_size, seed=seed, algorithm_params=dict(params),
            shared_initial_set=shared, pool_subset=pool_subset, scoring_batch_size=scoring_batch_size,
        )

    def to_config(self) -> dict[str, Any]:
        """Plain JSON-able dict: the sidecar's config and the checkpoint's fingerprint."""
        return {
            "dataset": self.dataset,
            "model": self.model,
            "uncertainty": self.uncertainty.to_config(),
            "training": protocol_to_config(self.training),
            "initial_size": self.initial_size,
            "budget": self.budget,
            "algorithm": self.algorithm,
            "algorithm_params": dict(self.algorithm_params),
            "batch_size": self.batch_size,
            "seed": self.seed,
            "shared_initial_set": self.shared_initial_set,
            "pool_subset": self.pool_subset,
            "scoring_batch_size": self.scoring_batch_size,
        }

    @property
    def num_networks(self) -> int:
        return 1 if self.uncertainty.method == "mc_dropout" else self.uncertainty.members

    @property
    def validation_size(self) -> int:
        return getattr(self.training, "validation_size", 0)


# ------------------------------------------------------------------------------------------- pure pieces


def balanced_initial_indices(targets_N: torch.Tensor, num_classes: int, size: int, generator: torch.Generator) -> list[int]:
    """`size` indices, as even over classes as possible: size // C per class, the remainder to random classes.

    Unlike the seed (SEED_SPEC 6.9), the set is balanced also when C does not divide `size` (EMNIST: 20/47).
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


def _format_indices(indices: list[int]) -> str:
    return " ".join(str(i) for i in indices)


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


def _test_metrics(prepared: Any, spec: RunSpec, posterior: Posterior, round_index: int, device: torch.device) -> tuple[float, float]:
    log_probs_T_K_C = predict_log_probs(
        posterior,
        lambda positions: prepared.test_inputs(positions),
        prepared.num_test,
        num_samples=spec.uncertainty.k_test,
        batch_size=spec.scoring_batch_size,
        device=device,
        generator=derived_generator(spec.seed, round_index, "test-masks"),
    )
    return accuracy_and_nll(log_probs_T_K_C, prepared.test_targets)


def _load_checkpoint(path: Path, spec: RunSpec, num_train: int) -> _RunState | None:
    if not path.exists():
        return None
    try:
        saved = json.loads(path.read_text())
        if not isinstance(saved, dict):
            raise TypeError(f"expected a JSON object, found {type(saved).__name__}")
        if saved.get("version") != CHECKPOINT_VERSION or saved.get("spec") != spec.to_config():
            warnings.warn(f"checkpoint {path} belongs to a different run configuration; starting this run afresh")
            return None
        state = _RunState(labelled=[int(i) for i in saved["labelled"]], validation=[int(i) for i in saved["validation"]],
                          rows=list(saved["rows"]))
        incomplete = [row for row in state.rows if not isinstance(row, dict) or set(RUN_COLUMNS) - set(row)]
        if incomplete:
            raise KeyError(f"{len(incomplete)} row(s) lack run columns")
    except (ValueError, KeyError, TypeError) as error:
        warnings.warn(f"checkpoint {path} is unreadable ({error}); starting this run afresh")
        return None
    if any(not 0 <= i < num_train for i in state.labelled):
        warnings.warn(f"checkpoint {path} holds indices outside the dataset; starting this run afresh")
        return None
    return state


def _save_checkpoint(path: Path, spec: RunSpec, state: _RunState) -> None:
    write_json_atomic(
        {"version": CHECKPOINT_VERSION, "spec": spec.to_config(), "labelled": state.labelled,
         "validation": state.validation, "rows": state.rows},
        path,
    )


def run_active_learning(
    prepared: Any,
    spec: RunSpec,
    *,
    checkpoint_path: str | os.PathLike | None = None,
    device: str | torch.device = "auto",
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> pd.DataFrame:
    """Run (or resume) one AL run; one row per round with the columns of `sbadbal.results.RUN_COLUMNS`.

    Row r: the labelled count L_r, accuracy (percent) and NLL on the test split of the model trained on those
    labels, the round's training / pool-scoring / acquisition seconds, and the global train indices acquired
    after it (space-separated). The last row (L >= budget) acquires nothing: empty indices, NaN score and
    acquisition times. `checkpoint_path`: resume from it when present, rewrite it after every round.
    `progress(row)` is called after each round is checkpointed.
    """
    from sbadbal import acquisition

    _check_fit(prepared, spec)
    device = resolve_device(device)
    checkpoint = Path(checkpoint_path) if checkpoint_path is not None else None
    state = _load_checkpoint(checkpoint, spec, prepared.num_train) if checkpoint is not None else None
    if state is None:
        state = _initial_state(prepared, spec)
    else:
        # A rerun after a crash, a kill or a scheduler's cancel: say so, since the rows before it are not redone.
        logger.info("resuming from checkpoint %s: %d round(s) done, %d labelled", checkpoint, len(state.rows),
                    len(state.labelled))
    finished = bool(state.rows) and state.rows[-1]["acquired_indices"] == ""
    while not finished:
        round_index = len(state.rows)
        training_clock = Stopwatch()
        with training_clock.measure(device):
            posterior = _fresh_trained_posterior(prepared, spec, state, round_index, device)
        accuracy, nll = _test_metrics(prepared, spec, posterior, round_index, device)
        row = {
            "round": round_index, "labelled": len(state.labelled), "test_accuracy": accuracy, "test_nll": nll,
            "train_seconds": training_clock.seconds, "score_seconds": math.nan, "acquisition_seconds": math.nan,
            "acquired_indices": "",
        }
        if len(state.labelled) < spec.budget:
            pool_P = pool_indices(prepared.num_train, set(state.labelled) | set(state.validation))
            if spec.pool_subset is not None and spec.pool_subset < len(pool_P):
                subset = torch.randperm(len(pool_P), generator=derived_generator(spec.seed, round_index, "pool-subset"))
                pool_P = pool_P[subset[: spec.pool_subset].sort().values]
            scoring_clock = Stopwatch()
            with scoring_clock.measure(device):
                log_probs_P_K_C = _score_pool(prepared, spec, posterior, pool_P, round_index, device)
            del posterior
            log_probs_P_K_C = log_probs_P_K_C.to(device)
            batch_size = min(spec.batch_size, spec.budget - len(state.labelled), len(pool_P))
            acquisition_clock = Stopwatch()
            with acquisition_clock.measure(device):
                candidate = acquisition.acquire(
                    spec.algorithm, log_probs_P_K_C, batch_size,
                    generator=derived_generator(spec.seed, round_index, "acquisition"),  # CPU: same picks on every device
                    **spec.algorithm_params,
                )
            acquired = [int(pool_P[i]) for i in candidate.indices]
            if len(set(acquired)) != len(acquired) or len(acquired) != batch_size:
                raise RuntimeError(f"{spec.algorithm} returned {candidate.indices!r} for a batch of {batch_size}")
            row.update(score_seconds=scoring_clock.seconds, acquisition_seconds=acquisition_clock.seconds,
                       acquired_indices=_format_indices(acquired))
            state.labelled = state.labelled + acquired
        state.rows.append(row)
        if checkpoint is not None:
            _save_checkpoint(checkpoint, spec, state)
        if progress is not None:
            progress(dict(row))
        finished = row["acquired_indices"] == ""
    return pd.DataFrame(state.rows, columns=list(RUN_COLUMNS))


def trained_pool_log_probs(prepared: Any, spec: RunSpec, *, device: str | torch.device = "auto") -> torch.Tensor:
    """Round 0 of the run: train on the initial set and score the whole pool with k_acquisition samples.

    The input of the acquisition timing benchmark: float64 log_probs_N_K_C over the pool in ascending index order.
    """
    _check_fit(prepared, spec)
    device = resolve_device(device)
    state = _initial_state(prepared, spec)
    posterior = _fresh_trained_posterior(prepared, spec, state, 0, device)
    pool_P = pool_indices(prepared.num_train, set(state.labelled) | set(state.validation))
    return _score_pool(prepared, spec, posterior, pool_P, 0, device)


def default_checkpoint_path(csv_path: str | os.PathLike) -> Path:
    csv_path = Path(csv_path)
    return csv_path.with_name(csv_path.name + ".checkpoint.json")


def run_to_files(
    prepared_path: str | os.PathLike | Any,
    experiment: Mapping[str, Any],
    *,
    algorithm: str,
    batch_size: int,
    seed: int,
    algorithm_params: Mapping[str, Any] | None = None,
    csv_path: str | os.PathLike,
    sidecar_path: str | os.PathLike,
    checkpoint_path: str | os.PathLike | None = None,
    device: str | torch.device = "auto",
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> pd.DataFrame:
    """Load a prepared dataset file, run (or resume) the AL run, write the CSV and its JSON sidecar atomically.

    `prepared_path` may also be an already loaded `PreparedDataset`.

    `checkpoint_path` defaults to `<csv_path>.checkpoint.json`; it is removed once both files are written.
    """
    from sbadbal.data import load_prepared

    spec = RunSpec.from_experiment(experiment, algorithm=algorithm, batch_size=batch_size, seed=seed,
                                   algorithm_params=algorithm_params)
    prepared = load_prepared(prepared_path) if isinstance(prepared_path, (str, os.PathLike)) else prepared_path
    resolved = resolve_device(device)
    checkpoint = Path(checkpoint_path) if checkpoint_path is not None else default_checkpoint_path(csv_path)
    rows = run_active_learning(prepared, spec, checkpoint_path=checkpoint, device=resolved, progress=progress)
    write_json_atomic(run_sidecar(spec.to_config(), device_name(resolved)), sidecar_path)
    # The CSV last: its presence means the run (and its sidecar) finished.
    write_csv_atomic(rows, csv_path)
    checkpoint.unlink(missing_ok=True)
    return rows
