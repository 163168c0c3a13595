# sbadbal: every result of "Scalable Batch Acquisition for Deep Bayesian Active Learning" as a file target.
#   snakemake --cores 2                        default suite (offline, CPU)
#   snakemake --cores 8 --config suite=paper   the paper's grid
#   snakemake --report report.html             figures, tables and captions in one HTML file
from snakemake.utils import min_version

from sbadbal.ops.summary import failure_summary, success_summary

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


# The end of a suite (sbadbal/ops/summary.py): the claims' verdicts, the headline accuracies and the report's command;
# after a failure, each failed job with its log's last line and the command that recovers.
onsuccess:
    print(success_summary(final_targets(), SUITE_NAME, sys.argv), file=sys.stderr)


onerror:
    print(failure_summary(log, SUITE_NAME, sys.argv), file=sys.stderr)
