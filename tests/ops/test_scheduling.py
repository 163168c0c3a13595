"""Memory and runtime that workflow jobs ask a scheduler for (sbadbal.ops.scheduling), on the shipped suites."""

from __future__ import annotations

import math

import pytest

from sbadbal.ops import scheduling
from sbadbal.config.model import load_config_file
from sbadbal.models.records import MODELS

from ..workflow.helpers import REPO

SUITES = load_config_file(REPO / "config.yaml").suites
PAPER = SUITES["paper"].experiments
TINY_MC = SUITES["tiny"].experiments["tiny_mc"]


def prepared_bytes(train: int, test: int, shape: tuple[int, ...]) -> int:
    """The size of a prepared image file: uint8 pixels of both splits."""
    return (train + test) * math.prod(shape)


FMNIST_BYTES = prepared_bytes(60000, 10000, (1, 28, 28))
CIFAR10_BYTES = prepared_bytes(50000, 10000, (3, 32, 32))


def test_tiny_runs_fit_a_small_node_and_a_retry_on_it():
    assert scheduling.run_memory_mb(TINY_MC, prepared_bytes(4000, 1000, (1, 28, 28))) == 4000
    assert scheduling.run_runtime_minutes(TINY_MC, "LBB", 10, 4000) == scheduling.MIN_RUNTIME_MINUTES


def test_memory_follows_the_pool_its_samples_and_the_model():
    fmnist = PAPER["fmnist_mc"]
    full = scheduling.run_memory_mb(fmnist, FMNIST_BYTES)
    # 70,000 examples bound the pool; 100 samples x 10 classes of float64, three copies: 1.68 GB of log-probs.
    assert scheduling.pool_size_bound(fmnist, FMNIST_BYTES) == 70000
    assert full == 6000
    assert scheduling.run_memory_mb(fmnist.model_copy(update={"pool_subset": 1000}), FMNIST_BYTES) < full
    fewer_samples = fmnist.model_copy(update={"uncertainty": fmnist.uncertainty.model_copy(update={"k_acquisition": 10})})
    assert scheduling.run_memory_mb(fewer_samples, FMNIST_BYTES) < full
    resnet = scheduling.run_memory_mb(PAPER["rcifar10_ens"], CIFAR10_BYTES)
    assert resnet >= scheduling.RUNTIME_BASE_MB + MODELS["resnet18"].working_mb


def test_repeated_datasets_bound_their_pool_by_the_repeats():
    rcifar = PAPER["rcifar10_ens"]
    assert scheduling.pool_size_bound(rcifar, CIFAR10_BYTES) == 4 * 60000
    assert scheduling.pool_size_bound(rcifar.model_copy(update={"dataset": "CIFAR10"}), CIFAR10_BYTES) == 60000


def test_runtime_follows_the_estimate_of_the_run():
    """Longer for more fits (ensembles, epochs), for a costlier acquisition, and for a smaller batch (more rounds)."""
    rcifar, pool = PAPER["rcifar10_ens"], 4 * 50_000 - 5_000
    assert scheduling.run_runtime_minutes(rcifar, "BALD", 100, pool) > scheduling.run_runtime_minutes(rcifar, "BALD", 200, pool)
    assert scheduling.run_runtime_minutes(rcifar, "BALD", 100, pool) > 10 * 60  # 405 ResNet-18 fits
    fmnist = PAPER["fmnist_mc"]
    assert scheduling.run_runtime_minutes(fmnist, "BatchBALD", 10, 60_000) > scheduling.run_runtime_minutes(
        fmnist, "BALD", 10, 60_000) >= scheduling.MIN_RUNTIME_MINUTES


@pytest.mark.parametrize("dataset, megabytes", [("MNIST5K", 2000), ("AGNEWS", 12000), ("CIFAR10", 8000)])
def test_preparation_memory_by_source(dataset, megabytes):
    assert scheduling.prepare_memory_mb(dataset) == megabytes
