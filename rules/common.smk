# Paths, targets and input functions. config.yaml is checked, once, by the configuration model
# (sbadbal/config.py); everything imported here is torch-free, so the workflow parses without torch.
import re
import sys
from pathlib import Path

from sbadbal.codegraph import PACKAGE_ROOT, library_inputs
from sbadbal.config import ConfigError, load_config
from sbadbal.data.registry import DATASET_NAMES

try:
    CONFIG = load_config(config, source=Path((workflow.overwrite_configfiles or ["config.yaml"])[-1]).name)
    SUITE = CONFIG.selected_suite()
except ConfigError as error:
    # A user's mistake: the message alone (file, key path, fix), no traceback.
    sys.exit(f"Error: {error}")
SUITE_NAME = CONFIG.suite
EXPERIMENTS, skipped = SUITE.available_experiments()
for message in skipped:
    print(f"sbadbal: suite {SUITE_NAME!r}: {message}", file=sys.stderr)
BENCHMARKS = {key: bench for key, bench in SUITE.benchmarks.items() if bench.experiment in EXPERIMENTS}


def alternatives(names):
    # Longest first so that a regex engine never settles on a prefix ("LBB" inside "LBB-code").
    return "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)) or "(?!)"


wildcard_constraints:
    suite=re.escape(SUITE_NAME),
    dataset=alternatives(DATASET_NAMES),
    experiment=alternatives(SUITE.experiments),
    bench=alternatives(SUITE.benchmarks),
    alg=alternatives(CONFIG.algorithm_names),
    batch_size=r"\d+",
    seed=r"\d+",


# --- code inputs: the library files each rule's script imports (sbadbal/codegraph.py) -------------------
LIBRARY = Path("sbadbal") if Path("sbadbal").is_dir() else PACKAGE_ROOT


def script_sources(script):
    return library_inputs(Path(workflow.basedir) / "scripts" / script, root=LIBRARY)


def algorithm_sources(names):
    """The acquisition code of algorithms or variants: a variant's is its registry algorithm's."""
    return library_inputs(*(LIBRARY / CONFIG.algorithm_module(name) for name in names), root=LIBRARY)


def run_sources(wildcards):
    """run_al's imports plus the run's acquisition function (its module's imports): lbb.py reruns LBB runs only."""
    return script_sources("run_al.py") + algorithm_sources([wildcards.alg])


def bench_acquisition_sources(wildcards):
    return script_sources("bench_acquisition.py") + algorithm_sources(BENCHMARKS[wildcards.bench].algorithms)


# --- paths and targets ----------------------------------------------------------------------------------
RUN_CSV = "results/{suite}/runs/{experiment}/b{batch_size}/{alg}/seed{seed}.csv"


def prepared_data(dataset):
    return f"results/{SUITE_NAME}/data/{dataset}.pt"


def experiment_run_csvs(wildcards):
    return [RUN_CSV.format(suite=SUITE_NAME, experiment=wildcards.experiment, batch_size=s.batch_size, alg=s.name,
                           seed=s.seed) for s in EXPERIMENTS[wildcards.experiment].runs()]


def final_targets():
    """Every file the suite promises: tables and figures per experiment, timing tables and plots per benchmark."""
    targets = []
    for key, experiment in EXPERIMENTS.items():
        tables = ["runs.csv", "final_accuracy.csv", "final_accuracy.md", "acquisition_time.csv"]
        targets += expand("results/{suite}/tables/{experiment}/{table}", suite=SUITE_NAME, experiment=key, table=tables)
        targets += expand("results/{suite}/figures/{experiment}/accuracy_b{batch_size}.{ext}", suite=SUITE_NAME,
                          experiment=key, batch_size=experiment.batch_sizes, ext=["pdf", "png"])
    for key in BENCHMARKS:
        targets += expand("results/{suite}/bench/{bench}/{name}", suite=SUITE_NAME, bench=key,
                          name=["timings.csv", "timings.md", "timing.pdf", "timing.png"])
    return targets


# --- input functions and params: each rule sees only its own part of the configuration -------------------
def prepare_settings(wildcards):
    return SUITE.preparation(wildcards.dataset, CONFIG.data.root)


def local_source_files(wildcards):
    return SUITE.local_files(wildcards.dataset)


def run_spec(wildcards):
    """The run's full spec (settings, algorithm, parameters, display name): a change of any of it reruns it."""
    return EXPERIMENTS[wildcards.experiment].run(wildcards.alg, wildcards.batch_size, wildcards.seed).to_config()


def prepared_data_of_experiment(wildcards):
    return prepared_data(EXPERIMENTS[wildcards.experiment].dataset)


def experiment_run_keys(wildcards):
    """(batch_size, algorithm display name, seed) of each file of experiment_run_csvs, in the same order."""
    return [{"batch_size": s.batch_size, "algorithm": s.name, "seed": s.seed} for s in EXPERIMENTS[wildcards.experiment].runs()]


def bench_run(wildcards):
    return SUITE.benchmark_run(wildcards.bench).to_config()


def bench_model_settings(wildcards):
    bench = BENCHMARKS[wildcards.bench]
    return {"seed": bench.seed, "max_pool_size": max(bench.pool_sizes)}


def bench_timing_settings(wildcards):
    return BENCHMARKS[wildcards.bench].timing_settings()


def prepared_data_of_bench(wildcards):
    return prepared_data(EXPERIMENTS[BENCHMARKS[wildcards.bench].experiment].dataset)


def plot_settings(wildcards):
    return CONFIG.plots.model_dump()


def table_settings(wildcards):
    return CONFIG.tables.model_dump()
