# Retrieval apart from preparation: each raw source a suite reads is put in place under data.root by a local rule
# (it runs where Snakemake runs: on a cluster the login node, never a compute job), and preparation reads local
# files only. `snakemake --cores 1 retrieve --config suite=S` fetches what suite S needs and nothing else. The
# functions (which sources, the manifest path, the stop without `download: true`) are in common.smk.


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
    conda:
        "../envs/sbadbal.yaml"
    script:
        "../scripts/retrieve.py"
