"""The paper's three claims as data, each decided by a pre-declared rule from paired differences and timing ratios.

Claims (Rubashevskii, Kotova, Panov, SDM 2023):
  (i)   LBB is much faster than BatchBALD;
  (ii)  LBB and PLBB are as accurate as or better than BatchBALD and BALD;
  (iii) the power variants are strong: PLBB vs LBB, PowerBALD vs BALD, PLBB vs BatchBALD (at least as accurate) and
        PLBB, PowerBALD vs Random (more accurate).

Accuracy statistics pair runs by seed (same seed, same initial set and test split): d_s = acc_A(s) - acc_B(s) at the
budget (each run's last round), in accuracy points. Estimate mean(d), standard error sd(d) / sqrt(n), and the
t-based interval mean(d) +- t_{n-1, (1+confidence)/2} * se. The secondary columns (aulc_*) do the same for the mean
accuracy over the rounds both runs record (the area under the learning curve divided by its length).

Timing statistics are ratios of seconds, with intervals on the log scale (ratios of times are multiplicative):
  - from the runs table, the first acquisition (the largest pool, as the original time notebook) paired by seed:
    r_s = t_A(s) / t_B(s), interval exp(mean(log r) +- t * se(log r));
  - from the timing benchmark, at its largest pool size and largest batch size, the ratio of medians, with a Welch
    interval on log seconds over the repeats (needs the per-call repeat_seconds column; without it no interval).

Decision rules, one kind per statistic, with parameters from DEFAULT_PARAMETERS (a config may override them; never
choose them after seeing results):
  difference_above(threshold):  reproduced     if ci_low  > threshold,
                                not reproduced if ci_high < threshold,
                                inconclusive   otherwise (the interval straddles, or n < 2 so there is none);
  ratio_above(threshold):       the same on the ratio's interval.
  Non-inferiority ("as accurate as") is difference_above(-accuracy_margin); superiority is difference_above(0).
Verdict `not run` when an algorithm (or the benchmark) is missing; rows with rule `reported` carry context (the
LBB/BALD cost) and no decision.

Default parameters and why:
  confidence 0.95;
  accuracy_margin 1.0 accuracy point: "as accurate as" means no worse by more than the precision to which the
    original repository's accuracy figures can be read (+-1 point by eye);
  min_speedup 10: "much faster" read as at least an order of magnitude (the original notebook measured about 22x at
    MNIST's full pool, b = 20, K = 100);
  min_gain_over_random 0.0 points: "strong" against Random means more accurate than Random, by any margin.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

VERDICTS = ("reproduced", "not reproduced", "inconclusive", "not run")
REPORTED = "reported"

DEFAULT_PARAMETERS: Mapping[str, float] = {
    "confidence": 0.95,
    "accuracy_margin": 1.0,
    "min_speedup": 10.0,
    "min_gain_over_random": 0.0,
}

CLAIMS_COLUMNS = (
    "claim", "experiment", "batch_size", "comparison", "statistic", "estimate", "se", "ci_low", "ci_high", "n",
    "aulc_estimate", "aulc_se", "aulc_ci_low", "aulc_ci_high", "rule", "verdict",
)


# --- interval estimates --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Interval:
    """A point estimate with its standard error, confidence interval and number of units (seeds or repeats)."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int


MISSING = Interval(math.nan, math.nan, math.nan, math.nan, 0)


def t_interval(values: Any, confidence: float) -> Interval:
    """Mean, standard error sd / sqrt(n) (ddof 1) and mean +- t_{n-1} se; with n = 1 the se and interval are NaN."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n == 0:
        return MISSING
    mean = float(values.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, math.nan, n)
    se = float(values.std(ddof=1) / math.sqrt(n))
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * se
    return Interval(mean, se, mean - half, mean + half, n)


def exp_interval(log_interval: Interval) -> Interval:
    """A log-scale interval mapped back to ratios; se stays on the log scale (the relative standard error)."""
    return Interval(math.exp(log_interval.estimate) if log_interval.n else math.nan, log_interval.se,
                    math.exp(log_interval.ci_low), math.exp(log_interval.ci_high), log_interval.n)


def welch_log_ratio(seconds_a: Any, seconds_b: Any, confidence: float) -> Interval:
    """Ratio of geometric means of two independent samples of times, Welch interval on log seconds."""
    log_a, log_b = np.log(np.asarray(seconds_a, dtype=float)), np.log(np.asarray(seconds_b, dtype=float))
    n = min(len(log_a), len(log_b))
    if n == 0:
        return MISSING
    estimate = float(log_a.mean() - log_b.mean())
    if n < 2:
        return exp_interval(Interval(estimate, math.nan, math.nan, math.nan, n))
    var_a, var_b = log_a.var(ddof=1) / len(log_a), log_b.var(ddof=1) / len(log_b)
    se = math.sqrt(var_a + var_b)
    if se == 0:
        return exp_interval(Interval(estimate, 0.0, estimate, estimate, n))
    dof = (var_a + var_b) ** 2 / (var_a**2 / (len(log_a) - 1) + var_b**2 / (len(log_b) - 1))
    half = float(stats.t.ppf((1 + confidence) / 2, dof)) * se
    return exp_interval(Interval(estimate, se, estimate - half, estimate + half, n))


# --- paired accuracy differences ------------------------------------------------------------------------------

def _final_rows(runs: pd.DataFrame) -> pd.DataFrame:
    """Each run's last round (its accuracy at the budget), indexed by seed."""
    return runs.sort_values("round").groupby("seed", sort=True).tail(1).set_index("seed")


def paired_seed_differences(
    runs: pd.DataFrame, algorithm: str, baseline: str, metric: str = "test_accuracy"
) -> pd.DataFrame:
    """Per seed both algorithms ran: the difference at the budget and of the mean over the common label counts.

    `runs`: one experiment and batch size. Columns: seed, at_budget, mean_over_rounds (algorithm minus baseline).
    """
    a, b = runs[runs["algorithm"] == algorithm], runs[runs["algorithm"] == baseline]
    final_a, final_b = _final_rows(a), _final_rows(b)
    seeds = sorted(set(final_a.index) & set(final_b.index))
    rows = []
    for seed in seeds:
        curve_a = a[a["seed"] == seed].set_index("labelled")[metric]
        curve_b = b[b["seed"] == seed].set_index("labelled")[metric]
        common = curve_a.index.intersection(curve_b.index)
        rows.append({
            "seed": seed,
            "at_budget": float(final_a.loc[seed, metric] - final_b.loc[seed, metric]),
            "mean_over_rounds": float(curve_a[common].mean() - curve_b[common].mean()) if len(common) else math.nan,
        })
    return pd.DataFrame(rows, columns=["seed", "at_budget", "mean_over_rounds"])


def paired_accuracy_difference(
    runs: pd.DataFrame, algorithm: str, baseline: str, confidence: float = 0.95
) -> tuple[Interval, Interval]:
    """(difference at the budget, difference of the mean over rounds), each a t-interval over paired seeds."""
    differences = paired_seed_differences(runs, algorithm, baseline)
    return (t_interval(differences["at_budget"], confidence),
            t_interval(differences["mean_over_rounds"].dropna(), confidence))


# --- timing ratios --------------------------------------------------------------------------------------------

def first_acquisition_ratio(runs: pd.DataFrame, numerator: str, denominator: str, confidence: float = 0.95) -> Interval:
    """t_numerator / t_denominator of the first acquisition (largest pool), paired by seed, log-scale t-interval."""
    timed = runs.dropna(subset=["acquisition_seconds"]).sort_values("round")
    first = timed.groupby(["algorithm", "seed"], sort=False).head(1).set_index(["algorithm", "seed"])["acquisition_seconds"]
    if numerator not in first.index.get_level_values(0) or denominator not in first.index.get_level_values(0):
        return MISSING
    paired = pd.concat([first.loc[numerator], first.loc[denominator]], axis=1, join="inner").to_numpy()
    paired = paired[(paired > 0).all(axis=1)]
    return exp_interval(t_interval(np.log(paired[:, 0] / paired[:, 1]), confidence))


def _repeat_seconds(row: pd.Series) -> list[float]:
    """Per-call seconds of a benchmark row (repeat_seconds: space-separated), or [] when the table lacks them."""
    cell = row.get("repeat_seconds")
    if isinstance(cell, (int, float)) and math.isfinite(cell):
        return [float(cell)]  # one repeat reads back from CSV as a number
    if not isinstance(cell, str) or not cell.strip():
        return []
    return [float(value) for value in cell.replace(",", " ").strip("[] ").split()]


def bench_case(timings: pd.DataFrame, algorithms: tuple[str, ...]) -> tuple[int, int] | None:
    """The largest pool size, then the largest batch size at it, that every one of `algorithms` was timed at."""
    if timings is None or timings.empty:
        return None
    timed = timings[timings["algorithm"].isin(algorithms)]
    cases = timed.groupby(["N", "batch_size"])["algorithm"].nunique()
    complete = cases[cases == len(set(algorithms))]
    if complete.empty:
        return None
    return max(complete.index)


def bench_ratio(
    timings: pd.DataFrame | None, numerator: str, denominator: str, confidence: float = 0.95
) -> tuple[Interval, tuple[int, int] | None]:
    """Ratio of median seconds at bench_case; Welch log-interval over the repeats when repeat_seconds is present."""
    case = bench_case(timings, (numerator, denominator))
    if case is None:
        return MISSING, None
    at = timings[(timings["N"] == case[0]) & (timings["batch_size"] == case[1])].set_index("algorithm")
    row_a, row_b = at.loc[numerator], at.loc[denominator]
    repeats_a, repeats_b = _repeat_seconds(row_a), _repeat_seconds(row_b)
    if repeats_a and repeats_b and min(repeats_a + repeats_b) > 0:
        interval = welch_log_ratio(repeats_a, repeats_b, confidence)
        # The point estimate is the ratio of medians, as the timing table reports; the interval is on the means.
        estimate = float(row_a["median_seconds"] / row_b["median_seconds"])
        return Interval(estimate, interval.se, interval.ci_low, interval.ci_high, interval.n), case
    if row_b["median_seconds"] <= 0:
        return MISSING, case
    n = int(min(row_a.get("repeats", 1), row_b.get("repeats", 1)))
    return Interval(float(row_a["median_seconds"] / row_b["median_seconds"]), math.nan, math.nan, math.nan, n), case


# --- claims as records ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """A decision rule: `kind` with its threshold taken from a named parameter (times `sign`)."""

    kind: str  # "difference_above", "ratio_above", or REPORTED (no decision)
    parameter: str | None = None
    sign: float = 1.0

    def threshold(self, parameters: Mapping[str, float]) -> float:
        return self.sign * float(parameters[self.parameter]) if self.parameter else math.nan

    def describe(self, parameters: Mapping[str, float]) -> str:
        if self.kind == REPORTED:
            return "reported, no decision"
        unit = " points" if self.kind == "difference_above" else "x"
        level = f"{100 * parameters['confidence']:g}% CI"
        return f"{level} above {self.threshold(parameters):g}{unit} ({self.parameter} = {parameters[self.parameter]:g})"


NON_INFERIOR = Rule("difference_above", "accuracy_margin", -1.0)
BETTER_THAN_RANDOM = Rule("difference_above", "min_gain_over_random", 1.0)
MUCH_FASTER = Rule("ratio_above", "min_speedup", 1.0)
CONTEXT = Rule(REPORTED)


@dataclass(frozen=True)
class Comparison:
    """`algorithm` against `baseline` on one statistic: accuracy (A - B, points) or speed (t_B / t_A from `source`)."""

    algorithm: str
    baseline: str
    statistic: str  # "accuracy_at_budget", "speedup_first_acquisition", "speedup_benchmark"
    rule: Rule


@dataclass(frozen=True)
class Claim:
    key: str
    statement: str
    comparisons: tuple[Comparison, ...]


def _speed(algorithm: str, baseline: str, rule: Rule) -> tuple[Comparison, ...]:
    return (Comparison(algorithm, baseline, "speedup_benchmark", rule),
            Comparison(algorithm, baseline, "speedup_first_acquisition", rule))


def paper_claims(lbb: str = "LBB", plbb: str = "PLBB") -> tuple[Claim, ...]:
    """The three claims with the names of the LBB and PLBB under test (paper_claims("LBB-code", "PLBB-code") asks
    them of the original code's methods)."""
    return (
        Claim("(i)", f"{lbb} is much faster than BatchBALD",
              _speed(lbb, "BatchBALD", MUCH_FASTER) + _speed("BALD", lbb, CONTEXT)),
        Claim("(ii)", f"{lbb} and {plbb} are as accurate as or better than BatchBALD and BALD", tuple(
            Comparison(algorithm, baseline, "accuracy_at_budget", NON_INFERIOR)
            for algorithm in (lbb, plbb) for baseline in ("BatchBALD", "BALD"))),
        Claim("(iii)", "The power variants are strong", (
            Comparison(plbb, lbb, "accuracy_at_budget", NON_INFERIOR),
            Comparison("PowerBALD", "BALD", "accuracy_at_budget", NON_INFERIOR),
            Comparison(plbb, "BatchBALD", "accuracy_at_budget", NON_INFERIOR),
            Comparison(plbb, "Random", "accuracy_at_budget", BETTER_THAN_RANDOM),
            Comparison("PowerBALD", "Random", "accuracy_at_budget", BETTER_THAN_RANDOM),
        )),
    )


CLAIMS: tuple[Claim, ...] = paper_claims()


def decide(rule: Rule, interval: Interval, parameters: Mapping[str, float]) -> str:
    """The verdict of one rule on one interval (see the module docstring)."""
    if interval.n == 0 or math.isnan(interval.estimate):
        return "not run"
    if rule.kind == REPORTED:
        return REPORTED
    threshold = rule.threshold(parameters)
    if interval.ci_low > threshold:
        return "reproduced"
    if interval.ci_high < threshold:
        return "not reproduced"
    return "inconclusive"


def _parameters(overrides: Mapping[str, float] | None) -> dict[str, float]:
    unknown = sorted(set(overrides or {}) - set(DEFAULT_PARAMETERS))
    if unknown:
        raise ValueError(f"unknown claim parameters {unknown}; valid: {sorted(DEFAULT_PARAMETERS)}")
    parameters = {**DEFAULT_PARAMETERS, **(overrides or {})}
    if not 0 < parameters["confidence"] < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {parameters['confidence']}")
    return parameters


def _groups(runs: pd.DataFrame | None) -> list[tuple[str, Any, pd.DataFrame]]:
    """(experiment, batch size, rows) for every experiment and batch size in the runs table."""
    if runs is None or runs.empty:
        return [("", math.nan, pd.DataFrame(columns=["algorithm", "seed", "round", "labelled", "test_accuracy",
                                                     "acquisition_seconds"]))]
    experiment = runs["experiment"] if "experiment" in runs else pd.Series("", index=runs.index)
    return [(str(name), batch_size, rows)
            for (name, batch_size), rows in runs.groupby([experiment, "batch_size"], sort=True)]


def _row(claim: Claim, comparison: Comparison, experiment: str, batch_size: Any, interval: Interval,
         secondary: Interval, parameters: Mapping[str, float], label: str) -> dict[str, Any]:
    return {
        "claim": f"{claim.key} {claim.statement}", "experiment": experiment, "batch_size": batch_size,
        "comparison": label, "statistic": comparison.statistic,
        "estimate": interval.estimate, "se": interval.se, "ci_low": interval.ci_low, "ci_high": interval.ci_high,
        "n": interval.n, "aulc_estimate": secondary.estimate, "aulc_se": secondary.se,
        "aulc_ci_low": secondary.ci_low, "aulc_ci_high": secondary.ci_high,
        "rule": comparison.rule.describe(parameters), "verdict": decide(comparison.rule, interval, parameters),
    }


def claims_table(
    runs: pd.DataFrame | None,
    timings: pd.DataFrame | None = None,
    parameters: Mapping[str, float] | None = None,
    claims: tuple[Claim, ...] = CLAIMS,
) -> pd.DataFrame:
    """One row per claim, comparison and (experiment, batch size) of the runs table; CLAIMS_COLUMNS.

    runs: the tidy runs table (sbadbal.results.read_runs), optionally with an `experiment` column to hold several
    experiments; timings: the benchmark table (sbadbal.results.sweep_acquisition_timing) or None when not run;
    parameters: overrides of DEFAULT_PARAMETERS. Speed rows are `algorithm` against `baseline` as t_baseline /
    t_algorithm (so "LBB vs BatchBALD" is BatchBALD's seconds over LBB's); benchmark rows have no experiment.
    """
    parameters = _parameters(parameters)
    confidence = parameters["confidence"]
    rows = []
    for claim in claims:
        for comparison in claim.comparisons:
            a, b = comparison.algorithm, comparison.baseline
            if comparison.statistic == "speedup_benchmark":
                interval, case = bench_ratio(timings, b, a, confidence)
                where = f" at N = {case[0]}, b = {case[1]}" if case else ""
                rows.append(_row(claim, comparison, "benchmark", case[1] if case else math.nan, interval, MISSING,
                                 parameters, f"{b} / {a} seconds{where}"))
                continue
            for experiment, batch_size, group in _groups(runs):
                if comparison.statistic == "speedup_first_acquisition":
                    interval, secondary = first_acquisition_ratio(group, b, a, confidence), MISSING
                    label = f"{b} / {a} seconds, first acquisition"
                else:
                    interval, secondary = paired_accuracy_difference(group, a, b, confidence)
                    label = f"{a} - {b}, accuracy points"
                rows.append(_row(claim, comparison, experiment, batch_size, interval, secondary, parameters, label))
    return pd.DataFrame(rows, columns=list(CLAIMS_COLUMNS))


def claim_verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """One verdict per claim from its decided rows: not reproduced if any row is, reproduced if every row that ran
    is, not run if none ran, inconclusive otherwise. Context rows (`reported`) do not count; `rows` counts the
    verdicts, so a claim reproduced on the comparisons that ran also shows those that did not."""
    rows = []
    for claim, per_claim in table.groupby("claim", sort=False):
        verdicts = [v for v in per_claim["verdict"] if v != REPORTED]
        ran = [v for v in verdicts if v != "not run"]
        if not ran:
            overall = "not run"
        elif "not reproduced" in ran:
            overall = "not reproduced"
        elif all(v == "reproduced" for v in ran):
            overall = "reproduced"
        else:
            overall = "inconclusive"
        counts = ", ".join(f"{sum(v == name for v in verdicts)} {name}" for name in VERDICTS if name in verdicts)
        rows.append({"claim": claim, "verdict": overall, "rows": counts})
    return pd.DataFrame(rows, columns=["claim", "verdict", "rows"])


# --- markdown -------------------------------------------------------------------------------------------------

def _cell(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) >= 1000 else f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def markdown_table(frame: pd.DataFrame, columns: list[str] | None = None) -> str:
    columns = list(columns or frame.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(_cell(row[column]) for column in columns) + " |" for _, row in frame.iterrows()]
    return "\n".join(lines) + "\n"


def markdown_claims(table: pd.DataFrame, parameters: Mapping[str, float] | None = None) -> str:
    """The per-claim verdicts, then every row (narrow enough for the report's first screen: the claim by its
    numeral, the interval in one cell, each claim's rule once below), then the parameters the rules used."""
    parameters = _parameters(parameters)
    evidence = table.assign(
        claim=table["claim"].str.split(" ", n=1).str[0],
        interval=[f"[{_cell(low)}, {_cell(high)}]" if pd.notna(low) else "" for low, high in
                  zip(table["ci_low"], table["ci_high"])],
    )
    shown = ["claim", "experiment", "batch_size", "comparison", "estimate", "se", "interval", "n", "aulc_estimate",
             "verdict"]
    rules = "\n".join(f"- {claim}: " + "; ".join(dict.fromkeys(rows["rule"])) for claim, rows in
                      table.groupby("claim", sort=False))
    settings = ", ".join(f"{key} = {value:g}" for key, value in parameters.items())
    return (
        "Claims and verdicts\n\n" + markdown_table(claim_verdicts(table))
        + "\nEvidence: accuracy rows are paired differences over seeds at the budget, in accuracy points "
        "(aulc_estimate: of the mean accuracy over rounds); speed rows are ratios of seconds with log-scale "
        f"intervals (their se is that of the log ratio); intervals at {100 * parameters['confidence']:g}%.\n\n"
        + markdown_table(evidence, shown) + f"\nRules:\n\n{rules}\n\nRule parameters: {settings}.\n"
    )
