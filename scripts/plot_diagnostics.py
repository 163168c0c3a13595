"""The aggregated runs of one experiment -> the joint mutual information of each acquired batch against the label
count, and its redundancy (joint MI / sum of the picks' BALD), for one batch size: at the page's width (PDF, PNG,
SVG) and at a 3.3 in column (PDF, PNG)."""

from functools import partial

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("plot_diagnostics")

logger = log_to(snakemake.log[0])

from sbadbal.analysis.tables import read_runs_table  # noqa: E402
from sbadbal.analysis.plots import plot_batch_diagnostics, save_at_both_widths  # noqa: E402

figure_settings = snakemake.params.figure
batch_size = int(snakemake.wildcards.batch_size)
runs = read_runs_table(snakemake.input.runs)
save_at_both_widths(
    partial(
        plot_batch_diagnostics,
        runs[runs["batch_size"] == batch_size],
        title=figure_settings["title"],
        k=figure_settings["k"],
        bases=figure_settings["bases"],
        registered=figure_settings["looks"],
        style=snakemake.params.plots,
    ),
    snakemake.output,
    dpi=snakemake.params.plots["dpi"],
)
logger.info("wrote %s", ", ".join(snakemake.output))
