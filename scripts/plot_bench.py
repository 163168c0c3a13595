"""An acquisition timing table -> log-log plots of time vs batch size and vs pool size (PDF and PNG)."""

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("plot_bench")

logger = log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from sbadbal.plots import plot_acquisition_timing, save_figure  # noqa: E402

figure = plot_acquisition_timing(pd.read_csv(snakemake.input.table), style=snakemake.params.plots)
save_figure(figure, snakemake.output.pdf, snakemake.output.png, dpi=snakemake.params.plots["dpi"])
logger.info("wrote %s and %s", snakemake.output.pdf, snakemake.output.png)
