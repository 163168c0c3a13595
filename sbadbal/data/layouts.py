"""Where each raw source's files may lie under the data root: the one table that the loaders (reading), the
retrieval (writing) and the workflow's parse-time check (are they there?) share. Torch-free.

A layout is a set of file names and the folders, relative to the data root, searched in order; each name may carry
one of the layout's suffixes (the IDX files raw or gzipped). The first folder is where retrieval writes. A system
folder outside the root (Debian's `dataset-fashion-mnist`) is searched last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType


@dataclass(frozen=True)
class RawLayout:
    """The files of one raw source and the folders that may hold them."""

    files: tuple[str, ...]
    folders: tuple[str, ...]  # relative to the data root; "" is the root itself; the first is where retrieval writes
    suffixes: tuple[str, ...] = ("",)  # accepted endings of each name, in order of preference
    system_folders: tuple[str, ...] = ()  # absolute folders searched after the root's

    def search_dirs(self, root: Path, *, system: bool = True) -> list[Path]:
        local = [Path(root) / folder if folder else Path(root) for folder in self.folders]
        return local + ([Path(folder) for folder in self.system_folders] if system else [])

    def destination(self, root: Path) -> Path:
        return self.search_dirs(root, system=False)[0]

    def find(self, root: Path, *, system: bool = True) -> dict[str, Path] | None:
        """The first folder holding every file (with an accepted suffix), as name -> path; None if none does."""
        return find_files(self.search_dirs(root, system=system), self.files, self.suffixes)

    def describe_files(self) -> str:
        """The file names as a reader should place them, e.g. `train-images-idx3-ubyte[.gz]`."""
        endings = [s for s in self.suffixes if s]
        if not endings:
            return ", ".join(self.files)
        if "" in self.suffixes:
            return ", ".join(f"{name}[{'|'.join(endings)}]" for name in self.files)
        return ", ".join(f"{name}{{{','.join(endings)}}}" for name in self.files)


def find_files(directories: Sequence[Path], names: Sequence[str], suffixes: Sequence[str]) -> dict[str, Path] | None:
    """The first directory holding every name (with one of `suffixes`), as name -> path."""
    for directory in directories:
        found = {}
        for name in names:
            hit = next((directory / f"{name}{s}" for s in suffixes if (directory / f"{name}{s}").is_file()), None)
            if hit is None:
                break
            found[name] = hit
        else:
            return found
    return None


MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
EMNIST_FILES = tuple(
    f"emnist-balanced-{split}-{kind}" for split in ("train", "test") for kind in ("images-idx3-ubyte", "labels-idx1-ubyte")
)
# Debian's dataset-fashion-mnist puts the original IDX .gz files here.
DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
_GZ = ("", ".gz")


def _idx(folder: str, name: str, files: tuple[str, ...] = MNIST_FILES, system: tuple[str, ...] = ()) -> RawLayout:
    # torchvision's layout (<Class>/raw/), the class folder itself, a lower-case folder, and the root itself.
    return RawLayout(files, (f"{folder}/raw", folder, name.lower(), ""), _GZ, system)


# Raw source name (a dataset's base name, sbadbal/data/records.py) -> its layout.
RAW_LAYOUTS: Mapping[str, RawLayout] = MappingProxyType({
    "MNIST": _idx("MNIST", "MNIST"),
    "FMNIST": _idx("FashionMNIST", "FMNIST", system=(DEBIAN_FASHION_MNIST,)),
    "KMNIST": _idx("KMNIST", "KMNIST"),
    "EMNIST": _idx("EMNIST", "EMNIST", EMNIST_FILES),
    "CIFAR10": RawLayout((*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"),
                         ("cifar-10-batches-py", "cifar10/cifar-10-batches-py")),
    "CIFAR100": RawLayout(("train", "test"), ("cifar-100-python", "cifar100/cifar-100-python")),
    # torchvision writes SVHN's files into the root itself; retrieval writes them into SVHN/.
    "SVHN": RawLayout(("train_32x32.mat", "test_32x32.mat"), ("SVHN", "", "svhn")),
    "AGNEWS": RawLayout(("train", "test"), ("ag_news",), (".csv", ".parquet")),
})

# Source options that name the files themselves, so that no raw source is read (AG News's local_csv).
LOCAL_FILE_OPTION_PREFIX = "local_"


def raw_source(base: str, options: Mapping[str, object] | None = None) -> str | None:
    """The raw source a dataset of base `base` reads under the data root, or None (files named by its options,
    or data shipped with a package such as MNIST5K's)."""
    if base not in RAW_LAYOUTS:
        return None
    if any(str(key).startswith(LOCAL_FILE_OPTION_PREFIX) for key in (options or {})):
        return None
    return base


def retrieve_command(suite: str | None = None) -> str:
    """The one command that fetches a suite's raw files (on a machine with internet; on a cluster, the login node)."""
    return f"snakemake --cores 1 retrieve --config suite={suite or '<suite>'}"


def missing_message(name: str, root: Path, suite: str | None = None) -> str:
    """What to place where, or the command that fetches it, for a raw source not found under `root`."""
    layout = RAW_LAYOUTS[name]
    where = "\n  ".join(str(d) for d in layout.search_dirs(root))
    return (f"{name} data not found. Place the files {layout.describe_files()} in one of:\n  {where}\n"
            f"or fetch them on a machine with internet (a cluster's login node): {retrieve_command(suite)}, "
            f"or python -m sbadbal prepare {name} --download ...")
