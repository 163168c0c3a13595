# Paths, targets and input functions. config.yaml is checked, once, by the configuration model (sbadbal/config/);
# everything imported here is torch-free, so the workflow parses without torch.
import os
import re
import sys
from pathlib import Path
from types import SimpleNamespace

from sbadbal.acquisition.records import looks
from sbadbal.config import REFERENCE_PATH, ConfigError, check_config_files, load_config
from sbadbal.data.layouts import RAW_LAYOUTS, raw_source, retrieve_command
from sbadbal.data.records import DATASET_NAMES, SPECS as DATASET_SPECS, preparation_record
from sbadbal.ops.codegraph import PACKAGE_ROOT, acquisition_code, code_inputs, run_code_inputs
from sbadbal.ops.shown import shown_params  # short job parameters in the report; nothing reruns

try:
    CONFIG_FILE = Path((workflow.overwrite_configfiles or ["config.yaml"])[-1])
    # The files as written (Snakemake's loader keeps the last of a key written twice): config.yaml, --configfile.
    check_config_files(workflow.configfiles)
    # Plug-in acquisition modules (`module:function`) lie beside the config file.
    CONFIG = load_config(config, source=CONFIG_FILE.name, base=CONFIG_FILE.parent)
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


# --- code inputs: the library files a job runs (sbadbal/ops/codegraph.py) -------------------------------------
# A job's code is what its script imports plus the modules its records name (a run's acquisition function and
# architecture, a dataset's source); records reach jobs as params, so a new record reruns nothing that existed.
LIBRARY = Path("sbadbal") if Path("sbadbal").is_dir() else PACKAGE_ROOT
SCRIPTS = Path(workflow.basedir) / "scripts"


def script_code(script, *modules):
    return [str(path) for path in code_inputs(SCRIPTS / script, *modules, root=LIBRARY)]


def run_code(wildcards):
    """run_al's imports, the run's acquisition module and its architecture module: lbb.py reruns LBB runs only."""
    return [str(path) for path in run_code_inputs(experiment_run(wildcards), entry=SCRIPTS / "run_al.py", root=LIBRARY)]


def initial_round_code(wildcards):
    """initial_round's imports and the experiment's architecture module (no acquisition code: round 0 acquires
    nothing, so an edit of an acquisition function never remakes it)."""
    return script_code("initial_round.py", round_zero_of(wildcards).architecture["module"])


def prepare_code(wildcards):
    """prepare_data's imports and the dataset's source module: editing idx.py re-prepares the IDX datasets only."""
    return script_code("prepare_data.py", preparation_record(wildcards.dataset)["source"]["module"])


def bench_log_probs_code(wildcards):
    return script_code("bench_log_probs.py", SUITE.benchmark_run(wildcards.bench).architecture["module"])


def bench_acquisition_code(wildcards):
    """bench_acquisition's imports and the modules of the timed functions (a plug-in's file for a plug-in)."""
    code = [
        acquisition_code(record) for record in BENCHMARKS[wildcards.bench].timing_settings()["acquisition"].values()
    ]
    modules = sorted({module for found, _ in code for module in found})
    plugins = sorted({plugin for _, found in code for plugin in found})
    return [
        str(path) for path in code_inputs(SCRIPTS / "bench_acquisition.py", *modules, root=LIBRARY, plugins=plugins)
    ]


# --- paths and targets ----------------------------------------------------------------------------------
RUN_CSV = "results/{suite}/runs/{experiment}/b{batch_size}/{alg}/seed{seed}.csv"
ROUND_ZERO = "results/{suite}/initial/{experiment}/seed{seed}.pt"


def prepared_data(dataset):
    return f"results/{SUITE_NAME}/data/{dataset}.pt"


def experiment_run_csvs(wildcards):
    return [
        RUN_CSV.format(
            suite=SUITE_NAME, experiment=wildcards.experiment, batch_size=s.batch_size, alg=s.name, seed=s.seed
        )
        for s in EXPERIMENTS[wildcards.experiment].runs()
    ]


def experiment_run_sidecars(wildcards):
    """The sidecar of each file of experiment_run_csvs, in the same order (beside it, .json for .csv)."""
    return [str(Path(path).with_suffix(".json")) for path in experiment_run_csvs(wildcards)]


def final_targets():
    """Every file the suite promises. Run files and prepared data are targets too, so that a rerun remakes one that
    was deleted (an existing table alone would otherwise answer "Nothing to be done")."""
    targets = [prepared_data(dataset) for dataset in sorted({e.dataset for e in EXPERIMENTS.values()})]
    for key, experiment in EXPERIMENTS.items():
        targets += experiment_run_csvs(SimpleNamespace(experiment=key))
        targets += experiment_run_sidecars(SimpleNamespace(experiment=key))
        # Each table as CSV, markdown and the HTML page the report shows (runs.csv: CSV only).
        tables = ["runs.csv"]
        for table in ["final_accuracy", "acquisition_time", "batch_diagnostics"] + (
            ["reference_comparison"] if experiment.references else []
        ):
            tables += [f"{table}.csv", f"{table}.md", f"{table}.html"]
        targets += expand("results/{suite}/tables/{experiment}/{table}", suite=SUITE_NAME, experiment=key, table=tables)
        # Every figure at the page's width (pdf, png, svg) and at a 3.3 in column (pdf, png).
        for name in ["accuracy", "accuracy_time", "diagnostics"]:
            targets += expand(
                f"results/{SUITE_NAME}/figures/{key}/{name}_b{{batch_size}}.{{ext}}",
                batch_size=experiment.batch_sizes,
                ext=["pdf", "png", "svg"],
            )
            targets += expand(
                f"results/{SUITE_NAME}/figures/{key}/{name}_b{{batch_size}}_column.{{ext}}",
                batch_size=experiment.batch_sizes,
                ext=["pdf", "png"],
            )
    for key, bench in BENCHMARKS.items():
        names = ["timings.csv", "timings.md", "timings.html", "timing.pdf", "timing.png", "timing.svg"]
        names += ["timing_column.pdf", "timing_column.png"]
        names += (
            ["reference_comparison.csv", "reference_comparison.md", "reference_comparison.html"]
            if bench.references
            else []
        )
        targets += expand("results/{suite}/bench/{bench}/{name}", suite=SUITE_NAME, bench=key, name=names)
    targets += expand("results/{suite}/tables/claims.{ext}", suite=SUITE_NAME, ext=["csv", "md", "html"])
    return targets


# --- input functions and params: each rule sees only its own part of the configuration -------------------
@shown_params
def prepare_settings(wildcards):
    """The dataset's preparation settings, without data.root: where the raw files lie is no part of what is
    prepared (the prepared file carries its content's checksum), so pointing data.root at another folder reruns
    nothing. The job reads the folder from the workflow's config, set just below."""
    return SUITE.preparation(wildcards.dataset)


# data.root, resolved by the configuration model (its default when config.yaml leaves it out), for
# prepare_data's job to read from `snakemake.config` rather than from its params.
config.setdefault("data", {})
config["data"]["root"] = CONFIG.data.root


@shown_params
def dataset_record(wildcards):
    """The dataset's spec and its source's module and options (sbadbal/data/records.py)."""
    return preparation_record(wildcards.dataset)


def local_source_files(wildcards):
    return SUITE.local_files(wildcards.dataset)


def experiment_run(wildcards):
    return EXPERIMENTS[wildcards.experiment].run(wildcards.alg, wildcards.batch_size, wildcards.seed)


@shown_params
def run_spec(wildcards):
    """The run's full spec (settings, algorithm and model records, parameters, display name): a change of any of
    it reruns it."""
    return experiment_run(wildcards).to_config()


def round_zero_of(wildcards):
    """Round 0 of the seed: any run of it without its algorithm and batch size (RunSpec.round_zero)."""
    experiment = EXPERIMENTS[wildcards.experiment]
    return experiment.run(experiment.algorithm_names[0], experiment.batch_sizes[0], wildcards.seed).round_zero()


@shown_params
def round_zero_spec(wildcards):
    return round_zero_of(wildcards).to_config()


def prepared_data_of_experiment(wildcards):
    return prepared_data(EXPERIMENTS[wildcards.experiment].dataset)


@shown_params
def experiment_run_keys(wildcards):
    """(batch_size, algorithm display name, seed) of each file of experiment_run_csvs, in the same order."""
    return [
        {"batch_size": s.batch_size, "algorithm": s.name, "seed": s.seed}
        for s in EXPERIMENTS[wildcards.experiment].runs()
    ]


@shown_params
def bench_run(wildcards):
    return SUITE.benchmark_run(wildcards.bench).to_config()


@shown_params
def bench_model_settings(wildcards):
    bench = BENCHMARKS[wildcards.bench]
    return {"seed": bench.seed, "max_pool_size": max(bench.pool_sizes)}


@shown_params
def bench_timing_settings(wildcards):
    return BENCHMARKS[wildcards.bench].timing_settings()


def prepared_data_of_bench(wildcards):
    return prepared_data(EXPERIMENTS[BENCHMARKS[wildcards.bench].experiment].dataset)


@shown_params
def plot_settings(wildcards):
    return CONFIG.plots.model_dump()


@shown_params
def table_settings(wildcards):
    return CONFIG.tables.model_dump()


@shown_params
def aggregate_expectations(wildcards):
    """What every run file of the experiment must show: its first row at initial_size, its last at the budget."""
    experiment = EXPERIMENTS[wildcards.experiment]
    return {"initial_size": experiment.initial_size, "budget": experiment.budget}


@shown_params
def experiment_figure(wildcards):
    """Title, caption facts and styles of an experiment's figures; the published points it is compared with."""
    experiment = EXPERIMENTS[wildcards.experiment]
    k = experiment.uncertainty.k_acquisition if experiment.uncertainty.method == "mc_dropout" else None
    bases = {n: experiment.choice(n).algorithm for n in experiment.algorithm_names}
    # The figure's title is the experiment's name; its description goes into the report's caption.
    return {
        "title": wildcards.experiment,
        "description": experiment.description,
        "k": k,
        "bases": bases,
        "looks": looks(bases.values()),
        "references": list(experiment.references),
    }


@shown_params
def bench_figure(wildcards):
    bench = BENCHMARKS[wildcards.bench]
    bases = bench.timing_settings()["bases"]
    return {
        "title": wildcards.bench,
        "description": bench.description,
        "bases": bases,
        "looks": looks(bases.values()),
    }


def reference_file(references):
    """The published-numbers file as an input when references are named (an edit of it redoes the comparisons)."""
    # Relative to the working folder, so that moving a finished workflow folder reruns no comparison.
    return [os.path.relpath(Path(workflow.basedir) / REFERENCE_PATH)] if references else []


def experiment_references_file(wildcards):
    return reference_file(EXPERIMENTS[wildcards.experiment].references)


def bench_references_file(wildcards):
    return reference_file(BENCHMARKS[wildcards.bench].references)


@shown_params
def experiment_references(wildcards):
    return list(EXPERIMENTS[wildcards.experiment].references)


@shown_params
def bench_references(wildcards):
    return list(BENCHMARKS[wildcards.bench].references)


def bench_of_experiment_timings(wildcards):
    """The timing table of a benchmark of this experiment, for the comparison's timing ratios (none: runs only)."""
    keys = [key for key, bench in BENCHMARKS.items() if bench.experiment == wildcards.experiment]
    return [f"results/{SUITE_NAME}/bench/{keys[0]}/timings.csv"] if keys else []


CLAIMS_EXPERIMENTS = SUITE.claims_experiments(EXPERIMENTS)
CLAIMS_BENCHMARK = SUITE.claims_benchmark(BENCHMARKS)


def claims_run_csvs(wildcards):
    return [path for key in CLAIMS_EXPERIMENTS for path in experiment_run_csvs(SimpleNamespace(experiment=key))]


@shown_params
def claims_settings(wildcards):
    """The runs tables and benchmark the claims read, the experiments they rest on, why any of those does not run
    here, and the decision rules."""
    return {
        "experiments": CLAIMS_EXPERIMENTS,
        "benchmark": CLAIMS_BENCHMARK,
        "declared": SUITE.claims_declared(),
        "not_run": SUITE.claims_not_run(EXPERIMENTS, BENCHMARKS),
        "parameters": CONFIG.claims.model_dump(),
    }


# --- retrieval (rules/retrieve.smk): which raw sources the suite reads, and preparation's order after them ------
RAW_MANIFEST = "results/{suite}/data/raw/{raw}.json"


def raw_source_of(dataset):
    """The raw source (sbadbal/data/layouts.py) that dataset reads under data.root, or None."""
    return raw_source(DATASET_SPECS[dataset].base, SUITE.dataset_settings(dataset).options)


RAW_SOURCES = sorted({raw_source_of(e.dataset) for e in EXPERIMENTS.values()} - {None})


def raw_manifest(raw):
    return RAW_MANIFEST.format(suite=SUITE_NAME, raw=raw)


def retrieved_raw(wildcards):
    """prepare_data's raw input: the manifest of its source's retrieval (ancient: only its presence orders the
    jobs, and its path, unlike the files', does not move with data.root, so a new data.root reruns nothing).

    Evaluated when the DAG is built, before any job, and only for a preparation that will be planned (not for the
    `retrieve` target): a suite without `download: true` whose files are missing stops here with one line."""
    raw = raw_source_of(wildcards.dataset)
    if raw is None:
        return []
    manifest = raw_manifest(raw)
    layout = RAW_LAYOUTS[raw]
    root = Path(CONFIG.data.root)
    if workflow.is_main_process and not SUITE.download and not Path(manifest).exists() and layout.find(root) is None:
        sys.exit(
            f"Error: {CONFIG_FILE.name}: suites.{SUITE_NAME}.download: the suite does not download and "
            f"{wildcards.dataset}'s raw files {layout.describe_files()} are in none of "
            f"{', '.join(str(d) for d in layout.search_dirs(root))} (README: Data already on disk); fetch them once "
            f"on a machine with internet (a cluster's login node): {retrieve_command(SUITE_NAME)}"
        )
    return [ancient(manifest)]


# --- tables as pages: the report shows an HTML file in the page and offers a CSV or markdown only as a download --
# table -> (report category, label); the CSV beside each page stays in the report as its download.
TABLE_PAGES = {
    "final_accuracy": ("2. Accuracy", "final accuracy"),
    "batch_diagnostics": ("3. Batch diagnostics", "batch quality"),
    "acquisition_time": ("4. Acquisition time", "first acquisition time"),
    "reference_comparison": ("1. Claims", "against the original repository"),
    "timings": ("4. Acquisition time", "timings"),
}


def table_page_category(wildcards):
    return TABLE_PAGES[wildcards.table][0]


def table_page_labels(wildcards):
    where = {"experiment": wildcards.experiment} if "experiment" in wildcards.keys() else {"benchmark": wildcards.bench}
    return {**where, "table": TABLE_PAGES[wildcards.table][1]}


def table_page_title(wildcards):
    where = wildcards.experiment if "experiment" in wildcards.keys() else wildcards.bench
    return f"{where}: {TABLE_PAGES[wildcards.table][1]}"
