"""Run files: the per-run schema, atomic writers (temp file + rename, never appended to) and the run sidecar.

What every AL run writes, kept apart from the tables (sbadbal/analysis/tables.py) so that editing a table's formatting
reruns no run (a rule's code inputs follow its imports: sbadbal/ops/codegraph.py).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

# One row per evaluated round of one AL run. Timing columns are seconds; acquisition time is the acquisition
# function alone (device-synchronised), scoring is the pool's forward passes, training the model fit.
RUN_COLUMNS = (
    "round",
    "labelled",
    "test_accuracy",
    "test_nll",
    "train_seconds",
    "score_seconds",
    "acquisition_seconds",
    "acquired_indices",
    # Batch quality of the acquisition after this round (sbadbal/acquisition/diagnostics.py); blank on the last row
    # and where a column does not apply (copies on a dataset without repeats, gains of a non-LBB algorithm).
    "batch_joint_mi",
    "batch_sum_bald",
    "batch_copies",
    "batch_nonpositive_gains",
)
DIAGNOSTIC_COLUMNS = RUN_COLUMNS[-4:]


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


def software_versions() -> dict[str, str]:
    """Versions that decide a run's numbers, for the JSON sidecar."""
    import numpy
    import torch

    import sbadbal

    versions = {
        "python": platform.python_version(),
        "sbadbal": sbadbal.__version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "pandas": pd.__version__,
        "cuda": str(torch.version.cuda),
    }
    return versions


def run_sidecar(config: Mapping[str, Any], device_name: str) -> dict[str, Any]:
    """The JSON sidecar of a result file: the config that produced it, versions, device and time of the run."""
    return {
        "config": dict(config),
        "versions": software_versions(),
        "device": device_name,
        "host": platform.node(),
        "finished_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


# --- aggregation: many run files -> tables (the workflow's aggregate and bench rules) -------------------------
