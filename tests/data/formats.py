"""Writers of small files in the real on-disk formats, so the loaders' real code paths run on them: the data tests
(through the `fmt` fixture, tests/data/conftest.py) and the paper smoke suite (tests/workflow/test_paper_smoke.py)."""

import gzip
import pickle
from pathlib import Path

import numpy as np


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, *, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = idx_bytes(array)
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def fake_images(n: int, shape: tuple, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, *shape), dtype=np.uint8)


def fake_labels(n: int, classes: int) -> np.ndarray:
    return (np.arange(n) % classes).astype(np.uint8)


MNIST_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def write_mnist_like(folder: Path, *, n_train=30, n_test=20, classes=10, gz=False, prefix=None) -> dict:
    """The four IDX files of an MNIST-style dataset; `prefix` gives EMNIST's names (emnist-balanced-train-...)."""
    names = (
        MNIST_NAMES
        if prefix is None
        else tuple(f"{prefix}-{s}-{k}" for s in ("train", "test") for k in ("images-idx3-ubyte", "labels-idx1-ubyte"))
    )
    arrays = {
        "train_x": fake_images(n_train, (28, 28), 1),
        "train_y": fake_labels(n_train, classes),
        "test_x": fake_images(n_test, (28, 28), 2),
        "test_y": fake_labels(n_test, classes)[::-1].copy(),
    }
    for name, key in zip(names, ("train_x", "train_y", "test_x", "test_y")):
        write_idx(folder / name, arrays[key], gz=gz)
    arrays["names"] = names
    return arrays


def write_cifar_batch(path: Path, images_N_3_32_32: np.ndarray, labels: np.ndarray, label_key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"batch_label": "test batch", "data": images_N_3_32_32.reshape(len(images_N_3_32_32), -1), label_key: labels.tolist()}
    with open(path, "wb") as handle:
        pickle.dump(entry, handle, protocol=2)


def write_cifar10(root: Path, per_batch=8, n_test=12) -> dict:
    folder = root / "cifar-10-batches-py"
    train_x = fake_images(5 * per_batch, (3, 32, 32), 3)
    train_y = (np.arange(5 * per_batch) % 10).astype(np.int64)
    for b in range(5):
        part = slice(b * per_batch, (b + 1) * per_batch)
        write_cifar_batch(folder / f"data_batch_{b + 1}", train_x[part], train_y[part], "labels")
    test_x, test_y = fake_images(n_test, (3, 32, 32), 4), (np.arange(n_test) % 10).astype(np.int64)
    write_cifar_batch(folder / "test_batch", test_x, test_y, "labels")
    return {"train_x": train_x, "train_y": train_y, "test_x": test_x, "test_y": test_y}


def write_cifar100(root: Path, n_train=200, n_test=100) -> dict:
    folder = root / "cifar-100-python"
    train_x, train_y = fake_images(n_train, (3, 32, 32), 5), (np.arange(n_train) % 100).astype(np.int64)
    test_x, test_y = fake_images(n_test, (3, 32, 32), 6), (np.arange(n_test) % 100).astype(np.int64)
    write_cifar_batch(folder / "train", train_x, train_y, "fine_labels")
    write_cifar_batch(folder / "test", test_x, test_y, "fine_labels")
    return {"train_x": train_x, "train_y": train_y, "test_x": test_x, "test_y": test_y}


def write_svhn(root: Path, n_train=15, n_test=10) -> dict:
    import scipy.io

    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n, seed in (("train", n_train, 7), ("test", n_test, 8)):
        x_N = fake_images(n, (32, 32, 3), seed)
        y = (np.arange(n) % 10 + 1).astype(np.uint8)  # SVHN labels are 1..10, 10 meaning the digit 0
        scipy.io.savemat(root / f"{split}_32x32.mat", {"X": np.ascontiguousarray(x_N.transpose(1, 2, 3, 0)), "y": y[:, None]})
        out[f"{split}_x"], out[f"{split}_y"] = x_N.transpose(0, 3, 1, 2), y % 10
    return out


def write_agnews_csv(path: Path, rows, header: bool = False) -> Path:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        if header:
            writer.writerow(["Class Index", "Title", "Description"])
        writer.writerows(rows)
    return path


def agnews_rows(n_per_class: int) -> list:
    return [
        [str(c), f"Title {c}-{i}, with a comma", f'Description "{c}" number {i}']
        for i in range(n_per_class)
        for c in (1, 2, 3, 4)
    ]


# ---------------------------------------------------------------- each source in the layout data.root holds


def _idx_source(folder: str, *, classes: int = 10, gz: bool = True, prefix: str | None = None):
    """torchvision's layout, <root>/<folder>/raw/: the MNIST-style archives as downloaded (.gz); EMNIST's balanced
    split as torchvision leaves it after unpacking gzip.zip (plain IDX)."""

    def write(root: Path, n_train: int, n_test: int) -> None:
        write_mnist_like(root / folder / "raw", n_train=n_train, n_test=n_test, classes=classes, gz=gz, prefix=prefix)

    return write


def _cifar10_source(root: Path, n_train: int, n_test: int) -> None:
    write_cifar10(root, per_batch=-(-n_train // 5), n_test=n_test)


def _cifar100_source(root: Path, n_train: int, n_test: int) -> None:
    write_cifar100(root, n_train=n_train, n_test=n_test)


def _svhn_source(root: Path, n_train: int, n_test: int) -> None:
    write_svhn(root, n_train=n_train, n_test=n_test)


def _agnews_source(root: Path, n_train: int, n_test: int) -> None:
    """The original train.csv and test.csv (class index, title, description) in <root>/ag_news/."""
    write_agnews_csv(root / "ag_news" / "train.csv", agnews_rows(-(-n_train // 4)))
    test_rows = [[c, f"Held-out {t}", d] for c, t, d in agnews_rows(-(-n_test // 4))]
    write_agnews_csv(root / "ag_news" / "test.csv", test_rows)


# Base dataset (sbadbal/data/records.py: a repeated dataset reads its base's files) -> writer(root, n_train, n_test)
# of small files where the loaders in sbadbal/data/ look under data.root.
SOURCE_WRITERS = {
    "MNIST": _idx_source("MNIST"),
    "FMNIST": _idx_source("FashionMNIST"),
    "KMNIST": _idx_source("KMNIST"),
    "EMNIST": _idx_source("EMNIST", classes=47, gz=False, prefix="emnist-balanced"),
    "CIFAR10": _cifar10_source,
    "CIFAR100": _cifar100_source,
    "SVHN": _svhn_source,
    "AGNEWS": _agnews_source,
}

__all__ = [
    "MNIST_NAMES", "SOURCE_WRITERS", "agnews_rows", "fake_images", "fake_labels", "idx_bytes", "write_agnews_csv",
    "write_cifar10", "write_cifar100", "write_cifar_batch", "write_idx", "write_mnist_like", "write_svhn",
]
