"""An acquisition timing table -> log-log plots of time vs batch size and vs pool size, with the spread over repeats:
at the page's width (PDF, PNG, SVG) and at a 3.3 in column (PDF, PNG)."""

from functools import partial

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("plot_bench")

logger = log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from sbadbal.analysis.plots import plot_acquisition_timing, save_at_both_widths  # noqa: E402

figure_settings = snakemake.params.figure
timings = pd.read_csv(snakemake.input.table)
save_at_both_widths(
    partial(
        plot_acquisition_timing,
        timings,
        style=snakemake.params.plots,
        title=figure_settings["title"],
        bases=figure_settings["bases"],
        registered=figure_settings["looks"],
    ),
    snakemake.output,
    dpi=snakemake.params.plots["dpi"],
)
logger.info("wrote %s", ", ".join(snakemake.output))
