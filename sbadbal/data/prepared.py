"""A prepared dataset in memory: raw arrays plus everything needed to turn indices into model inputs.

Images stay uint8 until a batch is requested, so repeated datasets (RMNIST, RCIFAR) cost no extra memory:
copy r of base image i sits at pool index i + r * n_base, as in the original's ConcatDataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

AUGMENTATIONS = ("none", "crop_flip_zero", "crop_flip_reflect")


@dataclass
class PreparedDataset:
    name: str
    num_classes: int
    kind: str  # "image" (uint8 N x C x H x W) or "embedding" (float32 N x D)
    base_train_x: torch.Tensor = field(repr=False)
    base_train_y: torch.Tensor = field(repr=False)
    test_x: torch.Tensor = field(repr=False)
    test_y: torch.Tensor = field(repr=False)
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    augmentation: str = "none"
    repeats: int = 1
    noise_std: float = 0.0
    noise_seed: int = 0
    metadata: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in ("image", "embedding"):
            raise ValueError(f"kind must be 'image' or 'embedding', got {self.kind!r}")
        if self.augmentation not in AUGMENTATIONS:
            raise ValueError(f"augmentation {self.augmentation!r} is not one of {AUGMENTATIONS}")
        if self.repeats < 1:
            raise ValueError(f"repeats must be >= 1, got {self.repeats}")
        if self.noise_std < 0:
            raise ValueError(f"noise_std must be >= 0, got {self.noise_std}")
        self._check_arrays()
        self._noise_R_H_W: torch.Tensor | None = None

    def _check_arrays(self) -> None:
        """Arrays that disagree with each other would fail much later, inside a model; fail here instead."""
        for split, x, y in (("train", self.base_train_x, self.base_train_y), ("test", self.test_x, self.test_y)):
            if y.dim() != 1 or len(x) != len(y):
                raise ValueError(f"{self.name}: {split} inputs {tuple(x.shape)} and labels {tuple(y.shape)} do not pair up")
            if len(y) and (int(y.min()) < 0 or int(y.max()) >= self.num_classes):
                raise ValueError(f"{self.name}: {split} labels must lie in 0..{self.num_classes - 1}")
        if self.base_train_x.shape[1:] != self.test_x.shape[1:]:
            raise ValueError(f"{self.name}: train inputs {tuple(self.base_train_x.shape[1:])} and test inputs {tuple(self.test_x.shape[1:])} differ in shape")
        if self.kind == "image":
            if self.base_train_x.dtype != torch.uint8 or self.base_train_x.dim() != 4:
                raise ValueError(f"{self.name}: images must be uint8 N x C x H x W, got {self.base_train_x.dtype} {tuple(self.base_train_x.shape)}")
            if len(self.mean) != len(self.std) or len(self.mean) not in (1, self.base_train_x.shape[1]):
                raise ValueError(f"{self.name}: mean/std need one value or one per channel, got {self.mean} / {self.std}")
        elif self.noise_std > 0:
            raise ValueError(f"{self.name}: noise_std applies to image datasets only")

    @property
    def num_base_train(self) -> int:
        return len(self.base_train_y)

    @property
    def num_train(self) -> int:
        return self.num_base_train * self.repeats

    @property
    def num_test(self) -> int:
        return len(self.test_y)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.base_train_x.shape[1:])

    @property
    def train_targets(self) -> torch.Tensor:
        return self.base_train_y.repeat(self.repeats)

    @property
    def test_targets(self) -> torch.Tensor:
        return self.test_y

    def train_inputs(
        self, indices: torch.Tensor, *, augment: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Normalised float32 inputs of pool/train indices (repeat-aware); augmentation only when asked."""
        indices = torch.as_tensor(indices, dtype=torch.long)
        x = self._normalise(self.base_train_x[indices % self.num_base_train])
        if self.noise_std > 0:
            x = x + self._noise()[indices].unsqueeze(1)  # one H x W field per repeated index, shared by channels
        if augment and self.augmentation != "none":
            x = crop_flip(x, padding_mode="reflect" if self.augmentation == "crop_flip_reflect" else "zeros", generator=generator)
        return x

    def test_inputs(self, indices: torch.Tensor) -> torch.Tensor:
        return self._normalise(self.test_x[torch.as_tensor(indices, dtype=torch.long)])

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "embedding":
            return x.float()
        x = x.float().div_(255.0)
        mean = torch.tensor(self.mean, dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32).view(1, -1, 1, 1)
        return (x - mean) / std

    def _noise(self) -> torch.Tensor:
        # Fixed at first use from noise_seed, as BlackHC's RMNIST: the same field every time an index is read.
        if self._noise_R_H_W is None:
            if self.kind != "image":
                raise ValueError("noise_std applies to image datasets only")
            generator = torch.Generator().manual_seed(self.noise_seed)
            height, width = self.input_shape[-2:]
            self._noise_R_H_W = torch.randn(self.num_train, height, width, generator=generator) * self.noise_std
        return self._noise_R_H_W


def crop_flip(
    x_B_C_H_W: torch.Tensor, *, padding: int = 4, padding_mode: str = "zeros", generator: torch.Generator | None = None
) -> torch.Tensor:
    """Random crop after padding plus horizontal flip, per image, on a whole batch at once."""
    batch, _, height, width = x_B_C_H_W.shape
    mode = "constant" if padding_mode == "zeros" else padding_mode
    padded = F.pad(x_B_C_H_W, (padding,) * 4, mode=mode)
    offsets_B_2 = torch.randint(0, 2 * padding + 1, (batch, 2), generator=generator)
    flips_B = torch.rand(batch, generator=generator) < 0.5
    rows = offsets_B_2[:, 0, None] + torch.arange(height)  # B x H
    cols = offsets_B_2[:, 1, None] + torch.arange(width)  # B x W
    cols = torch.where(flips_B[:, None], cols.flip(1), cols)
    batch_idx = torch.arange(batch)[:, None, None]
    cropped = padded.permute(0, 2, 3, 1)[batch_idx, rows[:, :, None], cols[:, None, :]]  # B x H x W x C
    return cropped.permute(0, 3, 1, 2).contiguous()
