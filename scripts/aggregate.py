"""All runs of one experiment -> one tidy table, a final-accuracy table, a first-acquisition time table and a
batch-quality table. Every run file is checked against the run schema first (sbadbal/runs/checks.py)."""

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("aggregate")

logger = log_to(snakemake.log[0])

from sbadbal.analysis.tables import (  # noqa: E402
    batch_diagnostics_table,
    final_accuracy_table,
    first_acquisition_time_table,
    markdown_accuracy_table,
    markdown_acquisition_time_table,
    markdown_diagnostics_table,
    read_runs,
)
from sbadbal.runs.writers import write_csv_atomic, write_text_atomic  # noqa: E402

expected = snakemake.params.expected
# Each run file is read only when its sidecar vouches for it: this very run (by the path's wildcards) and the CSV's
# checksum (sbadbal/runs/sidecar.py); a run written by another process or edited by hand is refused, with its
# remake command.
runs = read_runs(snakemake.input.runs, snakemake.params.run_keys, budget=expected["budget"],
                 initial_size=expected["initial_size"], sidecars=snakemake.input.sidecars,
                 run={"suite": snakemake.wildcards.suite, "experiment": snakemake.wildcards.experiment})
final = final_accuracy_table(runs, snakemake.params.tables["label_fractions"])
diagnostics = batch_diagnostics_table(runs)
write_csv_atomic(runs, snakemake.output.table)
write_csv_atomic(final, snakemake.output.final)
write_text_atomic(markdown_accuracy_table(final), snakemake.output.final_md)
timing = first_acquisition_time_table(runs)
write_csv_atomic(timing, snakemake.output.timing)
write_text_atomic(markdown_acquisition_time_table(timing), snakemake.output.timing_md)
write_csv_atomic(diagnostics, snakemake.output.diagnostics)
write_text_atomic(markdown_diagnostics_table(diagnostics), snakemake.output.diagnostics_md)
logger.info("%d runs, %d rows aggregated", len(snakemake.input.runs), len(runs))
