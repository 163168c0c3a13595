"""The seed's architectures by name (docs/algorithms.md#models), in a consistent-MC-dropout and an ensemble-member variant.

Every model maps a batch of inputs to log-probabilities. `forward(x_B)` gives one sample, `log_probs_B_C`
(in training: a fresh dropout mask per row). Models built for `mc_dropout` are `BayesianModule`s and also
offer `mc_forward(x_B, k) -> log_probs_B_K_C`: in eval mode the K masks are drawn once per evaluation pass
(see `reset_consistent_masks`) and shared by every later batch, as BatchBALD's joint entropies need.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

# Names, supported uncertainty methods and input ranks are records in sbadbal/model_registry.py (torch-free).
from sbadbal.model_registry import MODEL_NAMES, MODELS, UNCERTAINTY_METHODS, check_model_pair  # noqa: E402,F401

MLP_HIDDEN = 256  # not from the seed (it has no text model): a small head on 384-d sentence embeddings


class _ConsistentDropout(nn.Module):
    """Dropout whose eval-mode masks, one per posterior sample k, stay fixed until the next reset.

    Training mode: a fresh Bernoulli mask per row and call (plain dropout). Eval mode: the first call after a
    reset draws masks of shape [1, k, *mask_features] from the layer's generator; later calls reuse them, so
    all pool batches of one evaluation pass see the same K sub-networks. Scaling is 1/(1-p) in both modes.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.k = 1
        self.mask: torch.Tensor | None = None
        self.generator: torch.Generator | None = None

    def reset_mask(self, generator: torch.Generator | None) -> None:
        self.mask = None
        self.generator = generator

    def _mask_shape(self, x_B_K_rest: torch.Tensor) -> tuple[int, ...]:
        raise NotImplementedError

    def _functional_dropout(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x_BK_rest: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0:
            return x_BK_rest
        if self.training:
            return self._functional_dropout(x_BK_rest)
        x_B_K_rest = x_BK_rest.view(-1, self.k, *x_BK_rest.shape[1:])
        shape = self._mask_shape(x_B_K_rest)
        if self.mask is None:
            # Drawn on the CPU from an explicit generator: the same masks on every device and every run.
            keep = torch.empty(shape).bernoulli_(1.0 - self.p, generator=self.generator)
            self.mask = (keep / (1.0 - self.p)).to(x_BK_rest.device, x_BK_rest.dtype)
        elif tuple(self.mask.shape) != shape:
            raise RuntimeError(
                f"consistent dropout masks were drawn for shape {tuple(self.mask.shape)} but the input needs {shape}; "
                "call reset_consistent_masks before changing the number of samples"
            )
        return (x_B_K_rest * self.mask).view_as(x_BK_rest)


class ConsistentMCDropout(_ConsistentDropout):
    """Element-wise consistent MC dropout for B*k x features inputs."""

    def _mask_shape(self, x_B_K_rest: torch.Tensor) -> tuple[int, ...]:
        return (1, self.k, *x_B_K_rest.shape[2:])

    def _functional_dropout(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.p, training=True)


class ConsistentMCDropout2d(_ConsistentDropout):
    """Channel-wise consistent MC dropout for B*k x C x H x W inputs (mask [1, k, C, 1, 1])."""

    def _mask_shape(self, x_B_K_rest: torch.Tensor) -> tuple[int, ...]:
        return (1, self.k, x_B_K_rest.shape[2], 1, 1)

    def _functional_dropout(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout2d(x, self.p, training=True)


class BayesianModule(nn.Module):
    """A net with consistent MC dropout layers: `mc_forward(x_B, k)` returns log_probs_B_K_C."""

    net: nn.Sequential

    def forward(self, x_B: torch.Tensor) -> torch.Tensor:
        return self.mc_forward(x_B, 1).squeeze(1)

    def mc_forward(self, x_B: torch.Tensor, k: int) -> torch.Tensor:
        for layer in self.consistent_layers():
            layer.k = k
        # Each input repeated k times in a row (b0 k0, b0 k1, ...), matching the [1, k, ...] mask layout.
        x_BK = x_B.repeat_interleave(k, dim=0)
        logits_BK_C = self.net(x_BK)
        return F.log_softmax(logits_BK_C, dim=1).view(x_B.shape[0], k, -1)

    def consistent_layers(self) -> list[_ConsistentDropout]:
        return [m for m in self.modules() if isinstance(m, _ConsistentDropout)]


class EnsembleMember(nn.Module):
    """A deterministic-at-eval net (plain dropout active only in training); `forward` returns log_probs_B_C."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x_B: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.net(x_B), dim=1)


def reset_consistent_masks(model: nn.Module, generator: torch.Generator | None) -> None:
    """Start a new evaluation pass: the next eval-mode forward draws fresh masks from `generator`."""
    for module in model.modules():
        if isinstance(module, _ConsistentDropout):
            module.reset_mask(generator)


def _flattened_size(features: nn.Module, input_shape: Sequence[int]) -> int:
    with torch.no_grad():
        return int(features(torch.zeros(1, *input_shape)).numel())


def _dropout_factory(uncertainty: str, *, conv_p: float, fc_p: float):
    """The seed's two dropout flavours: consistent 2-D/1-D MC dropout, or plain element-wise dropout."""
    if uncertainty == "mc_dropout":
        return (lambda: ConsistentMCDropout2d(conv_p)), (lambda: ConsistentMCDropout(fc_p))
    return (lambda: nn.Dropout(conv_p)), (lambda: nn.Dropout(fc_p))


def _mnist_cnn(uncertainty: str, num_classes: int, input_shape: Sequence[int]) -> nn.Sequential:
    # CNN_MC_RMNIST / CNN_ENS_RMNIST: dropout before pooling and ReLU, as in the seed and BlackHC's BayesianCNN.
    conv_drop, fc_drop = _dropout_factory(uncertainty, conv_p=0.5 if uncertainty == "mc_dropout" else 0.25, fc_p=0.5)
    features = nn.Sequential(
        nn.Conv2d(input_shape[0], 32, kernel_size=5), conv_drop(), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(32, 64, kernel_size=5), conv_drop(), nn.MaxPool2d(2), nn.ReLU(),
        nn.Flatten(),
    )
    flat = _flattened_size(features, input_shape)
    return nn.Sequential(*features, nn.Linear(flat, 128), fc_drop(), nn.ReLU(), nn.Linear(128, num_classes))


def _emnist_cnn(uncertainty: str, num_classes: int, input_shape: Sequence[int]) -> nn.Sequential:
    conv_drop, fc_drop = _dropout_factory(uncertainty, conv_p=0.5 if uncertainty == "mc_dropout" else 0.25, fc_p=0.5)
    features = nn.Sequential(
        nn.Conv2d(input_shape[0], 32, kernel_size=3), conv_drop(), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(32, 64, kernel_size=3), conv_drop(), nn.ReLU(),
        nn.Conv2d(64, 128, kernel_size=3), conv_drop(), nn.MaxPool2d(2), nn.ReLU(),
        nn.Flatten(),
    )
    flat = _flattened_size(features, input_shape)
    return nn.Sequential(*features, nn.Linear(flat, 512), fc_drop(), nn.ReLU(), nn.Linear(512, num_classes))


def _cifar_cnn(uncertainty: str, num_classes: int, input_shape: Sequence[int]) -> nn.Sequential:
    # CNN_ENS_CIFAR10; the seed has no MC twin, ours swaps in consistent dropout at the same places and rates.
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


def _resnet18(uncertainty: str, num_classes: int, input_shape: Sequence[int]) -> nn.Module:
    import torchvision

    net = torchvision.models.resnet18(num_classes=num_classes)
    # CIFAR stem (docs/algorithms.md#models): 3x3 stride-1 conv and no max-pool, so 32x32 inputs are not shrunk 4x at once.
    net.conv1 = nn.Conv2d(input_shape[0], 64, kernel_size=3, stride=1, padding=1, bias=False)
    net.maxpool = nn.Identity()
    return net


def _mlp(uncertainty: str, num_classes: int, input_shape: Sequence[int]) -> nn.Sequential:
    _, fc_drop = _dropout_factory(uncertainty, conv_p=0.5, fc_p=0.5)
    return nn.Sequential(nn.Flatten(), nn.Linear(int(torch.Size(input_shape).numel()), MLP_HIDDEN), fc_drop(), nn.ReLU(),
                         nn.Linear(MLP_HIDDEN, num_classes))


# Each record names its builder among the functions above.
_BUILDERS = {name: globals()[record.builder] for name, record in MODELS.items()}


def init_glorot(model: nn.Module, generator: torch.Generator) -> None:
    """Xavier-uniform on the weights of every Linear and Conv2d (seed utils.init_glorot); biases keep defaults."""
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(module.weight, generator=generator)


def build_model(
    name: str,
    *,
    num_classes: int,
    input_shape: Sequence[int],
    uncertainty: str = "mc_dropout",
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """A freshly initialised model: a `BayesianModule` for mc_dropout, an `EnsembleMember` for ensemble.

    Give `seed` (or a CPU `generator`) for a reproducible initialisation; PyTorch's default bias init uses the
    global RNG, so construction runs under a forked RNG seeded from the same source and leaves it untouched.
    """
    check_model_pair(name, uncertainty)
    input_shape = tuple(int(d) for d in input_shape)
    if len(input_shape) != MODELS[name].input_rank:
        raise ValueError(
            f"model {name!r} needs inputs of rank {MODELS[name].input_rank} (without batch), got input_shape {input_shape}"
        )
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    if generator is None:
        if seed is None:
            raise ValueError("build_model needs a seed or a generator (every random choice is explicit)")
        generator = torch.Generator().manual_seed(int(seed))
    construction_seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(construction_seed)
        net = _BUILDERS[name](uncertainty, num_classes, input_shape)
    init_glorot(net, generator)
    if uncertainty == "mc_dropout":
        model = BayesianModule()
        model.net = net
        return model
    return EnsembleMember(net)
