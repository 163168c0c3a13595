"""The aggregated runs of one experiment -> accuracy vs labels for one batch size (PDF and PNG)."""

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("plot_curves")

logger = log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from sbadbal.plots import plot_accuracy_curves, save_figure  # noqa: E402

runs = pd.read_csv(snakemake.input.runs)
batch_size = int(snakemake.wildcards.batch_size)
figure = plot_accuracy_curves(
    runs[runs["batch_size"] == batch_size],
    title=f"{snakemake.wildcards.experiment}, batch {batch_size}",
    style=snakemake.params.plots,
)
save_figure(figure, snakemake.output.pdf, snakemake.output.png, dpi=snakemake.params.plots["dpi"])
logger.info("wrote %s and %s", snakemake.output.pdf, snakemake.output.png)
