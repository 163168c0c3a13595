"""The smoke rule (sbadbal/config/smoke.py): what it keeps, what it shrinks, and that it is checked like any suite."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from sbadbal.acquisition.joint import uses_sampled_regime
from sbadbal.config import ConfigError, load_config
from sbadbal.config.smoke import SmokeScale, smoke_batch_sizes, smoke_config, smoke_data_points
from sbadbal.data.records import SPECS as DATASET_SPECS

RAW = yaml.safe_load((Path(__file__).resolve().parents[2] / "config.yaml").read_text())
SUITES = list(RAW["suites"])


def smoke(suite: str, raw=RAW, scale: SmokeScale = SmokeScale()):
    """(the original suite, its smoke twin), both as the configuration model checked them."""
    scaled = smoke_config(raw, suite, scale)
    return load_config(raw).suites[suite], load_config(scaled).selected_suite()


@pytest.mark.parametrize("suite", SUITES)
def test_the_twin_keeps_every_code_deciding_setting(suite):
    original, twin = smoke(suite)
    assert list(twin.experiments) == list(original.experiments)
    assert twin.datasets == original.datasets and twin.claims == original.claims
    assert twin.download == original.download
    for key, before in original.experiments.items():
        after = twin.experiments[key]
        for field in ("dataset", "model", "algorithms", "references", "shared_initial_set"):
            assert getattr(after, field) == getattr(before, field), (key, field)
        assert after.uncertainty.method == before.uncertainty.method
        if before.uncertainty.method == "ensemble":
            assert after.uncertainty.members == before.uncertainty.members
        assert after.training.name == before.training.name
        for field in ("batch_size", "lr", "lr_schedule", "momentum", "weight_decay", "gamma"):
            assert getattr(after.training, field, None) == getattr(before.training, field, None), (key, field)
        assert len(after.batch_sizes) == len(before.batch_sizes)
        assert len(after.training.milestones if after.training.name == "epochs" else ()) == len(
            before.training.milestones if before.training.name == "epochs" else ())
        assert (after.pool_subset is None) == (before.pool_subset is None)
    assert list(twin.benchmarks) == list(original.benchmarks)
    for key, before in original.benchmarks.items():
        assert twin.benchmarks[key].algorithms == before.algorithms
        assert twin.benchmarks[key].references == before.references


def test_what_the_rule_shrinks_on_the_paper_suite():
    original, twin = smoke("paper")
    scale = SmokeScale()
    for key, before in original.experiments.items():
        after = twin.experiments[key]
        assert after.seeds == before.seeds[:1]
        assert after.initial_size == min(before.initial_size, scale.initial_size)
        assert min(after.batch_sizes) == min(min(before.batch_sizes), scale.batch_size)
        assert after.budget == after.initial_size + max(after.batch_sizes)
        assert after.scoring_batch_size == 16
        if after.uncertainty.method == "mc_dropout":
            assert (after.uncertainty.k_acquisition, after.uncertainty.k_test) == (8, 2)
        if after.training.name == "iterations":
            assert after.training.iterations == after.training.batch_size  # one optimiser step
    rcifar = twin.experiments["rcifar10_ens"]
    assert rcifar.batch_sizes == [4, 8]  # 100 and 200 in proportion
    # 50 epochs with milestones [25, 40] -> 3 epochs, a decay after the first and after the second
    assert (rcifar.training.epochs, rcifar.training.milestones, rcifar.training.validation_size) == (3, (1, 2), 4)
    bench = twin.benchmarks["mnist_timing"]
    assert (bench.batch_sizes, bench.pool_sizes, bench.repeats) == ([4, 8, 16, 32], [5, 9, 48], 1)


@pytest.mark.parametrize("suite", SUITES)
def test_batchbald_reaches_both_phases_of_its_joint(suite):
    """Below the last pick the joint is enumerated, at the last it is importance-sampled (and M >= K there)."""
    _, twin = smoke(suite)
    for key, experiment in twin.experiments.items():
        for name in experiment.algorithm_names:
            choice = experiment.choice(name)
            if choice.algorithm != "BatchBALD":
                continue
            classes = DATASET_SPECS[experiment.dataset].num_classes
            samples = (experiment.uncertainty.members if experiment.uncertainty.method == "ensemble"
                       else experiment.uncertainty.k_acquisition)
            m, b = choice.params["num_samples"], min(experiment.batch_sizes)
            assert uses_sampled_regime(classes, b, m) and classes <= m and m >= samples, (key, classes, b, m)


def test_batch_sizes_keep_their_order_and_count():
    assert smoke_batch_sizes([100, 200], 4) == [4, 8]
    assert smoke_batch_sizes([10], 4) == [4]
    assert smoke_batch_sizes([2], 4) == [2]  # never larger than the original
    assert smoke_batch_sizes([3, 5], 4) == [3, 5]
    assert smoke_batch_sizes([5, 10, 20, 40], 4) == [4, 8, 16, 32]


def test_pure_and_a_new_experiment_is_covered_without_an_edit():
    raw = copy.deepcopy(RAW)
    before = copy.deepcopy(raw)
    new = copy.deepcopy(raw["suites"]["paper"]["experiments"]["kmnist_mc"])
    new.update(dataset="RCIFAR100", model="resnet18", uncertainty={"method": "ensemble", "members": 3},
               training=raw["suites"]["paper"]["experiments"]["cifar100_ens"]["training"], initial_size=1000,
               budget=3000, batch_sizes=[50], algorithms=["BB", "LBB"], algorithm_params={"BB": {"num_samples": 10**6}})
    raw["suites"]["paper"]["experiments"]["rcifar100_new"] = new
    snapshot = copy.deepcopy(raw)
    scaled = smoke_config(raw, "paper")
    assert raw == snapshot and RAW == before  # the input is not touched
    twin = load_config(scaled).selected_suite()
    experiment = twin.experiments["rcifar100_new"]
    assert (experiment.batch_sizes, experiment.budget, experiment.uncertainty.members) == ([4], 4 + 4, 3)
    # the alias key is the one the rule caps, not a second entry beside it
    assert set(scaled["suites"]["paper_smoke"]["experiments"]["rcifar100_new"]["algorithm_params"]) == {"BatchBALD"}
    assert experiment.choice("BatchBALD").params["num_samples"] == 100**2


def test_variants_are_capped_like_their_base():
    raw = copy.deepcopy(RAW)
    raw["variants"]["BB-big"] = {"algorithm": "BatchBALD", "params": {"num_samples": 500_000}}
    raw["suites"]["tiny"]["experiments"]["tiny_mc"]["algorithms"].append("BB-big")
    twin = load_config(smoke_config(raw, "tiny")).selected_suite()
    assert twin.experiments["tiny_mc"].choice("BB-big").params["num_samples"] == 100


def test_data_points_by_hand_on_the_paper_twin():
    _, twin = smoke("paper")
    points = smoke_data_points(twin)
    assert set(points) == {e.dataset for e in twin.experiments.values()}
    assert points["MNIST"] == 4 + 48  # the benchmark scores the pool left after the initial set: its largest size
    assert points["FMNIST"] == 8 + 4  # budget (4 + 4) plus one batch to choose from
    assert points["RCIFAR10"] == 10  # (12 + 4 validation + 8) / 4 copies = 6, but every class at least once
    assert points["CIFAR100"] == 100 and points["EMNIST"] == 47


def test_unknown_suite_and_bad_input_are_config_errors():
    with pytest.raises(ConfigError, match="suite 'papr' is not defined"):
        smoke_config(RAW, "papr")
    broken = copy.deepcopy(RAW)
    broken["suites"]["paper"]["experiments"]["fmnist_mc"]["budget"] = "forty"
    with pytest.raises(ConfigError, match="fmnist_mc.budget"):
        smoke_config(broken, "paper")


def test_an_algorithm_filter_keeps_variants_of_kept_bases_and_one_algorithm_at_least():
    scale = SmokeScale(algorithms=("BALD", "BatchBALD", "LBB"))
    _, twin = smoke("paper", scale=scale)
    assert twin.experiments["fmnist_mc"].algorithms == ["BALD", "BatchBALD", "LBB", "LBB-w2"]
    assert twin.experiments["rcifar10_ens"].algorithms == ["BALD", "LBB"]
    assert twin.experiments["emnist_ens"].choice("BatchBALD").params["num_samples"] == 47**2
    assert set(twin.experiments["fmnist_mc"].algorithm_params) == {"BatchBALD"}  # LBB-code's cap went with it
    assert twin.benchmarks["mnist_timing"].algorithms == ["BALD", "BatchBALD", "LBB"]
    _, only_random = smoke("paper", scale=SmokeScale(algorithms=("Random",)))
    assert only_random.experiments["rcifar10_ens"].algorithms == ["Random"]
    _, none_kept = smoke("tiny", scale=SmokeScale(algorithms=("Random",)))
    assert none_kept.experiments["tiny_mc"].algorithms == ["BALD"]  # the first, when none is kept
