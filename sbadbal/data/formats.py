"""Readers of the on-disk formats the datasets ship in, each checking what it reads.

A corrupt or truncated file raises one ValueError naming the file and what is wrong with it, never a numpy
reshape error from deep inside. The readers return uint8 images as N x C x H x W and int64 labels.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
from pathlib import Path

import numpy as np
import torch

# IDX magic: two zero bytes, a type code, then the number of dimensions (LeCun's MNIST format).
_IDX_UBYTE = 0x08


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_maybe_gzip(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise ValueError(f"{path}: corrupt or truncated gzip file ({error})") from None


def read_idx(path: str | Path, *, expected_ndim: int) -> torch.Tensor:
    """An IDX file (raw or .gz) of unsigned bytes as a uint8 tensor, with its header checked against its size."""
    path = Path(path)
    data = _read_maybe_gzip(path)
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
