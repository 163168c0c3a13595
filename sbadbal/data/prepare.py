"""Preparation: a dataset's record plus the suite's settings -> a checked `PreparedDataset` with provenance metadata.

The preparation rule passes its dataset's `preparation_record` (sbadbal/data/records.py) as a parameter; the
source module it names is imported here by name, so a preparation's code is this module and that source alone.
`prepare_dataset` (sbadbal/data/registry.py) is the same by dataset name.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from importlib import import_module
from typing import Any

import torch

from .files import RawSplits, plain, resolve_data_dir
from .prepared import PreparedDataset
from .spec import DatasetSpec, with_repetition


def prepare(
    record: Mapping[str, Any],
    *,
    data_dir: str | os.PathLike | None = None,
    repeats: int | None = None,
    noise_std: float | None = None,
    noise_seed: int = 0,
    **source_options: Any,
) -> PreparedDataset:
    """Load the dataset of `record` ({"spec": DatasetSpec fields, "source": {"module", "options"}}) from local
    files only, as a PreparedDataset. Nothing here downloads: retrieval (sbadbal/data/retrieve.py) comes first.

    Repeated datasets take `repeats` and `noise_std` (defaults: the original's 4 and 0). Source options:
    MNIST5K/RMNIST5K: test_fraction (0.2), split_seed (0), pool_rows. AGNEWS: local_csv (one file, split
    stratified into pool/test), local_test_csv (with local_csv: the test file), max_rows (a stratified subset of
    each file), encoder (a name, model folder or callable; default all-MiniLM-L6-v2), test_fraction, split_seed,
    batch_size, device. Embeddings are cached by text hash under data_dir/embeddings when data_dir is given.
    """
    fields = dict(record["spec"])
    spec = with_repetition(DatasetSpec(**{**fields, "input_shape": tuple(fields["input_shape"]),
                                          "mean": tuple(fields["mean"]), "std": tuple(fields["std"])}),
                           repeats, noise_std)
    allowed = tuple(record["source"]["options"])
    unknown = sorted(set(source_options) - set(allowed))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for {spec.name}; valid options: {', '.join(allowed) or 'none'}")
    root = resolve_data_dir(data_dir)
    source = import_module(record["source"]["module"])
    raw, extra_metadata = source.load(spec, root, cache=data_dir is not None, **source_options)
    _check_raw(spec, raw)
    metadata = {
        "dataset": spec.name,
        "spec": plain(dataclasses.asdict(spec)),
        "source_files": raw.files,
        "options": plain({"noise_seed": noise_seed, **source_options}),
        **extra_metadata,
    }
    return PreparedDataset(
        name=spec.name,
        num_classes=spec.num_classes,
        kind=spec.kind,
        base_train_x=raw.train_x,
        base_train_y=raw.train_y,
        test_x=raw.test_x,
        test_y=raw.test_y,
        mean=spec.mean,
        std=spec.std,
        augmentation=spec.augmentation,
        repeats=spec.repeats,
        noise_std=spec.noise_std,
        noise_seed=noise_seed,
        metadata=metadata,
    )


def _check_raw(spec: DatasetSpec, raw: RawSplits) -> None:
    """Loaded arrays agree with the record (shape, dtype, label range), else the files are not what they claim."""
    where = ", ".join(raw.files) or spec.name
    for split, x, y in (("train", raw.train_x, raw.train_y), ("test", raw.test_x, raw.test_y)):
        if len(x) != len(y) or len(y) == 0:
            raise ValueError(f"{spec.name} {split} split has {len(x)} inputs and {len(y)} labels ({where})")
        if spec.kind == "image" and (x.dtype != torch.uint8 or tuple(x.shape[1:]) != spec.input_shape):
            raise ValueError(f"{spec.name} {split} images must be uint8 {spec.input_shape}, got {x.dtype} {tuple(x.shape[1:])} ({where})")
        if int(y.min()) < 0 or int(y.max()) >= spec.num_classes:
            raise ValueError(f"{spec.name} {split} labels must lie in 0..{spec.num_classes - 1}, got {int(y.min())}..{int(y.max())} ({where})")
