"""The paper's three claims as data, each decided by a pre-declared rule from paired differences and timing ratios.

Claims (Rubashevskii, Kotova, Panov, SDM 2023):
  (i)   LBB is much faster than BatchBALD;
  (ii)  LBB and PLBB are as accurate as or better than BatchBALD and BALD;
  (iii) the power variants are strong: PLBB vs LBB, PowerBALD vs BALD (at least as accurate) and PLBB, PowerBALD
        vs Random (more accurate). The paper also names PLBB vs BatchBALD here; that comparison is claim (ii)'s,
        and each comparison is listed under one claim only (check_claims), so no rows count twice.

Accuracy statistics pair runs by seed (same seed, same initial set and test split): d_s = acc_A(s) - acc_B(s) at the
budget (each run's last round), in accuracy points. Estimate mean(d), standard error sd(d) / sqrt(n), and the
t-based interval mean(d) +- t_{n-1, (1+confidence)/2} * se. Beside it, the same paired interval of the area under
the learning curve (aulc_*, see `aulc`): the trapezoid area over label counts from the initial set to the budget,
divided by that label range, in accuracy points. For "as accurate as" rows also the equivalence (TOST) interval:
the (1 - 2 alpha) two-sided interval, alpha = 1 - confidence, and whether it lies within +-accuracy_margin.

Timing statistics are ratios of seconds, with intervals on the log scale (ratios of times are multiplicative):
  - from the runs table, the first acquisition (the largest pool, as the original time notebook) paired by seed:
    r_s = t_A(s) / t_B(s), interval exp(mean(log r) +- t * se(log r));
  - from the timing benchmark, at its largest pool size and largest batch size, the ratio of medians, with a Welch
    interval on log seconds over the repeats (needs the per-call repeat_seconds column; without it no interval).

Decision rules, one kind per statistic, with parameters from the config's `claims:` (sbadbal.config.claims.ClaimRules,
which bounds them and says why each default is what it is; never choose them after seeing results):
  difference_above(threshold):  reproduced     if ci_low > threshold (the interval at `confidence`),
                                not reproduced if Holm's step-down procedure over the claim's rows rejects the row's
                                               one-sided hypothesis "at or above the threshold" at
                                               alpha = 1 - confidence (`holm`, p-value `p_opposite`),
                                inconclusive   otherwise (the interval straddles, or n < 2 so there is none);
  ratio_above(threshold):       the same on the log ratio.
  Non-inferiority ("as accurate as") is difference_above(-accuracy_margin); superiority is difference_above(0).
The Holm family of a claim is every decided row the claim's records declare (all experiments and batch sizes);
a row without a p-value (it did not run, or n < 2) counts in the family with p = 1, so dropping an algorithm
never makes the rest easier to reject. Rows with rule `reported` carry context (the LBB/BALD cost), no decision.

A row is `not run` (with the reason in `reason`) when an experiment, an algorithm or the benchmark is missing; a
claim with any decided row not run is `not run` as a whole, never decided on the rows that did run.

seeds_to_decide (`seeds_to_decide`): the number of seeds at which the row's interval would decide at the observed
paired spread, the smallest n >= 2 with t_{n-1, (1+confidence)/2} * sd / sqrt(n) < |estimate - threshold| ("never"
when the estimate sits on the threshold). It says how many seeds a next suite should fix before it runs; seeds are
never added to this one until a verdict appears (an interval computed after choosing n from the data does not
have its stated coverage).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sbadbal.analysis.markdown import frame_table
from sbadbal.analysis.verdicts import REPORTED, claim_verdict
from sbadbal.config.claims import ClaimRules
NEVER = "never"
BENCHMARK = "benchmark"  # the experiment column of the timing benchmark's rows (and its key in `reasons`)

# The defaults of the config model (sbadbal.config.claims.ClaimRules), the one place they are set and bounded.
DEFAULT_PARAMETERS: Mapping[str, float] = MappingProxyType(ClaimRules().model_dump())

CLAIMS_COLUMNS = (
    "claim", "experiment", "batch_size", "comparison", "statistic", "estimate", "se", "ci_low", "ci_high", "n",
    "aulc_estimate", "aulc_se", "aulc_ci_low", "aulc_ci_high", "aulc_n",
    "tost_ci_low", "tost_ci_high", "equivalent",
    "threshold", "p_opposite", "p_holm", "seeds_to_decide", "rule", "verdict", "reason",
)


# --- interval estimates --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Interval:
    """A point estimate with its standard error, confidence interval and number of units (seeds or repeats);
    `dof`, the t distribution's degrees of freedom behind the interval (n - 1, or Welch's), is not compared."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    dof: float = field(default=math.nan, compare=False)


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
    return Interval(mean, se, mean - half, mean + half, n, float(n - 1))


def exp_interval(log_interval: Interval) -> Interval:
    """A log-scale interval mapped back to ratios; se stays on the log scale (the relative standard error)."""
    return Interval(math.exp(log_interval.estimate) if log_interval.n else math.nan, log_interval.se,
                    math.exp(log_interval.ci_low), math.exp(log_interval.ci_high), log_interval.n, log_interval.dof)


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
        return exp_interval(Interval(estimate, 0.0, estimate, estimate, n, float(n - 1)))
    dof = (var_a + var_b) ** 2 / (var_a**2 / (len(log_a) - 1) + var_b**2 / (len(log_b) - 1))
    half = float(stats.t.ppf((1 + confidence) / 2, dof)) * se
    return exp_interval(Interval(estimate, se, estimate - half, estimate + half, n, float(dof)))


def tost_interval(interval: Interval, margin: float, confidence: float) -> tuple[float, float, bool | None]:
    """The equivalence (TOST) interval of a paired difference: the (1 - 2 alpha) two-sided interval, alpha = 1 -
    confidence (both one-sided tests at alpha), and whether it lies within (-margin, +margin); None without one."""
    if not (interval.n >= 2 and math.isfinite(interval.se)):
        return math.nan, math.nan, None
    half = float(stats.t.ppf(confidence, interval.dof)) * interval.se
    low, high = interval.estimate - half, interval.estimate + half
    return low, high, bool(-margin < low and high < margin)


def seeds_to_decide(sd: float, distance: float, confidence: float) -> int | str | None:
    """The smallest n >= 2 at which a t interval at `confidence` of half-width t_{n-1, (1+confidence)/2} sd /
    sqrt(n) excludes a threshold `distance` away from the estimate (the interval would decide); NEVER when the
    estimate sits on the threshold (distance 0); None when the spread is unknown (fewer than 2 units)."""
    if not (math.isfinite(sd) and math.isfinite(distance)):
        return None
    distance = abs(distance)
    if distance == 0:
        return NEVER

    def decides(n: int) -> bool:
        return float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n) < distance

    # The half-width falls with n (t quantile down, sqrt(n) up): double to a deciding n, then bisect.
    low, high = 1, 2
    while not decides(high):
        low, high = high, 2 * high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if decides(middle) else (middle, high)
    return high


# --- multiplicity ---------------------------------------------------------------------------------------------

def holm_adjusted(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values: sorted p_(1) <= ... <= p_(m), adjusted p_(i) = max_{j <= i} min(1,
    (m - j + 1) p_(j)); NaN counts as 1 (a hypothesis in the family that cannot be rejected)."""
    p = [1.0 if value is None or not math.isfinite(value) else float(value) for value in p_values]
    m, adjusted, running = len(p), [1.0] * len(p), 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p[i])):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def holm(p_values: Sequence[float], alpha: float) -> list[bool]:
    """Which hypotheses Holm's step-down procedure rejects at familywise level alpha: in ascending order of p,
    reject while p_(i) <= alpha / (m - i + 1), stop at the first that is not."""
    return [value <= alpha for value in holm_adjusted(p_values)]


# --- paired accuracy differences ------------------------------------------------------------------------------

def _final_rows(runs: pd.DataFrame) -> pd.DataFrame:
    """Each run's last round (its accuracy at the budget), indexed by seed."""
    return runs.sort_values("round").groupby("seed", sort=True).tail(1).set_index("seed")


def aulc(labelled: Any, accuracy: Any) -> float:
    """The area under a learning curve divided by its label range: the trapezoid rule over the label counts, from
    the first (the initial set) to the last (the budget), over (last - first); in accuracy points, the curve's
    average height along the label axis.

    Why this and not the mean accuracy over rounds: rounds sit at label counts, so the area is the integral over
    labels, and rounds at uneven spacing weigh by the labels they span. Round 0 (the initial set, the same model
    for every algorithm of a seed) is the curve's left end and enters as one end of the first trapezoid, with
    half the weight of an interior round (as the budget's round at the other end), as an area from the initial
    set to the budget has it; it is not dropped (the area would then start at the first acquisition and miss the
    first batch's gain), and a plain mean gives it a full round's weight and so shrinks every difference. NaN
    with fewer than two label counts."""
    labelled, accuracy = np.asarray(labelled, dtype=float), np.asarray(accuracy, dtype=float)
    order = np.argsort(labelled, kind="stable")
    labelled, accuracy = labelled[order], accuracy[order]
    if len(labelled) < 2 or labelled[-1] <= labelled[0]:
        return math.nan
    area = float(np.sum((labelled[1:] - labelled[:-1]) * (accuracy[1:] + accuracy[:-1]) / 2))
    return area / float(labelled[-1] - labelled[0])


def paired_seed_differences(
    runs: pd.DataFrame, algorithm: str, baseline: str, metric: str = "test_accuracy"
) -> pd.DataFrame:
    """Per seed both algorithms ran: the difference at the budget and of the AULC (`aulc`).

    `runs`: one experiment and batch size. Columns: seed, at_budget, aulc (algorithm minus baseline). The AULCs
    are over the label counts both runs record; a seed whose two runs do not span the same range (first and
    last label count) has no AULC difference (NaN) rather than one over a shorter range.
    """
    a, b = runs[runs["algorithm"] == algorithm], runs[runs["algorithm"] == baseline]
    final_a, final_b = _final_rows(a), _final_rows(b)
    seeds = sorted(set(final_a.index) & set(final_b.index))
    rows = []
    for seed in seeds:
        curve_a = a[a["seed"] == seed].groupby("labelled")[metric].last()
        curve_b = b[b["seed"] == seed].groupby("labelled")[metric].last()
        common = curve_a.index.intersection(curve_b.index)
        same_range = len(common) >= 2 and common.min() == min(curve_a.index.min(), curve_b.index.min()) \
            and common.max() == max(curve_a.index.max(), curve_b.index.max())
        rows.append({
            "seed": seed,
            "at_budget": float(final_a.loc[seed, metric] - final_b.loc[seed, metric]),
            "aulc": aulc(common, curve_a[common]) - aulc(common, curve_b[common]) if same_range else math.nan,
        })
    return pd.DataFrame(rows, columns=["seed", "at_budget", "aulc"])


def paired_accuracy_difference(
    runs: pd.DataFrame, algorithm: str, baseline: str, confidence: float = 0.95
) -> tuple[Interval, Interval]:
    """(difference at the budget, difference of the AULC), each a t-interval over paired seeds."""
    differences = paired_seed_differences(runs, algorithm, baseline)
    return (t_interval(differences["at_budget"], confidence),
            t_interval(differences["aulc"].dropna(), confidence))


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
        return Interval(estimate, interval.se, interval.ci_low, interval.ci_high, interval.n, interval.dof), case
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

STATISTICS = {"accuracy_at_budget": "difference_above", "speedup_first_acquisition": "ratio_above",
              "speedup_benchmark": "ratio_above"}


@dataclass(frozen=True)
class Comparison:
    """`algorithm` against `baseline` on one statistic: accuracy (A - B, points) or speed (t_B / t_A from `source`)."""

    algorithm: str
    baseline: str
    statistic: str  # "accuracy_at_budget", "speedup_first_acquisition", "speedup_benchmark"
    rule: Rule

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS:
            raise ValueError(f"unknown statistic {self.statistic!r}; valid: {', '.join(STATISTICS)}")
        if self.algorithm == self.baseline:
            raise ValueError(f"{self.algorithm} is compared with itself")
        if self.rule.kind not in (REPORTED, STATISTICS[self.statistic]):
            raise ValueError(f"rule {self.rule.kind!r} does not decide {self.statistic!r}")

    @property
    def measure(self) -> tuple[frozenset[str], str]:
        """What the row's numbers are: the pair (either way round: B - A is A - B negated) and the statistic."""
        return frozenset((self.algorithm, self.baseline)), self.statistic


def check_claims(claims: Sequence[Claim]) -> tuple[Claim, ...]:
    """`claims` as a tuple once no two claims share a key and no comparison (algorithm, baseline, statistic; the
    pair either way round) is listed twice, within one claim or across claims; ValueError naming it otherwise."""
    keys: set[str] = set()
    seen: dict[tuple[frozenset[str], str], str] = {}
    for claim in claims:
        if claim.key in keys:
            raise ValueError(f"claim {claim.key} is listed twice")
        keys.add(claim.key)
        for comparison in claim.comparisons:
            if comparison.measure in seen:
                raise ValueError(
                    f"comparison {comparison.algorithm} vs {comparison.baseline} ({comparison.statistic}) is listed "
                    f"under claim {seen[comparison.measure]} and again under claim {claim.key}; each comparison "
                    "belongs to one claim, so its rows count once")
            seen[comparison.measure] = claim.key
    return tuple(claims)


@dataclass(frozen=True)
class Claim:
    key: str
    statement: str
    comparisons: tuple[Comparison, ...]

    def __post_init__(self) -> None:
        check_claims((self,))


def _speed(algorithm: str, baseline: str, rule: Rule) -> tuple[Comparison, ...]:
    return (Comparison(algorithm, baseline, "speedup_benchmark", rule),
            Comparison(algorithm, baseline, "speedup_first_acquisition", rule))


def paper_claims(lbb: str = "LBB", plbb: str = "PLBB") -> tuple[Claim, ...]:
    """The three claims with the names of the LBB and PLBB under test (paper_claims("LBB-code", "PLBB-code") asks
    them of the original code's methods); checked by check_claims. PLBB vs BatchBALD is claim (ii)'s only."""
    return check_claims((
        Claim("(i)", f"{lbb} is much faster than BatchBALD",
              _speed(lbb, "BatchBALD", MUCH_FASTER) + _speed("BALD", lbb, CONTEXT)),
        Claim("(ii)", f"{lbb} and {plbb} are as accurate as or better than BatchBALD and BALD", tuple(
            Comparison(algorithm, baseline, "accuracy_at_budget", NON_INFERIOR)
            for algorithm in (lbb, plbb) for baseline in ("BatchBALD", "BALD"))),
        Claim("(iii)", "The power variants are strong", (
            Comparison(plbb, lbb, "accuracy_at_budget", NON_INFERIOR),
            Comparison("PowerBALD", "BALD", "accuracy_at_budget", NON_INFERIOR),
            Comparison(plbb, "Random", "accuracy_at_budget", BETTER_THAN_RANDOM),
            Comparison("PowerBALD", "Random", "accuracy_at_budget", BETTER_THAN_RANDOM),
        )),
    ))


CLAIMS: tuple[Claim, ...] = paper_claims()


def _center_and_threshold(rule: Rule, interval: Interval, parameters: Mapping[str, float]) -> tuple[float, float]:
    """The interval's centre and the rule's threshold on the scale the interval is symmetric on (log for ratios)."""
    threshold = rule.threshold(parameters)
    if rule.kind == "ratio_above":
        if not (interval.ci_low > 0 and interval.ci_high > 0 and threshold > 0):
            return math.nan, math.nan
        return (math.log(interval.ci_low) + math.log(interval.ci_high)) / 2, math.log(threshold)
    return (interval.ci_low + interval.ci_high) / 2, threshold


def p_opposite(rule: Rule, interval: Interval, parameters: Mapping[str, float]) -> float:
    """The one-sided p-value of the rule's opposite direction: H0 "at or above the threshold" against "below it",
    P(T_dof <= (centre - threshold) / se) on the interval's scale; NaN without an interval or for a context row.
    p < alpha / 2 exactly when the interval at `confidence` lies below the threshold."""
    if rule.kind == REPORTED or interval.n < 2 or not math.isfinite(interval.se):
        return math.nan
    center, threshold = _center_and_threshold(rule, interval, parameters)
    if not math.isfinite(center):
        return math.nan
    if interval.se == 0:
        return 0.0 if center < threshold else 0.5 if center == threshold else 1.0
    dof = interval.dof if math.isfinite(interval.dof) else interval.n - 1
    return float(stats.t.cdf((center - threshold) / interval.se, dof))


def decide(rule: Rule, interval: Interval, parameters: Mapping[str, float], rejected: bool | None = None) -> str:
    """The verdict of one rule on one interval (see the module docstring). `rejected`: whether Holm's procedure
    over the claim's rows rejects this row (claims_table passes it); None decides the row as a family of one
    (not reproduced when p_opposite <= 1 - confidence)."""
    if interval.n == 0 or math.isnan(interval.estimate):
        return "not run"
    if rule.kind == REPORTED:
        return REPORTED
    if interval.ci_low > rule.threshold(parameters):
        return "reproduced"
    if rejected is None:
        rejected = holm([p_opposite(rule, interval, parameters)], 1 - parameters["confidence"])[0]
    return "not reproduced" if rejected else "inconclusive"


def _parameters(overrides: Mapping[str, float] | None) -> dict[str, float]:
    """The rule parameters: `overrides` over the defaults, checked by the config model (ConfigError naming the key
    when one is unknown or out of its bounds)."""
    return ClaimRules.checked(dict(overrides or {})).model_dump()


def _groups(runs: pd.DataFrame | None, experiments: Sequence[str] | None,
            reasons: Mapping[str, str]) -> list[tuple[str, Any, pd.DataFrame, str]]:
    """(experiment, batch size, rows, why there are none) for every experiment and batch size in the runs table,
    in the order of `experiments` when given, with one empty group for each of those that has no runs."""
    empty = pd.DataFrame(columns=["algorithm", "seed", "round", "labelled", "test_accuracy", "acquisition_seconds"])
    present: dict[str, list[tuple[str, Any, pd.DataFrame, str]]] = {}
    if runs is not None and not runs.empty:
        experiment = runs["experiment"] if "experiment" in runs else pd.Series("", index=runs.index)
        for (name, batch_size), rows in runs.groupby([experiment, "batch_size"], sort=True):
            present.setdefault(str(name), []).append((str(name), batch_size, rows, ""))
    if experiments is None:
        if not present:
            return [("", math.nan, empty, reasons.get("", "no runs table"))]
        return [group for groups in present.values() for group in groups]
    groups = []
    for name in experiments:
        groups += present.pop(name, [(name, math.nan, empty, reasons.get(name, f"experiment {name} did not run"))])
    return groups + [group for rest in present.values() for group in rest]


def _missing(group: pd.DataFrame, algorithms: tuple[str, ...], where: str) -> str:
    present = set(group["algorithm"])
    missing = [name for name in algorithms if name not in present]
    if not missing:
        return ""
    return f"{' and '.join(missing)} {'has' if len(missing) == 1 else 'have'} no runs {where}"


def _bench_reason(timings: pd.DataFrame | None, algorithms: tuple[str, ...], reasons: Mapping[str, str]) -> str:
    if timings is None or timings.empty:
        return reasons.get(BENCHMARK, "the timing benchmark did not run")
    missing = [name for name in algorithms if name not in set(timings["algorithm"])]
    if missing:
        return f"the benchmark did not time {' and '.join(missing)}"
    return f"the benchmark timed {' and '.join(algorithms)} at no common pool and batch size"


def _row(claim: Claim, comparison: Comparison, experiment: str, batch_size: Any, interval: Interval,
         secondary: Interval, parameters: Mapping[str, float], label: str, reason: str) -> dict[str, Any]:
    rule, confidence = comparison.rule, parameters["confidence"]
    tost_low, tost_high, equivalent = math.nan, math.nan, None
    if rule == NON_INFERIOR:
        tost_low, tost_high, equivalent = tost_interval(interval, parameters["accuracy_margin"], confidence)
    needed = None
    if rule.kind != REPORTED and comparison.statistic != "speedup_benchmark" and interval.n >= 2:
        center, threshold = _center_and_threshold(rule, interval, parameters)
        needed = seeds_to_decide(interval.se * math.sqrt(interval.n), center - threshold, confidence)
    if not reason and interval.n == 1 and rule.kind != REPORTED:
        unit = "repeat" if comparison.statistic == "speedup_benchmark" else "paired seed"
        reason = f"one {unit}: no interval, so no decision"
    return {
        "claim": f"{claim.key} {claim.statement}", "experiment": experiment, "batch_size": batch_size,
        "comparison": label, "statistic": comparison.statistic,
        "estimate": interval.estimate, "se": interval.se, "ci_low": interval.ci_low, "ci_high": interval.ci_high,
        "n": interval.n, "aulc_estimate": secondary.estimate, "aulc_se": secondary.se,
        "aulc_ci_low": secondary.ci_low, "aulc_ci_high": secondary.ci_high, "aulc_n": secondary.n,
        "tost_ci_low": tost_low, "tost_ci_high": tost_high, "equivalent": equivalent,
        "threshold": rule.threshold(parameters), "p_opposite": math.nan, "p_holm": math.nan,
        "seeds_to_decide": needed, "rule": rule.describe(parameters), "verdict": "", "reason": reason,
    }


def claims_table(
    runs: pd.DataFrame | None,
    timings: pd.DataFrame | None = None,
    parameters: Mapping[str, float] | None = None,
    claims: Sequence[Claim] = CLAIMS,
    *,
    experiments: Sequence[str] | None = None,
    reasons: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per claim, comparison and (experiment, batch size) of the runs table; CLAIMS_COLUMNS.

    runs: the tidy runs table (sbadbal.analysis.tables.read_runs), optionally with an `experiment` column to hold several
    experiments; timings: the benchmark table (sbadbal.bench.sweep.sweep_acquisition_timing) or None when not run;
    parameters: overrides of DEFAULT_PARAMETERS (checked by sbadbal.config.claims.ClaimRules); experiments: the
    experiments the claims rest on, each without runs giving `not run` rows; reasons: why an experiment (by name)
    or the benchmark (BENCHMARK) did not run, for those rows' `reason`. Speed rows are `algorithm` against
    `baseline` as t_baseline / t_algorithm (so "LBB vs BatchBALD" is BatchBALD's seconds over LBB's); benchmark rows
    have experiment BENCHMARK. Verdicts: `decide`, with Holm's procedure over each claim's decided rows.
    """
    parameters = _parameters(parameters)
    claims = check_claims(claims)
    reasons = dict(reasons or {})
    confidence = parameters["confidence"]
    groups = _groups(runs, experiments, reasons)
    rows = []
    for claim in claims:
        evidence: list[tuple[Comparison, Interval, dict[str, Any]]] = []
        for comparison in claim.comparisons:
            a, b = comparison.algorithm, comparison.baseline
            if comparison.statistic == "speedup_benchmark":
                interval, case = bench_ratio(timings, b, a, confidence)
                where = f" at N = {case[0]}, b = {case[1]}" if case else ""
                reason = "" if interval.n else _bench_reason(timings, (b, a), reasons)
                evidence.append((comparison, interval, _row(
                    claim, comparison, BENCHMARK, case[1] if case else math.nan, interval, MISSING, parameters,
                    f"{b} / {a} seconds{where}", reason)))
                continue
            for experiment, batch_size, group, empty_reason in groups:
                where = f"in {experiment} at b = {batch_size}" if experiment else f"at b = {batch_size}"
                if comparison.statistic == "speedup_first_acquisition":
                    interval, secondary = first_acquisition_ratio(group, b, a, confidence), MISSING
                    label = f"{b} / {a} seconds, first acquisition"
                    fallback = f"no seed with a timed first acquisition of both {b} and {a} {where}"
                else:
                    interval, secondary = paired_accuracy_difference(group, a, b, confidence)
                    label = f"{a} - {b}, accuracy points"
                    fallback = f"no seed with runs of both {a} and {b} {where}"
                reason = "" if interval.n else empty_reason or _missing(group, (a, b), where) or fallback
                evidence.append((comparison, interval, _row(
                    claim, comparison, experiment, batch_size, interval, secondary, parameters, label, reason)))
        # Holm over every decided row the claim declares (a row without a p-value counts as p = 1).
        decided = [item for item in evidence if item[0].rule.kind != REPORTED]
        p_values = [p_opposite(comparison.rule, interval, parameters) for comparison, interval, _ in decided]
        for (comparison, interval, row), p, adjusted in zip(decided, p_values, holm_adjusted(p_values)):
            row.update(p_opposite=p, p_holm=adjusted if math.isfinite(p) else math.nan,
                       verdict=decide(comparison.rule, interval, parameters, rejected=adjusted <= 1 - confidence))
        for comparison, interval, row in evidence:
            if comparison.rule.kind == REPORTED:
                row["verdict"] = decide(comparison.rule, interval, parameters)
            rows.append(row)
    return pd.DataFrame(rows, columns=list(CLAIMS_COLUMNS))


def claim_verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """One verdict per claim from its decided rows (sbadbal.analysis.verdicts.claim_verdict: context rows, rule
    `reported`, do not count; not run if any row did not run, else not reproduced if any row is (Holm,
    claims_table), reproduced if every row is, inconclusive otherwise); `rows` counts the rows' verdicts."""
    rows = []
    for claim, per_claim in table.groupby("claim", sort=False):
        overall, counts = claim_verdict(zip(per_claim["verdict"], per_claim["rule"].astype(str)))
        rows.append({"claim": claim, "verdict": overall, "rows": counts})
    return pd.DataFrame(rows, columns=["claim", "verdict", "rows"])


# --- markdown -------------------------------------------------------------------------------------------------

def _number(value: Any) -> str:
    """A number in at most 3 significant digits (whole above 100, thousands separated); '' when missing."""
    if value is None or isinstance(value, str):
        return value or ""
    value = float(value)
    if math.isnan(value):
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if value != 0 and abs(value) < 0.001:
        return f"{value:.1e}"
    return f"{value:.3g}"


def _with_interval(estimate: Any, low: Any, high: Any) -> str:
    if pd.isna(estimate):
        return ""
    return f"{_number(estimate)} [{_number(low)}, {_number(high)}]" if pd.notna(low) else _number(estimate)


def _seeds(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return ""
    return NEVER if value == NEVER else f"{int(float(value)):,}"


def markdown_claims(table: pd.DataFrame, parameters: Mapping[str, float] | None = None) -> str:
    """The per-claim verdicts, then every row, narrow enough for the report's first screen (human column names,
    one interval per cell, the claim by its numeral), then why rows did not run, each claim's rule once and the
    parameters the rules used. The CSV (claims_table) keeps every column."""
    parameters = _parameters(parameters)
    confidence = parameters["confidence"]
    level, tost_level, alpha = f"{100 * confidence:g}%", f"{100 * (2 * confidence - 1):g}%", f"{1 - confidence:.2g}"
    headers = {"claim": "claim", "comparison": "comparison", "where": "where",
               "estimate": f"estimate [{level} CI]", "aulc": f"AULC [{level} CI]",
               "tost": f"equivalence [{tost_level} CI]", "n": "n", "needed": "seeds to decide", "verdict": "verdict"}
    numeral = table["claim"].str.split(" ", n=1).str[0]
    evidence = pd.DataFrame({
        "claim": numeral,
        "comparison": table["comparison"].str.replace(", accuracy points", "", regex=False),
        "where": [BENCHMARK if experiment == BENCHMARK else str(experiment) if pd.isna(batch) else
                  ", ".join(filter(None, (str(experiment), f"b = {_number(batch)}")))
                  for experiment, batch in zip(table["experiment"], table["batch_size"])],
        "estimate": [_with_interval(*values) for values in zip(table["estimate"], table["ci_low"], table["ci_high"])],
        "aulc": [_with_interval(*values) for values in
                 zip(table["aulc_estimate"], table["aulc_ci_low"], table["aulc_ci_high"])],
        "tost": ["" if pd.isna(low) else f"[{_number(low)}, {_number(high)}] "
                 f"{'within' if str(within) == 'True' else 'outside'} ±{_number(parameters['accuracy_margin'])}"
                 for low, high, within in zip(table["tost_ci_low"], table["tost_ci_high"], table["equivalent"])],
        "n": [str(int(n)) if n else "" for n in table["n"]],
        "needed": [_seeds(value) for value in table["seeds_to_decide"]],
        "verdict": table["verdict"],
    }).rename(columns=headers)
    not_run = table[table["verdict"] == "not run"]
    missing = "\n".join(
        f"- {reason}: " + "; ".join(f"{n} {c}" for n, c in zip(numeral[rows.index], evidence.loc[rows.index,
                                                                                          "comparison"]))
        for reason, rows in not_run.groupby("reason", sort=False))
    rules = "\n".join(f"- {claim}: " + "; ".join(dict.fromkeys(rows["rule"])) for claim, rows in
                      table.groupby("claim", sort=False))
    settings = ", ".join(f"{key} = {value:g}" for key, value in parameters.items())
    return (
        "Claims and verdicts\n\n" + frame_table(claim_verdicts(table))
        + "\nA claim is reproduced when every row's interval clears its rule, not reproduced when Holm's procedure "
        f"over the claim's rows rejects a row at {alpha}, and not run when any of its rows did not run. The seeds "
        "were fixed before the runs; seeds to decide is how many a next suite would fix to decide the row at the "
        "spread observed here, never a licence to add seeds to this one until a verdict appears.\n\n"
        f"Evidence: accuracy rows are differences paired by seed, in accuracy points, at the budget and of the AULC "
        "(area under the learning curve from the initial set to the budget over its label range); equivalence: the "
        f"TOST interval of an 'as accurate as' row against ±accuracy_margin; speed rows are ratios of seconds with "
        "log-scale intervals; n: paired seeds (repeats for the benchmark).\n\n"
        + frame_table(evidence)
        + (f"\nNot run:\n\n{missing}\n" if missing else "")
        + f"\nRules:\n\n{rules}\n\nRule parameters: {settings}.\n"
    )
