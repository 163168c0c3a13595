# All config reading, validation, target lists and input functions of the workflow live here.
import re
import sys
from pathlib import Path

from snakemake.common.tbdstring import TBDString
from snakemake.utils import validate

from sbadbal.acquisition import ALGORITHM_NAMES, canonical_name, validate_params
from sbadbal.acquisition import source_files as acquisition_source_files
from sbadbal import scheduling
from sbadbal.data import DATASET_NAMES
from sbadbal.loop import EXPERIMENT_KEYS, RunSpec


validate(config, schema="../schemas/config.schema.yaml")

# Keys of an experiment that decide an AL run's numbers (the library's list). Only these reach run_al as params,
# so adding a seed, an algorithm or a batch size to an experiment (or editing its description) reruns no run.
RUN_SETTING_KEYS = EXPERIMENT_KEYS


def config_error(message):
    raise ValueError(f"config.yaml: {message}")


def check_algorithms(where, algorithms, algorithm_params):
    for name in algorithms:
        if name not in ALGORITHM_NAMES:
            try:
                hint = f"; did you mean {canonical_name(name)!r}?"
            except ValueError:
                hint = ""
            config_error(
                f"{where}: unknown algorithm {name!r}{hint} Valid algorithms: {', '.join(ALGORITHM_NAMES)}"
            )
    for name, params in algorithm_params.items():
        if name not in algorithms:
            config_error(f"{where}: algorithm_params names {name!r}, which is not in its algorithms {algorithms}")
        try:
            validate_params(name, params)
        except ValueError as error:
            config_error(f"{where}: algorithm_params of {name}: {error}")


def check_runs(where, experiment):
    """The library's own checks of every run (model/uncertainty pairs, protocol values, pool subset vs batch
    size, ...), so that a mistake stops the workflow here rather than failing inside every run_al job."""
    settings = {key: experiment[key] for key in EXPERIMENT_KEYS if key in experiment}
    for batch_size in experiment["batch_sizes"]:
        for algorithm in experiment["algorithms"]:
            try:
                RunSpec.from_experiment(
                    settings,
                    algorithm=algorithm,
                    batch_size=batch_size,
                    seed=experiment["seeds"][0],
                    algorithm_params=experiment.get("algorithm_params", {}).get(algorithm, {}),
                )
            except ValueError as error:
                config_error(f"{where} ({algorithm}, batch size {batch_size}): {error}")


def check_suite(name, suite):
    for dataset in suite["datasets"]:
        if dataset not in DATASET_NAMES:
            config_error(f"suites.{name}.datasets: unknown dataset {dataset!r}; valid: {', '.join(DATASET_NAMES)}")
    for key, experiment in suite["experiments"].items():
        where = f"suites.{name}.experiments.{key}"
        if experiment["dataset"] not in DATASET_NAMES:
            config_error(
                f"{where}: unknown dataset {experiment['dataset']!r}; valid: {', '.join(DATASET_NAMES)}"
            )
        if experiment["budget"] <= experiment["initial_size"]:
            config_error(
                f"{where}: budget {experiment['budget']} must exceed initial_size {experiment['initial_size']}"
            )
        check_algorithms(where, experiment["algorithms"], experiment.get("algorithm_params", {}))
        check_runs(where, experiment)
    for key, bench in suite["benchmarks"].items():
        where = f"suites.{name}.benchmarks.{key}"
        if bench["experiment"] not in suite["experiments"]:
            config_error(
                f"{where}: experiment {bench['experiment']!r} is not an experiment of this suite; "
                f"valid: {', '.join(suite['experiments'])}"
            )
        check_algorithms(where, bench["algorithms"], bench.get("algorithm_params", {}))


if config["suite"] not in config["suites"]:
    config_error(f"suite {config['suite']!r} is not defined; valid suites: {', '.join(config['suites'])}")
SUITE_NAME = config["suite"]
SUITE = config["suites"][SUITE_NAME]
check_suite(SUITE_NAME, SUITE)


def dataset_settings(dataset):
    return SUITE["datasets"].get(dataset, {"options": {}})


def missing_local_files(dataset):
    """Options named local_* are files on this machine; a missing one makes the dataset unavailable."""
    options = dataset_settings(dataset).get("options", {})
    return [
        str(value)
        for key, value in options.items()
        if key.startswith("local_") and not Path(str(value)).exists()
    ]


def available_experiments():
    kept = {}
    for key, experiment in SUITE["experiments"].items():
        missing = missing_local_files(experiment["dataset"])
        if missing:
            print(
                f"sbadbal: skipping experiment {key!r} of suite {SUITE_NAME!r}: "
                f"{experiment['dataset']} needs {', '.join(missing)}, which does not exist",
                file=sys.stderr,
            )
            continue
        kept[key] = experiment
    return kept


EXPERIMENTS = available_experiments()
BENCHMARKS = {key: bench for key, bench in SUITE["benchmarks"].items() if bench["experiment"] in EXPERIMENTS}
DATASETS = sorted({experiment["dataset"] for experiment in EXPERIMENTS.values()})
ALGORITHMS_USED = sorted({alg for exp in EXPERIMENTS.values() for alg in exp["algorithms"]})


def alternatives(names):
    # Longest first so that a regex engine never settles on a prefix ("LBB" inside "LBB-code").
    return "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)) or "(?!)"


wildcard_constraints:
    suite=re.escape(SUITE_NAME),
    dataset=alternatives(DATASET_NAMES),
    experiment=alternatives(SUITE["experiments"]),
    bench=alternatives(SUITE["benchmarks"]) if SUITE["benchmarks"] else "(?!)",
    alg=alternatives(ALGORITHM_NAMES),
    batch_size=r"\d+",
    seed=r"\d+",


# --- library sources as inputs: a code change reruns exactly the rules that use that code -----------------
def library_files(*patterns):
    # Command-line entry points (__main__.py) are not what the rules run.
    paths = {path for pattern in patterns for path in Path("sbadbal").glob(pattern)}
    return sorted(str(path) for path in paths if path.name != "__main__.py")


ACQUISITION_SOURCES = library_files("acquisition/**/*.py", "runtime.py")
DATA_SOURCES = library_files("data/**/*.py", "runtime.py")
# Training and scoring code: what every AL run and the benchmark's model depend on, acquisition aside.
MODEL_SOURCES = sorted(
    set(DATA_SOURCES)
    | set(library_files("models.py", "uncertainty.py", "training.py", "loop.py", "results.py"))
)


def run_sources(wildcards):
    """Model code plus the acquisition files the run's algorithm executes: an edit of lbb.py reruns the LBB
    and PLBB runs, not the BALD runs (sbadbal.acquisition.source_files follows each algorithm's imports)."""
    algorithm_files = {f"sbadbal/{path}" for path in acquisition_source_files(wildcards.alg)}
    return sorted(set(MODEL_SOURCES) | algorithm_files)


RESULTS_SOURCES = library_files("results.py")
PLOT_SOURCES = library_files("plots.py")


# --- paths ----------------------------------------------------------------------------------------------
def run_csv_paths(experiment_key):
    experiment = EXPERIMENTS[experiment_key]
    return expand(
        "results/{suite}/runs/{experiment}/b{batch_size}/{alg}/seed{seed}.csv",
        suite=SUITE_NAME,
        experiment=experiment_key,
        batch_size=experiment["batch_sizes"],
        alg=experiment["algorithms"],
        seed=experiment["seeds"],
    )


def final_targets():
    """Every file the suite promises: tables and figures per experiment, timing tables and plots per benchmark."""
    targets = []
    for key, experiment in EXPERIMENTS.items():
        targets += expand(
            "results/{suite}/tables/{experiment}/{table}",
            suite=SUITE_NAME,
            experiment=key,
            table=["runs.csv", "final_accuracy.csv", "final_accuracy.md", "acquisition_time.csv"],
        )
        targets += expand(
            "results/{suite}/figures/{experiment}/accuracy_b{batch_size}.{ext}",
            suite=SUITE_NAME,
            experiment=key,
            batch_size=experiment["batch_sizes"],
            ext=["pdf", "png"],
        )
    for key in BENCHMARKS:
        targets += expand(
            "results/{suite}/bench/{bench}/{name}",
            suite=SUITE_NAME,
            bench=key,
            name=["timings.csv", "timings.md", "timing.pdf", "timing.png"],
        )
    return targets


# --- params: each rule sees only its own config subtree ------------------------------------------------
def prepare_settings(wildcards):
    settings = dataset_settings(wildcards.dataset)
    return {
        "repeats": settings.get("repeats"),
        "noise_std": settings.get("noise_std"),
        "noise_seed": settings.get("noise_seed", 0),
        "options": settings.get("options", {}),
        "download": SUITE["download"],
        "data_dir": config["data"]["root"],
    }


def local_source_files(wildcards):
    options = dataset_settings(wildcards.dataset).get("options", {})
    return [str(value) for key, value in options.items() if key.startswith("local_")]


def run_settings_of(experiment_key):
    experiment = EXPERIMENTS[experiment_key]
    return {key: experiment[key] for key in RUN_SETTING_KEYS if key in experiment}


def run_settings(wildcards):
    return run_settings_of(wildcards.experiment)


def algorithm_params(wildcards):
    return EXPERIMENTS[wildcards.experiment].get("algorithm_params", {}).get(wildcards.alg, {})


def prepared_data_of_experiment(wildcards):
    return f"results/{SUITE_NAME}/data/{EXPERIMENTS[wildcards.experiment]['dataset']}.pt"


def experiment_run_csvs(wildcards):
    return run_csv_paths(wildcards.experiment)


def experiment_run_keys(wildcards):
    """(batch_size, algorithm, seed) of each file of experiment_run_csvs, in the same order."""
    experiment = EXPERIMENTS[wildcards.experiment]
    return [
        {"batch_size": b, "algorithm": alg, "seed": seed}
        for b in experiment["batch_sizes"]
        for alg in experiment["algorithms"]
        for seed in experiment["seeds"]
    ]


def bench_experiment_settings(wildcards):
    bench = BENCHMARKS[wildcards.bench]
    return run_settings_of(bench["experiment"])


def bench_model_settings(wildcards):
    bench = BENCHMARKS[wildcards.bench]
    return {"seed": bench["seed"], "max_pool_size": max(bench["pool_sizes"])}


def bench_timing_settings(wildcards):
    bench = BENCHMARKS[wildcards.bench]
    keys = ("algorithms", "batch_sizes", "pool_sizes", "repeats", "seed", "algorithm_params")
    return {key: bench[key] for key in keys if key in bench}


def prepared_data_of_bench(wildcards):
    experiment = EXPERIMENTS[BENCHMARKS[wildcards.bench]["experiment"]]
    return f"results/{SUITE_NAME}/data/{experiment['dataset']}.pt"


def plot_settings(wildcards):
    return config["plots"]


def table_settings(wildcards):
    return config["tables"]


# --- resources: what a job asks a scheduler for (sbadbal/scheduling.py), doubled on each retry ----------
def run_runtime_minutes(wildcards, attempt):
    return scheduling.run_runtime_minutes(EXPERIMENTS[wildcards.experiment]) * attempt


def run_mem_mb(wildcards, input, attempt):
    prepared = Path(input.data)
    if not prepared.exists():
        # Not prepared yet (a dry run): Snakemake computes resources again once the input exists.
        return TBDString()
    return scheduling.run_memory_mb(EXPERIMENTS[wildcards.experiment], prepared.stat().st_size) * attempt


def prepare_mem_mb(wildcards, attempt):
    return scheduling.prepare_memory_mb(wildcards.dataset) * attempt


def doubling_on_retry(amount):
    """A resource that doubles on each retry: `mem_mb=doubling_on_retry(16000)`."""
    return lambda wildcards, attempt: amount * attempt
