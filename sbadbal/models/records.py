"""Models as records: name, builder, supported uncertainty methods, input rank and memory footprint. Torch-free.

The workflow reads these when it parses (config checks, resource estimates); sbadbal/models/bayesian.py builds the
networks and looks its builders up by the names here. Adding a model: a builder in models.py, one record here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

UNCERTAINTY_METHODS = ("mc_dropout", "ensemble")


@dataclass(frozen=True)
class ModelRecord:
    name: str
    builder: str  # the function in sbadbal/models/bayesian.py that builds the network
    uncertainty_methods: tuple[str, ...]
    input_rank: int  # dimensions of one input without the batch: 3 for images (C, H, W), 1 for embeddings
    working_mb: int  # a training job's working set for the model (activations, optimiser), for scheduling
    description: str = ""


BOTH = ("mc_dropout", "ensemble")

RECORDS = (
    ModelRecord("mnist_cnn", "_mnist_cnn", BOTH, 3, 1000, "the original code's MNIST CNN (2 conv + 2 FC)"),
    ModelRecord("emnist_cnn", "_emnist_cnn", BOTH, 3, 1000, "the MNIST CNN widened for 47 EMNIST classes"),
    ModelRecord("cifar_cnn", "_cifar_cnn", BOTH, 3, 1000, "a small CNN for 32x32 colour images (SVHN)"),
    # ResNet-18 has no dropout layers to make consistent, and the original MC + torchvision path crashes.
    ModelRecord("resnet18", "_resnet18", ("ensemble",), 3, 4000, "torchvision ResNet-18 for CIFAR"),
    # Not from the original code (it has no text model): a small head on 384-d sentence embeddings.
    ModelRecord("mlp", "_mlp", BOTH, 1, 1000, "an MLP head on frozen sentence embeddings (AG News)"),
)

MODELS: Mapping[str, ModelRecord] = MappingProxyType({record.name: record for record in RECORDS})
MODEL_NAMES: tuple[str, ...] = tuple(MODELS)


def check_model_pair(name: str, uncertainty: str) -> None:
    """Raise one clear ValueError for an unknown model or an unsupported (model, uncertainty) pair."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    if uncertainty not in UNCERTAINTY_METHODS:
        raise ValueError(f"unknown uncertainty method {uncertainty!r}; choose one of {', '.join(UNCERTAINTY_METHODS)}")
    supported = MODELS[name].uncertainty_methods
    if uncertainty not in supported:
        raise ValueError(f"model {name!r} does not support uncertainty {uncertainty!r}; it supports {', '.join(supported)}")
