"""Image loaders on small files written in the real on-disk formats, through the code real data takes."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from sbadbal.data import DataNotFoundError, prepare_dataset

from ..system_packages import require_system


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("name, folder", [("MNIST", "MNIST"), ("FMNIST", "FashionMNIST"), ("KMNIST", "KMNIST")])
def test_mnist_family_reads_torchvision_layout(tmp_path, fmt, name, folder, gz):
    # The data root comes before Debian's Fashion-MNIST folder, so the real files never shadow the test's.
    arrays = fmt.write_mnist_like(tmp_path / folder / "raw", gz=gz)
    prepared = prepare_dataset(name, data_dir=tmp_path)
    assert prepared.num_train == 30 and prepared.num_test == 20 and prepared.input_shape == (1, 28, 28)
    assert torch.equal(prepared.base_train_x[:, 0], torch.from_numpy(arrays["train_x"]))
    assert torch.equal(prepared.test_y, torch.from_numpy(arrays["test_y"]).long())
    assert prepared.base_train_y.dtype == torch.long
    assert all(Path(f).parent == tmp_path / folder / "raw" for f in prepared.metadata["source_files"])


def test_flat_gz_layout_is_found(tmp_path, fmt):
    fmt.write_mnist_like(tmp_path, gz=True)
    assert prepare_dataset("MNIST", data_dir=tmp_path).num_train == 30


def test_our_layout_is_the_one_torchvision_reads(tmp_path, fmt):
    """Files placed where our error message says are the files torchvision's own class reads, byte for byte."""
    from torchvision import datasets

    fmt.write_mnist_like(tmp_path / "MNIST" / "raw")
    ours = prepare_dataset("MNIST", data_dir=tmp_path)
    theirs = datasets.MNIST(str(tmp_path), train=True, download=False)
    assert torch.equal(ours.base_train_x[:, 0], theirs.data) and torch.equal(ours.base_train_y, theirs.targets)


def test_emnist_balanced_is_transposed_like_the_letters_are_drawn(tmp_path, fmt):
    from torchvision import datasets

    arrays = fmt.write_mnist_like(tmp_path / "EMNIST" / "raw", n_train=94, n_test=47, classes=47, prefix="emnist-balanced")
    prepared = prepare_dataset("EMNIST", data_dir=tmp_path)
    assert prepared.num_classes == 47 and int(prepared.base_train_y.max()) == 46
    # EMNIST stores images transposed; torchvision's class does not undo it, we do.
    theirs = datasets.EMNIST(str(tmp_path), split="balanced", train=True, download=False)
    assert torch.equal(prepared.base_train_x[:, 0], theirs.data.transpose(1, 2))
    assert torch.equal(prepared.base_train_x[:, 0], torch.from_numpy(arrays["train_x"]).transpose(1, 2))


def test_repeated_mnist_indexes_copies_after_the_base(tmp_path, fmt):
    fmt.write_mnist_like(tmp_path / "MNIST" / "raw")
    rmnist = prepare_dataset("RMNIST", data_dir=tmp_path)
    assert rmnist.repeats == 4 and rmnist.noise_std == 0 and rmnist.num_train == 120
    assert torch.equal(rmnist.train_targets[30:60], rmnist.train_targets[:30])
    assert torch.equal(rmnist.train_inputs(torch.tensor([3])), rmnist.train_inputs(torch.tensor([3 + 2 * 30])))
    noisy = prepare_dataset("RMNIST", data_dir=tmp_path, repeats=3, noise_std=0.1, noise_seed=5)
    assert noisy.num_train == 90
    a, b = noisy.train_inputs(torch.tensor([3, 33])), noisy.train_inputs(torch.tensor([3, 33]))
    assert torch.equal(a, b) and not torch.equal(a[0], a[1])  # fixed noise per repeated index


@pytest.mark.parametrize("damage, message", [
    (lambda b: b"\x00\x00\x09\x03" + b[4:], "bad IDX magic"),
    (lambda b: b[:-5], "holds"),
    (lambda b: b[:10], "truncated IDX header|holds"),
])
def test_corrupt_idx_raises_naming_the_file(tmp_path, fmt, damage, message):
    fmt.write_mnist_like(tmp_path / "MNIST" / "raw")
    bad = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    bad.write_bytes(damage(bad.read_bytes()))
    with pytest.raises(ValueError, match=message) as error:
        prepare_dataset("MNIST", data_dir=tmp_path)
    assert str(bad) in str(error.value)


def test_truncated_gzip_and_count_mismatch(tmp_path, fmt):
    fmt.write_mnist_like(tmp_path, gz=True)
    bad = tmp_path / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:100])
    with pytest.raises(ValueError, match="corrupt or truncated gzip") as error:
        prepare_dataset("MNIST", data_dir=tmp_path)
    assert str(bad) in str(error.value)

    fmt.write_mnist_like(tmp_path / "other", gz=False)
    fmt.write_idx(tmp_path / "other" / "train-labels-idx1-ubyte", np.zeros(29, np.uint8))
    with pytest.raises(ValueError, match="30 images but .* 29 labels"):
        prepare_dataset("MNIST", data_dir=tmp_path / "other")


def test_labels_outside_the_classes_are_rejected(tmp_path, fmt):
    fmt.write_mnist_like(tmp_path)
    fmt.write_idx(tmp_path / "train-labels-idx1-ubyte", np.full(30, 10, np.uint8))
    with pytest.raises(ValueError, match=r"labels must lie in 0..9"):
        prepare_dataset("MNIST", data_dir=tmp_path)


def test_missing_files_give_one_error_naming_files_places_and_the_fetch_command(tmp_path):
    with pytest.raises(DataNotFoundError) as error:
        prepare_dataset("KMNIST", data_dir=tmp_path)
    text = str(error.value)
    assert "train-images-idx3-ubyte" in text and "t10k-labels-idx1-ubyte" in text
    assert str(tmp_path / "KMNIST" / "raw") in text and "snakemake --cores 1 retrieve --config suite=" in text
    assert isinstance(error.value, FileNotFoundError)


# ------------------------------------------------------------------ CIFAR


def test_cifar10_python_batches(tmp_path, fmt):
    arrays = fmt.write_cifar10(tmp_path)
    prepared = prepare_dataset("CIFAR10", data_dir=tmp_path)
    assert prepared.num_train == 40 and prepared.num_test == 12 and prepared.input_shape == (3, 32, 32)
    assert torch.equal(prepared.base_train_x, torch.from_numpy(arrays["train_x"]))
    assert torch.equal(prepared.test_y, torch.from_numpy(arrays["test_y"]))
    assert prepared.augmentation == "crop_flip_zero" and len(prepared.metadata["source_files"]) == 6


def test_rcifar100_reads_fine_labels_and_repeats(tmp_path, fmt):
    arrays = fmt.write_cifar100(tmp_path)
    prepared = prepare_dataset("RCIFAR100", data_dir=tmp_path, repeats=2)
    assert prepared.num_classes == 100 and prepared.num_train == 400 and prepared.augmentation == "crop_flip_reflect"
    assert torch.equal(prepared.base_train_y, torch.from_numpy(arrays["train_y"]))
    assert prepared.mean == (0.5071, 0.4865, 0.4409)  # CIFAR-100's own statistics, not CIFAR-10's


def test_corrupt_cifar_batches(tmp_path, fmt):
    fmt.write_cifar10(tmp_path)
    batch = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:200])
    with pytest.raises(ValueError, match="not a readable CIFAR python batch") as error:
        prepare_dataset("CIFAR10", data_dir=tmp_path)
    assert str(batch) in str(error.value)

    with open(batch, "wb") as handle:
        pickle.dump({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}, handle)
    with pytest.raises(ValueError, match="N x 3072"):
        prepare_dataset("CIFAR10", data_dir=tmp_path)


def test_cifar_pickle_cannot_run_code(tmp_path, fmt):
    fmt.write_cifar10(tmp_path)
    batch = tmp_path / "cifar-10-batches-py" / "test_batch"
    batch.write_bytes(pickle.dumps({"data": Path("x"), "labels": []}))
    with pytest.raises(ValueError, match="forbidden global"):
        prepare_dataset("CIFAR10", data_dir=tmp_path)


def test_missing_cifar100(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"(?s)CIFAR100 data not found.*train, test.*cifar-100-python"):
        prepare_dataset("CIFAR100", data_dir=tmp_path)


# ------------------------------------------------------------------ SVHN


def test_svhn_mat_files(tmp_path, fmt):
    arrays = fmt.write_svhn(tmp_path)
    prepared = prepare_dataset("SVHN", data_dir=tmp_path)
    assert prepared.num_train == 15 and prepared.num_test == 10
    assert torch.equal(prepared.base_train_x, torch.from_numpy(np.ascontiguousarray(arrays["train_x"])))
    assert torch.equal(prepared.base_train_y, torch.from_numpy(arrays["train_y"].astype(np.int64)))
    assert int(prepared.base_train_y.min()) == 0 and int(prepared.base_train_y.max()) == 9  # label 10 is digit 0


def test_corrupt_svhn(tmp_path, fmt):
    fmt.write_svhn(tmp_path)
    (tmp_path / "test_32x32.mat").write_bytes(b"MATLAB 5.0 but not really")
    with pytest.raises(ValueError, match="not a readable SVHN .mat") as error:
        prepare_dataset("SVHN", data_dir=tmp_path)
    assert "test_32x32.mat" in str(error.value)


# ------------------------------------------------------------------ real Debian Fashion-MNIST

DEBIAN_FMNIST = Path("/usr/share/datasets/fashion-mnist")


def test_real_debian_fashion_mnist(tmp_path):
    if not (DEBIAN_FMNIST / "train-images-idx3-ubyte.gz").is_file():
        require_system("Debian's Fashion-MNIST is not installed; install it as root: apt-get install dataset-fashion-mnist")
    prepared = prepare_dataset("FMNIST", data_dir=tmp_path)  # an empty data dir: found at the system location
    assert (prepared.num_train, prepared.num_test) == (60_000, 10_000)
    assert prepared.train_targets.bincount().tolist() == [6000] * 10
    assert prepared.test_targets.bincount().tolist() == [1000] * 10
    pixels = prepared.base_train_x.float() / 255
    assert pixels.mean().item() == pytest.approx(prepared.mean[0], abs=5e-4)
    assert pixels.std().item() == pytest.approx(prepared.std[0], abs=5e-4)
    assert all(str(DEBIAN_FMNIST) in f for f in prepared.metadata["source_files"])
