"""One experiment's runs (and its timing benchmark) next to the numbers the original repository published."""

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("compare_references")

logger = log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from sbadbal.analysis.references import (  # noqa: E402
    load_references,
    markdown_reference_comparison,
    reference_comparison,
    timing_reference_comparison,
)
from sbadbal.analysis.tables import read_runs_table  # noqa: E402
from sbadbal.runs.writers import write_csv_atomic, write_text_atomic  # noqa: E402

references = load_references(snakemake.input.references[0])
entries = [references[key] for key in snakemake.params.references]
# An experiment's comparison reads its runs; a benchmark's has only its timing table.
runs = read_runs_table(snakemake.input.runs[0]) if snakemake.input.runs else None
timings = pd.read_csv(snakemake.input.timings[0]) if snakemake.input.timings else None
accuracy = reference_comparison(runs, entries)
timing = timing_reference_comparison(entries, timings, runs)
table = pd.concat([accuracy.assign(kind="accuracy"), timing.assign(kind="timing ratio")], ignore_index=True)
write_csv_atomic(table, snakemake.output.table)
write_text_atomic(markdown_reference_comparison(accuracy, timing if len(timing) else None), snakemake.output.markdown)
logger.info("%d accuracy and %d timing comparisons with %s", len(accuracy), len(timing), ", ".join(snakemake.params.references))
