"""The experiment section: one grid of AL runs (batch sizes x algorithms x seeds on one dataset, model and protocol),
and the runs it yields as the engine's RunSpec (sbadbal/engine/spec.py) with their algorithm's and model's records."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from sbadbal.acquisition import records as algorithm_records
from sbadbal.config.errors import ConfigError, first_error, unknown_name
from sbadbal.config.fields import Flag, IntUpTo, Seed, StrictModel, Text
from sbadbal.data.records import DATASET_NAMES
from sbadbal.engine import spec as engine_spec
from sbadbal.engine.protocols import EpochsProtocol, IterationsProtocol, Protocol, protocol_from_config, protocol_to_config
from sbadbal.engine.spec import RunSpec
from sbadbal.models.records import MODEL_NAMES, MODELS


# Upper bounds of the counts that size a run's work (documented in each field's description): generous beside the
# paper's settings (K = 100, 5 members, budgets of a few thousand labels), far below what would fill a GPU.
MAX_SAMPLES = 10_000
MAX_MEMBERS = 100
MAX_LABELS = 10_000_000
MAX_BATCH = 100_000
MAX_SCORING_BATCH = 1_000_000


def _distinct(path_name: str, values: list) -> list:
    """A list whose entries must differ: a seed or batch size listed twice would be counted twice."""
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{path_name} lists {repeated[0]!r} twice; each entry is one run, list it once")
    return values


class Uncertainty(StrictModel):
    """How the posterior is represented; K samples score the pool and the test split."""

    method: Literal["mc_dropout", "ensemble"] = Field("mc_dropout", description="mc_dropout or ensemble")
    k_acquisition: IntUpTo(MAX_SAMPLES) = Field(100, description="consistent dropout masks for pool scoring "
                                                 f"(mc_dropout; at most {MAX_SAMPLES:,})")
    k_test: IntUpTo(MAX_SAMPLES) = Field(5, description="consistent dropout masks for the test pass (mc_dropout; at "
                                         f"most {MAX_SAMPLES:,})")
    members: IntUpTo(MAX_MEMBERS) = Field(5, description="ensemble size; K = members for scoring and test (ensemble; "
                                          f"at most {MAX_MEMBERS})")

    @model_validator(mode="after")
    def _keys_of_the_method(self) -> "Uncertainty":
        valid = ("k_acquisition", "k_test") if self.method == "mc_dropout" else ("members",)
        wrong = sorted(set(self.model_fields_set) - {"method", *valid})
        if wrong:
            # A ValueError here reaches the user as a pydantic "value_error" at this model's path.
            raise ValueError(f"key {wrong[0]!r} does not apply to method {self.method!r}; its keys: {', '.join(valid)}")
        return self

    def to_config(self) -> dict[str, Any]:
        if self.method == "mc_dropout":
            return {"method": self.method, "k_acquisition": self.k_acquisition, "k_test": self.k_test}
        return {"method": self.method, "members": self.members}


class RunSettings(StrictModel):
    """The keys of an experiment that decide a run's numbers (only these reach a run as parameters, so adding a
    seed or an algorithm, or editing a description, reruns no run)."""

    dataset: Text = Field(description="a dataset name of sbadbal/data/records.py")
    model: Text = Field(description="a model name of sbadbal/models/records.py")
    uncertainty: Uncertainty = Field(default_factory=Uncertainty, description="posterior: MC dropout or ensemble")
    training: Any = Field(
        default_factory=IterationsProtocol,
        description="{protocol: iterations, iterations, batch_size, lr, lr_schedule (constant or cosine)} or "
        "{protocol: epochs, epochs, batch_size, "
        "lr, momentum, weight_decay, milestones, gamma, validation_size} (sbadbal/engine/protocols.py)",
        json_schema_extra={"type": "object"},
    )
    initial_size: IntUpTo(MAX_LABELS) = Field(description="labelled points before the first acquisition "
                                              "(class-balanced)")
    budget: IntUpTo(MAX_LABELS) = Field(description="label count at which a run stops (counts the initial set; at "
                                        f"most {MAX_LABELS:,})")
    shared_initial_set: Flag = Field(False, description="one initial set for all seeds, as the original code drew it")
    pool_subset: IntUpTo(MAX_LABELS) | None = Field(None, description="score this many random pool points per round "
                                                    "(null: all)")
    scoring_batch_size: IntUpTo(MAX_SCORING_BATCH) = Field(512, description="pool points per forward pass (memory "
                                                           f"only; at most {MAX_SCORING_BATCH:,})")

    @field_validator("training", mode="before")
    @classmethod
    def _protocol(cls, value: Any) -> Protocol:
        if isinstance(value, (IterationsProtocol, EpochsProtocol)):
            return value
        if value is not None and not isinstance(value, Mapping):
            raise ValueError(f"expected a mapping like {{protocol: iterations, iterations: 3072}}, got {value!r}")
        return protocol_from_config(value)

    @property
    def validation_size(self) -> int:
        return getattr(self.training, "validation_size", 0)

    def run_config(self) -> dict[str, Any]:
        """The settings as plain values (the keys and values of a RunSpec's settings)."""
        return {
            "dataset": self.dataset, "model": self.model, "uncertainty": self.uncertainty.to_config(),
            "training": protocol_to_config(self.training), "initial_size": self.initial_size, "budget": self.budget,
            "shared_initial_set": self.shared_initial_set, "pool_subset": self.pool_subset,
            "scoring_batch_size": self.scoring_batch_size,
        }


AlgorithmParams = dict[Text, dict[Text, Any]]


@dataclass(frozen=True)
class AlgorithmChoice:
    """One entry of an experiment's `algorithms`: its display name, the registry algorithm (a plug-in: its
    `module:function` reference) and its parameters; `plugin`, a plug-in's record (sbadbal/acquisition/plugins.py)."""

    name: str
    algorithm: str
    params: dict[str, Any] = field(default_factory=dict)
    plugin: algorithm_records.AlgorithmRecord | None = None

    @property
    def record(self) -> algorithm_records.AlgorithmRecord:
        return self.plugin if self.plugin is not None else algorithm_records.RECORDS_BY_NAME[self.algorithm]


class ExtraSeeds(StrictModel):
    """More seeds for some of an experiment's algorithms: their paired comparisons get narrower intervals while
    the others run the experiment's `seeds` only (docs/design.md#configuration)."""

    algorithms: list[Text] = Field(min_length=1, description="names from the experiment's `algorithms` that run "
                                   "these seeds too")
    seeds: list[Seed] = Field(min_length=1, description="seeds beyond the experiment's `seeds`")


class Experiment(RunSettings):
    """One grid of AL runs: batch sizes x algorithms x seeds on one dataset, model and protocol."""

    description: Text = Field("", description="one line for the report")
    batch_sizes: list[IntUpTo(MAX_BATCH)] = Field(min_length=1, description="acquisition batch sizes b (distinct; "
                                                  f"at most {MAX_BATCH:,})")
    algorithms: list[Text] = Field(min_length=1, description="algorithm names, aliases, variant names or "
                                  "plug-ins (module:function)")
    algorithm_params: AlgorithmParams = Field(default_factory=dict, description="per algorithm name: parameters")
    seeds: list[Seed] = Field(min_length=1, description="one run per seed")
    extra_seeds: ExtraSeeds | None = Field(None, description=(
        "more seeds for some algorithms only (`algorithms`, `seeds`): fixed before the run, where a comparison "
        "between those algorithms needs a narrower interval than the others"))
    references: list[Text] = Field(default_factory=list, description=(
        "ids in references/original_repository.yaml whose published accuracies this experiment is compared with "
        "(a comparison table, points on the accuracy figure); only where the setting matches"))

    _choices: dict[str, AlgorithmChoice] = PrivateAttr(default_factory=dict)
    _variants: dict[str, AlgorithmChoice] = PrivateAttr(default_factory=dict)
    _extra_seed_names: frozenset[str] = PrivateAttr(default_factory=frozenset)

    @field_validator("seeds", "batch_sizes")
    @classmethod
    def _listed_once(cls, values: list, info: Any) -> list:
        return _distinct(info.field_name, values)

    @property
    def algorithm_names(self) -> list[str]:
        """Display names, as they appear in run paths, tables and figures (variants under their own names)."""
        return list(self._choices)

    def choice(self, name: str) -> AlgorithmChoice:
        """A listed algorithm or variant (with its experiment parameters) by any of its names; an algorithm or
        variant the experiment does not list runs with its own defaults (the CLI may run one)."""
        canonical = algorithm_records.resolve_name(name)
        for key in (name, canonical):
            if key in self._choices:
                return self._choices[key]
        if canonical is not None:
            return AlgorithmChoice(canonical, canonical, algorithm_records.algorithm_defaults(canonical))
        if name in self._variants:
            return self._variants[name]
        raise ConfigError("algorithm", unknown_name("algorithm", name, [*algorithm_records.ALGORITHM_NAMES, *self._variants]))

    def run(self, name: str, batch_size: int, seed: int, params: Mapping[str, Any] | None = None) -> RunSpec:
        """The run of algorithm (or variant) `name`; `params` override its parameters (the CLI's --param)."""
        choice = self.choice(name)
        merged = check_params("params", choice.record, {**choice.params, **params}) if params else choice.params
        return run_spec(self, AlgorithmChoice(choice.name, choice.algorithm, merged, choice.plugin), int(batch_size),
                        int(seed))

    def seeds_of(self, name: str) -> list[int]:
        """The seeds algorithm (display name) `name` runs: `seeds`, then `extra_seeds.seeds` where it is listed."""
        extra = self.extra_seeds.seeds if self.extra_seeds and name in self._extra_seed_names else []
        return [*self.seeds, *extra]

    @property
    def all_seeds(self) -> list[int]:
        """Every seed some algorithm runs, in order (round 0 is computed once for each)."""
        return [*self.seeds, *(self.extra_seeds.seeds if self.extra_seeds else [])]

    def runs(self) -> Iterator[RunSpec]:
        """Every run of the experiment, batch size outermost, then algorithm, then seed."""
        for batch_size in self.batch_sizes:
            for name in self._choices:
                for seed in self.seeds_of(name):
                    yield self.run(name, batch_size, seed)


def check_params(path: str, algorithm: str | algorithm_records.AlgorithmRecord, params: Mapping[str, Any],
                 source: str | None = None) -> dict[str, Any]:
    """`params` merged over the algorithm's (a name or a record) defaults and checked; a ConfigError at `path`
    otherwise."""
    try:
        return algorithm_records.validate_params(algorithm, params)
    except ValueError as error:
        raise ConfigError(path, str(error), source or "config.yaml") from None


def check_run_settings(path: str, settings: RunSettings) -> None:
    """Dataset and model are records, the model supports the uncertainty method, the budget exceeds the initial set."""
    at = f"{path}." if path else ""
    if settings.dataset not in DATASET_NAMES:
        raise ConfigError(f"{at}dataset", unknown_name("dataset", settings.dataset, DATASET_NAMES))
    if settings.model not in MODEL_NAMES:
        raise ConfigError(f"{at}model", unknown_name("model", settings.model, MODEL_NAMES))
    supported = MODELS[settings.model].uncertainty_methods
    if settings.uncertainty.method not in supported:
        raise ConfigError(f"{at}uncertainty.method",
                          f"model {settings.model!r} does not support uncertainty {settings.uncertainty.method!r}; "
                          f"it supports {', '.join(supported)}")
    if settings.budget <= settings.initial_size:
        raise ConfigError(f"{at}budget", f"budget {settings.budget} must exceed initial_size {settings.initial_size} "
                          "(the budget counts all labels, the initial set included)")


def _coordinate(name: str, value: Any, lowest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
        raise ConfigError(name, f"expected a value >= {lowest}, got {value!r}", "run")
    return value


def run_spec(settings: RunSettings, choice: AlgorithmChoice, batch_size: Any, seed: Any) -> RunSpec:
    """The engine's RunSpec of an experiment's settings, one algorithm choice (display name, registry algorithm,
    full parameters) and the coordinates, carrying its algorithm's and model's records as plain values."""
    batch_size, seed = _coordinate("batch_size", batch_size, 1), _coordinate("seed", seed, 0)
    if settings.pool_subset is not None and settings.pool_subset < batch_size:
        raise ConfigError("pool_subset", f"pool_subset ({settings.pool_subset}) is smaller than the acquisition "
                          f"batch size ({batch_size}); raise pool_subset or set it to null", "run")
    return RunSpec(
        dataset=settings.dataset, model=settings.model, architecture=MODELS[settings.model].architecture(),
        uncertainty=engine_spec.Uncertainty(**settings.uncertainty.to_config()), training=settings.training,
        initial_size=settings.initial_size, budget=settings.budget, algorithm=choice.algorithm,
        acquisition=choice.record.to_config(), batch_size=batch_size,
        seed=seed, params=dict(choice.params), name=choice.name, shared_initial_set=settings.shared_initial_set,
        pool_subset=settings.pool_subset, scoring_batch_size=settings.scoring_batch_size,
    )


def run_settings_from_mapping(raw: Mapping[str, Any], source: str = "run") -> RunSettings:
    """The run settings of one experiment mapping, checked (one ConfigError per mistake)."""
    try:
        settings = RunSettings.model_validate(dict(raw))
    except ValidationError as error:
        raise first_error(error, RunSettings, "", source) from None
    try:
        check_run_settings("", settings)
    except ConfigError as error:
        raise error.with_source(source) from None
    return settings


def run_from_mapping(
    experiment: Mapping[str, Any],
    *,
    algorithm: str,
    batch_size: int,
    seed: int,
    algorithm_params: Mapping[str, Any] | None = None,
) -> RunSpec:
    """One run of an experiment mapping (library callers): its settings plus the run's coordinates; one ConfigError
    per mistake. The experiment's grid keys (batch_sizes, algorithms, seeds, ...) are ignored."""
    pipeline_only = {"batch_sizes", "algorithms", "seeds", "extra_seeds", "description", "algorithm_params",
                     "references"}
    settings = run_settings_from_mapping({k: v for k, v in experiment.items() if k not in pipeline_only})
    canonical = algorithm_records.resolve_name(algorithm)
    if canonical is None:
        raise ConfigError("algorithm", unknown_name("algorithm", algorithm, algorithm_records.ALGORITHM_NAMES), "run")
    params = check_params("algorithm_params", canonical, algorithm_params or {}, source="run")
    return run_spec(settings, AlgorithmChoice(canonical, canonical, params), batch_size, seed)
