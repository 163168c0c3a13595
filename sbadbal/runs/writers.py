"""Atomic writers: a temp file in the same folder, fsynced, then renamed; never appended to.

What every job writes its outputs with (runs, prepared data, tables, figures), so that a reader never sees a
half-written file and a crash leaves no partial one under the final name.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd


def _fsync(path: Path) -> None:
    """Flush the file's data to disk before the rename makes it visible: after a crash or power loss the name
    then never points at an empty or partial file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Write through a temp file in the same folder, then rename: readers never see a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_csv_atomic(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    return write_atomically(path, lambda tmp: frame.to_csv(tmp, index=False))


def write_json_atomic(obj: Any, path: str | os.PathLike) -> Path:
    def write(tmp: Path) -> None:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")

    return write_atomically(path, write)


def write_text_atomic(text: str, path: str | os.PathLike) -> Path:
    return write_atomically(path, lambda tmp: tmp.write_text(text))
