# sbadbal: every result of "Scalable Batch Acquisition for Deep Bayesian Active Learning" as a file target.
#   snakemake --cores 2                        default suite (offline, CPU)
#   snakemake --cores 8 --config suite=paper   the paper's grid
#   snakemake --report report.html             figures, tables and captions in one HTML file
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/resources.smk"
include: "rules/retrieve.smk"
include: "rules/data.smk"
include: "rules/al.smk"
include: "rules/bench.smk"
include: "rules/figures.smk"


rule all:
    default_target: True
    input:
        final_targets(),
