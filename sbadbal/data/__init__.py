"""Datasets: a registry by name, sources (embedded, local files, downloads), repeated datasets, text embeddings.

    prepared = prepare_dataset("MNIST5K")            # or "FMNIST", "RCIFAR10", "AGNEWS", ...
    save_prepared(prepared, "data/prepared/MNIST5K.pt")
    prepared = load_prepared("data/prepared/MNIST5K.pt")
    x_B_1_28_28 = prepared.train_inputs(indices, augment=True, generator=g)
"""

from .embedded import stratified_split, stratified_subset
from .prepare import SOURCE_OPTIONS, prepare_dataset
from .prepared import AUGMENTATIONS, PreparedDataset, crop_flip
from .registry import DATASET_NAMES, DatasetSpec, dataset_spec
from .sources import DataNotFoundError
from .store import load_prepared, save_prepared

__all__ = [
    "AUGMENTATIONS",
    "DATASET_NAMES",
    "DataNotFoundError",
    "DatasetSpec",
    "PreparedDataset",
    "SOURCE_OPTIONS",
    "crop_flip",
    "dataset_spec",
    "load_prepared",
    "prepare_dataset",
    "save_prepared",
    "stratified_split",
    "stratified_subset",
]
