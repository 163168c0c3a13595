"""The suite section: named experiments and timing benchmarks that one `snakemake` call runs, with the preparation
settings of their datasets and what the claims table rests on."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, PrivateAttr, Strict, field_validator

from sbadbal.config.experiment import (
    MAX_BATCH,
    MAX_LABELS,
    AlgorithmChoice,
    AlgorithmParams,
    Experiment,
    RunSettings,
    _distinct,
    run_spec,
)
from sbadbal.config.fields import Flag, IntUpTo, Seed, StrictModel, Text
from sbadbal.data.records import SPECS as DATASET_SPECS
from sbadbal.engine.spec import RunSpec

# A repeated dataset holds `repeats` copies of its train split in memory (and in its prepared file): 100 copies of
# MNIST are 4.7 GB. Noise is added to the normalised inputs (unit std): beyond a std of 10 an image is noise alone.
MAX_REPEATS = 100
MAX_NOISE_STD = 10.0
MAX_BENCH_REPEATS = 1000


class DatasetSettings(StrictModel):
    """How a suite prepares one dataset."""

    repeats: IntUpTo(MAX_REPEATS) | None = Field(None, description="copies of the training split (repeated datasets "
                                                 f"only; at most {MAX_REPEATS})")
    noise_std: Annotated[float, Strict(), Field(ge=0, le=MAX_NOISE_STD)] | None = Field(
        None, description=f"per-copy Gaussian noise on the normalised pixels (repeated datasets; at most "
        f"{MAX_NOISE_STD:g})")
    noise_seed: Seed = Field(0, description="seed of that noise")
    options: dict[Text, Any] = Field(default_factory=dict, description="source options (the dataset record lists "
                                     "them; plain values: text, numbers, true/false)")


class Benchmark(StrictModel):
    """Acquisition time vs batch size and pool size on the first-round model of an experiment."""

    description: Text = Field("", description="one line for the report")
    experiment: Text = Field(description="the experiment whose model, uncertainty and training are timed")
    seed: Seed = Field(0, description="seed of the model and of the pool order")
    pool_sizes: list[IntUpTo(MAX_LABELS)] = Field(min_length=1, description="pool sizes N (prefixes of one scored "
                                                  "pool; distinct, within the experiment's pool)")
    batch_sizes: list[IntUpTo(MAX_BATCH)] = Field(min_length=1, description="batch sizes b (distinct; each below the "
                                                  "largest pool size)")
    algorithms: list[Text] = Field(min_length=1, description="algorithm names, aliases, variant names or "
                                  "plug-ins (module:function)")
    algorithm_params: AlgorithmParams = Field(default_factory=dict, description="per algorithm name: parameters")
    repeats: IntUpTo(MAX_BENCH_REPEATS) = Field(3, description="timed calls per case (the median is reported; at "
                                                f"most {MAX_BENCH_REPEATS})")
    references: list[Text] = Field(default_factory=list, description=(
        "ids in references/original_repository.yaml whose published timing ratios this benchmark is compared with"))

    _choices: dict[str, AlgorithmChoice] = PrivateAttr(default_factory=dict)

    @field_validator("pool_sizes", "batch_sizes")
    @classmethod
    def _listed_once(cls, values: list, info: Any) -> list:
        return _distinct(info.field_name, values)

    def timing_settings(self) -> dict[str, Any]:
        """The plain settings of the timing rule: display names with their registry algorithm, its record's plain
        values (what the timed function is) and full parameters."""
        return {
            "algorithms": list(self._choices),
            "bases": {c.name: c.algorithm for c in self._choices.values()},
            "acquisition": {c.name: c.record.to_config() for c in self._choices.values()},
            "algorithm_params": {c.name: dict(c.params) for c in self._choices.values()},
            "batch_sizes": list(self.batch_sizes), "pool_sizes": list(self.pool_sizes),
            "repeats": self.repeats, "seed": self.seed,
        }


class SuiteClaims(StrictModel):
    """Which outputs of a suite the claims table (tables/claims.{csv,md}) rests on."""

    experiments: list[Text] | None = Field(None, description="experiments whose runs decide the accuracy claims "
                                           "(null: every experiment of the suite)")
    benchmark: Text | None = Field(None, description="the timing benchmark that decides the speed claim (null: the "
                                   "suite's first, if any)")


class Suite(StrictModel):
    """A named set of experiments and timing benchmarks that one `snakemake` call runs."""

    description: Text = Field("", description="one paragraph for the report")
    download: Flag = Field(False, description="let the workflow fetch raw files it does not find under data.root "
                          "(local retrieve rules, before preparation; preparation itself never downloads)")
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

    def preparation(self, dataset: str) -> dict[str, Any]:
        """The keyword arguments of prepare_dataset for one dataset of this suite (the workflow and the CLI), but
        for `data_dir`: where the raw files are is not what is prepared, so the workflow keeps it out of the rule's
        params (a data.root change reruns nothing)."""
        settings = self.dataset_settings(dataset)
        return {"repeats": settings.repeats, "noise_std": settings.noise_std, "noise_seed": settings.noise_seed,
                "options": dict(settings.options)}

    def claims_experiments(self, available: Mapping[str, Any]) -> list[str]:
        """The experiments the claims table reads, of those available on this machine."""
        chosen = self.claims.experiments if self.claims.experiments is not None else list(self.experiments)
        return [key for key in chosen if key in available]

    def claims_benchmark(self, available: Mapping[str, Any]) -> str | None:
        """The benchmark the speed claim reads, if it is available on this machine."""
        chosen = self.claims.benchmark if self.claims.benchmark is not None else next(iter(self.benchmarks), None)
        return chosen if chosen in available else None

    def claims_declared(self) -> list[str]:
        """The experiments the claims rest on by the suite's configuration, whether or not they run here."""
        return list(self.claims.experiments) if self.claims.experiments is not None else list(self.experiments)

    def claims_not_run(self, available: Mapping[str, Any], available_benchmarks: Mapping[str, Any]) -> dict[str, Any]:
        """Why a declared experiment, or the speed claim's benchmark, does not run on this machine (so that its
        claims show as "not run" with the reason): {"experiments": {key: reason}, "benchmark": reason or None}."""
        experiments = {}
        for key in self.claims_declared():
            if key not in available:
                missing = [path for path in self.local_files(self.experiments[key].dataset) if not Path(path).exists()]
                experiments[key] = f"experiment {key} was skipped on this machine" + (
                    f" ({', '.join(missing)} does not exist)" if missing else "")
        chosen = self.claims.benchmark if self.claims.benchmark is not None else next(iter(self.benchmarks), None)
        benchmark = None
        if chosen is None:
            benchmark = "the suite has no timing benchmark"
        elif self.claims_benchmark(available_benchmarks) is None:
            benchmark = f"benchmark {chosen} was skipped on this machine (its experiment's data is missing)"
        return {"experiments": experiments, "benchmark": benchmark}

    def benchmark_run(self, key: str) -> RunSpec:
        """The first-round model a benchmark times acquisition on: its experiment's settings under its seed (the
        algorithm does not matter for the model; BALD completes the spec)."""
        bench = self.benchmarks[key]
        experiment = self.experiments[bench.experiment]
        return run_spec(experiment, AlgorithmChoice("BALD", "BALD"), 1, bench.seed)

    def pool_size(self, experiment: RunSettings) -> int | None:
        """The labelable pool of an experiment's runs, known without loading data (None when only the file
        can tell): the dataset record's train size, times the suite's repeats, minus validation points."""
        settings = self.dataset_settings(experiment.dataset)
        train = DATASET_SPECS[experiment.dataset].pool_size(settings.options, settings.repeats)
        return None if train is None else train - experiment.validation_size


