"""A short real AL run on the embedded MNIST5K digits (CPU): test accuracy rises with the labels."""

import torch

from sbadbal.data import prepare_dataset
from sbadbal.config import run_from_mapping
from sbadbal.engine.loop import run_active_learning


def test_real_mnist5k_run_learns_with_more_labels():
    torch.set_num_threads(1)
    experiment = {
        "dataset": "MNIST5K",
        "model": "mnist_cnn",
        "uncertainty": {"method": "mc_dropout", "k_acquisition": 10, "k_test": 2},
        "training": {"protocol": "iterations", "iterations": 6144, "batch_size": 64, "lr": 0.001},
        "initial_size": 20,
        "budget": 100,
        "pool_subset": 400,
    }
    spec = run_from_mapping(experiment, algorithm="BALD", batch_size=40, seed=42)
    rows = run_active_learning(prepare_dataset("MNIST5K"), spec, device="cpu")
    assert rows["labelled"].tolist() == [20, 60, 100]
    accuracy = rows["test_accuracy"].tolist()
    assert accuracy[0] > 30.0  # well above chance (10%) already from 2 digits per class
    assert accuracy[0] < accuracy[1] < accuracy[2]
    assert accuracy[2] > accuracy[0] + 5.0
    assert rows["test_nll"].is_monotonic_decreasing
