"""Claims table: paired differences, timing ratios and verdicts on constructed runs whose answers are known."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sbadbal.analysis.claims import (
    BENCHMARK,
    CLAIMS,
    CLAIMS_COLUMNS,
    DEFAULT_PARAMETERS,
    MUCH_FASTER,
    NEVER,
    NON_INFERIOR,
    Claim,
    Comparison,
    Interval,
    aulc,
    bench_ratio,
    check_claims,
    claim_verdicts,
    claims_table,
    decide,
    first_acquisition_ratio,
    holm,
    holm_adjusted,
    markdown_claims,
    p_opposite,
    paired_accuracy_difference,
    paired_seed_differences,
    paper_claims,
    seeds_to_decide,
    t_interval,
)
from sbadbal.config import ClaimRules, ConfigError, load_config

REPO = Path(__file__).resolve().parents[2]

SEEDS = (42, 227, 346, 684, 920)
LABELS = (20, 30, 40, 50)


def make_runs(final_accuracy: dict[str, list[float]], *, first_seconds: dict[str, list[float]] | None = None,
              batch_size: int = 10) -> pd.DataFrame:
    """Runs whose accuracy rises linearly by 10 points per round to `final_accuracy[algorithm][seed position]`."""
    rows = []
    for algorithm, finals in final_accuracy.items():
        for seed, final in zip(SEEDS, finals):
            for round_index, labelled in enumerate(LABELS):
                last = round_index == len(LABELS) - 1
                seconds = (first_seconds or {}).get(algorithm, [1.0] * len(SEEDS))[SEEDS.index(seed)]
                rows.append({
                    "batch_size": batch_size, "algorithm": algorithm, "seed": seed, "round": round_index,
                    "labelled": labelled, "test_accuracy": final - 10.0 * (len(LABELS) - 1 - round_index),
                    "test_nll": 1.0, "train_seconds": 1.0, "score_seconds": 1.0,
                    "acquisition_seconds": math.nan if last else seconds * (1 + 0.1 * round_index),
                    "acquired_indices": "" if last else "1 2",
                })
    return pd.DataFrame(rows)


def test_t_interval_matches_the_textbook_formula():
    interval = t_interval([1.0, 2.0, 4.0], 0.95)
    se = np.std([1.0, 2.0, 4.0], ddof=1) / math.sqrt(3)
    half = stats.t.ppf(0.975, 2) * se
    assert interval == Interval(pytest.approx(7 / 3), pytest.approx(se), pytest.approx(7 / 3 - half), pytest.approx(7 / 3 + half), 3)
    one = t_interval([5.0], 0.95)
    assert one.estimate == 5.0 and one.n == 1 and math.isnan(one.ci_low)
    assert t_interval([], 0.95).n == 0


def test_differences_pair_by_seed_and_skip_unpaired_seeds():
    runs = make_runs({"LBB": [80, 81, 82, 83, 84], "BALD": [79, 79, 79, 79]})  # BALD lacks seed 920
    differences = paired_seed_differences(runs, "LBB", "BALD")
    assert differences["seed"].tolist() == list(SEEDS[:4])
    assert differences["at_budget"].tolist() == [1.0, 2.0, 3.0, 4.0]
    # Linear curves with the same slope: the AULC differs by the same amount as the final accuracy.
    assert differences["aulc"].tolist() == pytest.approx([1.0, 2.0, 3.0, 4.0])
    at_budget, over_rounds = paired_accuracy_difference(runs, "LBB", "BALD")
    assert at_budget.n == 4 and at_budget.estimate == pytest.approx(2.5)


def test_aulc_of_a_constructed_curve_is_its_trapezoid_area_over_the_label_range():
    # Uneven label counts: (10 * (10 + 40) / 2 + 20 * (40 + 60) / 2 + 10 * (60 + 70) / 2) / (60 - 20) = 1900 / 40.
    labelled, accuracy = [20, 30, 50, 60], [10.0, 40.0, 60.0, 70.0]
    assert aulc(labelled, accuracy) == pytest.approx(47.5)
    assert aulc(labelled[::-1], accuracy[::-1]) == pytest.approx(47.5)  # the order of the rows does not matter
    assert aulc(labelled, accuracy) != pytest.approx(np.mean(accuracy))  # not the plain mean over rounds (45)
    assert math.isnan(aulc([20], [50.0]))


def test_paired_aulc_difference_is_the_trapezoid_of_the_differences_round_0_included():
    runs = make_runs({"LBB": [80] * 5, "BALD": [80] * 5})
    # LBB above BALD by 0, 6, 0, 3 points at 20, 30, 40, 50 labels (round 0 identical, as with shared seeds).
    for labelled, offset in zip(LABELS, (0.0, 6.0, 0.0, 3.0)):
        runs.loc[(runs["algorithm"] == "LBB") & (runs["labelled"] == labelled), "test_accuracy"] += offset
    at_budget, area = paired_accuracy_difference(runs, "LBB", "BALD")
    # (10 * 3 + 10 * 3 + 10 * 1.5) / 30 = 2.5; the plain mean would be 2.25, the mean without round 0 3.0.
    assert area.estimate == pytest.approx(2.5) and area.n == 5 and at_budget.estimate == pytest.approx(3.0)
    row = claims_table(runs).set_index("comparison").loc["LBB - BALD, accuracy points"]
    assert row["aulc_estimate"] == pytest.approx(2.5) and row["aulc_n"] == 5 and row["aulc_se"] == pytest.approx(0.0)
    # Its own interval over the paired seeds: a spread in the AULC differences shows in aulc_ci_*, not in ci_*.
    runs.loc[(runs["algorithm"] == "LBB") & (runs["labelled"] == 30), "test_accuracy"] += np.array(
        [-3.0, -1.5, 0.0, 1.5, 3.0])
    differences = paired_seed_differences(runs, "LBB", "BALD")["aulc"]
    row = claims_table(runs).set_index("comparison").loc["LBB - BALD, accuracy points"]
    expected = t_interval(differences, 0.95)
    assert (row["aulc_ci_low"], row["aulc_ci_high"]) == pytest.approx((expected.ci_low, expected.ci_high))
    assert row["ci_low"] == pytest.approx(row["ci_high"])  # the budget's differences have no spread


def test_aulc_uses_the_label_counts_both_runs_record_over_the_same_range():
    runs = make_runs({"LBB": [80] * 5, "BALD": [80] * 5})
    runs.loc[(runs["algorithm"] == "LBB") & (runs["labelled"] == 30), "test_accuracy"] += 6.0
    assert paired_accuracy_difference(runs, "LBB", "BALD")[1].estimate == pytest.approx(2.0)  # 6 * 10 / 30
    dropped = runs[~((runs["algorithm"] == "BALD") & (runs["labelled"] == 30))]
    assert paired_accuracy_difference(dropped, "LBB", "BALD")[1].estimate == pytest.approx(0.0)
    # A curve that stops short of the other's budget gives no AULC difference rather than one over less.
    short = runs[~((runs["algorithm"] == "BALD") & (runs["labelled"] == 50))]
    assert paired_seed_differences(short, "LBB", "BALD")["aulc"].isna().all()


@pytest.mark.parametrize(
    "differences, expected",
    [
        ([2.0, 2.1, 1.9, 2.0, 2.2], "reproduced"),  # clearly no worse
        ([-0.2, 0.1, -0.1, 0.0, 0.2], "reproduced"),  # equal within the 1-point margin
        ([-5.0, -5.2, -4.8, -5.1, -4.9], "not reproduced"),  # clearly worse by more than the margin
        ([-6.0, 4.0, -3.0, 5.0, -1.0], "inconclusive"),  # the interval straddles -1
    ],
)
def test_non_inferiority_verdicts(differences, expected):
    baseline = [75.0] * 5
    runs = make_runs({"LBB": [75.0 + d for d in differences], "BatchBALD": baseline})
    at_budget, _ = paired_accuracy_difference(runs, "LBB", "BatchBALD")
    assert decide(NON_INFERIOR, at_budget, DEFAULT_PARAMETERS) == expected


def test_one_seed_is_inconclusive_and_a_missing_algorithm_is_not_run():
    runs = make_runs({"LBB": [90.0], "BatchBALD": [70.0]})
    assert decide(NON_INFERIOR, paired_accuracy_difference(runs, "LBB", "BatchBALD")[0], DEFAULT_PARAMETERS) == "inconclusive"
    assert decide(NON_INFERIOR, paired_accuracy_difference(runs, "LBB", "BALD")[0], DEFAULT_PARAMETERS) == "not run"


def test_first_acquisition_ratio_is_paired_on_the_log_scale():
    runs = make_runs({"BatchBALD": [70] * 5, "LBB": [70] * 5},
                     first_seconds={"BatchBALD": [20.0, 22.0, 18.0, 21.0, 19.0], "LBB": [1.0] * 5})
    ratio = first_acquisition_ratio(runs, "BatchBALD", "LBB")
    logs = np.log([20.0, 22.0, 18.0, 21.0, 19.0])
    assert ratio.n == 5 and ratio.estimate == pytest.approx(math.exp(logs.mean()))
    assert ratio.ci_low < ratio.estimate < ratio.ci_high
    assert decide(MUCH_FASTER, ratio, DEFAULT_PARAMETERS) == "reproduced"
    assert decide(MUCH_FASTER, ratio, {**DEFAULT_PARAMETERS, "min_speedup": 30.0}) == "not reproduced"


def bench_table(with_repeats: bool) -> pd.DataFrame:
    rows = []
    for N in (250, 1000):
        for b in (5, 20):
            for algorithm, seconds in (("BatchBALD", [2.0, 2.2, 1.8]), ("LBB", [0.1, 0.11, 0.09]), ("BALD", [0.01] * 3)):
                scale = N / 1000 * (b / 20 if algorithm == "BatchBALD" else 1)
                row = {"algorithm": algorithm, "N": N, "batch_size": b, "median_seconds": float(np.median(seconds)) * scale,
                       "repeats": 3}
                if with_repeats:
                    row["repeat_seconds"] = " ".join(str(s * scale) for s in seconds)
                rows.append(row)
    return pd.DataFrame(rows)


def test_bench_ratio_at_the_largest_pool_and_batch():
    ratio, case = bench_ratio(bench_table(True), "BatchBALD", "LBB")
    assert case == (1000, 20)
    assert ratio.estimate == pytest.approx(20.0) and ratio.ci_low < 20.0 < ratio.ci_high and ratio.n == 3
    no_spread, _ = bench_ratio(bench_table(False), "BatchBALD", "LBB")
    assert no_spread.estimate == pytest.approx(20.0) and math.isnan(no_spread.ci_low)
    assert decide(MUCH_FASTER, no_spread, DEFAULT_PARAMETERS) == "inconclusive"
    assert bench_ratio(None, "BatchBALD", "LBB")[0].n == 0


def test_claims_table_covers_every_claim_and_says_not_run_for_what_is_missing():
    good = [80.0, 81.0, 80.5, 80.2, 79.8]
    runs = make_runs({"LBB": good, "PLBB": good, "BatchBALD": [78.0] * 5, "BALD": [77.0] * 5, "Random": [70.0] * 5},
                     first_seconds={"BatchBALD": [30.0, 25.0, 28.0, 31.0, 27.0], "LBB": [1.0] * 5})
    table = claims_table(runs, bench_table(True))
    assert tuple(table.columns) == CLAIMS_COLUMNS
    assert table["verdict"].isin(["reproduced", "not reproduced", "inconclusive", "not run", "reported"]).all()
    by_comparison = table.set_index(["comparison"])["verdict"]
    assert by_comparison["LBB - BatchBALD, accuracy points"] == "reproduced"
    assert by_comparison["PLBB - Random, accuracy points"] == "reproduced"
    assert by_comparison["PowerBALD - BALD, accuracy points"] == "not run"
    assert by_comparison["BatchBALD / LBB seconds at N = 1000, b = 20"] == "reproduced"
    assert by_comparison["LBB / BALD seconds at N = 1000, b = 20"] == "reported"
    expected_rows = sum(len(claim.comparisons) for claim in CLAIMS)
    assert len(table) == expected_rows
    assert by_comparison["BatchBALD / LBB seconds, first acquisition"] == "reproduced"
    summary = claim_verdicts(table)
    # (iii): PowerBALD did not run, so the claim is not run, never decided on the rows that ran.
    assert summary["verdict"].tolist() == ["reproduced", "reproduced", "not run"]
    assert summary["rows"].iloc[2] == "2 reproduced, 2 not run"
    reasons = table.set_index("comparison")["reason"]
    assert reasons["PowerBALD - BALD, accuracy points"] == "PowerBALD has no runs at b = 10"
    nothing = claims_table(None, None)
    assert (nothing["verdict"] == "not run").all()
    assert (claim_verdicts(nothing)["verdict"] == "not run").all()


def test_claims_table_splits_experiments_and_batch_sizes():
    runs = pd.concat([
        make_runs({"LBB": [80.0] * 5, "BALD": [70.0] * 5}).assign(experiment="a"),
        make_runs({"LBB": [60.0] * 5, "BALD": [70.0] * 5}, batch_size=20).assign(experiment="a"),
        make_runs({"LBB": [60.0] * 5, "BALD": [70.0] * 5}).assign(experiment="b"),
    ])
    rows = claims_table(runs).query("comparison == 'LBB - BALD, accuracy points'")
    assert rows[["experiment", "batch_size", "verdict"]].values.tolist() == [
        ["a", 10, "reproduced"], ["a", 20, "not reproduced"], ["b", 10, "not reproduced"]]


def test_parameters_are_validated_and_rendered():
    with pytest.raises(ConfigError, match="claims.margin: unknown key 'margin'"):
        claims_table(None, None, {"margin": 2})
    runs = make_runs({"LBB": [78.0, 78.5, 77.5, 78.2, 77.8], "BatchBALD": [80.0] * 5})
    strict = claims_table(runs, None).set_index("comparison").loc["LBB - BatchBALD, accuracy points", "verdict"]
    lenient = claims_table(runs, None, {"accuracy_margin": 5.0}).set_index("comparison").loc[
        "LBB - BatchBALD, accuracy points", "verdict"]
    assert (strict, lenient) == ("not reproduced", "reproduced")
    text = markdown_claims(claims_table(runs, None), {"accuracy_margin": 5.0})
    assert "accuracy_margin = 5" in text and "| claim |" in text and "not run" in text


def test_claims_can_be_asked_of_the_original_codes_methods():
    runs = make_runs({"LBB-code": [80.0] * 5, "PLBB-code": [81.0] * 5, "BatchBALD": [78.0] * 5, "BALD": [77.0] * 5})
    table = claims_table(runs, None, claims=paper_claims("LBB-code", "PLBB-code"))
    verdicts = table.set_index("comparison")["verdict"]
    assert verdicts["LBB-code - BatchBALD, accuracy points"] == "reproduced"
    assert verdicts["PLBB-code - LBB-code, accuracy points"] == "reproduced"
    assert table["claim"].iloc[0] == "(i) LBB-code is much faster than BatchBALD"


def test_timing_table_read_back_from_csv(tmp_path):
    path = tmp_path / "timings.csv"
    bench_table(True).to_csv(path, index=False)
    ratio, case = bench_ratio(pd.read_csv(path), "BatchBALD", "LBB")
    assert case == (1000, 20) and ratio.n == 3 and ratio.ci_low < 20.0 < ratio.ci_high


# --- each comparison under one claim ---------------------------------------------------------------------------

def test_each_comparison_is_listed_under_one_claim_only():
    measures = [(frozenset((c.algorithm, c.baseline)), c.statistic) for claim in CLAIMS for c in claim.comparisons]
    assert len(measures) == len(set(measures))
    owners = [claim.key for claim in CLAIMS for c in claim.comparisons
              if (c.algorithm, c.baseline, c.statistic) == ("PLBB", "BatchBALD", "accuracy_at_budget")]
    assert owners == ["(ii)"]
    table = claims_table(make_runs({"LBB": [80.0] * 5, "PLBB": [80.0] * 5, "BatchBALD": [79.0] * 5}))
    assert not table.duplicated(["comparison", "experiment", "batch_size"]).any()


def test_a_duplicated_comparison_cannot_be_constructed():
    twice = Comparison("PLBB", "BatchBALD", "accuracy_at_budget", NON_INFERIOR)
    with pytest.raises(ValueError, match="listed under claim \\(x\\) and again under claim \\(x\\)"):
        Claim("(x)", "within one claim", (twice, twice))
    reversed_pair = Comparison("BatchBALD", "PLBB", "accuracy_at_budget", NON_INFERIOR)
    with pytest.raises(ValueError, match="BatchBALD vs PLBB"):
        Claim("(x)", "the same pair either way round", (twice, reversed_pair))
    across = (Claim("(a)", "first", (twice,)), Claim("(b)", "second", (twice,)))
    with pytest.raises(ValueError, match="under claim \\(a\\) and again under claim \\(b\\)"):
        check_claims(across)
    with pytest.raises(ValueError, match="again under claim \\(b\\)"):
        claims_table(None, None, claims=across)  # a hand-made set is checked too
    with pytest.raises(ValueError, match="listed twice"):
        check_claims((Claim("(a)", "first", (twice,)), Claim("(a)", "again", ())))
    with pytest.raises(ValueError, match="compared with itself"):
        Comparison("LBB", "LBB", "accuracy_at_budget", NON_INFERIOR)
    with pytest.raises(ValueError, match="does not decide"):
        Comparison("LBB", "BatchBALD", "accuracy_at_budget", MUCH_FASTER)


# --- bounded rule parameters -----------------------------------------------------------------------------------

BAD_RULES = [
    ("accuracy_margin", 100, "expected a value <= 5"),
    ("accuracy_margin", 5.5, "expected a value <= 5"),
    ("accuracy_margin", 0, "expected a value > 0"),
    ("accuracy_margin", -1.0, "expected a value > 0"),
    ("confidence", 0.5, "expected a value >= 0.8"),
    ("confidence", 0.999, "expected a value <= 0.99"),
    ("min_speedup", 1.0, "expected a value >= 2"),
    ("min_speedup", 1000, "expected a value <= 100"),
    ("min_gain_over_random", -2.0, "expected a value >= 0"),
    ("min_gain_over_random", 10, "expected a value <= 5"),
]


@pytest.mark.parametrize("key, value, message", BAD_RULES, ids=[f"{k}={v}" for k, v, _ in BAD_RULES])
def test_a_rule_parameter_out_of_bounds_is_one_config_error_naming_the_key(key, value, message):
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    raw["claims"] = {key: value}
    with pytest.raises(ConfigError) as caught:
        load_config(raw)
    text = str(caught.value)
    assert text.startswith(f"config.yaml: claims.{key}: {message}") and f"got {value!r}" in text, text
    assert "\n" not in text
    with pytest.raises(ConfigError, match=f"claims.{key}: {message}"):
        claims_table(None, None, {key: value})  # the library's overrides pass the same bounds


def test_rule_parameters_at_their_bounds_load_and_every_bound_is_documented():
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    raw["claims"] = {"accuracy_margin": 5, "confidence": 0.8, "min_speedup": 2, "min_gain_over_random": 5}
    assert load_config(raw).claims.accuracy_margin == 5.0
    assert load_config({**raw, "claims": {"confidence": 0.99}}).claims.confidence == 0.99
    properties = ClaimRules.model_json_schema()["properties"]
    assert set(properties) == set(DEFAULT_PARAMETERS)
    for key, schema in properties.items():
        bounds = {"minimum", "exclusiveMinimum"} & set(schema), {"maximum", "exclusiveMaximum"} & set(schema)
        assert all(bounds), f"{key} is not bounded on both sides: {schema}"
        # The description says why the default is what it is: it names the default, the bounds and a reason.
        description = schema["description"]
        assert f"{schema['default']:g}" in description and (" in [" in description or " in (" in description)
        assert len(description) > 150, description


def test_snakemake_stops_at_start_on_a_margin_out_of_bounds(tmp_path):
    spec = importlib.util.spec_from_file_location("workflow_helpers", REPO / "tests" / "workflow" / "helpers.py")
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    workdir = helpers.copy_workflow(tmp_path / "workflow")
    helpers.change_config(workdir, lambda config: config.update(claims={"accuracy_margin": 100}))
    result = helpers.snakemake(workdir, "--dry-run", *helpers.TINY, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert errors == ["Error: config.yaml: claims.accuracy_margin: expected a value <= 5.0, got 100"], output
    assert "Traceback" not in output


# --- not run ---------------------------------------------------------------------------------------------------

GOOD = [80.0, 81.0, 80.5, 80.2, 79.8]


def test_a_missing_algorithm_makes_its_claim_not_run_with_the_reason():
    # Without BatchBALD, LBB and PLBB beat BALD clearly: claim (ii) is still not run, not "reproduced".
    runs = make_runs({"LBB": GOOD, "PLBB": GOOD, "BALD": [70.0] * 5, "PowerBALD": GOOD, "Random": [60.0] * 5})
    table = claims_table(runs, None).set_index("comparison")
    assert table.loc["LBB - BALD, accuracy points", "verdict"] == "reproduced"
    assert table.loc["PLBB - BALD, accuracy points", "verdict"] == "reproduced"
    for label in ("LBB - BatchBALD, accuracy points", "PLBB - BatchBALD, accuracy points"):
        assert table.loc[label, "verdict"] == "not run"
        assert table.loc[label, "reason"] == "BatchBALD has no runs at b = 10"
    verdicts = claim_verdicts(table.reset_index()).set_index("claim")["verdict"]
    assert verdicts.filter(like="(ii)").tolist() == ["not run"]
    assert verdicts.filter(like="(iii)").tolist() == ["reproduced"]  # every algorithm of (iii) ran
    assert verdicts.filter(like="(i)").iloc[0] == "not run"  # no benchmark, no BatchBALD
    text = markdown_claims(table.reset_index())
    assert "- BatchBALD has no runs at b = 10: (i) BatchBALD / LBB seconds, first acquisition; (ii) LBB - BatchBALD" \
        in text


def test_a_missing_experiment_or_benchmark_makes_its_claims_not_run():
    finals = {**{name: GOOD for name in ("LBB", "PLBB", "BatchBALD", "BALD", "PowerBALD")}, "Random": [60.0] * 5}
    runs = make_runs(finals, first_seconds={"BatchBALD": [30.0, 25.0, 28.0, 31.0, 27.0], "LBB": [1.0] * 5})
    runs = runs.assign(experiment="a")
    complete = claims_table(runs, bench_table(True), experiments=["a"])
    assert claim_verdicts(complete)["verdict"].tolist() == ["reproduced"] * 3
    table = claims_table(runs, None, experiments=["a", "b"],
                         reasons={"b": "experiment b was skipped on this machine", BENCHMARK: "no benchmark here"})
    skipped = table[table["experiment"] == "b"]
    assert len(skipped) == sum(len(c.comparisons) - 2 for c in CLAIMS[:1]) + sum(len(c.comparisons) for c in CLAIMS[1:])
    assert (skipped["verdict"] == "not run").all()
    assert (skipped["reason"] == "experiment b was skipped on this machine").all()
    bench = table[(table["experiment"] == BENCHMARK) & (table["statistic"] == "speedup_benchmark")]
    assert (bench["verdict"] == "not run").all() and (bench["reason"] == "no benchmark here").all()
    # The rows of experiment a still decide; the claims do not.
    assert (table.loc[table["experiment"] == "a", "verdict"].isin(["reproduced", "reported"])).all()
    assert claim_verdicts(table)["verdict"].tolist() == ["not run"] * 3
    default_reason = claims_table(runs, None, experiments=["a", "b"])
    assert set(default_reason.loc[default_reason["experiment"] == "b", "reason"]) == {"experiment b did not run"}


def test_a_missing_context_row_does_not_stop_a_claim():
    runs = make_runs({"LBB": GOOD, "BatchBALD": GOOD},
                     first_seconds={"BatchBALD": [30.0, 25.0, 28.0, 31.0, 27.0], "LBB": [1.0] * 5})
    timings = bench_table(True).query("algorithm != 'BALD'")
    table = claims_table(runs, timings)
    claim_i = table[table["claim"].str.startswith("(i) ")]
    assert claim_i["verdict"].tolist() == ["reproduced", "reproduced", "not run", "not run"]
    assert claim_verdicts(table)["verdict"].iloc[0] == "reproduced"


# --- Holm ------------------------------------------------------------------------------------------------------

def test_holm_on_constructed_families_against_a_hand_calculation():
    # m = 4, alpha 0.05: sorted 0.005 <= 0.05/4, 0.01 <= 0.05/3, 0.03 > 0.05/2 stops; 0.04 is not rejected either.
    assert holm([0.01, 0.04, 0.03, 0.005], 0.05) == [True, False, False, True]
    # Adjusted: 4 * 0.005, max(0.02, 3 * 0.01), max(0.03, 2 * 0.03), max(0.06, 1 * 0.04).
    assert holm_adjusted([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # Step-down rejects all three where Bonferroni (0.05 / 3 each) would reject only the first.
    assert holm([0.012, 0.02, 0.04], 0.05) == [True, True, True]
    # It stops at the first non-rejection: 0.04 <= 0.05 alone, but it comes after 0.03 > 0.05 / 2.
    assert holm([0.001, 0.03, 0.04], 0.05) == [True, False, False]
    # A hypothesis without a p-value stays in the family as p = 1 (it doubles the first one's adjustment).
    assert holm_adjusted([0.02, math.nan]) == pytest.approx([0.04, 1.0])
    assert holm([], 0.05) == []


def test_not_reproduced_is_controlled_over_the_rows_of_a_claim():
    borderline = [-2.9, -2.4, -1.9, -1.4, -0.9]  # PLBB - BatchBALD against -1: one-sided p about 0.032
    p_border = stats.ttest_1samp(borderline, -1.0, alternative="less").pvalue
    assert 0.05 / 3 < p_border < 0.05  # the construction: rejected alone at 5%, not as Holm's second of four
    worse = [-5.0, -4.8, -5.2, -4.9, -5.1]  # LBB - BatchBALD: far below -1
    runs = make_runs({"BatchBALD": [80.0] * 5, "BALD": [60.0] * 5, "LBB": [80.0 + d for d in worse],
                      "PLBB": [80.0 + d for d in borderline]})
    table = claims_table(runs).set_index("comparison")
    lbb, plbb = table.loc["LBB - BatchBALD, accuracy points"], table.loc["PLBB - BatchBALD, accuracy points"]
    p_worse = stats.ttest_1samp(worse, -1.0, alternative="less").pvalue
    assert lbb["p_opposite"] == pytest.approx(p_worse) and plbb["p_opposite"] == pytest.approx(p_border)
    # Holm over the claim's four rows (two clearly above -1 with p near 1): 4 p_worse, then max(., 3 p_border).
    assert lbb["p_holm"] == pytest.approx(4 * p_worse) and plbb["p_holm"] == pytest.approx(3 * p_border)
    assert lbb["verdict"] == "not reproduced" and plbb["verdict"] == "inconclusive"
    at_budget, _ = paired_accuracy_difference(runs, "PLBB", "BatchBALD")
    assert decide(NON_INFERIOR, at_budget, DEFAULT_PARAMETERS) == "not reproduced"  # as a family of one
    assert claim_verdicts(table.reset_index()).set_index("claim")["verdict"].filter(like="(ii)").iloc[0] == \
        "not reproduced"


def test_the_opposite_p_value_matches_the_interval():
    interval = t_interval([-2.0, -1.8, -2.2, -1.9, -2.1], 0.95)
    p = p_opposite(NON_INFERIOR, interval, DEFAULT_PARAMETERS)
    assert p < 0.025 and interval.ci_high < -1.0  # below the threshold: p < alpha / 2 exactly when ci_high < it
    half = stats.t.ppf(0.975, 4) * 0.5  # an interval whose upper end sits on the threshold -1
    edge = Interval(-1.0 - half, 0.5, -1.0 - 2 * half, -1.0, 5, 4.0)
    assert p_opposite(NON_INFERIOR, edge, DEFAULT_PARAMETERS) == pytest.approx(0.025)
    assert math.isnan(p_opposite(NON_INFERIOR, t_interval([1.0], 0.95), DEFAULT_PARAMETERS))


# --- equivalence (TOST) ----------------------------------------------------------------------------------------

def test_as_accurate_as_rows_report_the_equivalence_interval():
    tight, wide = [0.2, -0.1, 0.1, 0.0, -0.2], [-6.0, 4.0, -3.0, 5.0, -1.0]
    runs = make_runs({"BatchBALD": [75.0] * 5, "BALD": [75.0] * 5, "LBB": [75.0 + d for d in tight],
                      "PLBB": [75.0 + d for d in wide], "Random": [70.0] * 5})
    table = claims_table(runs).set_index("comparison")
    for label, differences, within in (("LBB - BatchBALD, accuracy points", tight, True),
                                       ("PLBB - BatchBALD, accuracy points", wide, False)):
        row, ninety = table.loc[label], t_interval(differences, 0.90)  # (1 - 2 alpha) at alpha = 0.05
        assert (row["tost_ci_low"], row["tost_ci_high"]) == pytest.approx((ninety.ci_low, ninety.ci_high))
        assert row["equivalent"] is within
        assert row["ci_low"] < row["tost_ci_low"]  # the non-inferiority interval (95%) beside it is wider
    superiority = table.loc["PLBB - Random, accuracy points"]
    assert math.isnan(superiority["tost_ci_low"]) and superiority["equivalent"] is None


# --- seeds to decide -------------------------------------------------------------------------------------------

def test_seeds_to_decide_against_a_hand_calculation():
    # sd 2, 1 point from the threshold: t_{16, .975} 2 / sqrt(17) = 2.1199 * 0.4851 = 1.028 (does not clear 1),
    # t_{17, .975} 2 / sqrt(18) = 2.1098 * 0.4714 = 0.995 (clears): 18 seeds.
    assert seeds_to_decide(2.0, 1.0, 0.95) == 18
    assert seeds_to_decide(2.0, -1.0, 0.95) == 18  # a distance either side of the threshold
    # sd 1, 1 point: t_{5} / sqrt(6) = 1.049, t_{6} / sqrt(7) = 0.925: 7 seeds.
    assert seeds_to_decide(1.0, 1.0, 0.95) == 7
    # Far out the t quantile tends to z: n close to (z sd / d)^2 = (1.95996 / 0.01)^2 = 38,415.
    assert abs(seeds_to_decide(1.0, 0.01, 0.95) - (stats.norm.ppf(0.975) / 0.01) ** 2) < 5
    assert seeds_to_decide(1.0, 0.0, 0.95) == NEVER  # on the threshold no n decides
    assert seeds_to_decide(0.0, 0.5, 0.95) == 2
    assert seeds_to_decide(math.nan, 1.0, 0.95) is None
    for sd, distance in ((3.0, 0.7), (9.16, 1.0), (1.99, 0.5)):
        n = seeds_to_decide(sd, distance, 0.95)
        half = [stats.t.ppf(0.975, k - 1) * sd / math.sqrt(k) for k in (n - 1, n)]
        assert half[1] < distance <= half[0]


def test_the_power_column_uses_the_rows_observed_spread():
    differences = [-3.0, 1.0, -0.5, 2.0, -1.5]
    runs = make_runs({"LBB": [75.0 + d for d in differences], "BatchBALD": [75.0] * 5})
    row = claims_table(runs).set_index("comparison").loc["LBB - BatchBALD, accuracy points"]
    sd, distance = np.std(differences, ddof=1), abs(np.mean(differences) - -1.0)
    n = next(k for k in range(2, 10_000) if stats.t.ppf(0.975, k - 1) * sd / math.sqrt(k) < distance)
    assert row["seeds_to_decide"] == n and row["verdict"] == "inconclusive" and n > 5
    on_threshold = make_runs({"LBB": [74.0 + d for d in (-1.0, 1.0, 0.0, 0.5, -0.5)], "BatchBALD": [75.0] * 5})
    assert claims_table(on_threshold).set_index("comparison").loc[
        "LBB - BatchBALD, accuracy points", "seeds_to_decide"] == NEVER


# --- the markdown and the CSV ----------------------------------------------------------------------------------

def test_the_markdown_is_narrow_and_the_csv_complete(tmp_path):
    runs = make_runs({"LBB": GOOD, "PLBB": GOOD, "BatchBALD": [78.0] * 5, "BALD": [77.0] * 5, "Random": [70.0] * 5},
                     first_seconds={"BatchBALD": [30.0, 25.0, 28.0, 31.0, 27.0], "LBB": [1.0] * 5})
    table = claims_table(runs, bench_table(True))
    for column in ("aulc_estimate", "aulc_ci_low", "aulc_ci_high", "aulc_n", "tost_ci_low", "tost_ci_high",
                   "equivalent", "p_opposite", "p_holm", "seeds_to_decide", "reason"):
        assert column in table.columns
    path = tmp_path / "claims.csv"
    table.to_csv(path, index=False)
    assert tuple(pd.read_csv(path).columns) == CLAIMS_COLUMNS
    text = markdown_claims(table)
    evidence = [line for line in text.splitlines() if line.startswith("| claim | comparison")]
    assert evidence == [("| claim | comparison | where | estimate [95% CI] | AULC [95% CI] | equivalence [90% CI] "
                         "| n | seeds to decide | verdict |")]
    rows = [line for line in text.splitlines() if line.startswith("| (")]
    cells = [cell for line in rows for cell in line.strip("|").split("|")]
    assert all(cell.count("[") <= 1 for cell in cells)  # one interval per cell
    assert max(len(line) for line in rows) < 160
    assert "_" not in evidence[0]
    assert "fixed before the runs" in text and "never a licence to add seeds" in text
    assert "| (ii) | LBB - BatchBALD | b = 10 | 2.3 [1.72, 2.88] |" in text  # runs without an experiment name


def test_the_readme_and_the_report_say_seeds_are_fixed_before_a_run():
    readme = (REPO / "README.md").read_text()
    assert "more seeds narrow the intervals" not in readme
    assert "seeds are fixed before a run, not added until a verdict appears" in readme
    caption = (REPO / "report" / "claims.rst").read_text()
    assert "seeds were fixed" in caption.replace("\n", " ") and "Holm" in caption
