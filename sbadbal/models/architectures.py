"""The architectures of the original code by name (docs/algorithms.md#models): each builds an `nn.Sequential` (or a
torchvision net) for one uncertainty method, with consistent MC dropout (sbadbal/models/bayesian.py) for
mc_dropout and plain dropout for ensemble members.

A model record (sbadbal/models/records.py) names its builder here by module and function; `build_model` imports
it from there, so a run's architecture code input is this module. A builder is
`builder(uncertainty, num_classes, input_shape) -> nn.Module`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .bayesian import ConsistentMCDropout, ConsistentMCDropout2d

MLP_HIDDEN = 256  # not from the original code (it has no text model): a small head on 384-d sentence embeddings


def _flattened_size(features: nn.Module, input_shape: Sequence[int]) -> int:
    with torch.no_grad():
        return int(features(torch.zeros(1, *input_shape)).numel())


def _dropout_factory(uncertainty: str, *, conv_p: float, fc_p: float):
    """The original's two dropout flavours: consistent 2-D/1-D MC dropout, or plain element-wise dropout."""
    if uncertainty == "mc_dropout":
        return (lambda: ConsistentMCDropout2d(conv_p)), (lambda: ConsistentMCDropout(fc_p))
    return (lambda: nn.Dropout(conv_p)), (lambda: nn.Dropout(fc_p))


def mnist_cnn(uncertainty: str, num_classes: int, input_shape: Sequence[int]) -> nn.Sequential:
    # CNN_MC_RMNIST / CNN_ENS_RMNIST: dropout before pooling and ReLU, as in the original and BlackHC's BayesianCNN.
    conv_drop, fc_drop = _dropout_factory(uncertainty, conv_p=0.5 if uncertainty == "mc_dropout" else 0.25, fc_p=0.5)
    features = nn.Sequential(
        nn.Conv2d(input_shape[0], 32, kernel_size=5), conv_drop(), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(32, 64, kernel_size=5), conv_drop(), nn.MaxPool2d(2), nn.ReLU(),
        nn.Flatten(),
    )
    flat = _flattened_size(features, input_shape)
    return nn.Sequential(*features, nn.Linear(flat, 128), fc_drop(), nn.ReLU(), nn.Linear(128, num_classes))


def emnist_cnn(uncertainty: str, num_classes: int, input_shape: Sequence[int]) -> nn.Sequential:
    conv_drop, fc_drop = _dropout_factory(uncertainty, conv_p=0.5 if uncertainty == "mc_dropout" else 0.25, fc_p=0.5)
    features = nn.Sequential(
        nn.Conv2d(input_shape[0], 32, kernel_size=3), conv_drop(), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(32, 64, kernel_size=3), conv_drop(), nn.ReLU(),
        nn.Conv2d(64, 128, kernel_size=3), conv_drop(), nn.MaxPool2d(2), nn.ReLU(),
        nn.Flatten(),
    )
    flat = _flattened_size(features, input_shape)
    return nn.Sequential(*features, nn.Linear(flat, 512), fc_drop(), nn.ReLU(), nn.Linear(512, num_classes))


def cifar_cnn(uncertainty: str, num_classes: int, input_shape: Sequence[int]) -> nn.Sequential:
    # CNN_ENS_CIFAR10; the original has no MC twin, ours swaps in consistent dropout at the same places and rates.
    conv_drop, fc_drop = _dropout_factory(uncertainty, conv_p=0.25, fc_p=0.5)
    features = nn.Sequential(
        nn.Conv2d(input_shape[0], 32, kernel_size=3), nn.ReLU(), conv_drop(),
        nn.Conv2d(32, 32, kernel_size=3), nn.ReLU(), conv_drop(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel_size=3), nn.ReLU(), conv_drop(),
        nn.Conv2d(64, 64, kernel_size=3), nn.ReLU(), conv_drop(), nn.MaxPool2d(2),
        nn.Flatten(),
    )
    flat = _flattened_size(features, input_shape)
    return nn.Sequential(*features, nn.ReLU(), fc_drop(), nn.Linear(flat, num_classes))


def resnet18(uncertainty: str, num_classes: int, input_shape: Sequence[int]) -> nn.Module:
    import torchvision

    net = torchvision.models.resnet18(num_classes=num_classes)
    # CIFAR stem (docs/algorithms.md#models): 3x3 stride-1 conv and no max-pool, so 32x32 inputs are not shrunk 4x at once.
    net.conv1 = nn.Conv2d(input_shape[0], 64, kernel_size=3, stride=1, padding=1, bias=False)
    net.maxpool = nn.Identity()
    return net


def mlp(uncertainty: str, num_classes: int, input_shape: Sequence[int]) -> nn.Sequential:
    _, fc_drop = _dropout_factory(uncertainty, conv_p=0.5, fc_p=0.5)
    return nn.Sequential(nn.Flatten(), nn.Linear(int(torch.Size(input_shape).numel()), MLP_HIDDEN), fc_drop(), nn.ReLU(),
                         nn.Linear(MLP_HIDDEN, num_classes))
