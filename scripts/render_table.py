"""A table's markdown -> the same table as a standalone HTML page, which the Snakemake report shows in the page
(it offers a CSV or markdown file only as a download)."""

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("table_page")

logger = log_to(snakemake.log[0])

from pathlib import Path  # noqa: E402

from sbadbal.analysis.html import html_page, markdown_to_html  # noqa: E402
from sbadbal.runs.writers import write_text_atomic  # noqa: E402

text = Path(snakemake.input.markdown).read_text()
write_text_atomic(html_page(snakemake.params.title, markdown_to_html(text)), snakemake.output.page)
logger.info("wrote %s", snakemake.output.page)
