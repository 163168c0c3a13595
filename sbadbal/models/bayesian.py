"""Bayesian networks: consistent MC dropout layers, the `BayesianModule` with its factorised forward, ensemble members,
and `build_model`, which builds an architecture (sbadbal/models/architectures.py) named by its record as one of them.

Every model maps a batch of inputs to log-probabilities. `forward(x_B)` gives one sample, `log_probs_B_C`
(in training: a fresh dropout mask per row). Models built for `mc_dropout` are `BayesianModule`s and also
offer `mc_forward(x_B, k) -> log_probs_B_K_C`: in eval mode the K masks are drawn once per evaluation pass
(see `reset_consistent_masks`) and shared by every later batch, as BatchBALD's joint entropies need.
`factorised_mc_forward` gives the same log-probabilities with the same masks, doing the mask-independent work
once per input (exact factorisation for mnist_cnn, the deterministic prefix for the other MC models; see
`BayesianModule`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import import_module
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


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

    def _mask_shape(self, k: int, feature_shape: Sequence[int]) -> tuple[int, ...]:
        raise NotImplementedError

    def _functional_dropout(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def consistent_mask(self, k: int, feature_shape: Sequence[int], like: torch.Tensor) -> torch.Tensor:
        """The pass's K masks for inputs of `feature_shape` (per row, without batch): drawn on first use, then reused.

        Both inference paths get their masks here, in layer order, so they draw the same masks from the generator.
        """
        shape = self._mask_shape(k, tuple(feature_shape))
        if self.p == 0.0:  # the K-pass forward skips such a layer without drawing: so must this
            return torch.ones(shape, device=like.device, dtype=like.dtype)
        if self.mask is None:
            # Drawn on the CPU from an explicit generator: the same masks on every device and every run.
            keep = torch.empty(shape).bernoulli_(1.0 - self.p, generator=self.generator)
            self.mask = (keep / (1.0 - self.p)).to(like.device, like.dtype)
        elif tuple(self.mask.shape) != shape:
            raise RuntimeError(
                f"consistent dropout masks were drawn for shape {tuple(self.mask.shape)} but the input needs {shape}; "
                "call reset_consistent_masks before changing the number of samples"
            )
        return self.mask

    def forward(self, x_BK_rest: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0:
            return x_BK_rest
        if self.training:
            return self._functional_dropout(x_BK_rest)
        x_B_K_rest = x_BK_rest.view(-1, self.k, *x_BK_rest.shape[1:])
        mask = self.consistent_mask(self.k, x_BK_rest.shape[1:], x_BK_rest)
        return (x_B_K_rest * mask).view_as(x_BK_rest)


class ConsistentMCDropout(_ConsistentDropout):
    """Element-wise consistent MC dropout for B*k x features inputs."""

    def _mask_shape(self, k: int, feature_shape: Sequence[int]) -> tuple[int, ...]:
        return (1, k, *feature_shape)

    def _functional_dropout(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.p, training=True)


class ConsistentMCDropout2d(_ConsistentDropout):
    """Channel-wise consistent MC dropout for B*k x C x H x W inputs (mask [1, k, C, 1, 1])."""

    def _mask_shape(self, k: int, feature_shape: Sequence[int]) -> tuple[int, ...]:
        return (1, k, feature_shape[0], 1, 1)

    def _functional_dropout(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout2d(x, self.p, training=True)


class BayesianModule(nn.Module):
    """A net with consistent MC dropout layers: `mc_forward(x_B, k)` returns log_probs_B_K_C.

    Two eval-mode inference paths give the same log-probabilities up to float rounding, with the same masks:
      - `mc_forward`: the reference K-pass forward, every input repeated K times through the whole net;
      - `factorised_mc_forward`: work that does not depend on the mask done once per input (see `inference_saving`):
        * `mnist_cnn` ("factorised"): conv1 -> pool -> ReLU once per image; conv2 as per-input-channel partial
          convolutions once per image, combined with the K x 32 channel-mask matrix by one matrix product; then
          pooling, bias, masks and the two Linear layers per sample;
        * `emnist_cnn`, `cifar_cnn`, `mlp` ("prefix"): the deterministic layers before the first dropout layer
          (emnist_cnn: conv1 -> pool -> ReLU; cifar_cnn: conv1 -> ReLU; mlp: Linear -> ReLU) once per input, the rest K
          times. Non-negative mask scalars commute exactly with ReLU, and channel masks with max-pooling.
    """

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

    def factorised_mc_forward(self, x_B: torch.Tensor, k: int) -> torch.Tensor:
        """log_probs_B_K_C as `mc_forward` in eval mode (same masks, float rounding apart), sharing per-input work."""
        if self.training:
            raise RuntimeError("factorised_mc_forward is eval-mode inference; training draws a fresh mask per row")
        for layer in self.consistent_layers():
            layer.k = k
        if _is_mnist_cnn(self.net):
            logits_B_K_C = _mnist_cnn_factorised_logits(self.net, x_B, k)
        else:
            logits_B_K_C = _prefix_shared_logits(self.net, x_B, k)
        return F.log_softmax(logits_B_K_C, dim=-1)

    @property
    def inference_saving(self) -> str:
        """What `factorised_mc_forward` saves: "factorised" (mnist_cnn), "prefix" or "none" (dropout first)."""
        if _is_mnist_cnn(self.net):
            return "factorised"
        prefix, commuting, _ = _split_at_first_dropout(self.net)
        return "prefix" if prefix or commuting else "none"

    def consistent_layers(self) -> list[_ConsistentDropout]:
        return [m for m in self.modules() if isinstance(m, _ConsistentDropout)]


def _commutes_with_mask(layer: nn.Module, dropout: _ConsistentDropout) -> bool:
    """Whether layer(mask * h) == mask * layer(h) exactly for this dropout's non-negative masks.

    ReLU: for every non-negative scalar. Max-pooling: only for one scalar per channel (2-D dropout), since then
    the mask is constant over each pooling window (and multiplying by a positive float is monotonic).
    """
    if isinstance(layer, nn.ReLU):
        return True
    return isinstance(layer, nn.MaxPool2d) and isinstance(dropout, ConsistentMCDropout2d)


def _split_at_first_dropout(net: nn.Sequential) -> tuple[list[nn.Module], list[nn.Module], list[nn.Module]]:
    """(deterministic prefix, mask-commuting layers after the first dropout, rest starting at that dropout)."""
    layers = list(net)
    first = next((i for i, layer in enumerate(layers) if isinstance(layer, _ConsistentDropout)), len(layers))
    prefix = layers[:first]
    if first == len(layers):
        return prefix, [], []
    dropout, after = layers[first], layers[first + 1:]
    commuting = []
    while after and _commutes_with_mask(after[0], dropout):
        commuting.append(after.pop(0))
    return prefix, commuting, [dropout, *after]


def _prefix_shared_logits(net: nn.Sequential, x_B: torch.Tensor, k: int) -> torch.Tensor:
    """logits_B_K_C with the deterministic prefix (and the layers commuting with the first mask) once per input."""
    prefix, commuting, rest = _split_at_first_dropout(net)
    h_B_rest = x_B
    for layer in [*prefix, *commuting]:
        h_B_rest = layer(h_B_rest)
    # The first dropout now sees its input after the commuting layers: same masks (shape (1, k, C, 1, 1) or
    # (1, k, features), unchanged by ReLU and channel-wise pooling), same products.
    h_BK_rest = h_B_rest.repeat_interleave(k, dim=0)
    for layer in rest:
        h_BK_rest = layer(h_BK_rest)
    return h_BK_rest.view(x_B.shape[0], k, -1)


_MNIST_CNN_LAYOUT = (nn.Conv2d, ConsistentMCDropout2d, nn.MaxPool2d, nn.ReLU, nn.Conv2d, ConsistentMCDropout2d,
                     nn.MaxPool2d, nn.ReLU, nn.Flatten, nn.Linear, ConsistentMCDropout, nn.ReLU, nn.Linear)


def _plain_conv(conv: nn.Conv2d) -> bool:
    return (conv.stride == (1, 1) and conv.padding == (0, 0) and conv.dilation == (1, 1) and conv.groups == 1
            and conv.padding_mode == "zeros")


def _plain_pool2(pool: nn.MaxPool2d) -> bool:
    return (pool.kernel_size in (2, (2, 2)) and pool.stride in (2, (2, 2)) and pool.padding in (0, (0, 0))
            and pool.dilation in (1, (1, 1)) and not pool.ceil_mode)


def _is_mnist_cnn(net: nn.Module) -> bool:
    """The mnist_cnn layout with the plain conv and pooling parameters the factorisation assumes."""
    if not isinstance(net, nn.Sequential) or tuple(type(m) for m in net) != _MNIST_CNN_LAYOUT:
        return False
    return (_plain_conv(net[0]) and _plain_conv(net[4]) and net[4].bias is not None and _plain_pool2(net[2])
            and _plain_pool2(net[6]))


def _mnist_cnn_factorised_logits(net: nn.Sequential, x_B: torch.Tensor, k: int) -> torch.Tensor:
    """logits_B_K_C of mnist_cnn: conv1 -> Dropout2d(m1) -> pool -> ReLU -> conv2 -> Dropout2d(m2) -> pool -> ReLU
    -> fc1 -> Dropout(m3) -> ReLU -> fc2, with everything before the masks' first use done once per image.

    m1 is a non-negative scalar per channel, so relu(pool(m1 * conv1(x))) = m1 * a with a = relu(pool(conv1(x))),
    and conv2 is linear in its input channels: conv2(m1 * a) = sum_c m1[c] * conv2_c(a_c) + bias. The partials
    conv2_c(a_c) are one grouped convolution per image; the K combinations one matrix product. Pooling is then taken
    before bias and m2 (both constant per channel). The combined activations are kept in (h, w, k, o) order, a
    channels-last layout for the pooling (about twice as fast as pooling (k, o, h, w) planes).
    """
    conv1, drop1, pool1, _, conv2, drop2, pool2, _, _, fc1, drop3, _, fc2 = net
    B = x_B.shape[0]
    a_B_I_h_w = F.relu(pool1(conv1(x_B)))
    I, O = conv2.in_channels, conv2.out_channels
    masks1_K_I = drop1.consistent_mask(k, (I, 1, 1), a_B_I_h_w).view(k, I)
    # Partial convolutions: group c maps input channel c to O outputs with conv2's weights W[:, c].
    weight_IO_1_r_s = conv2.weight.transpose(0, 1).reshape(I * O, 1, *conv2.kernel_size)
    partials_B_IO_H_W = F.conv2d(a_B_I_h_w.contiguous(memory_format=torch.channels_last), weight_IO_1_r_s, groups=I)
    H, W = partials_B_IO_H_W.shape[-2:]
    partials_BHW_I_O = partials_B_IO_H_W.permute(0, 2, 3, 1).reshape(B * H * W, I, O)
    combined_BHW_K_O = torch.matmul(masks1_K_I, partials_BHW_I_O)
    # View (h, w, k, o) as an NCHW tensor of K * O channels in channels-last memory and pool it there.
    combined_B_KO_H_W = combined_BHW_K_O.view(B, H, W, k * O).permute(0, 3, 1, 2)
    pooled_B_KO_h_w = F.max_pool2d(combined_B_KO_H_W, 2)
    h, w = pooled_B_KO_h_w.shape[-2:]
    pooled_B_hw_K_O = pooled_B_KO_h_w.permute(0, 2, 3, 1).view(B, h * w, k, O)
    masks2_K_O = drop2.consistent_mask(k, (O, 1, 1), pooled_B_hw_K_O).view(k, O)
    features_B_hw_K_O = F.relu((pooled_B_hw_K_O + conv2.bias) * masks2_K_O)
    # fc1 reads features in (o, h, w) order; permute its weights once instead of the activations.
    fc1_weight_J_hwO = fc1.weight.view(fc1.out_features, O, h * w).transpose(1, 2).reshape(fc1.out_features, -1)
    features_BK_hwO = features_B_hw_K_O.transpose(1, 2).reshape(B * k, h * w * O)
    hidden_B_K_J = F.linear(features_BK_hwO, fc1_weight_J_hwO, fc1.bias).view(B, k, -1)
    masks3_K_J = drop3.consistent_mask(k, (fc1.out_features,), hidden_B_K_J).view(k, -1)
    return fc2(F.relu(hidden_B_K_J * masks3_K_J))


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


def init_glorot(model: nn.Module, generator: torch.Generator) -> None:
    """Xavier-uniform on the weights of every Linear and Conv2d (the original's utils.init_glorot); biases keep
    defaults."""
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(module.weight, generator=generator)


def build_model(
    architecture: Mapping[str, Any],
    *,
    num_classes: int,
    input_shape: Sequence[int],
    uncertainty: str = "mc_dropout",
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """A freshly initialised model: a `BayesianModule` for mc_dropout, an `EnsembleMember` for ensemble.

    `architecture`: a model record's plain values (`ModelRecord.architecture()`, the run's parameter): the module
    and function that build the network, its input rank and the uncertainty methods it supports. Give `seed` (or a CPU `generator`) for a reproducible
    initialisation; PyTorch's default bias init uses the global RNG, so construction runs under a forked RNG seeded
    from the same source and leaves it untouched.
    """
    name = architecture.get("name", architecture["builder"])
    supported = tuple(architecture["uncertainty_methods"])
    if uncertainty not in supported:
        raise ValueError(f"model {name!r} does not support uncertainty {uncertainty!r}; it supports {', '.join(supported)}")
    input_shape = tuple(int(d) for d in input_shape)
    if len(input_shape) != architecture["input_rank"]:
        raise ValueError(
            f"model {name!r} needs inputs of rank {architecture['input_rank']} (without batch), got input_shape {input_shape}"
        )
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    if generator is None:
        if seed is None:
            raise ValueError("build_model needs a seed or a generator (every random choice is explicit)")
        generator = torch.Generator().manual_seed(int(seed))
    builder = getattr(import_module(architecture["module"]), architecture["builder"])
    construction_seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(construction_seed)
        net = builder(uncertainty, num_classes, input_shape)
    init_glorot(net, generator)
    if uncertainty == "mc_dropout":
        model = BayesianModule()
        model.net = net
        return model
    return EnsembleMember(net)
