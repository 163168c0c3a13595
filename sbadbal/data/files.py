"""Finding and reading the raw files of the image datasets: local first, then torchvision downloads.

Search order for every dataset: the data directory in the layouts torchvision writes (so a folder that
torchvision once downloaded into is found again) and a flat layout, then known system locations (Debian's
`dataset-fashion-mnist`). Only with `download=True` does torchvision fetch the files into the data directory;
they are then read by the same readers as local files. Missing and offline: one `DataNotFoundError` naming
the files to place and where.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from . import formats

DEFAULT_DATA_DIR = "data"

# Debian's dataset-fashion-mnist puts the original IDX .gz files here.
SYSTEM_DIRS: dict[str, tuple[str, ...]] = {
    "FMNIST": ("/usr/share/datasets/fashion-mnist",),
}


class DataNotFoundError(FileNotFoundError):
    """The files of a dataset are in none of the searched places (and were not downloaded)."""


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    """The caller's data directory, else $SBADBAL_DATA_DIR, else ./data (the seed's folder)."""
    return Path(data_dir if data_dir is not None else os.environ.get("SBADBAL_DATA_DIR", DEFAULT_DATA_DIR))


@dataclass(frozen=True)
class RawSplits:
    """A dataset's base train and test arrays, and the files (with sha256) they were read from."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    files: dict[str, str]


# ---------------------------------------------------------------- locating files


def _find_in(directories: Sequence[Path], names: Sequence[str], *, allow_gz: bool) -> dict[str, Path] | None:
    """The first directory holding every name (raw, or .gz when allowed), as name -> path."""
    for directory in directories:
        found = {}
        for name in names:
            candidates = [directory / name] + ([directory / f"{name}.gz"] if allow_gz else [])
            hit = next((c for c in candidates if c.is_file()), None)
            if hit is None:
                break
            found[name] = hit
        else:
            return found
    return None


def _missing_error(dataset: str, names: Sequence[str], directories: Sequence[Path], allow_gz: bool, why: str = "") -> DataNotFoundError:
    files = ", ".join(names)
    where = "\n  ".join(str(d) for d in directories)
    gz = " (each may also be gzipped, NAME.gz)" if allow_gz else ""
    reason = f"\nDownload failed: {why}" if why else ""
    return DataNotFoundError(
        f"{dataset} data not found. Place the files {files}{gz} in one of:\n  {where}\n"
        f"or allow a download (download=True / --download) on a machine with internet.{reason}"
    )


def _locate_or_download(
    dataset: str,
    names: Sequence[str],
    directories: Sequence[Path],
    *,
    allow_gz: bool,
    download: bool,
    fetch: Callable[[], None],
) -> dict[str, Path]:
    found = _find_in(directories, names, allow_gz=allow_gz)
    if found is not None:
        return found
    if not download:
        raise _missing_error(dataset, names, directories, allow_gz)
    try:
        fetch()
    except Exception as error:  # urllib, RuntimeError from torchvision mirrors, checksum failures...
        raise _missing_error(dataset, names, directories, allow_gz, f"{type(error).__name__}: {error}") from error
    found = _find_in(directories, names, allow_gz=allow_gz)
    if found is None:
        raise _missing_error(dataset, names, directories, allow_gz, "the download finished but the files are not there")
    return found


def _checksums(paths: dict[str, Path]) -> dict[str, str]:
    return {str(path): formats.sha256_file(path) for path in paths.values()}


# ---------------------------------------------------------------- MNIST family (IDX)

_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_EMNIST_FILES = tuple(
    f"emnist-balanced-{split}-{kind}" for split in ("train", "test") for kind in ("images-idx3-ubyte", "labels-idx1-ubyte")
)

# name -> (torchvision class name = its folder under root, file names, images stored transposed)
IDX_DATASETS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "MNIST": ("MNIST", _MNIST_FILES, False),
    "FMNIST": ("FashionMNIST", _MNIST_FILES, False),
    "KMNIST": ("KMNIST", _MNIST_FILES, False),
    "EMNIST": ("EMNIST", _EMNIST_FILES, True),
}


def idx_search_dirs(name: str, data_dir: Path) -> list[Path]:
    folder = IDX_DATASETS[name][0]
    local = [data_dir / folder / "raw", data_dir / folder, data_dir / name.lower(), data_dir]
    return local + [Path(d) for d in SYSTEM_DIRS.get(name, ())]


def _torchvision_fetch_idx(name: str, data_dir: Path) -> None:
    from torchvision import datasets

    folder = IDX_DATASETS[name][0]
    cls = getattr(datasets, folder)
    extra = {"split": "balanced"} if name == "EMNIST" else {}
    for train in (True, False):
        cls(str(data_dir), train=train, download=True, **extra)


def load_idx_dataset(name: str, data_dir: Path, *, download: bool) -> RawSplits:
    _, names, transposed = IDX_DATASETS[name]
    found = _locate_or_download(
        name,
        names,
        idx_search_dirs(name, data_dir),
        allow_gz=True,
        download=download,
        fetch=lambda: _torchvision_fetch_idx(name, data_dir),
    )
    train_images, train_labels, test_images, test_labels = (found[n] for n in names)
    train_x, train_y = formats.read_idx_pair(train_images, train_labels, transpose=transposed)
    test_x, test_y = formats.read_idx_pair(test_images, test_labels, transpose=transposed)
    return RawSplits(train_x, train_y, test_x, test_y, _checksums(found))


# ---------------------------------------------------------------- CIFAR (python pickle batches)

# name -> (torchvision class, folder, train files, test files, label key)
CIFAR_DATASETS = {
    "CIFAR10": ("CIFAR10", "cifar-10-batches-py", tuple(f"data_batch_{i}" for i in range(1, 6)), ("test_batch",), "labels"),
    "CIFAR100": ("CIFAR100", "cifar-100-python", ("train",), ("test",), "fine_labels"),
}


def load_cifar_dataset(name: str, data_dir: Path, *, download: bool) -> RawSplits:
    cls_name, folder, train_files, test_files, label_key = CIFAR_DATASETS[name]

    def fetch() -> None:
        from torchvision import datasets

        getattr(datasets, cls_name)(str(data_dir), train=True, download=True)

    found = _locate_or_download(
        name,
        train_files + test_files,
        [data_dir / folder, data_dir / name.lower() / folder],
        allow_gz=False,
        download=download,
        fetch=fetch,
    )

    def read(files: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [formats.read_cifar_batch(found[f], label_key=label_key) for f in files]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    train_x, train_y = read(train_files)
    test_x, test_y = read(test_files)
    return RawSplits(train_x, train_y, test_x, test_y, _checksums(found))


# ---------------------------------------------------------------- SVHN (.mat)

_SVHN_FILES = ("train_32x32.mat", "test_32x32.mat")


def load_svhn_dataset(name: str, data_dir: Path, *, download: bool) -> RawSplits:
    def fetch() -> None:
        from torchvision import datasets

        for split in ("train", "test"):
            datasets.SVHN(str(data_dir), split=split, download=True)

    found = _locate_or_download(
        name, _SVHN_FILES, [data_dir, data_dir / "SVHN", data_dir / "svhn"], allow_gz=False, download=download, fetch=fetch
    )
    train_x, train_y = formats.read_svhn_mat(found["train_32x32.mat"])
    test_x, test_y = formats.read_svhn_mat(found["test_32x32.mat"])
    return RawSplits(train_x, train_y, test_x, test_y, _checksums(found))
