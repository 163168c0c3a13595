"""What one AL run computes, as plain values: the run rule's parameter (`RunSpec.to_config()`), rebuilt in the job.

The configuration model (sbadbal/config) builds a RunSpec from an experiment and the records; the engine needs
nothing else. The acquisition function and the architecture are named by module and attribute inside the spec
(their records' plain values), so a run imports neither the configuration model nor any records table, and its
code inputs are the engine plus the two modules its spec names. Torch-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sbadbal.engine.protocols import Protocol, protocol_from_config, protocol_to_config


@dataclass(frozen=True)
class Uncertainty:
    """How the posterior is represented; K samples score the pool and the test split (config.yaml's `uncertainty`,
    checked by the configuration model)."""

    method: str = "mc_dropout"  # or "ensemble"
    k_acquisition: int = 100  # consistent dropout masks for pool scoring (mc_dropout)
    k_test: int = 5  # consistent dropout masks for the test pass (mc_dropout)
    members: int = 5  # ensemble size; K = members for scoring and test (ensemble)

    def to_config(self) -> dict[str, Any]:
        if self.method == "mc_dropout":
            return {"method": self.method, "k_acquisition": self.k_acquisition, "k_test": self.k_test}
        return {"method": self.method, "members": self.members}


@dataclass(frozen=True)
class RunSpec:
    """One AL run: an experiment's settings plus (algorithm, batch size, seed).

    `name` is the display name (a variant's name, else the algorithm's); `algorithm` the registry algorithm and
    `params` its full parameters; `acquisition` its record's plain values (module, function, stochastic, defaults,
    scores_are_gains); `architecture` the model record's (module, builder, input rank, uncertainty methods).
    """

    dataset: str
    model: str
    architecture: Mapping[str, Any]
    uncertainty: Uncertainty
    training: Protocol
    initial_size: int
    budget: int
    algorithm: str
    acquisition: Mapping[str, Any]
    batch_size: int
    seed: int
    params: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    shared_initial_set: bool = False
    pool_subset: int | None = None
    scoring_batch_size: int = 512

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.algorithm)

    @property
    def algorithm_params(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def validation_size(self) -> int:
        return getattr(self.training, "validation_size", 0)

    @property
    def num_networks(self) -> int:
        return 1 if self.uncertainty.method == "mc_dropout" else self.uncertainty.members

    @property
    def learning_rate(self) -> float | None:
        return getattr(self.training, "lr", None)

    def round_zero(self) -> RunSpec:
        """What round 0 computes, apart from the algorithm: this spec without its algorithm, parameters and batch
        size. Round 0 fits on the initial set, tests and scores the pool before anything is acquired, so every
        algorithm and batch size of one seed computes the same round 0; the workflow computes it once per seed
        (rule initial_round, docs/design.md#round-0) and the runs read it."""
        return replace(self, algorithm="", acquisition={}, params={}, name="round 0", batch_size=0)

    def to_config(self) -> dict[str, Any]:
        """Plain JSON-able dict: the run rule's parameter, the sidecar's config, the checkpoint's fingerprint."""
        config = {
            "dataset": self.dataset, "model": self.model, "uncertainty": self.uncertainty.to_config(),
            "training": protocol_to_config(self.training), "initial_size": self.initial_size, "budget": self.budget,
            "algorithm": self.algorithm, "algorithm_params": dict(self.params), "batch_size": self.batch_size,
            "seed": self.seed, "shared_initial_set": self.shared_initial_set, "pool_subset": self.pool_subset,
            "scoring_batch_size": self.scoring_batch_size,
        }
        if self.name != self.algorithm:
            config["name"] = self.name
        config["acquisition"] = dict(self.acquisition)
        config["architecture"] = dict(self.architecture)
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RunSpec:
        """The inverse of to_config (what the run rule's script does with its parameter)."""
        config = dict(config)
        try:
            return cls(
                dataset=str(config.pop("dataset")), model=str(config.pop("model")),
                architecture=dict(config.pop("architecture")), uncertainty=Uncertainty(**config.pop("uncertainty")),
                training=protocol_from_config(config.pop("training")), algorithm=str(config.pop("algorithm")),
                acquisition=dict(config.pop("acquisition")), params=dict(config.pop("algorithm_params", {})),
                name=str(config.pop("name", "")), **config,
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a run spec (RunSpec.to_config()): {error}") from None
