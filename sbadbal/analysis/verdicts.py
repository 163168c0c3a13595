"""A claim's verdict from its rows' verdicts, on plain values: the claims table (sbadbal/analysis/claims.py) and the
end-of-suite summary (sbadbal/ops/summary.py, which runs in Snakemake's own process, where pandas may be absent)
decide it here, in one place."""

from __future__ import annotations

from collections.abc import Iterable

VERDICTS = ("reproduced", "not reproduced", "inconclusive", "not run")
REPORTED = "reported"  # the rule of a context row: reported beside the claim, no decision


def claim_verdict(rows: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """(verdict, counts) of one claim from its rows' (verdict, rule). Context rows (rule `reported`) do not count:
    not run if any row did not run (a claim is never decided on the rows that did), else not reproduced if any row
    is, reproduced if every row is, inconclusive otherwise; counts like '2 reproduced, 1 inconclusive'."""
    verdicts = [verdict for verdict, rule in rows if not str(rule).startswith(REPORTED)]
    if not verdicts or "not run" in verdicts:
        overall = "not run"
    elif "not reproduced" in verdicts:
        overall = "not reproduced"
    elif all(verdict == "reproduced" for verdict in verdicts):
        overall = "reproduced"
    else:
        overall = "inconclusive"
    counts = ", ".join(f"{verdicts.count(name)} {name}" for name in VERDICTS if name in verdicts)
    return overall, counts
