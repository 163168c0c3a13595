"""CIFAR-10 and CIFAR-100: the python pickle batches found under the data root (sbadbal/data/layouts.py), read by
an unpickler that admits numpy arrays only."""

from __future__ import annotations

import io
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .files import RawSplits, _checksums, locate
from .layouts import RAW_LAYOUTS
from .spec import DatasetSpec


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """CIFAR batches are pickles; refuse anything but the numpy types they hold, so a file cannot run code."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("_codecs", "encode"),  # how Python 3 pickles bytes at protocol 2: decodes a str, runs nothing
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"forbidden global {module}.{name}")


def read_cifar_batch(path: str | Path, *, label_key: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One CIFAR python batch (`data` N x 3072 uint8, labels under `label_key`) as N x 3 x 32 x 32 and labels."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            entry = _NumpyOnlyUnpickler(io.BufferedReader(handle), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise ValueError(f"{path}: not a readable CIFAR python batch ({type(error).__name__}: {error})") from None
    if not isinstance(entry, dict) or "data" not in entry or label_key not in entry:
        keys = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
        raise ValueError(f"{path}: a CIFAR batch needs keys 'data' and {label_key!r}, found {keys}")
    data = np.asarray(entry["data"])
    labels = np.asarray(entry[label_key])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{path}: CIFAR 'data' must be uint8 N x 3072, got {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],):
        raise ValueError(f"{path}: {data.shape[0]} images but labels of shape {labels.shape}")
    images = torch.from_numpy(data.reshape(-1, 3, 32, 32).copy())
    return images, torch.from_numpy(labels.astype(np.int64))


# name -> the key of the labels in its batches; the files and folders are the layout's (sbadbal/data/layouts.py).
CIFAR_LABEL_KEYS = {"CIFAR10": "labels", "CIFAR100": "fine_labels"}


def load_cifar_dataset(name: str, data_dir: Path) -> RawSplits:
    found = locate(name, data_dir)
    *train_files, test_file = RAW_LAYOUTS[name].files

    def read(files: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [read_cifar_batch(found[f], label_key=CIFAR_LABEL_KEYS[name]) for f in files]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    train_x, train_y = read(train_files)
    test_x, test_y = read([test_file])
    return RawSplits(train_x, train_y, test_x, test_y, _checksums(found))


def load(spec: DatasetSpec, root: Path, *, cache: bool) -> tuple[RawSplits, dict[str, Any]]:
    """The source's entry (sbadbal/data/prepare.py): the base dataset's splits, no extra metadata."""
    return load_cifar_dataset(spec.base, root), {}
