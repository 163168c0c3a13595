"""Architectures: shapes, supported pairs, reproducible Xavier initialisation."""

import math

import pytest
import torch
from torch import nn

from sbadbal.models.bayesian import BayesianModule, ConsistentMCDropout, ConsistentMCDropout2d, EnsembleMember, build_model
from sbadbal.models.records import MODEL_NAMES, architecture

SHAPES = {"mnist_cnn": (1, 28, 28), "emnist_cnn": (1, 28, 28), "cifar_cnn": (3, 32, 32), "resnet18": (3, 32, 32), "mlp": (384,)}
PAIRS = [(name, method) for name in MODEL_NAMES for method in ("mc_dropout", "ensemble") if (name, method) != ("resnet18", "mc_dropout")]


@pytest.mark.parametrize("name,method", PAIRS)
def test_every_supported_pair_gives_log_probabilities(name, method):
    model = build_model(architecture(name), num_classes=7, input_shape=SHAPES[name], uncertainty=method, seed=0).eval()
    x = torch.randn(3, *SHAPES[name])
    with torch.no_grad():
        log_probs_B_C = model(x)
    assert log_probs_B_C.shape == (3, 7)
    torch.testing.assert_close(log_probs_B_C.exp().sum(1), torch.ones(3))
    assert isinstance(model, BayesianModule if method == "mc_dropout" else EnsembleMember)


def test_mc_models_return_k_samples_per_input():
    model = build_model(architecture("mnist_cnn"), num_classes=10, input_shape=(1, 28, 28), uncertainty="mc_dropout", seed=0).eval()
    with torch.no_grad():
        assert model.mc_forward(torch.randn(4, 1, 28, 28), 6).shape == (4, 6, 10)


def test_the_original_layouts_are_kept():
    mc = build_model(architecture("mnist_cnn"), num_classes=10, input_shape=(1, 28, 28), uncertainty="mc_dropout", seed=0)
    kinds = [type(m) for m in mc.net]
    # conv -> dropout2d -> pool -> relu, twice, then fc 1024 -> 128 -> dropout -> relu -> fc (docs/algorithms.md#models)
    assert kinds[:4] == [nn.Conv2d, ConsistentMCDropout2d, nn.MaxPool2d, nn.ReLU]
    fc1 = [m for m in mc.net if isinstance(m, nn.Linear)][0]
    assert (fc1.in_features, fc1.out_features) == (1024, 128)
    assert any(isinstance(m, ConsistentMCDropout) for m in mc.net)
    ens = build_model(architecture("mnist_cnn"), num_classes=10, input_shape=(1, 28, 28), uncertainty="ensemble", seed=0)
    assert [m.p for m in ens.modules() if isinstance(m, nn.Dropout)] == [0.25, 0.25, 0.5]
    emnist = build_model(architecture("emnist_cnn"), num_classes=47, input_shape=(1, 28, 28), uncertainty="mc_dropout", seed=0)
    assert [m for m in emnist.net if isinstance(m, nn.Linear)][0].in_features == 2048
    cifar = build_model(architecture("cifar_cnn"), num_classes=10, input_shape=(3, 32, 32), uncertainty="ensemble", seed=0)
    assert [m for m in cifar.modules() if isinstance(m, nn.Linear)][0].in_features == 64 * 5 * 5


def test_resnet_has_the_cifar_stem():
    net = build_model(architecture("resnet18"), num_classes=10, input_shape=(3, 32, 32), uncertainty="ensemble", seed=0).net
    assert net.conv1.kernel_size == (3, 3) and net.conv1.stride == (1, 1) and net.conv1.bias is None
    assert isinstance(net.maxpool, nn.Identity)


def test_same_seed_same_weights_other_seed_other_weights():
    def build(seed):
        return build_model(architecture("mnist_cnn"), num_classes=10, input_shape=(1, 28, 28), seed=seed)

    a, b, c = build(3).state_dict(), build(3).state_dict(), build(4).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_building_leaves_the_global_rng_alone():
    state = torch.get_rng_state()
    build_model(architecture("mlp"), num_classes=4, input_shape=(16,), seed=1)
    assert torch.equal(state, torch.get_rng_state())


def test_weights_follow_xavier_uniform_bounds():
    model = build_model(architecture("mlp"), num_classes=4, input_shape=(384,), uncertainty="ensemble", seed=0)
    for layer in [m for m in model.modules() if isinstance(m, nn.Linear)]:
        bound = math.sqrt(6.0 / (layer.in_features + layer.out_features))
        assert layer.weight.abs().max() <= bound
        # Xavier-uniform fills the interval; PyTorch's default bound 1/sqrt(fan_in) is narrower than this one
        assert layer.weight.abs().max() > 0.9 * bound


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"name": "vgg16"}, "unknown model 'vgg16'"),
        ({"name": "resnet18", "uncertainty": "mc_dropout"}, "does not support uncertainty 'mc_dropout'"),
        ({"name": "mlp", "uncertainty": "laplace"}, "unknown uncertainty method 'laplace'"),
        ({"name": "mlp", "input_shape": (1, 28, 28)}, "rank 1"),
    ],
)
def test_bad_model_requests_raise_one_clear_error(kwargs, message):
    args = {"name": "mlp", "num_classes": 10, "input_shape": (32,), "uncertainty": "mc_dropout", "seed": 0, **kwargs}
    name = args.pop("name")
    with pytest.raises(ValueError, match=message):
        build_model(architecture(name, args["uncertainty"]), **args)
    if "input_shape" not in kwargs and name in MODEL_NAMES:  # build_model checks the pair itself too
        with pytest.raises(ValueError, match="does not support uncertainty"):
            build_model(architecture(name), **args)
