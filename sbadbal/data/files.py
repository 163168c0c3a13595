"""What every source shares: finding a dataset's raw files (local first, then a download when allowed), the
`RawSplits` a source returns, file checksums and plain metadata.

Search order for the file datasets: the data directory in the layouts torchvision writes (so a folder that
torchvision once downloaded into is found again) and a flat layout, then known system locations (Debian's
`dataset-fashion-mnist`). Only with `download=True` is anything fetched into the data directory. Missing and
offline: one `DataNotFoundError` naming the files to place and where.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

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


def _find_in(directories: Sequence[Path], names: Sequence[str], *, allow_gz: bool) -> dict[str, Path] | None:
    """The first directory holding every name (raw, or .gz when allowed), as name -> path."""
    for directory in directories:
        found = {}
        for name in names:
            candidates = [directory / name] + ([directory / f"{name}.gz"] if allow_gz else [])
            hit = next((c for c in candidates if c.is_file()), None)
            if hit is None:
                break
            found[name] = hit
        else:
            return found
    return None


def _missing_error(dataset: str, names: Sequence[str], directories: Sequence[Path], allow_gz: bool, why: str = "") -> DataNotFoundError:
    files = ", ".join(names)
    where = "\n  ".join(str(d) for d in directories)
    gz = " (each may also be gzipped, NAME.gz)" if allow_gz else ""
    reason = f"\nDownload failed: {why}" if why else ""
    return DataNotFoundError(
        f"{dataset} data not found. Place the files {files}{gz} in one of:\n  {where}\n"
        f"or allow a download (download=True / --download) on a machine with internet.{reason}"
    )


def _locate_or_download(
    dataset: str,
    names: Sequence[str],
    directories: Sequence[Path],
    *,
    allow_gz: bool,
    download: bool,
    fetch: Callable[[], None],
) -> dict[str, Path]:
    found = _find_in(directories, names, allow_gz=allow_gz)
    if found is not None:
        return found
    if not download:
        raise _missing_error(dataset, names, directories, allow_gz)
    try:
        fetch()
    except Exception as error:  # urllib, RuntimeError from torchvision mirrors, checksum failures...
        raise _missing_error(dataset, names, directories, allow_gz, f"{type(error).__name__}: {error}") from error
    found = _find_in(directories, names, allow_gz=allow_gz)
    if found is None:
        raise _missing_error(dataset, names, directories, allow_gz, "the download finished but the files are not there")
    return found


def _checksums(paths: dict[str, Path]) -> dict[str, str]:
    return {str(path): sha256_file(path) for path in paths.values()}
