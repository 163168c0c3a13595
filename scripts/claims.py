"""The suite's runs tables and timing benchmark -> the claims table: each paper claim, its evidence and a verdict."""

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("claims")

logger = log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from sbadbal.analysis.claims import BENCHMARK, claim_verdicts, claims_table, markdown_claims  # noqa: E402
from sbadbal.analysis.tables import StaleTableError, read_runs_table, require_newer_than_sources  # noqa: E402
from sbadbal.runs.writers import write_csv_atomic, write_text_atomic  # noqa: E402

settings = snakemake.params.claims
try:
    # Each experiment's runs table against its own run files (results/<suite>/runs/<experiment>/...).
    require_newer_than_sources({table: [source for source in snakemake.input.sources if f"/runs/{key}/" in source]
                                for key, table in zip(settings["experiments"], snakemake.input.runs)})
except StaleTableError as error:
    raise SystemExit(f"Error: {error}") from None
runs = pd.concat(
    [read_runs_table(path).assign(experiment=key)
     for key, path in zip(settings["experiments"], snakemake.input.runs)],
    ignore_index=True,
) if snakemake.input.runs else None
timings = pd.read_csv(snakemake.input.timings[0]) if snakemake.input.timings else None

# What the claims rest on by the suite's configuration (the rule's parameter), so that an experiment or the benchmark
# skipped on this machine shows as "not run" with its reason instead of leaving its claims to the rest.
not_run = settings["not_run"]
reasons = {**not_run["experiments"], **({BENCHMARK: not_run["benchmark"]} if not_run["benchmark"] else {})}

table = claims_table(runs, timings, settings["parameters"], experiments=settings["declared"], reasons=reasons)
write_csv_atomic(table, snakemake.output.table)
write_text_atomic(markdown_claims(table, settings["parameters"]), snakemake.output.markdown)
for row in claim_verdicts(table).itertuples(index=False):
    logger.info("%s: %s (%s)", row.claim, row.verdict, row.rows)
