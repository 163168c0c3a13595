"""SVHN: the format-2 .mat files found under the data root (sbadbal/data/layouts.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .files import RawSplits, _checksums, locate
from .spec import DatasetSpec


def read_svhn_mat(path: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """SVHN's format-2 .mat file (`X` 32 x 32 x 3 x N, `y` N x 1 with 10 meaning digit 0)."""
    import scipy.io

    path = Path(path)
    try:
        mat = scipy.io.loadmat(path)
    except Exception as error:  # scipy raises many types (ValueError, MatReadError, OSError) for broken files
        raise ValueError(f"{path}: not a readable SVHN .mat file ({type(error).__name__}: {error})") from None
    if "X" not in mat or "y" not in mat:
        raise ValueError(f"{path}: an SVHN .mat file needs variables 'X' and 'y'")
    x, y = np.asarray(mat["X"]), np.asarray(mat["y"]).reshape(-1)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[:3] != (32, 32, 3) or x.shape[3] != len(y):
        raise ValueError(f"{path}: SVHN 'X' must be uint8 32 x 32 x 3 x {len(y)}, got {x.dtype} {x.shape}")
    images = torch.from_numpy(np.ascontiguousarray(x.transpose(3, 2, 0, 1)))
    labels = torch.from_numpy((y.astype(np.int64) % 10))  # SVHN stores digit 0 as label 10
    return images, labels


def load_svhn_dataset(name: str, data_dir: Path) -> RawSplits:
    found = locate(name, data_dir)
    train_x, train_y = read_svhn_mat(found["train_32x32.mat"])
    test_x, test_y = read_svhn_mat(found["test_32x32.mat"])
    return RawSplits(train_x, train_y, test_x, test_y, _checksums(found))


def load(spec: DatasetSpec, root: Path, *, cache: bool) -> tuple[RawSplits, dict[str, Any]]:
    """The source's entry (sbadbal/data/prepare.py): the base dataset's splits, no extra metadata."""
    return load_svhn_dataset(spec.base, root), {}
