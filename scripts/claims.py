"""The suite's runs tables and timing benchmark -> the claims table: each paper claim, its evidence and a verdict."""

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("claims")

logger = log_to(snakemake.log[0])

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from sbadbal.analysis.claims import BENCHMARK, claim_verdicts, claims_table, markdown_claims  # noqa: E402
from sbadbal.config.model import load_config  # noqa: E402
from sbadbal.analysis.tables import read_runs_table  # noqa: E402
from sbadbal.runs.writers import write_csv_atomic, write_text_atomic  # noqa: E402

settings = snakemake.params.claims
runs = pd.concat(
    [read_runs_table(path).assign(experiment=key)
     for key, path in zip(settings["experiments"], snakemake.input.runs)],
    ignore_index=True,
) if snakemake.input.runs else None
timings = pd.read_csv(snakemake.input.timings[0]) if snakemake.input.timings else None

# What the claims rest on by the suite's configuration, so that an experiment or the benchmark skipped on this
# machine shows as "not run" with its reason instead of leaving its claims to the rest.
suite = load_config(snakemake.config).selected_suite()
declared = suite.claims.experiments if suite.claims.experiments is not None else list(suite.experiments)
reasons = {}
for key in declared:
    if key not in settings["experiments"]:
        missing = [path for path in suite.local_files(suite.experiments[key].dataset) if not Path(path).exists()]
        reasons[key] = f"experiment {key} was skipped on this machine" + (
            f" ({', '.join(missing)} does not exist)" if missing else "")
benchmark = suite.claims.benchmark if suite.claims.benchmark is not None else next(iter(suite.benchmarks), None)
if benchmark is None:
    reasons[BENCHMARK] = "the suite has no timing benchmark"
elif settings["benchmark"] is None:
    reasons[BENCHMARK] = f"benchmark {benchmark} was skipped on this machine (its experiment's data is missing)"

table = claims_table(runs, timings, settings["parameters"], experiments=declared, reasons=reasons)
write_csv_atomic(table, snakemake.output.table)
write_text_atomic(markdown_claims(table, settings["parameters"]), snakemake.output.markdown)
for row in claim_verdicts(table).itertuples(index=False):
    logger.info("%s: %s (%s)", row.claim, row.verdict, row.rows)
