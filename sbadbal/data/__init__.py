"""Datasets: records by name, one module per source (IDX, CIFAR, SVHN, MNIST5K, AG News), repeated datasets, the
prepared file.

    prepared = prepare_dataset("MNIST5K")            # or "FMNIST", "RCIFAR10", "AGNEWS", ...
    save_prepared(prepared, "data/prepared/MNIST5K.pt")
    prepared = load_prepared("data/prepared/MNIST5K.pt")
    x_B_1_28_28 = prepared.train_inputs(indices, augment=True, generator=g)

Names are loaded lazily (PEP 562) so that `sbadbal.data.records` (torch-free records) can be imported by the
workflow without torch.
"""

from sbadbal._lazy import lazy_exports

# Exported name -> the submodule that defines it (read by sbadbal/ops/codegraph.py too).
_EXPORTS = {
    "AUGMENTATIONS": "prepared",
    "DATASET_NAMES": "records",
    "DataNotFoundError": "files",
    "DatasetSpec": "spec",
    "PreparedDataset": "prepared",
    "SOURCES": "records",
    "crop_flip": "prepared",
    "dataset_spec": "records",
    "load_prepared": "store",
    "prepare_dataset": "registry",
    "save_prepared": "store",
    "stratified_split": "splits",
    "stratified_subset": "splits",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
