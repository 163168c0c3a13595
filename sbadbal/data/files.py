"""What every source shares: finding a dataset's raw files (local first, then a download when allowed), the
`RawSplits` a source returns, file checksums and plain metadata.

Search order for the file datasets (sbadbal/data/layouts.py): the data directory in the layouts torchvision writes
(so a folder that torchvision once downloaded into is found again) and a flat layout, then known system locations
(Debian's `dataset-fashion-mnist`). Nothing here downloads: retrieval (sbadbal/data/retrieve.py, the workflow's
local `retrieve` rules) fetches files beforehand. Missing: one `DataNotFoundError` naming the files to place,
where, and the command that fetches them.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .layouts import RAW_LAYOUTS, missing_message

DEFAULT_DATA_DIR = "data"


class DataNotFoundError(FileNotFoundError):
    """The files of a dataset are in none of the searched places (and were not downloaded)."""


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    """The caller's data directory, else $SBADBAL_DATA_DIR, else ./data (the original's folder)."""
    return Path(data_dir if data_dir is not None else os.environ.get("SBADBAL_DATA_DIR", DEFAULT_DATA_DIR))


@dataclass(frozen=True)
class RawSplits:
    """A dataset's base train and test arrays, and the files (with sha256) they were read from."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    files: dict[str, str]


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_maybe_gzip(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise ValueError(f"{path}: corrupt or truncated gzip file ({error})") from None


def plain(value: Any) -> Any:
    """Metadata must survive torch.load(weights_only=True) and JSON: only str/int/float/bool/None/list/dict."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return getattr(value, "__name__", repr(value))


# ---------------------------------------------------------------- locating files


def locate(name: str, root: Path) -> dict[str, Path]:
    """The files of raw source `name` (sbadbal/data/layouts.py) under `root` or a system folder, as name -> path.
    Preparation reads local files only: missing ones raise one DataNotFoundError naming the files, the folders
    searched and the command that fetches them (sbadbal/data/retrieve.py)."""
    found = RAW_LAYOUTS[name].find(root)
    if found is None:
        raise DataNotFoundError(missing_message(name, root))
    return found


def _checksums(paths: dict[str, Path]) -> dict[str, str]:
    return {str(path): sha256_file(path) for path in paths.values()}
