"""The aggregated runs of one experiment -> accuracy vs labels and the paired difference to Random, for one batch size,
with the original repository's published points where the experiment declares references: at the page's width
(PDF, PNG, SVG) and at a 3.3 in column (PDF, PNG)."""

from functools import partial

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("plot_curves")

logger = log_to(snakemake.log[0])

from sbadbal.analysis.tables import read_runs_table  # noqa: E402
from sbadbal.analysis.plots import plot_accuracy_curves, save_at_both_widths  # noqa: E402
from sbadbal.analysis.references import load_references, reference_points  # noqa: E402

figure_settings = snakemake.params.figure
batch_size = int(snakemake.wildcards.batch_size)
runs = read_runs_table(snakemake.input.runs)
points = []
if snakemake.input.references:
    references = load_references(snakemake.input.references[0])
    points = reference_points([references[key] for key in figure_settings["references"]], batch_size=batch_size)
save_at_both_widths(
    partial(
        plot_accuracy_curves,
        runs[runs["batch_size"] == batch_size],
        title=figure_settings["title"],
        k=figure_settings["k"],
        bases=figure_settings["bases"],
        registered=figure_settings["looks"],
        reference_points=points,
        style=snakemake.params.plots,
    ),
    snakemake.output,
    dpi=snakemake.params.plots["dpi"],
)
logger.info("wrote %s (%d published points)", ", ".join(snakemake.output), len(points))
