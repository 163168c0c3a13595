"""The checks one field cannot make: names against the records (with "did you mean"), fields against each other,
and whether a run can run at all (a budget larger than the dataset's pool, an option the dataset does not accept,
a suite name that is not a safe folder name, a reference id or algorithm the published-numbers file lacks)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sbadbal.acquisition import records as algorithm_records
from sbadbal.acquisition.plugins import is_plugin_reference
from sbadbal.config.errors import ConfigError, FileConfigError, did_you_mean, unknown_name
from sbadbal.config.experiment import AlgorithmChoice, Experiment, check_params, check_run_settings
from sbadbal.config.fields import SAFE_NAME
from sbadbal.config.options import OPTIONS, options_problem
from sbadbal.analysis.reference_file import ReferenceFileError
from sbadbal.analysis.reference_file import reference_entries as _file_entries
from sbadbal.data.records import DATASET_NAMES, SOURCES, SPECS as DATASET_SPECS

if TYPE_CHECKING:
    from sbadbal.config.model import Config, Variant
    from sbadbal.config.suite import DatasetSettings, Suite


def check_name(path: str, name: str, kind: str) -> None:
    """A suite, experiment, benchmark or variant name becomes a folder name under results/."""
    if not SAFE_NAME.fullmatch(name):
        raise ConfigError(path, f"{kind} name {name!r} is not a safe folder name: use letters, digits, '.', '_' "
                          "and '-', starting with a letter or digit")


def _registry_keys() -> dict[str, str]:
    return {algorithm_records.name_key(a): r.name for r in algorithm_records.RECORDS for a in (r.name, *r.aliases)}


class Plugins:
    """The plug-in acquisition functions that config.yaml names (`module:function` or `path/file.py:function`,
    files relative to `base`, the config file's folder), each checked once (sbadbal/acquisition/plugins.py)."""

    def __init__(self, base: Path | None = None):
        self.base = Path(".") if base is None else Path(base)
        self.records: dict[str, algorithm_records.AlgorithmRecord] = {}
        self.listed: list[str] = []  # display names of plug-ins listed by reference in an `algorithms`

    def record(self, path: str, reference: str) -> algorithm_records.AlgorithmRecord:
        from sbadbal.acquisition.plugins import plugin_record

        if reference not in self.records:
            try:
                self.records[reference] = plugin_record(reference, reference, self.base)
            except ValueError as error:
                raise ConfigError(path, f"plug-in acquisition function {error}") from None
        return self.records[reference]

    def choice(self, path: str, name: str, reference: str) -> AlgorithmChoice:
        record = self.record(path, reference)
        return AlgorithmChoice(name, record.name, dict(record.defaults), record)


def resolve_variants(variants: Mapping[str, Variant], plugins: Plugins | None = None) -> dict[str, AlgorithmChoice]:
    plugins = plugins if plugins is not None else Plugins()
    registry_keys = _registry_keys()
    resolved: dict[str, AlgorithmChoice] = {}
    for name, variant in variants.items():
        path = f"variants.{name}"
        check_name(path, name, "variant")
        if algorithm_records.name_key(name) in registry_keys:
            raise ConfigError(path, f"variant name {name!r} is taken by the algorithm "
                              f"{registry_keys[algorithm_records.name_key(name)]!r}; pick another name")
        if is_plugin_reference(variant.algorithm):
            plugin = plugins.choice(f"{path}.algorithm", name, variant.algorithm)
            params = check_params(f"{path}.params", plugin.record, variant.params)
            resolved[name] = AlgorithmChoice(name, plugin.algorithm, params, plugin.plugin)
            continue
        base = algorithm_records.resolve_name(variant.algorithm)
        if base is None:
            raise ConfigError(f"{path}.algorithm",
                              unknown_name("algorithm", variant.algorithm, algorithm_records.ALGORITHM_NAMES)
                              + " (or a plug-in: module:function)")
        resolved[name] = AlgorithmChoice(name, base, check_params(f"{path}.params", base, variant.params))
    return resolved


def resolve_choices(path: str, names: list[str], params: Mapping[str, Mapping[str, Any]],
             variants: Mapping[str, AlgorithmChoice], plugins: Plugins | None = None) -> dict[str, AlgorithmChoice]:
    """An `algorithms` list resolved: registry names (aliases -> canonical), variants and plug-ins (`module:function`,
    under the function's name), each with its params; `algorithm_params` keyed by any listed name (or alias) go on
    top."""
    plugins = plugins if plugins is not None else Plugins()
    chosen: dict[str, AlgorithmChoice] = {}
    for index, name in enumerate(names):
        canonical = algorithm_records.resolve_name(name)
        if canonical is not None:
            choice = AlgorithmChoice(canonical, canonical, algorithm_records.algorithm_defaults(canonical))
        elif name in variants:
            choice = variants[name]
        elif is_plugin_reference(name):
            where = f"{path}.algorithms[{index}]"
            display = name.rpartition(":")[2]
            choice = plugins.choice(where, display, name)
            taken = _registry_keys().get(algorithm_records.name_key(display)) or (display if display in variants else None)
            if taken is not None:
                raise ConfigError(where, f"the plug-in's name {display!r} is taken by {taken!r}; give it another "
                                  f"name under `variants:` ({{algorithm: {name!r}}})")
            check_name(where, display, "plug-in")
            if display not in plugins.listed:
                plugins.listed.append(display)
        else:
            valid = [*algorithm_records.ALGORITHM_NAMES, *variants]
            raise ConfigError(f"{path}.algorithms[{index}]", unknown_name("algorithm", name, valid)
                              + " (or define it under `variants:`)")
        if choice.name in chosen:
            raise ConfigError(f"{path}.algorithms[{index}]", f"{name!r} is listed twice (as {choice.name!r})")
        chosen[choice.name] = choice
    by_name = {algorithm_records.resolve_name(n) or n: n for n in params}
    for key, original in by_name.items():
        if key not in chosen:
            raise ConfigError(f"{path}.algorithm_params.{original}",
                              f"{original!r} is not in this entry's algorithms {list(chosen)}{did_you_mean(original, list(chosen))}")
        choice = chosen[key]
        merged = check_params(f"{path}.algorithm_params.{original}", choice.record,
                               {**choice.params, **params[original]})
        chosen[key] = AlgorithmChoice(choice.name, choice.algorithm, merged, choice.plugin)
    return chosen


def check_experiment(path: str, experiment: Experiment, variants: Mapping[str, AlgorithmChoice],
                      suite: Suite | None, plugins: Plugins | None = None) -> None:
    at = f"{path}." if path else ""
    check_run_settings(path, experiment)
    if experiment.pool_subset is not None and experiment.pool_subset < max(experiment.batch_sizes):
        raise ConfigError(f"{at}pool_subset", f"pool_subset ({experiment.pool_subset}) is smaller than the batch size "
                          f"{max(experiment.batch_sizes)}; raise it or set it to null (the whole pool)")
    experiment._choices = resolve_choices(path, experiment.algorithms, experiment.algorithm_params, variants, plugins)
    experiment._variants = dict(variants)
    experiment._extra_seed_names = check_extra_seeds(path, experiment)
    if suite is None:
        return
    pool = suite.pool_size(experiment)
    if pool is not None and experiment.budget > pool:
        held_out = f" after {experiment.validation_size} validation points" if experiment.validation_size else ""
        raise ConfigError(f"{at}budget", f"budget {experiment.budget} exceeds the pool of {experiment.dataset} "
                          f"({pool} points{held_out}); lower the budget or raise the dataset's repeats")


def check_extra_seeds(path: str, experiment: Experiment) -> frozenset[str]:
    """The display names that run `extra_seeds.seeds`: each one of the experiment's algorithms, every extra seed
    new and listed once."""
    extra = experiment.extra_seeds
    if extra is None:
        return frozenset()
    at = f"{path}.extra_seeds" if path else "extra_seeds"
    names = set()
    for name in extra.algorithms:
        canonical = algorithm_records.resolve_name(name)
        found = next((key for key in (name, canonical) if key in experiment._choices), None)
        if found is None:
            raise ConfigError(f"{at}.algorithms", f"{name!r} is not in this experiment's algorithms "
                              f"{list(experiment._choices)}{did_you_mean(name, list(experiment._choices))}")
        names.add(found)
    repeated = sorted({seed for seed in extra.seeds if extra.seeds.count(seed) > 1})
    if repeated:
        raise ConfigError(f"{at}.seeds", f"seed {repeated[0]} is listed twice; list each seed once")
    shared = sorted(set(extra.seeds) & set(experiment.seeds))
    if shared:
        raise ConfigError(f"{at}.seeds", f"seed {shared[0]} is already in the experiment's seeds; extra seeds are "
                          "the ones beyond them")
    return frozenset(names)


def check_dataset_settings(path: str, name: str, settings: DatasetSettings) -> None:
    if name not in DATASET_NAMES:
        raise ConfigError(path, unknown_name("dataset", name, DATASET_NAMES))
    spec = DATASET_SPECS[name]
    options = SOURCES[spec.source].options
    for option in settings.options:
        if option not in options:
            raise ConfigError(f"{path}.options.{option}", f"{name} accepts no option {option!r}"
                              f"{did_you_mean(option, options)} Its options: {', '.join(options) or 'none'}")
    problem = options_problem(settings.options)
    if problem is not None:
        option, message = problem
        raise ConfigError(f"{path}.options.{option}", f"{message} ({OPTIONS[option].description})"
                          if option in OPTIONS else message)
    if not spec.is_repeated and (settings.repeats not in (None, 1) or settings.noise_std not in (None, 0)):
        repeated = [s.name for s in DATASET_SPECS.values() if s.is_repeated]
        raise ConfigError(path, f"{name} is not a repeated dataset, so repeats/noise_std cannot be set; "
                          f"use one of {', '.join(repeated)}")


def reserved_experiment_names(suite: Suite) -> dict[str, str]:
    """Names an experiment cannot take, with the file it would collide with: its tables folder sits beside the
    claims table, its comparison log beside the benchmarks' (rules/*.smk)."""
    reserved = {"claims.csv": "tables/claims.csv", "claims.md": "tables/claims.md"}
    reserved |= {f"bench_{key}": f"logs/<suite>/compare_references/bench_{key}.log" for key in suite.benchmarks}
    return reserved


def check_run_memory(path: str, experiment: Experiment, suite: Suite) -> None:
    """The scheduling model's memory estimate of one run (sbadbal/ops/scheduling.py) within MAX_RUN_MEMORY_MB, before
    any job: the posterior samples, the pool and the classes multiply."""
    from sbadbal.ops.scheduling import MAX_RUN_MEMORY_MB, run_memory_estimate_mb

    pool = suite.pool_size(experiment)
    if pool is None:
        return
    estimate = run_memory_estimate_mb(experiment, pool)
    if estimate > MAX_RUN_MEMORY_MB:
        key = "uncertainty.k_acquisition" if experiment.uncertainty.method == "mc_dropout" else "uncertainty.members"
        raise ConfigError(f"{path}.{key}", f"a run of this experiment needs at least {estimate / 1000:,.0f} GB (its pool "
                          f"of {pool:,} points x K samples x classes of log-probabilities), more than the "
                          f"{MAX_RUN_MEMORY_MB / 1000:,.0f} GB the scheduling model allows one job; lower it, "
                          "pool_subset or the dataset's repeats")


def check_benchmark(where: str, bench: Any, suite: Suite) -> None:
    """Batch sizes below the largest pool size (a larger one times nothing), pool sizes within the experiment's."""
    largest = max(bench.pool_sizes)
    too_large = [b for b in bench.batch_sizes if b >= largest]
    if too_large:
        raise ConfigError(f"{where}.batch_sizes", f"batch size {too_large[0]} is not below the largest pool size "
                          f"{largest}, so no case of it would be timed; lower it or add a larger pool size")
    experiment = suite.experiments[bench.experiment]
    pool = suite.pool_size(experiment)
    if pool is not None and largest > pool:
        raise ConfigError(f"{where}.pool_sizes", f"pool size {largest} exceeds the pool of {experiment.dataset} in "
                          f"experiment {bench.experiment!r} ({pool} points); lower it")
    from sbadbal.ops.scheduling import MAX_RUN_MEMORY_MB, bench_memory_estimate_mb

    estimate = bench_memory_estimate_mb(experiment, largest)
    if estimate > MAX_RUN_MEMORY_MB:
        raise ConfigError(f"{where}.pool_sizes", f"the benchmark's log-probabilities at pool size {largest:,} need "
                          f"about {estimate / 1000:,.0f} GB, more than the {MAX_RUN_MEMORY_MB / 1000:,.0f} GB the "
                          "scheduling model allows one job; lower it")


def check_suite(path: str, suite: Suite, variants: Mapping[str, AlgorithmChoice], plugins: Plugins | None = None) -> None:
    for name, settings in suite.datasets.items():
        check_dataset_settings(f"{path}.datasets.{name}", name, settings)
    reserved = reserved_experiment_names(suite)
    for key, experiment in suite.experiments.items():
        check_name(f"{path}.experiments.{key}", key, "experiment")
        if key in reserved:
            raise ConfigError(f"{path}.experiments.{key}", f"experiment name {key!r} would collide with "
                              f"{reserved[key]}; pick another name")
        check_experiment(f"{path}.experiments.{key}", experiment, variants, suite, plugins)
        check_run_memory(f"{path}.experiments.{key}", experiment, suite)
    for key, bench in suite.benchmarks.items():
        where = f"{path}.benchmarks.{key}"
        check_name(where, key, "benchmark")
        if bench.experiment not in suite.experiments:
            raise ConfigError(f"{where}.experiment", f"{bench.experiment!r} is not an experiment of this suite"
                              f"{did_you_mean(bench.experiment, list(suite.experiments))} Valid: "
                              f"{', '.join(suite.experiments)}")
        check_benchmark(where, bench, suite)
        bench._choices = resolve_choices(where, bench.algorithms, bench.algorithm_params, variants, plugins)
        check_reference_ids(f"{where}.references", bench.references)
    for key, experiment in suite.experiments.items():
        check_reference_ids(f"{path}.experiments.{key}.references", experiment.references)
    for index, key in enumerate(suite.claims.experiments or []):
        if key not in suite.experiments:
            raise ConfigError(f"{path}.claims.experiments[{index}]", f"{key!r} is not an experiment of this suite"
                              f"{did_you_mean(key, list(suite.experiments))} Valid: {', '.join(suite.experiments)}")
    if suite.claims.benchmark is not None and suite.claims.benchmark not in suite.benchmarks:
        raise ConfigError(f"{path}.claims.benchmark", f"{suite.claims.benchmark!r} is not a benchmark of this suite"
                          f"{did_you_mean(suite.claims.benchmark, list(suite.benchmarks))} Valid: "
                          f"{', '.join(suite.benchmarks) or 'none'}")


# The published-numbers file, relative to the workflow's folder (the rules read it from there) and in this checkout.
REFERENCE_PATH = "references/original_repository.yaml"
REFERENCE_FILE = Path(__file__).resolve().parents[2] / REFERENCE_PATH


def reference_entries(path: Path) -> list[dict[str, Any]]:
    """The published-numbers file's entries (sbadbal/analysis/reference_file.py); a mistake there is a ConfigError
    that names that file, not config.yaml."""
    try:
        return _file_entries(path)
    except ReferenceFileError as error:
        raise FileConfigError(error.where, error.problem, error.source) from None


def reference_ids(path: Path = REFERENCE_FILE) -> list[str]:
    """The ids of the published-numbers file."""
    return [str(entry.get("id")) for entry in reference_entries(path)]


def check_reference_ids(path: str, ids: list[str]) -> None:
    """Each id names an entry of the published-numbers file, and each of its values names one of our algorithms (or
    "*", a value shared by all of them)."""
    if not ids:
        return
    entries = {str(entry.get("id")): entry for entry in reference_entries(REFERENCE_FILE)}
    if not entries:
        raise ConfigError(path, f"{REFERENCE_FILE} is missing; it ships with the repository (restore it with git)")
    valid = list(entries)
    for index, key in enumerate(ids):
        if key not in entries:
            raise ConfigError(f"{path}[{index}]", f"unknown reference {key!r}{did_you_mean(key, valid)} Valid: "
                              f"{', '.join(valid)}")
        for value in entries[key].get("values") or []:
            algorithm = value.get("algorithm") if isinstance(value, dict) else None
            if algorithm != "*" and algorithm not in algorithm_records.ALGORITHM_NAMES:
                raise ConfigError(f"{path}[{index}]", f"reference {key!r} in {REFERENCE_FILE.name} names the "
                                  f"algorithm {algorithm!r}, which is not one of ours "
                                  f"({', '.join(algorithm_records.ALGORITHM_NAMES)}, or * for all)")


def check_config(config: Config, base: Path | None = None) -> None:
    """Every check that one field cannot make, over the whole file (plug-in files relative to `base`)."""
    plugins = Plugins(base)
    variants = resolve_variants(config.variants, plugins)
    for name, suite in config.suites.items():
        check_name(f"suites.{name}", name, "suite")
        check_suite(f"suites.{name}", suite, variants, plugins)
    config._plugin_names = tuple(plugins.listed)


