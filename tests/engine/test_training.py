"""Training protocols: the original's draws, reproducibility, best-validation checkpoint, augmentation scope."""

import math
import re

import pytest
import torch

from sbadbal.engine.protocols import EpochsProtocol, IterationsProtocol, protocol_from_config, protocol_to_config
from sbadbal.engine.training import (
    DivergenceError,
    check_finite_log_probs,
    check_finite_metrics,
    fixed_length_draws,
    train_network,
)
from sbadbal.models.bayesian import build_model
from sbadbal.models.posterior import Posterior, accuracy_and_nll, predict_log_probs
from sbadbal.models.records import architecture

from .helpers import blobs, tiny_images


@pytest.mark.parametrize("num_labelled,num_draws", [(20, 24_576), (7, 100), (50, 50), (300, 64)])
def test_fixed_length_draws_see_every_point_about_equally(num_labelled, num_draws):
    draws = fixed_length_draws(num_labelled, num_draws, torch.Generator().manual_seed(0))
    assert len(draws) == max(num_draws, num_labelled)  # more labels than draws: one ordinary epoch
    counts = torch.bincount(draws, minlength=num_labelled)
    per_point = -(-max(num_draws, num_labelled) // num_labelled)  # times each point is in the permutation
    dropped = per_point * num_labelled - max(num_draws, num_labelled)  # the permutation's cut-off tail
    assert counts.max() <= per_point and counts.min() >= per_point - dropped


def _mlp(seed=0, method="ensemble"):
    return build_model(architecture("mlp"), num_classes=3, input_shape=(6,), uncertainty=method, seed=seed)


def test_iterations_protocol_steps_learns_and_is_reproducible():
    data = blobs()
    labelled = list(range(30))
    protocol = IterationsProtocol(iterations=640, batch_size=64, lr=1e-2)
    first, second = _mlp(), _mlp()
    report = train_network(first, data, labelled, protocol, seed=5)
    train_network(second, data, labelled, protocol, seed=5)
    assert report.steps == 10
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    log_probs = predict_log_probs(Posterior("ensemble", [first]), data.test_inputs, data.num_test, num_samples=1)
    accuracy, _ = accuracy_and_nll(log_probs, data.test_targets)
    assert accuracy > 80.0
    other = _mlp()
    train_network(other, data, labelled, protocol, seed=6)
    assert not torch.equal(other.state_dict()["net.1.weight"], first.state_dict()["net.1.weight"])


def test_mc_dropout_training_is_reproducible_and_leaves_the_global_rng_alone():
    data = blobs()
    state = torch.get_rng_state()
    models = [_mlp(method="mc_dropout") for _ in range(2)]
    for model in models:
        train_network(model, data, range(30), IterationsProtocol(iterations=256, batch_size=32), seed=1)
    assert torch.equal(state, torch.get_rng_state())
    assert all(torch.equal(a, b) for a, b in zip(models[0].state_dict().values(), models[1].state_dict().values()))


def test_epochs_protocol_keeps_the_best_validation_weights():
    data = blobs(num_train=300)
    validation = list(range(200, 300))
    # A learning rate this high makes validation accuracy move around: the kept weights must be the best epoch's.
    protocol = EpochsProtocol(epochs=6, batch_size=16, lr=0.5, milestones=(4,), validation_size=100)
    model = _mlp()
    report = train_network(model, data, list(range(24)), protocol, seed=3, validation_indices=validation)
    assert report.epochs == 6 and report.steps == 6 * 2
    assert len(report.validation_accuracies) == 6
    assert report.best_validation_accuracy == max(report.validation_accuracies)
    assert report.best_epoch == report.validation_accuracies.index(max(report.validation_accuracies)) + 1
    log_probs = predict_log_probs(Posterior("ensemble", [model]), lambda p: data.train_inputs(torch.tensor(validation)[p]),
                                  len(validation), num_samples=1)
    accuracy, _ = accuracy_and_nll(log_probs, data.train_targets[validation])
    assert accuracy == pytest.approx(report.best_validation_accuracy)


def test_epochs_protocol_schedule_and_optimiser_defaults_are_the_seeds():
    protocol = protocol_from_config({"protocol": "epochs"})
    assert protocol == EpochsProtocol(epochs=50, batch_size=128, lr=0.05, momentum=0.9, weight_decay=5e-4,
                                      milestones=(25, 40), gamma=0.1, validation_size=5000)
    assert protocol_from_config(None) == IterationsProtocol(iterations=24_576, batch_size=64, lr=1e-3)
    assert protocol_from_config(protocol_to_config(protocol)) == protocol


class _RecordingImages:
    """Wraps a PreparedDataset and records the augment flag of every train_inputs call."""

    def __init__(self, prepared):
        self.prepared = prepared
        self.augment_flags = []

    def __getattr__(self, name):
        return getattr(self.prepared, name)

    def train_inputs(self, indices, *, augment=False, generator=None):
        self.augment_flags.append(augment)
        return self.prepared.train_inputs(indices, augment=augment, generator=generator)


def test_augmentation_reaches_training_batches_only():
    data = _RecordingImages(tiny_images())
    model = build_model(architecture("cifar_cnn"), num_classes=4, input_shape=(3, 32, 32), uncertainty="ensemble", seed=0)
    protocol = EpochsProtocol(epochs=2, batch_size=16, lr=0.01, milestones=(1,), validation_size=16)
    train_network(model, data, list(range(32)), protocol, seed=0, validation_indices=list(range(40, 56)))
    # 2 epochs x 2 batches augmented; each validation pass reads unaugmented inputs.
    assert data.augment_flags.count(True) == 4
    assert data.augment_flags.count(False) == 2


@pytest.mark.parametrize(
    "config,message",
    [
        ({"protocol": "sgd"}, "unknown training protocol 'sgd'"),
        ({"protocol": "iterations", "epochs": 3}, r"unknown key\(s\) \['epochs'\]"),
        ({"protocol": "iterations", "iterations": 0}, "training.iterations must be a positive integer"),
        ({"protocol": "epochs", "lr": -1.0}, "training.lr must be a positive number"),
        ({"protocol": "epochs", "milestones": [40, 25]}, "milestones must be increasing"),
        ({"protocol": "epochs", "milestones": 25}, "milestones must be a list of epochs"),
        ({"protocol": "epochs", "gamma": "0.1"}, "training.gamma must be a positive number"),
        ({"protocol": "epochs", "momentum": None}, "training.momentum must be a number >= 0"),
        ({"protocol": "epochs", "validation_size": 10.5}, "validation_size must be an integer >= 0"),
        ({"protocol": "iterations", "lr_schedule": "linear"}, "lr_schedule must be one of constant, cosine"),
    ],
)
def test_bad_protocol_configs_raise_one_clear_error(config, message):
    with pytest.raises(ValueError, match=message):
        protocol_from_config(config)


def test_cosine_schedule_anneals_the_learning_rate_to_zero_over_the_rounds_steps(monkeypatch):
    seen = []
    original_step = torch.optim.Adam.step

    def recording_step(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", recording_step)
    data = blobs()
    for schedule in ("constant", "cosine"):
        seen.clear()
        protocol = IterationsProtocol(iterations=640, batch_size=64, lr=1e-2, lr_schedule=schedule)
        train_network(_mlp(), data, list(range(30)), protocol, seed=5)
        assert len(seen) == 10
        if schedule == "constant":
            assert seen == [1e-2] * 10
        else:  # step t of T = 10 uses lr (1 + cos(pi t / T)) / 2
            assert seen == pytest.approx([1e-2 * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(10)])
    assert protocol_to_config(IterationsProtocol())["lr_schedule"] == "constant"


def test_channels_last_training_is_the_same_maths_as_nchw():
    """The memory format changes kernels and so float rounding, not the computation: a few steps agree closely."""
    data = tiny_images(augmentation="none")
    protocol = IterationsProtocol(iterations=96, batch_size=32, lr=1e-3)
    nets = []
    for channels_last in (False, True):
        net = build_model(architecture("cifar_cnn"), num_classes=4, input_shape=(3, 32, 32), uncertainty="mc_dropout", seed=3)
        train_network(net, data, list(range(40)), protocol, seed=7, channels_last=channels_last)
        nets.append(net.state_dict())
    for key in nets[0]:
        torch.testing.assert_close(nets[0][key], nets[1][key], rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ divergence (issue 13 item 4)


@pytest.fixture(scope="module")
def mnist5k():
    from sbadbal.data import prepare_dataset

    return prepare_dataset("MNIST5K")


@pytest.mark.parametrize("lr", [1e6, 1e20])
def test_a_diverging_training_fails_naming_the_learning_rate(mnist5k, lr):
    # lr 1e6: the loss stayed finite (0) while log-probabilities exploded (test NLL ~1e31, exit code 0);
    # lr 1e20: NaN everywhere, and the error came later from the log-probabilities, naming neither run nor round.
    model = build_model(architecture("mnist_cnn"), num_classes=10, input_shape=(1, 28, 28), uncertainty="mc_dropout", seed=0)
    protocol = IterationsProtocol(iterations=192, batch_size=64, lr=lr)
    with pytest.raises(DivergenceError, match=rf"diverged.*learning rate.*training\.lr = {re.escape(f'{lr:g}')}\): lower training\.lr") as error:
        train_network(model, mnist5k, list(range(40)), protocol, seed=1)
    located = error.value.located(run="tiny/MNIST5K b5 BALD seed1", round_index=3)
    assert isinstance(located, DivergenceError)
    assert str(located).startswith("tiny/MNIST5K b5 BALD seed1, round 3: training diverged")


def test_an_ordinary_learning_rate_passes_the_divergence_watch(mnist5k):
    model = build_model(architecture("mnist_cnn"), num_classes=10, input_shape=(1, 28, 28), uncertainty="mc_dropout", seed=0)
    report = train_network(model, mnist5k, list(range(40)), IterationsProtocol(iterations=192, batch_size=64), seed=1)
    assert report.steps == 3


def test_a_diverging_epochs_training_fails_too():
    data = blobs(num_train=300)
    protocol = EpochsProtocol(epochs=2, batch_size=16, lr=1e20, milestones=(1,), validation_size=100)
    with pytest.raises(DivergenceError, match=r"training\.lr = 1e\+20"):
        train_network(_mlp(), data, list(range(24)), protocol, seed=3, validation_indices=list(range(200, 300)))


@pytest.mark.parametrize("accuracy,nll", [(10.0, math.nan), (10.0, 3.8e33), (math.nan, 2.3), (1e9, 2.3)])
def test_a_non_finite_or_exploded_test_metric_names_run_and_round(accuracy, nll):
    with pytest.raises(DivergenceError, match=r"^MNIST5K seed 1, round 4: test accuracy .*diverged.*training\.lr = 1e\+06"):
        check_finite_metrics(accuracy, nll, run="MNIST5K seed 1", round_index=4, lr=1e6)
    check_finite_metrics(61.5, 1.2, run="MNIST5K seed 1", round_index=4)


def test_non_finite_log_probabilities_are_refused():
    log_probs = torch.log_softmax(torch.zeros(5, 3, 10), dim=-1)
    check_finite_log_probs(log_probs, what="pool log-probabilities")
    log_probs[2, 1, 0] = float("nan")
    with pytest.raises(DivergenceError, match=r"^pool log-probabilities of run x, round 0: 1 of 150 .*NaN"):
        check_finite_log_probs(log_probs, what="pool log-probabilities of run x, round 0")
