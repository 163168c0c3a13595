"""Datasets by name, for library callers and the command line: `prepare_dataset("MNIST5K")`.

The records (sbadbal/data/records.py) say what each dataset is and which source reads it; `prepare_dataset`
prepares one as the workflow's preparation rule does (sbadbal/data/prepare.py).
"""

from __future__ import annotations

from typing import Any

from .prepare import prepare
from .prepared import PreparedDataset
from .records import SPECS, dataset_spec, preparation_record
from .spec import with_repetition


def prepare_dataset(name: str, **settings: Any) -> PreparedDataset:
    """Prepare dataset `name` as the preparation rule does; `settings` are those of sbadbal.data.prepare.prepare
    (data_dir, repeats, noise_std, noise_seed) and the source's options; it reads local files only."""
    repeated = [spec.name for spec in SPECS.values() if spec.is_repeated]
    with_repetition(dataset_spec(name), settings.get("repeats"), settings.get("noise_std"), repeated)
    return prepare(preparation_record(name), **settings)
