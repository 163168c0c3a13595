# Retrieval apart from preparation: each raw source a suite reads is put in place under data.root by a local rule
# (it runs where Snakemake runs: on a cluster the login node, never a compute job), and preparation reads local
# files only. `snakemake --cores 1 retrieve --config suite=S` fetches what suite S needs and nothing else.
from sbadbal.data.layouts import RAW_LAYOUTS, raw_source, retrieve_command
from sbadbal.data.records import SPECS as DATASET_SPECS

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


localrules:
    retrieve,
    retrieve_raw,


rule retrieve:
    input:
        [raw_manifest(raw) for raw in RAW_SOURCES],


rule retrieve_raw:
    output:
        RAW_MANIFEST,
    log:
        "logs/{suite}/retrieve_raw/{raw}.log",
    wildcard_constraints:
        raw=alternatives(RAW_LAYOUTS),
    script:
        "../scripts/retrieve.py"
