"""The configuration model: config.yaml as typed records, the one place where configuration is checked.

    config = load_config(yaml.safe_load(open("config.yaml")), source="config.yaml")
    suite = config.selected_suite()
    for spec in suite.experiments["mnist5k_mc"].runs():   # RunSpec: what one run computes
        ...

Two layers, one entry point (`load_config`, or `experiment_from_mapping` for one experiment):
- the pydantic models below check structure, types and ranges and fill defaults (each field's description is
  its documentation; `python -m sbadbal.config.model` writes the JSON schema under schemas/);
- `_check_*` functions check what one field cannot: names against the registries (with "did you mean"), fields
  against each other, and whether a run can run at all (a budget larger than the dataset's pool, an option the
  dataset does not accept, a suite name that is not a safe folder name).
Every mistake raises one `ConfigError` whose message starts `<file>: <key path>: <what is wrong and the fix>`.

Torch-free: the workflow imports it when it parses (docs/design.md#configuration).
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, Strict, ValidationError, field_validator, model_validator

from sbadbal.acquisition import records as algorithm_specs
from sbadbal.data.records import DATASET_NAMES, SPECS as DATASET_SPECS
from sbadbal.models.records import MODEL_NAMES, MODELS
from sbadbal.engine.protocols import EpochsProtocol, IterationsProtocol, Protocol, protocol_from_config, protocol_to_config

# Suite, experiment, benchmark and variant names become folder names under results/: letters, digits, '.',
# '_' and '-', starting with a letter or digit (so never '..', '/', or a hidden folder).
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class ConfigError(ValueError):
    """One configuration mistake: `<source>: <path>: <message>`."""

    def __init__(self, path: str, message: str, source: str = "config.yaml"):
        self.path, self.message, self.source = path, message, source
        super().__init__(f"{source}: {path}: {message}" if path else f"{source}: {message}")

    def with_source(self, source: str) -> "ConfigError":
        return ConfigError(self.path, self.message, source)


def did_you_mean(value: Any, valid: list[str] | tuple[str, ...]) -> str:
    """'; did you mean 'X'?' for the closest valid name (case-insensitive), '' when none is close."""
    if not isinstance(value, str):
        return ""
    lowered = {name.lower(): name for name in valid}
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
    return f"; did you mean {lowered[close[0]]!r}?" if close else ""


def _unknown(kind: str, value: Any, valid: list[str] | tuple[str, ...]) -> str:
    return f"unknown {kind} {value!r}{did_you_mean(value, valid)} Valid: {', '.join(valid)}"


# ------------------------------------------------------------------------------------------ field types

PositiveInt = Annotated[int, Strict(), Field(ge=1)]
NonNegativeInt = Annotated[int, Strict(), Field(ge=0)]
PositiveFloat = Annotated[float, Strict(), Field(gt=0)]
NonNegativeFloat = Annotated[float, Strict(), Field(ge=0)]
Text = Annotated[str, Strict()]
Flag = Annotated[bool, Strict()]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


# ------------------------------------------------------------------------------------------ experiments


class Uncertainty(_Model):
    """How the posterior is represented; K samples score the pool and the test split."""

    method: Literal["mc_dropout", "ensemble"] = Field("mc_dropout", description="mc_dropout or ensemble")
    k_acquisition: PositiveInt = Field(100, description="consistent dropout masks for pool scoring (mc_dropout)")
    k_test: PositiveInt = Field(5, description="consistent dropout masks for the test pass (mc_dropout)")
    members: PositiveInt = Field(5, description="ensemble size; K = members for scoring and test (ensemble)")

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


# The library's name for the same record.
UncertaintySpec = Uncertainty


class RunSettings(_Model):
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
    initial_size: PositiveInt = Field(description="labelled points before the first acquisition (class-balanced)")
    budget: PositiveInt = Field(description="label count at which a run stops (counts the initial set)")
    shared_initial_set: Flag = Field(False, description="one initial set for all seeds, as the original code drew it")
    pool_subset: PositiveInt | None = Field(None, description="score this many random pool points per round (null: all)")
    scoring_batch_size: PositiveInt = Field(512, description="pool points per forward pass (memory only)")

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
        return {
            "dataset": self.dataset, "model": self.model, "uncertainty": self.uncertainty.to_config(),
            "training": protocol_to_config(self.training), "initial_size": self.initial_size, "budget": self.budget,
            "shared_initial_set": self.shared_initial_set, "pool_subset": self.pool_subset,
            "scoring_batch_size": self.scoring_batch_size,
        }


AlgorithmParams = dict[Text, dict[Text, Any]]


@dataclass(frozen=True)
class AlgorithmChoice:
    """One entry of an experiment's `algorithms`: its display name, the registry algorithm and its parameters."""

    name: str
    algorithm: str
    params: dict[str, Any] = field(default_factory=dict)


class Experiment(RunSettings):
    """One grid of AL runs: batch sizes x algorithms x seeds on one dataset, model and protocol."""

    description: Text = Field("", description="one line for the report")
    batch_sizes: list[PositiveInt] = Field(min_length=1, description="acquisition batch sizes b")
    algorithms: list[Text] = Field(min_length=1, description="algorithm names, aliases or variant names")
    algorithm_params: AlgorithmParams = Field(default_factory=dict, description="per algorithm name: parameters")
    seeds: list[NonNegativeInt] = Field(min_length=1, description="one run per seed")
    references: list[Text] = Field(default_factory=list, description=(
        "ids in references/original_repository.yaml whose published accuracies this experiment is compared with "
        "(a comparison table, points on the accuracy figure); only where the setting matches"))

    _choices: dict[str, AlgorithmChoice] = PrivateAttr(default_factory=dict)
    _variants: dict[str, AlgorithmChoice] = PrivateAttr(default_factory=dict)

    @property
    def algorithm_names(self) -> list[str]:
        """Display names, as they appear in run paths, tables and figures (variants under their own names)."""
        return list(self._choices)

    def choice(self, name: str) -> AlgorithmChoice:
        """A listed algorithm or variant (with its experiment parameters) by any of its names; an algorithm or
        variant the experiment does not list runs with its own defaults (the CLI may run one)."""
        canonical = algorithm_specs.resolve_name(name)
        for key in (name, canonical):
            if key in self._choices:
                return self._choices[key]
        if canonical is not None:
            return AlgorithmChoice(canonical, canonical, algorithm_specs.algorithm_defaults(canonical))
        if name in self._variants:
            return self._variants[name]
        raise ConfigError("algorithm", _unknown("algorithm", name, [*algorithm_specs.ALGORITHM_NAMES, *self._variants]))

    def run(self, name: str, batch_size: int, seed: int, params: Mapping[str, Any] | None = None) -> "RunSpec":
        """The run of algorithm (or variant) `name`; `params` override its parameters (the CLI's --param)."""
        choice = self.choice(name)
        merged = _check_params("params", choice.algorithm, {**choice.params, **params}) if params else choice.params
        return RunSpec.of(self, AlgorithmChoice(choice.name, choice.algorithm, merged), int(batch_size), int(seed))

    def runs(self) -> Iterator["RunSpec"]:
        """Every run of the experiment, batch size outermost, then algorithm, then seed."""
        for batch_size in self.batch_sizes:
            for name in self._choices:
                for seed in self.seeds:
                    yield self.run(name, batch_size, seed)


class DatasetSettings(_Model):
    """How a suite prepares one dataset."""

    repeats: PositiveInt | None = Field(None, description="copies of the training split (repeated datasets only)")
    noise_std: NonNegativeFloat | None = Field(None, description="per-copy Gaussian pixel noise (repeated datasets)")
    noise_seed: NonNegativeInt = Field(0, description="seed of that noise")
    options: dict[Text, Any] = Field(default_factory=dict, description="source options (the dataset record lists them)")


class Benchmark(_Model):
    """Acquisition time vs batch size and pool size on the first-round model of an experiment."""

    description: Text = Field("", description="one line for the report")
    experiment: Text = Field(description="the experiment whose model, uncertainty and training are timed")
    seed: NonNegativeInt = Field(0, description="seed of the model and of the pool order")
    pool_sizes: list[PositiveInt] = Field(min_length=1, description="pool sizes N (prefixes of one scored pool)")
    batch_sizes: list[PositiveInt] = Field(min_length=1, description="batch sizes b")
    algorithms: list[Text] = Field(min_length=1, description="algorithm names, aliases or variant names")
    algorithm_params: AlgorithmParams = Field(default_factory=dict, description="per algorithm name: parameters")
    repeats: PositiveInt = Field(3, description="timed calls per case (the median is reported)")
    references: list[Text] = Field(default_factory=list, description=(
        "ids in references/original_repository.yaml whose published timing ratios this benchmark is compared with"))

    _choices: dict[str, AlgorithmChoice] = PrivateAttr(default_factory=dict)

    def timing_settings(self) -> dict[str, Any]:
        """The plain settings of the timing rule: display names with their algorithm and full parameters."""
        return {
            "algorithms": list(self._choices),
            "bases": {c.name: c.algorithm for c in self._choices.values()},
            "algorithm_params": {c.name: dict(c.params) for c in self._choices.values()},
            "batch_sizes": list(self.batch_sizes), "pool_sizes": list(self.pool_sizes),
            "repeats": self.repeats, "seed": self.seed,
        }


class SuiteClaims(_Model):
    """Which outputs of a suite the claims table (tables/claims.{csv,md}) rests on."""

    experiments: list[Text] | None = Field(None, description="experiments whose runs decide the accuracy claims "
                                           "(null: every experiment of the suite)")
    benchmark: Text | None = Field(None, description="the timing benchmark that decides the speed claim (null: the "
                                   "suite's first, if any)")


class Suite(_Model):
    """A named set of experiments and timing benchmarks that one `snakemake` call runs."""

    description: Text = Field("", description="one paragraph for the report")
    download: Flag = Field(False, description="let preparation download raw data it does not find under data.root")
    datasets: dict[Text, DatasetSettings] = Field(default_factory=dict, description="per dataset name: preparation")
    experiments: dict[Text, Experiment] = Field(min_length=1, description="experiments by name")
    benchmarks: dict[Text, Benchmark] = Field(default_factory=dict, description="timing benchmarks by name")
    claims: SuiteClaims = Field(default_factory=SuiteClaims, description="what the claims table rests on")

    def dataset_settings(self, dataset: str) -> DatasetSettings:
        return self.datasets.get(dataset, DatasetSettings())

    def local_files(self, dataset: str) -> list[str]:
        """Options named local_* are files on this machine (inputs of the dataset's preparation)."""
        return [str(v) for k, v in self.dataset_settings(dataset).options.items() if k.startswith("local_")]

    def available_experiments(self) -> tuple[dict[str, Experiment], list[str]]:
        """The experiments whose local files exist, and one message per experiment skipped for a missing one."""
        kept, skipped = {}, []
        for key, experiment in self.experiments.items():
            missing = [path for path in self.local_files(experiment.dataset) if not Path(path).exists()]
            if missing:
                skipped.append(f"skipping experiment {key!r}: {experiment.dataset} needs {', '.join(missing)}, "
                               "which does not exist")
            else:
                kept[key] = experiment
        return kept, skipped

    def preparation(self, dataset: str, data_root: str) -> dict[str, Any]:
        """The keyword arguments of prepare_dataset for one dataset of this suite (the workflow and the CLI)."""
        settings = self.dataset_settings(dataset)
        return {"repeats": settings.repeats, "noise_std": settings.noise_std, "noise_seed": settings.noise_seed,
                "options": dict(settings.options), "download": self.download, "data_dir": data_root}

    def claims_experiments(self, available: Mapping[str, Any]) -> list[str]:
        """The experiments the claims table reads, of those available on this machine."""
        chosen = self.claims.experiments if self.claims.experiments is not None else list(self.experiments)
        return [key for key in chosen if key in available]

    def claims_benchmark(self, available: Mapping[str, Any]) -> str | None:
        """The benchmark the speed claim reads, if it is available on this machine."""
        chosen = self.claims.benchmark if self.claims.benchmark is not None else next(iter(self.benchmarks), None)
        return chosen if chosen in available else None

    def benchmark_run(self, key: str) -> "RunSpec":
        """The first-round model a benchmark times acquisition on: its experiment's settings under its seed (the
        algorithm does not matter for the model; BALD completes the spec)."""
        bench = self.benchmarks[key]
        experiment = self.experiments[bench.experiment]
        return RunSpec.of(experiment, AlgorithmChoice("BALD", "BALD"), 1, bench.seed)

    def pool_size(self, experiment: RunSettings) -> int | None:
        """The labelable pool of an experiment's runs, known without loading data (None when only the file
        can tell): the dataset record's train size, times the suite's repeats, minus validation points."""
        settings = self.dataset_settings(experiment.dataset)
        train = DATASET_SPECS[experiment.dataset].pool_size(settings.options, settings.repeats)
        return None if train is None else train - experiment.validation_size


class Data(_Model):
    root: Text = Field("data", description="folder for raw downloads (torchvision, HF datasets caches)")


class Plots(_Model):
    """Figure options; they reach the plotting rules only (editing them reruns figures, never training)."""

    width_in: PositiveFloat = 6.4
    height_in: PositiveFloat = 4.4
    font_size: PositiveFloat = 10
    line_width: PositiveFloat = 1.8
    band_alpha: Annotated[float, Strict(), Field(ge=0, le=1)] = 0.25
    dpi: Annotated[int, Strict(), Field(ge=10)] = 150
    colours: dict[Text, Text] = Field(default_factory=dict, description="matplotlib colour per algorithm name")


class Tables(_Model):
    label_fractions: list[Annotated[float, Strict(), Field(gt=0, le=1)]] = Field(
        default_factory=lambda: [0.25, 0.5, 0.75, 1.0], min_length=1,
        description="fractions of the way from the initial set to the budget at which tables report accuracy",
    )


class ClaimRules(_Model):
    """The pre-declared decision rules of the claims table (sbadbal/analysis/claims.py applies them). Each is bounded, so no
    setting can decide a claim by itself (`accuracy_margin: 100` would make every accuracy row "reproduced"), and
    fixed before any run: never choose one after seeing results."""

    confidence: Annotated[float, Strict(), Field(ge=0.8, le=0.99)] = Field(
        0.95, description="level of every interval, in [0.8, 0.99]; alpha = 1 - confidence is the familywise level "
        "of Holm's procedure behind 'not reproduced' and 1 - 2 alpha that of the equivalence (TOST) interval. 0.95, "
        "the conventional level, set before the runs; below 0.8 one row in five would decide by chance, above 0.99 "
        "the suites' 5 seeds could decide almost nothing")
    accuracy_margin: Annotated[float, Strict(), Field(gt=0, le=5)] = Field(
        1.0, description="'as accurate as' (non-inferiority): at most this many accuracy points worse, in (0, 5]. 1.0, "
        "the precision to which the original repository's accuracy figures can be read (+-1 point by eye); 0 would "
        "turn non-inferiority into superiority, and more than 5 points exceeds the gaps between the paper's methods, "
        "so 'as accurate' would no longer say anything")
    min_speedup: Annotated[float, Strict(), Field(ge=2, le=100)] = Field(
        10.0, description="'much faster': at least this ratio of seconds, in [2, 100]. 10, an order of magnitude (the "
        "original notebook measured about 22x at MNIST's full pool, b = 20, K = 100); below 2 is not 'much', above "
        "100 asks several times what the original code measured")
    min_gain_over_random: Annotated[float, Strict(), Field(ge=0, le=5)] = Field(
        0.0, description="'strong' against Random: more accurate by more than this many points, in [0, 5]. 0, the "
        "claim as stated (more accurate than Random, by any margin); a negative value would call a loss to Random "
        "strong, and more than 5 points is a claim the paper does not make")

    @classmethod
    def checked(cls, raw: Mapping[str, Any], source: str = "config.yaml") -> "ClaimRules":
        """`raw` as the config's `claims:` section (sbadbal.analysis.claims takes overrides through this); one ConfigError
        `<source>: claims.<key>: ...` for an unknown key or a value out of its bounds."""
        try:
            return cls.model_validate(dict(raw))
        except ValidationError as error:
            raise _first_error(error, cls, "claims", source) from None


class Variant(_Model):
    """A registry algorithm under fixed parameters and its own name (in run paths, tables and figures)."""

    algorithm: Text = Field(description="a registry algorithm name or alias")
    params: dict[Text, Any] = Field(default_factory=dict, description="its parameters (over the algorithm's defaults)")
    description: Text = Field("", description="one line: what the variant is for")


class Config(_Model):
    """config.yaml."""

    suite: Text = Field("default", description="the entry of `suites` that the workflow runs")
    data: Data = Field(default_factory=Data)
    plots: Plots = Field(default_factory=Plots)
    tables: Tables = Field(default_factory=Tables)
    variants: dict[Text, Variant] = Field(default_factory=dict, description="named algorithm variants")
    claims: ClaimRules = Field(default_factory=ClaimRules, description="decision rules of the claims table")
    suites: dict[Text, Suite] = Field(min_length=1, description="suites by name")

    def selected_suite(self) -> Suite:
        if self.suite not in self.suites:
            raise ConfigError("suite", f"suite {self.suite!r} is not defined; valid suites: {', '.join(self.suites)}"
                              f"{did_you_mean(self.suite, list(self.suites))}")
        return self.suites[self.suite]

    @property
    def algorithm_names(self) -> tuple[str, ...]:
        """Every name a run path may hold: the registry's algorithms and the variants."""
        return (*algorithm_specs.ALGORITHM_NAMES, *self.variants)

    def algorithm_module(self, name: str) -> str:
        """The module file (relative to the package) of an algorithm's or a variant's acquisition function."""
        base = self.variants[name].algorithm if name in self.variants else name
        return algorithm_specs.RECORDS_BY_NAME[algorithm_specs.canonical_name(base)].module_file


# --------------------------------------------------------------------------------------------- run spec


class RunSpec(RunSettings):
    """One AL run: an experiment's settings plus (algorithm, batch size, seed). `name` is the display name (a
    variant's name, else the algorithm's); `algorithm` the registry function and `params` its full parameters."""

    algorithm: Text
    params: dict[Text, Any] = Field(default_factory=dict)
    batch_size: PositiveInt
    seed: NonNegativeInt
    name: Text = ""

    def model_post_init(self, context: Any) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.algorithm)

    @property
    def algorithm_params(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def num_networks(self) -> int:
        return 1 if self.uncertainty.method == "mc_dropout" else self.uncertainty.members

    def to_config(self) -> dict[str, Any]:
        """Plain JSON-able dict: the sidecar's config, the checkpoint's fingerprint, the run rule's parameter."""
        settings = self.run_config()
        config = {
            **{key: settings[key] for key in ("dataset", "model", "uncertainty", "training", "initial_size", "budget")},
            "algorithm": self.algorithm, "algorithm_params": dict(self.params), "batch_size": self.batch_size,
            "seed": self.seed,
            **{key: settings[key] for key in ("shared_initial_set", "pool_subset", "scoring_batch_size")},
        }
        if self.name != self.algorithm:  # registry algorithms keep the fingerprint they always had
            config["name"] = self.name
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "RunSpec":
        """The inverse of to_config (what the run rule passes to its script)."""
        config = dict(config)
        params = config.pop("algorithm_params", {})
        name = config.pop("name", "")
        try:
            spec = cls(**config, params=params, name=name)
        except ValidationError as error:
            raise _first_error(error, RunSpec, "", "run") from None
        _check_run_settings("run", spec)
        _check_params("run.algorithm_params", spec.algorithm, spec.params)
        return spec

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
        """An experiment mapping plus the run's coordinates (library callers); one ConfigError per mistake."""
        pipeline_only = {"batch_sizes", "algorithms", "seeds", "description", "algorithm_params"}
        settings = run_settings_from_mapping({k: v for k, v in experiment.items() if k not in pipeline_only})
        canonical = algorithm_specs.resolve_name(algorithm)
        if canonical is None:
            raise ConfigError("algorithm", _unknown("algorithm", algorithm, algorithm_specs.ALGORITHM_NAMES), "run")
        params = _check_params("algorithm_params", canonical, algorithm_params or {}, source="run")
        return cls.of(settings, AlgorithmChoice(canonical, canonical, params), batch_size, seed)

    @classmethod
    def of(cls, settings: RunSettings, choice: AlgorithmChoice, batch_size: Any, seed: Any) -> "RunSpec":
        """An experiment's settings, one algorithm choice (name, algorithm, full parameters) and the coordinates."""
        try:
            spec = cls(**{k: getattr(settings, k) for k in RunSettings.model_fields}, algorithm=choice.algorithm,
                       params=dict(choice.params), name=choice.name, batch_size=batch_size, seed=seed)
        except ValidationError as error:
            raise _first_error(error, RunSpec, "", "run") from None
        if spec.pool_subset is not None and spec.pool_subset < spec.batch_size:
            raise ConfigError("pool_subset", f"pool_subset ({spec.pool_subset}) is smaller than the acquisition "
                              f"batch size ({spec.batch_size}); raise pool_subset or set it to null", "run")
        return spec


# ----------------------------------------------------------------------------------------- loading


def load_config(raw: Any, source: str = "config.yaml") -> Config:
    """Validate a parsed config.yaml; ConfigError (first line: file, key path, fix) on the first mistake."""
    if not isinstance(raw, Mapping):
        raise ConfigError("", f"expected a mapping of settings, got {type(raw).__name__}", source)
    try:
        config = Config.model_validate(dict(raw))
        _check_config(config)
    except ValidationError as error:
        raise _first_error(error, Config, "", source) from None
    except ConfigError as error:
        raise error.with_source(source) from None
    return config


def load_config_file(path: str | Path) -> Config:
    import yaml

    return load_config(yaml.safe_load(Path(path).read_text()), source=Path(path).name)


def run_settings_from_mapping(raw: Mapping[str, Any], source: str = "run") -> RunSettings:
    try:
        settings = RunSettings.model_validate(dict(raw))
    except ValidationError as error:
        raise _first_error(error, RunSettings, "", source) from None
    try:
        _check_run_settings("", settings)
    except ConfigError as error:
        raise error.with_source(source) from None
    return settings


def experiment_from_mapping(raw: Mapping[str, Any], variants: Mapping[str, Any] | None = None,
                            source: str = "experiment") -> Experiment:
    """One experiment mapping (the CLI's --experiment without a suite), checked as the workflow checks it."""
    try:
        experiment = Experiment.model_validate(dict(raw))
        resolved = _resolve_variants(
            {k: Variant.model_validate(v) if isinstance(v, Mapping) else v for k, v in (variants or {}).items()})
        _check_experiment("", experiment, resolved, None)
    except ValidationError as error:
        raise _first_error(error, Experiment, "", source) from None
    except ConfigError as error:
        raise error.with_source(source) from None
    return experiment


# ------------------------------------------------------------------------------------- semantic checks


def _check_name(path: str, name: str, kind: str) -> None:
    if not SAFE_NAME.fullmatch(name):
        raise ConfigError(path, f"{kind} name {name!r} is not a safe folder name: use letters, digits, '.', '_' "
                          "and '-', starting with a letter or digit")


def _check_params(path: str, algorithm: str, params: Mapping[str, Any], source: str | None = None) -> dict[str, Any]:
    try:
        return algorithm_specs.validate_params(algorithm, params)
    except ValueError as error:
        raise ConfigError(path, str(error), source or "config.yaml") from None


def _resolve_variants(variants: Mapping[str, Variant]) -> dict[str, AlgorithmChoice]:
    registry_keys = {algorithm_specs.name_key(a): r.name for r in algorithm_specs.RECORDS for a in (r.name, *r.aliases)}
    resolved: dict[str, AlgorithmChoice] = {}
    for name, variant in variants.items():
        path = f"variants.{name}"
        _check_name(path, name, "variant")
        if algorithm_specs.name_key(name) in registry_keys:
            raise ConfigError(path, f"variant name {name!r} is taken by the algorithm "
                              f"{registry_keys[algorithm_specs.name_key(name)]!r}; pick another name")
        base = algorithm_specs.resolve_name(variant.algorithm)
        if base is None:
            raise ConfigError(f"{path}.algorithm",
                              _unknown("algorithm", variant.algorithm, algorithm_specs.ALGORITHM_NAMES))
        resolved[name] = AlgorithmChoice(name, base, _check_params(f"{path}.params", base, variant.params))
    return resolved


def _choices(path: str, names: list[str], params: Mapping[str, Mapping[str, Any]],
             variants: Mapping[str, AlgorithmChoice]) -> dict[str, AlgorithmChoice]:
    """An `algorithms` list resolved: registry names (aliases -> canonical) and variants, each with its params;
    `algorithm_params` keyed by any listed name (or alias) go on top."""
    chosen: dict[str, AlgorithmChoice] = {}
    for index, name in enumerate(names):
        canonical = algorithm_specs.resolve_name(name)
        if canonical is not None:
            choice = AlgorithmChoice(canonical, canonical, algorithm_specs.algorithm_defaults(canonical))
        elif name in variants:
            choice = variants[name]
        else:
            valid = [*algorithm_specs.ALGORITHM_NAMES, *variants]
            raise ConfigError(f"{path}.algorithms[{index}]", _unknown("algorithm", name, valid)
                              + " (or define it under `variants:`)")
        if choice.name in chosen:
            raise ConfigError(f"{path}.algorithms[{index}]", f"{name!r} is listed twice (as {choice.name!r})")
        chosen[choice.name] = choice
    by_name = {algorithm_specs.resolve_name(n) or n: n for n in params}
    for key, original in by_name.items():
        if key not in chosen:
            raise ConfigError(f"{path}.algorithm_params.{original}",
                              f"{original!r} is not in this entry's algorithms {list(chosen)}{did_you_mean(original, list(chosen))}")
        choice = chosen[key]
        merged = _check_params(f"{path}.algorithm_params.{original}", choice.algorithm,
                               {**choice.params, **params[original]})
        chosen[key] = AlgorithmChoice(choice.name, choice.algorithm, merged)
    return chosen


def _check_run_settings(path: str, settings: RunSettings) -> None:
    at = f"{path}." if path else ""
    if settings.dataset not in DATASET_NAMES:
        raise ConfigError(f"{at}dataset", _unknown("dataset", settings.dataset, DATASET_NAMES))
    if settings.model not in MODEL_NAMES:
        raise ConfigError(f"{at}model", _unknown("model", settings.model, MODEL_NAMES))
    supported = MODELS[settings.model].uncertainty_methods
    if settings.uncertainty.method not in supported:
        raise ConfigError(f"{at}uncertainty.method",
                          f"model {settings.model!r} does not support uncertainty {settings.uncertainty.method!r}; "
                          f"it supports {', '.join(supported)}")
    if settings.budget <= settings.initial_size:
        raise ConfigError(f"{at}budget", f"budget {settings.budget} must exceed initial_size {settings.initial_size} "
                          "(the budget counts all labels, the initial set included)")


def _check_experiment(path: str, experiment: Experiment, variants: Mapping[str, AlgorithmChoice],
                      suite: Suite | None) -> None:
    at = f"{path}." if path else ""
    _check_run_settings(path, experiment)
    if experiment.pool_subset is not None and experiment.pool_subset < max(experiment.batch_sizes):
        raise ConfigError(f"{at}pool_subset", f"pool_subset ({experiment.pool_subset}) is smaller than the batch size "
                          f"{max(experiment.batch_sizes)}; raise it or set it to null (the whole pool)")
    experiment._choices = _choices(path, experiment.algorithms, experiment.algorithm_params, variants)
    experiment._variants = dict(variants)
    if suite is None:
        return
    pool = suite.pool_size(experiment)
    if pool is not None and experiment.budget > pool:
        held_out = f" after {experiment.validation_size} validation points" if experiment.validation_size else ""
        raise ConfigError(f"{at}budget", f"budget {experiment.budget} exceeds the pool of {experiment.dataset} "
                          f"({pool} points{held_out}); lower the budget or raise the dataset's repeats")


def _check_dataset_settings(path: str, name: str, settings: DatasetSettings) -> None:
    if name not in DATASET_NAMES:
        raise ConfigError(path, _unknown("dataset", name, DATASET_NAMES))
    spec = DATASET_SPECS[name]
    for option in settings.options:
        if option not in spec.options:
            raise ConfigError(f"{path}.options.{option}", f"{name} accepts no option {option!r}"
                              f"{did_you_mean(option, spec.options)} Its options: {', '.join(spec.options) or 'none'}")
    if not spec.is_repeated and (settings.repeats not in (None, 1) or settings.noise_std not in (None, 0)):
        repeated = [s.name for s in DATASET_SPECS.values() if s.is_repeated]
        raise ConfigError(path, f"{name} is not a repeated dataset, so repeats/noise_std cannot be set; "
                          f"use one of {', '.join(repeated)}")


def _check_suite(path: str, suite: Suite, variants: Mapping[str, AlgorithmChoice]) -> None:
    for name, settings in suite.datasets.items():
        _check_dataset_settings(f"{path}.datasets.{name}", name, settings)
    for key, experiment in suite.experiments.items():
        _check_name(f"{path}.experiments.{key}", key, "experiment")
        _check_experiment(f"{path}.experiments.{key}", experiment, variants, suite)
    for key, bench in suite.benchmarks.items():
        where = f"{path}.benchmarks.{key}"
        _check_name(where, key, "benchmark")
        if bench.experiment not in suite.experiments:
            raise ConfigError(f"{where}.experiment", f"{bench.experiment!r} is not an experiment of this suite"
                              f"{did_you_mean(bench.experiment, list(suite.experiments))} Valid: "
                              f"{', '.join(suite.experiments)}")
        bench._choices = _choices(where, bench.algorithms, bench.algorithm_params, variants)
        _check_reference_ids(f"{where}.references", bench.references)
    for key, experiment in suite.experiments.items():
        _check_reference_ids(f"{path}.experiments.{key}.references", experiment.references)
    for index, key in enumerate(suite.claims.experiments or []):
        if key not in suite.experiments:
            raise ConfigError(f"{path}.claims.experiments[{index}]", f"{key!r} is not an experiment of this suite"
                              f"{did_you_mean(key, list(suite.experiments))} Valid: {', '.join(suite.experiments)}")
    if suite.claims.benchmark is not None and suite.claims.benchmark not in suite.benchmarks:
        raise ConfigError(f"{path}.claims.benchmark", f"{suite.claims.benchmark!r} is not a benchmark of this suite"
                          f"{did_you_mean(suite.claims.benchmark, list(suite.benchmarks))} Valid: "
                          f"{', '.join(suite.benchmarks) or 'none'}")


REFERENCE_FILE = Path(__file__).resolve().parents[2] / "references" / "original_repository.yaml"


def reference_ids(path: Path = REFERENCE_FILE) -> list[str]:
    """The ids of the published-numbers file (read with yaml alone: the workflow parses without pandas or torch)."""
    import yaml

    if not path.is_file():
        return []
    return [str(entry.get("id")) for entry in (yaml.safe_load(path.read_text()) or {}).get("references", [])]


def _check_reference_ids(path: str, ids: list[str]) -> None:
    if not ids:
        return
    valid = reference_ids()
    if not valid:
        raise ConfigError(path, f"{REFERENCE_FILE} is missing; it ships with the repository (restore it with git)")
    for index, key in enumerate(ids):
        if key not in valid:
            raise ConfigError(f"{path}[{index}]", f"unknown reference {key!r}{did_you_mean(key, valid)} Valid: "
                              f"{', '.join(valid)}")


def _check_config(config: Config) -> None:
    variants = _resolve_variants(config.variants)
    for name, suite in config.suites.items():
        _check_name(f"suites.{name}", name, "suite")
        _check_suite(f"suites.{name}", suite, variants)


# ------------------------------------------------------------------------------- pydantic errors, in words


_EXPECTED = {
    "int_type": "expected an integer", "int_parsing": "expected an integer", "int_from_float": "expected an integer",
    "float_type": "expected a number", "float_parsing": "expected a number", "bool_type": "expected true or false",
    "bool_parsing": "expected true or false", "string_type": "expected text", "list_type": "expected a list",
    "dict_type": "expected a mapping (key: value)", "model_type": "expected a mapping (key: value)",
    "model_attributes_type": "expected a mapping (key: value)",
}


def _model_at(root: type, loc: tuple) -> Any:
    """The type that validates the value at `loc` below `root` (a model class, dict or list type)."""
    current: Any = root
    for part in loc:
        while get_origin(current) is Annotated:
            current = get_args(current)[0]
        if get_origin(current) is Union or type(current).__name__ == "UnionType":
            current = next(a for a in get_args(current) if a is not type(None))
        if isinstance(current, type) and issubclass(current, BaseModel):
            if part not in current.model_fields:
                return None
            current = current.model_fields[part].annotation
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]
        else:
            return None
    while get_origin(current) is Annotated:
        current = get_args(current)[0]
    return current


def _first_error(error: ValidationError, root: type, path: str, source: str) -> ConfigError:
    """The first pydantic error as a ConfigError: key path in dots, the expectation in words, the value given."""
    first = error.errors(include_url=False)[0]
    loc = tuple(first["loc"])
    kind, value, ctx = first["type"], first.get("input"), first.get("ctx") or {}
    where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    where = f"{path}.{where}" if path and where else path or where
    if kind == "extra_forbidden":
        parent = _model_at(root, loc[:-1])
        valid = list(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        message = f"unknown key {loc[-1]!r}{did_you_mean(str(loc[-1]), valid)} Valid keys: {', '.join(valid)}"
    elif kind == "missing":
        field_info = None
        parent = _model_at(root, loc[:-1])
        if isinstance(parent, type) and issubclass(parent, BaseModel):
            field_info = parent.model_fields.get(loc[-1])
        hint = f" ({field_info.description})" if field_info is not None and field_info.description else ""
        message = f"required key is missing; add {loc[-1]}:{hint}"
    elif kind == "literal_error":
        valid = [v.strip().strip("'") for v in str(ctx.get("expected", "")).replace(" or ", ", ").split(",")]
        message = f"expected one of {', '.join(valid)}, got {value!r}{did_you_mean(value, valid)}"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": ">= {ge}", "greater_than": "> {gt}", "less_than_equal": "<= {le}",
                 "less_than": "< {lt}"}[kind].format(**{k: ctx.get(k) for k in ("ge", "gt", "le", "lt")})
        message = f"expected a value {bound}, got {value!r}"
    elif kind == "too_short":
        message = f"expected at least {ctx.get('min_length', 1)} entry, got {value!r}"
    elif kind == "value_error":
        message = str(ctx.get("error", first["msg"]))
    elif kind in _EXPECTED:
        message = f"{_EXPECTED[kind]}, got {value!r}"
    else:
        message = f"{first['msg']}, got {value!r}"
    return ConfigError(where, message, source)


def json_schema() -> dict[str, Any]:
    """The JSON schema of config.yaml, generated from the models (checked in as schemas/config.schema.json)."""
    schema = Config.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["description"] = ("sbadbal workflow configuration (config.yaml), generated from sbadbal/config/model.py by "
                             "`python -m sbadbal.config.model > schemas/config.schema.json`; names and cross-field rules "
                             "are checked by sbadbal.config.model.load_config only.")
    return schema


if __name__ == "__main__":
    import json

    json.dump(json_schema(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
