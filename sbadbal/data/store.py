"""One prepared dataset = one file: plain tensors + fields + metadata via torch.save, a sha256 of all of it inside.

Loading uses `weights_only=True`, so a prepared file can hold nothing but tensors and plain values. The checksum
covers every stored value, the normalisation statistics and settings included: a file changed in any byte that
decides results fails to load instead of giving other numbers.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from ..runs.writers import write_torch_atomic
from .prepared import PreparedDataset

# /2: the checksum covers fields and metadata too; a /1 file (tensors only) is refused with the remake hint.
FORMAT = "sbadbal.prepared/2"
TENSOR_FIELDS = ("base_train_x", "base_train_y", "test_x", "test_y")
SCALAR_FIELDS = ("name", "num_classes", "kind", "mean", "std", "augmentation", "repeats", "noise_std", "noise_seed")
# The settings a run's rows depend on besides the arrays: the fields and how the data were prepared.
SETTINGS_METADATA_KEYS = ("spec", "options")
# `--force PATH` reruns that one prepare_data job even when the file looks up to date (a corrupt file does);
# `--forcerun prepare_data PATH` would take PATH as another forcerun item and rerun the whole suite.
REMAKE_HINT = (
    "remake it with the pipeline's rule prepare_data: `snakemake --cores 1 --force {path} --config suite={suite}` "
    "(or `python -m sbadbal prepare DATASET --out {path}`)"
)


def remake_hint(path: str | os.PathLike) -> str:
    """The command that remakes a prepared file; the suite is read from results/<suite>/data/<name>.pt."""
    parts = Path(path).parts
    suite = parts[-3] if len(parts) >= 4 and parts[-4] == "results" and parts[-2] == "data" else "<suite>"
    return REMAKE_HINT.format(path=path, suite=suite)


def tensors_sha256(tensors: dict[str, torch.Tensor]) -> str:
    """A checksum over names, dtypes, shapes and bytes of the tensors, in a fixed order."""
    return _update_with_tensors(hashlib.sha256(), tensors).hexdigest()


def _update_with_tensors(digest: Any, tensors: dict[str, torch.Tensor]) -> Any:
    for key in sorted(tensors):
        tensor = tensors[key].detach().cpu().contiguous()
        digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest


def _canonical_json(value: Any) -> bytes:
    # Tuples and lists hash alike (torch.load gives lists back); floats by repr, which round-trips exactly.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True, default=str).encode()


def content_sha256(tensors: dict[str, torch.Tensor], fields: dict[str, Any], metadata: dict[str, Any]) -> str:
    """The prepared file's checksum: tensors, fields (mean/std, classes, repeats, noise, ...) and metadata."""
    digest = _update_with_tensors(hashlib.sha256(), tensors)
    digest.update(b"|fields|" + _canonical_json({k: fields[k] for k in SCALAR_FIELDS}))
    digest.update(b"|metadata|" + _canonical_json({k: v for k, v in metadata.items() if k != "sha256"}))
    return digest.hexdigest()


def _stored_fields(prepared: PreparedDataset) -> dict[str, Any]:
    fields = {key: getattr(prepared, key) for key in SCALAR_FIELDS}
    fields["mean"], fields["std"] = list(fields["mean"]), list(fields["std"])
    return fields


def prepared_checksum(prepared: PreparedDataset) -> str:
    """The content checksum of a prepared dataset (as stored in its file), for sidecars and checkpoints."""
    stored = prepared.metadata.get("sha256")
    if stored:
        return stored
    tensors = {key: getattr(prepared, key) for key in TENSOR_FIELDS}
    return content_sha256(tensors, _stored_fields(prepared), prepared.metadata)


def preparation_settings(prepared: PreparedDataset) -> dict[str, Any]:
    """Plain, JSON-able settings the data were prepared with: the fields plus the registry spec and options."""
    settings = _stored_fields(prepared)
    settings.update({key: prepared.metadata[key] for key in SETTINGS_METADATA_KEYS if key in prepared.metadata})
    return json.loads(_canonical_json(settings))


def save_prepared(prepared: PreparedDataset, path: str | os.PathLike) -> Path:
    """Write `prepared` atomically to one file; its content checksum goes inside and into `prepared.metadata`."""
    tensors = {key: getattr(prepared, key).contiguous() for key in TENSOR_FIELDS}
    fields = _stored_fields(prepared)
    metadata = {k: v for k, v in prepared.metadata.items() if k != "sha256"}
    checksum = content_sha256(tensors, fields, metadata)
    payload = {"format": FORMAT, "tensors": tensors, "fields": fields, "metadata": metadata, "sha256": checksum}
    # A full disk is one line naming the file (sbadbal/runs/writers.py), torch's wrapped errors included.
    written = write_torch_atomic(payload, path, what="the prepared dataset")
    prepared.metadata["sha256"] = checksum
    return written


def load_error_text(error: BaseException) -> str:
    """torch.load's error in one line, without its advice to retry with `weights_only=False`: that would run
    whatever a crafted file holds, and a prepared file never needs it (remaking the file is the fix)."""
    # Keep the paragraphs that say what was refused; drop every one that mentions the weights_only switch.
    kept = [part.strip() for part in str(error).split("\n\n") if part.strip() and "weights_only" not in part]
    first = kept[0].splitlines()[0] if kept else "the file holds objects a safe (weights-only) load refuses"
    return f"{type(error).__name__}: {first}"


def load_prepared(path: str | os.PathLike) -> PreparedDataset:
    """Read a file written by `save_prepared`, verifying its format and checksum; one error naming the file and the fix."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"prepared dataset {path} does not exist; " + remake_hint(path))
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load surfaces a broken file as any of a dozen error types
        raise ValueError(f"{path} is corrupt or truncated, not a prepared dataset ({load_error_text(error)}); " + remake_hint(path)) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(f"{path} is not a prepared dataset of format {FORMAT} (found {found!r}); " + remake_hint(path))
    try:
        tensors, fields, metadata, stored = payload["tensors"], payload["fields"], payload["metadata"], payload["sha256"]
        missing = [k for k in TENSOR_FIELDS if k not in tensors] + [k for k in SCALAR_FIELDS if k not in fields]
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path}: prepared dataset lacks {error}; " + remake_hint(path)) from None
    if missing:
        raise ValueError(f"{path}: prepared dataset lacks {', '.join(missing)}; " + remake_hint(path))
    actual = content_sha256({k: tensors[k] for k in TENSOR_FIELDS}, fields, metadata)
    if actual != stored:
        raise ValueError(f"{path}: checksum mismatch (stored {str(stored)[:12]}..., contents {actual[:12]}...), the file is corrupt or was edited; " + remake_hint(path))
    fields = dict(fields)
    fields["mean"], fields["std"] = tuple(fields["mean"]), tuple(fields["std"])
    return PreparedDataset(**{k: tensors[k] for k in TENSOR_FIELDS}, **fields, metadata={**metadata, "sha256": stored})
