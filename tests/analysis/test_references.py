"""The original repository's numbers: the shipped file, its validation, and our numbers next to them."""

from __future__ import annotations

import copy
import math

import pandas as pd
import pytest
import yaml

from sbadbal.analysis.references import (
    load_references,
    markdown_reference_comparison,
    parse_reference,
    reference_comparison,
    setting_mismatches,
    timing_reference_comparison,
    timing_references,
)
from sbadbal.config import REFERENCE_FILE


@pytest.fixture(scope="module")
def references():
    return load_references(REFERENCE_FILE)


def test_shipped_file_holds_the_published_numbers(references):
    assert set(references) == {"time_notebook_mnist_mc_b20", "readme_figure_fmnist_b10", "graph_notebook_cifar100_ens_b200",
                               "dev_svhn_ens_b50", "dev_mnist_ens_b50"}
    timing = {v.algorithm: (v.value, v.std) for v in references["time_notebook_mnist_mc_b20"].values}
    assert timing == {"BatchBALD": (961.26, 19.05), "LBB-code": (43.43, 1.07), "PLBB-code": (42.32, 0.57),
                      "BALD": (3.05, 0.51), "PowerBALD": (3.02, 0.50), "Random": (0.0, 0.0)}
    readme = {(v.algorithm, v.labelled): v.value for v in references["readme_figure_fmnist_b10"].values}
    assert [readme[("LBB-code", n)] for n in (100, 200, 500)] == [65.5, 75.3, 81.3]
    assert [readme[("BatchBALD", n)] for n in (100, 200, 500)] == [67.5, 72.0, 77.5]
    assert references["readme_figure_fmnist_b10"].precision == 1.0
    # The original code's LBB is our LBB-code, whatever the source called it; our greedy LBB never ran there.
    for reference in references.values():
        assert all(v.algorithm != "LBB" for v in reference.values)
        assert all(v.algorithm == "LBB-code" for v in reference.values if v.original_name == "LBB")
    dev = {v.algorithm: v.value for v in references["dev_mnist_ens_b50"].values}
    assert dev["PowerBALD"] == 97.52 and dev["Random"] == 94.32
    assert "not paper tables" in yaml.safe_load(REFERENCE_FILE.read_text())["kind"]


def test_every_value_names_one_of_our_algorithms(references):
    from sbadbal.acquisition import ALGORITHM_NAMES

    for reference in references.values():
        assert {value.algorithm for value in reference.values} <= {*ALGORITHM_NAMES, "*"}


def test_timing_reference_ratios(references):
    ratios = timing_references(references.values()).set_index(["numerator", "denominator"])["reference_ratio"]
    assert ratios[("BatchBALD", "LBB-code")] == pytest.approx(22.13, abs=0.01)
    assert ratios[("LBB-code", "BALD")] == pytest.approx(14.24, abs=0.01)


def raw_entry():
    return copy.deepcopy(yaml.safe_load(REFERENCE_FILE.read_text())["references"][1])


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda e: e.pop("reading"), "missing fields"),
        (lambda e: e["values"][0].update(algorithm=None), "algorithm .* is required"),
        (lambda e: e["values"][0].pop("labelled"), "label count"),
        (lambda e: e["values"][0].update(value=130.0), "not a percentage"),
        (lambda e: e["values"][0].update(value="high"), "finite number"),
        (lambda e: e["setting"].pop("k"), "setting needs"),
        (lambda e: e.update(quantity="accuracy"), "quantity"),
        (lambda e: e["values"].append(dict(e["values"][0])), "appears twice"),
    ],
)
def test_invalid_entries_are_refused_with_a_reason(change, message):
    entry = raw_entry()
    change(entry)
    with pytest.raises(ValueError, match=message):
        parse_reference(entry, "entry")


def test_a_file_not_labelled_as_repository_artifacts_is_refused(tmp_path):
    document = yaml.safe_load(REFERENCE_FILE.read_text())
    document["kind"] = "paper tables"
    path = tmp_path / "refs.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ValueError, match="repository artifacts"):
        load_references(path)


def fmnist_runs() -> pd.DataFrame:
    rows = []
    for algorithm, base in (("LBB-code", 80.0), ("BALD", 76.0)):
        for seed, noise in ((42, -1.0), (227, 0.0), (346, 1.0)):
            for labelled in (20, 100, 200, 500):
                rows.append({"batch_size": 10, "algorithm": algorithm, "seed": seed, "labelled": labelled,
                             "test_accuracy": base + noise - (500 - labelled) / 40, "acquisition_seconds": math.nan})
    return pd.DataFrame(rows)


def test_reference_comparison_puts_our_mean_and_se_next_to_each_value(references):
    table = reference_comparison(fmnist_runs(), [references["readme_figure_fmnist_b10"]])
    assert len(table) == 18
    lbb = table[(table["algorithm"] == "LBB-code") & (table["labelled"] == 500)].iloc[0]
    assert lbb["ours_mean"] == pytest.approx(80.0) and lbb["ours_se"] == pytest.approx(1 / math.sqrt(3))
    assert lbb["ours_n"] == 3 and lbb["difference"] == pytest.approx(80.0 - 81.3) and lbb["status"] == "compared"
    missing = table[table["algorithm"] == "PLBB-code"]
    assert (missing["status"] == "ours not run").all() and missing["ours_mean"].isna().all()
    # Another batch size does not match the reference's b = 10.
    other_b = reference_comparison(fmnist_runs().assign(batch_size=20), [references["readme_figure_fmnist_b10"]])
    assert (other_b["status"] == "ours not run").all()
    assert (reference_comparison(None, references.values())["status"] == "ours not run").all()
    text = markdown_reference_comparison(table)
    assert "not the paper's tables" in text and "read by eye" in text


def test_start_values_average_every_algorithm(references):
    runs = fmnist_runs().assign(batch_size=50)
    runs.loc[runs["labelled"] == 20, "labelled"] = 20
    table = reference_comparison(runs, [references["dev_mnist_ens_b50"]])
    start = table[table["algorithm"] == "*"].iloc[0]
    assert start["ours_n"] == 3 and start["ours_mean"] == pytest.approx((80.0 + 76.0) / 2 - 480 / 40)


def test_timing_reference_comparison_shows_our_ratios(references):
    timings = pd.DataFrame([
        {"algorithm": a, "N": 1000, "batch_size": 20, "median_seconds": s, "repeats": 2, "repeat_seconds": f"{s} {s * 1.1}"}
        for a, s in (("BatchBALD", 10.0), ("LBB", 2.0), ("LBB-code", 0.5), ("BALD", 0.1))
    ])
    table = timing_reference_comparison(references.values(), timings)
    got = table.set_index(["numerator", "denominator"])["ours_ratio"]
    assert got[("BatchBALD", "LBB-code")] == pytest.approx(20.0) and got[("BatchBALD", "LBB")] == pytest.approx(5.0)
    assert got[("LBB-code", "BALD")] == pytest.approx(5.0) and got[("LBB", "BALD")] == pytest.approx(20.0)
    assert table["reference_ratio"].round(1).tolist() == [22.1, 22.1, 14.2, 14.2]
    assert (timing_reference_comparison(references.values())["status"] == "ours not run").all()


def test_setting_mismatches(references):
    fmnist_mc = {"dataset": "FMNIST", "uncertainty": {"method": "mc_dropout", "k_acquisition": 100, "k_test": 5},
                 "initial_size": 20, "budget": 500, "batch_sizes": [10]}
    readme = references["readme_figure_fmnist_b10"]
    assert setting_mismatches(readme, fmnist_mc) == []
    small = {**fmnist_mc, "dataset": "MNIST5K", "uncertainty": {"method": "mc_dropout", "k_acquisition": 10}, "budget": 70}
    assert [m.split(":")[0] for m in setting_mismatches(readme, small)] == ["dataset", "budget", "k"]
    mnist_mc = {**fmnist_mc, "dataset": "MNIST", "batch_sizes": [20]}
    assert setting_mismatches(references["time_notebook_mnist_mc_b20"], mnist_mc) == []
    assert setting_mismatches(references["time_notebook_mnist_mc_b20"], fmnist_mc)[0].startswith("dataset")


def test_reference_points_are_the_accuracy_values_of_the_batch_size():
    from sbadbal.analysis.references import load_references, reference_points

    references = load_references(REFERENCE_FILE)
    points = reference_points(references.values(), batch_size=10)
    assert ("PLBB-code", 500, 83.0, 1.0) in points
    assert all(labels > 0 and 0 < accuracy < 100 for _, labels, accuracy, _ in points)
    assert not any(name == "BatchBALD" and labels == 320 for name, labels, *_ in points)  # b = 50 run left out
    assert reference_points([references["time_notebook_mnist_mc_b20"]]) == []  # seconds, not accuracy
