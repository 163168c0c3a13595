"""Models as records: name, where the builder is, supported uncertainty methods, input rank and memory. Torch-free.

The workflow reads these when it parses (config checks, resource estimates). A run receives its model's
`architecture()` as part of its parameter and builds the network from the module it names
(sbadbal/models/bayesian.py: `build_model`), so a run's architecture code input is that module alone and adding a
record reruns nothing. Adding a model: a builder (sbadbal/models/architectures.py, or a module of its own), one
record here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

UNCERTAINTY_METHODS = ("mc_dropout", "ensemble")


@dataclass(frozen=True)
class ModelRecord:
    name: str
    module: str  # the module holding the builder, dotted
    builder: str  # the function there that builds the network: builder(uncertainty, num_classes, input_shape)
    uncertainty_methods: tuple[str, ...]
    input_rank: int  # dimensions of one input without the batch: 3 for images (C, H, W), 1 for embeddings
    working_mb: int  # a training job's working set for the model (activations, optimiser), for scheduling
    description: str = ""

    def architecture(self) -> dict[str, Any]:
        """What a run needs to build the network, as plain values (part of the run rule's parameter)."""
        return {"name": self.name, "module": self.module, "builder": self.builder, "input_rank": self.input_rank,
                "uncertainty_methods": list(self.uncertainty_methods)}


BOTH = ("mc_dropout", "ensemble")
_ARCHITECTURES = "sbadbal.models.architectures"

RECORDS = (
    ModelRecord("mnist_cnn", _ARCHITECTURES, "mnist_cnn", BOTH, 3, 1000, "the original code's MNIST CNN (2 conv + 2 FC)"),
    ModelRecord("emnist_cnn", _ARCHITECTURES, "emnist_cnn", BOTH, 3, 1000, "the MNIST CNN widened for 47 EMNIST classes"),
    ModelRecord("cifar_cnn", _ARCHITECTURES, "cifar_cnn", BOTH, 3, 1000, "a small CNN for 32x32 colour images (SVHN)"),
    # ResNet-18 has no dropout layers to make consistent, and the original MC + torchvision path crashes.
    ModelRecord("resnet18", _ARCHITECTURES, "resnet18", ("ensemble",), 3, 4000, "torchvision ResNet-18 for CIFAR"),
    # Not from the original code (it has no text model): a small head on 384-d sentence embeddings.
    ModelRecord("mlp", _ARCHITECTURES, "mlp", BOTH, 1, 1000, "an MLP head on frozen sentence embeddings (AG News)"),
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


def architecture(name: str, uncertainty: str | None = None) -> dict[str, Any]:
    """The architecture of model `name` (checked against `uncertainty` when given), for `build_model`."""
    if uncertainty is not None:
        check_model_pair(name, uncertainty)
    elif name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    return MODELS[name].architecture()
