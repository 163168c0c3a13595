"""One prepared dataset = one file: plain tensors + metadata via torch.save, a sha256 of the tensors inside.

Loading uses `weights_only=True`, so a prepared file can hold nothing but tensors and plain values.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

from ..runfiles import write_atomically
from .prepared import PreparedDataset

FORMAT = "sbadbal.prepared/1"
TENSOR_FIELDS = ("base_train_x", "base_train_y", "test_x", "test_y")
SCALAR_FIELDS = ("name", "num_classes", "kind", "mean", "std", "augmentation", "repeats", "noise_std", "noise_seed")
MAKE_HINT = (
    "make it with the pipeline's rule prepare_data (`snakemake {path}`) "
    "or `python -m sbadbal prepare DATASET --out {path}`"
)


def tensors_sha256(tensors: dict[str, torch.Tensor]) -> str:
    """A checksum over names, dtypes, shapes and bytes of the tensors, in a fixed order."""
    digest = hashlib.sha256()
    for key in sorted(tensors):
        tensor = tensors[key].detach().cpu().contiguous()
        digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def save_prepared(prepared: PreparedDataset, path: str | os.PathLike) -> Path:
    """Write `prepared` atomically to one file; its tensor checksum goes inside and into `prepared.metadata`."""
    tensors = {key: getattr(prepared, key).contiguous() for key in TENSOR_FIELDS}
    checksum = tensors_sha256(tensors)
    fields = {key: getattr(prepared, key) for key in SCALAR_FIELDS}
    fields["mean"], fields["std"] = list(fields["mean"]), list(fields["std"])
    metadata = {k: v for k, v in prepared.metadata.items() if k != "sha256"}
    payload = {"format": FORMAT, "tensors": tensors, "fields": fields, "metadata": metadata, "sha256": checksum}
    written = write_atomically(path, lambda tmp: torch.save(payload, tmp))
    prepared.metadata["sha256"] = checksum
    return written


def load_prepared(path: str | os.PathLike) -> PreparedDataset:
    """Read a file written by `save_prepared`, verifying its format and checksum."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"prepared dataset {path} does not exist; " + MAKE_HINT.format(path=path))
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load surfaces a broken file as any of a dozen error types
        raise ValueError(f"{path} is corrupt or truncated, not a prepared dataset ({type(error).__name__}: {error}); " + MAKE_HINT.format(path=path)) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(f"{path} is not a prepared dataset of format {FORMAT} (found {found!r}); " + MAKE_HINT.format(path=path))
    try:
        tensors, fields, metadata, stored = payload["tensors"], payload["fields"], payload["metadata"], payload["sha256"]
        missing = [k for k in TENSOR_FIELDS if k not in tensors] + [k for k in SCALAR_FIELDS if k not in fields]
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path}: prepared dataset lacks {error}; " + MAKE_HINT.format(path=path)) from None
    if missing:
        raise ValueError(f"{path}: prepared dataset lacks {', '.join(missing)}; " + MAKE_HINT.format(path=path))
    actual = tensors_sha256({k: tensors[k] for k in TENSOR_FIELDS})
    if actual != stored:
        raise ValueError(f"{path}: checksum mismatch (stored {stored[:12]}..., contents {actual[:12]}...), the file is corrupt; " + MAKE_HINT.format(path=path))
    fields = dict(fields)
    fields["mean"], fields["std"] = tuple(fields["mean"]), tuple(fields["std"])
    return PreparedDataset(**{k: tensors[k] for k in TENSOR_FIELDS}, **fields, metadata={**metadata, "sha256": stored})
