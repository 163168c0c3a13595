"""The MNIST family (MNIST, Fashion-MNIST, KMNIST, EMNIST-balanced): IDX files (raw or gzipped) found under the
data root in the layouts of sbadbal/data/layouts.py (retrieval puts them there). A corrupt or truncated file raises
one ValueError naming it and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .files import RawSplits, _checksums, locate, read_maybe_gzip
from .layouts import RAW_LAYOUTS
from .spec import DatasetSpec

# IDX magic: two zero bytes, a type code, then the number of dimensions (LeCun's MNIST format).
_IDX_UBYTE = 0x08


def read_idx(path: str | Path, *, expected_ndim: int) -> torch.Tensor:
    """An IDX file (raw or .gz) of unsigned bytes as a uint8 tensor, with its header checked against its size."""
    path = Path(path)
    data = read_maybe_gzip(path)
    if len(data) < 4:
        raise ValueError(f"{path}: not an IDX file (only {len(data)} bytes)")
    zero, type_code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0 or type_code != _IDX_UBYTE or ndim != expected_ndim:
        raise ValueError(
            f"{path}: bad IDX magic {data[:4].hex()} (expected 0000{_IDX_UBYTE:02x}{expected_ndim:02x}: "
            f"unsigned bytes, {expected_ndim} dimensions)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise ValueError(f"{path}: IDX header says shape {shape} ({expected} bytes) but the file holds {len(data)} bytes")
    array = np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)
    return torch.from_numpy(array.copy())


def read_idx_pair(images_path: Path, labels_path: Path, *, transpose: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N x 1 x H x W) and labels of one IDX split; EMNIST's images are stored transposed."""
    images = read_idx(images_path, expected_ndim=3)
    labels = read_idx(labels_path, expected_ndim=1).long()
    if len(images) != len(labels):
        raise ValueError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    if transpose:
        images = images.transpose(1, 2).contiguous()
    return images.unsqueeze(1), labels


# name -> images stored transposed (EMNIST's are); the files and folders are the layout's (sbadbal/data/layouts.py).
IDX_DATASETS: dict[str, bool] = {"MNIST": False, "FMNIST": False, "KMNIST": False, "EMNIST": True}


def load_idx_dataset(name: str, data_dir: Path) -> RawSplits:
    found = locate(name, data_dir)
    train_images, train_labels, test_images, test_labels = (found[n] for n in RAW_LAYOUTS[name].files)
    train_x, train_y = read_idx_pair(train_images, train_labels, transpose=IDX_DATASETS[name])
    test_x, test_y = read_idx_pair(test_images, test_labels, transpose=IDX_DATASETS[name])
    return RawSplits(train_x, train_y, test_x, test_y, _checksums(found))


def load(spec: DatasetSpec, root: Path, *, cache: bool) -> tuple[RawSplits, dict[str, Any]]:
    """The source's entry (sbadbal/data/prepare.py): the base dataset's splits, no extra metadata."""
    return load_idx_dataset(spec.base, root), {}
