"""Claims table: paired differences, timing ratios and verdicts on constructed runs whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sbadbal.claims import (
    CLAIMS,
    CLAIMS_COLUMNS,
    DEFAULT_PARAMETERS,
    Interval,
    NON_INFERIOR,
    MUCH_FASTER,
    paper_claims,
    bench_ratio,
    claim_verdicts,
    claims_table,
    decide,
    first_acquisition_ratio,
    markdown_claims,
    paired_accuracy_difference,
    paired_seed_differences,
    t_interval,
)

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
    # Linear curves with the same slope: the mean over rounds differs by the same amount as the final accuracy.
    assert differences["mean_over_rounds"].tolist() == [1.0, 2.0, 3.0, 4.0]
    at_budget, over_rounds = paired_accuracy_difference(runs, "LBB", "BALD")
    assert at_budget.n == 4 and at_budget.estimate == pytest.approx(2.5)


def test_mean_over_rounds_uses_the_label_counts_both_runs_record():
    runs = make_runs({"LBB": [80] * 5, "BALD": [80] * 5})
    runs.loc[(runs["algorithm"] == "LBB") & (runs["labelled"] == 20), "test_accuracy"] += 8.0
    _, over_rounds = paired_accuracy_difference(runs, "LBB", "BALD")
    assert over_rounds.estimate == pytest.approx(2.0)  # +8 on one of four rounds
    dropped = runs[~((runs["algorithm"] == "BALD") & (runs["labelled"] == 20))]
    assert paired_accuracy_difference(dropped, "LBB", "BALD")[1].estimate == pytest.approx(0.0)


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
    assert summary["verdict"].tolist() == ["reproduced"] * 3
    # (iii): PowerBALD did not run; the verdict rests on the rows that ran, and the counts say what is missing.
    assert summary["rows"].iloc[2] == "3 reproduced, 2 not run"
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
    with pytest.raises(ValueError, match="unknown claim parameters"):
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
