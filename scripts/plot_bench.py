"""An acquisition timing table -> log-log plots of time vs batch size and vs pool size (PDF, PNG, SVG)."""

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("plot_bench")

logger = log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from sbadbal.analysis.plots import plot_acquisition_timing, save_figure  # noqa: E402

figure_settings = snakemake.params.figure
figure = plot_acquisition_timing(pd.read_csv(snakemake.input.table), style=snakemake.params.plots,
                                 title=figure_settings["title"], bases=figure_settings["bases"],
                                 registered=figure_settings["looks"])
outputs = (snakemake.output.pdf, snakemake.output.png, snakemake.output.svg)
save_figure(figure, *outputs, dpi=snakemake.params.plots["dpi"])
logger.info("wrote %s", ", ".join(outputs))
