"""The checkpoint of one AL run: its rows and labels so far, and a fingerprint of everything those rows depend on.

A checkpoint is resumed only when it was made on the same prepared data (content checksum and preparation
settings), for the same run spec and by the same code (a sha256 of the run's code inputs: the files the run rule
lists, sbadbal/ops/codegraph.py),
with the same torch thread count (1 and 2 threads differ in the 8th digit, so a CLI checkpoint made with 2 threads
would mix its rows with a 1-thread workflow job's), and when its contents are consistent: rounds 0..n-1, labelled
counts that follow from the initial set and the acquired indices, no duplicate or out-of-pool index, finite
numbers, a finished last row only at the budget. Anything else is discarded with a log line and a warning saying
why, and the run starts afresh: reusing rows made under other conditions gives numbers that differ from a clean
run with exit code 0.

A checkpoint also carries the sha256 of its own contents (rows, state, fingerprint). One that does not match it was
edited or damaged (an accuracy changed by hand, a joint MI of 1e308, two acquired indices swapped: each still
consistent, each a different run): it is refused with one line (CheckpointError) saying to delete it, rather than
resumed into a final CSV that no run produced.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sbadbal.engine.state import RunState
from sbadbal.runs.checks import parse_indices, run_rows_problem
from sbadbal.runs.writers import write_json_atomic

logger = logging.getLogger(__name__)

# 2: the fingerprint (data, preparation, code) joined the spec; 3: the spec carries its acquisition and
# architecture records and the code part is code_sha256 of the rule's code inputs; 4: torch's thread count joined
# the fingerprint and the checkpoint carries its own checksum. Older checkpoints are discarded.
CHECKPOINT_VERSION = 4

# What each part of the fingerprint means, for the log line that says which one differs.
FINGERPRINT_PARTS = {
    "spec": "run spec",
    "data_sha256": "prepared data (content checksum)",
    "preparation": "data preparation settings",
    "code_sha256": "code (the run's code inputs)",
    "torch_threads": "torch thread count",
}


class CheckpointError(ValueError):
    """A checkpoint that was edited or damaged after it was written; the message is one line with the fix."""


@dataclass(frozen=True)
class Fingerprint:
    """Everything a checkpoint's rows depend on, as plain JSON values."""

    spec: dict[str, Any]
    data_sha256: str
    preparation: dict[str, Any]
    code_sha256: str
    torch_threads: int = 1

    def to_json(self) -> dict[str, Any]:
        # Through JSON once, so a fresh fingerprint compares equal to one read back (tuples -> lists, ...).
        return json.loads(json.dumps(
            {"spec": self.spec, "data_sha256": self.data_sha256, "preparation": self.preparation,
             "code_sha256": self.code_sha256, "torch_threads": self.torch_threads}, sort_keys=True, default=str))


def run_fingerprint(prepared: Any, spec_config: Mapping[str, Any], code_files: Iterable[str | os.PathLike]) -> Fingerprint:
    """The fingerprint of a run on a loaded PreparedDataset: `spec_config` is RunSpec.to_config(), `code_files`
    the run's code inputs (the run rule's, or sbadbal.ops.codegraph.run_code_inputs outside the workflow); torch's
    thread count now (what the job set)."""
    import torch

    from sbadbal.data.store import preparation_settings, prepared_checksum  # torch only when a dataset is at hand

    return Fingerprint(spec=dict(spec_config), data_sha256=prepared_checksum(prepared),
                       preparation=preparation_settings(prepared), code_sha256=sources_sha256(code_files),
                       torch_threads=torch.get_num_threads())


def sources_sha256(paths: Iterable[str | os.PathLike], *, root: str | os.PathLike | None = None) -> str:
    """sha256 over the given source files (names relative to `root`, default their common folder, and bytes).

    Relative names, so that the same code in another clone or folder has the same version.
    """
    files = sorted({Path(p).resolve() for p in paths})
    if not files:
        raise ValueError("sources_sha256 needs at least one source file")
    base = Path(root).resolve() if root is not None else Path(os.path.commonpath([f.parent for f in files]))
    digest = hashlib.sha256()
    for path in files:
        name = path.relative_to(base).as_posix() if path.is_relative_to(base) else path.name
        content = path.read_bytes()
        digest.update(f"{name}|{len(content)}|".encode())
        digest.update(content)
    return digest.hexdigest()


def fingerprint_differences(saved: Any, current: Fingerprint) -> list[str]:
    """The parts of the fingerprint (FINGERPRINT_PARTS keys) in which a saved one differs from `current`."""
    expected = current.to_json()
    if not isinstance(saved, Mapping):
        return list(FINGERPRINT_PARTS)
    return [part for part in FINGERPRINT_PARTS if saved.get(part) != expected[part]]


def _index_list(value: Any, name: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
        raise ValueError(f"{name} must be a list of integers")
    return list(value)


def state_problem(saved: Mapping[str, Any], *, initial: RunState, num_train: int, budget: int) -> str | None:
    """What makes a checkpoint's state inconsistent with the run it claims to belong to, or None."""
    try:
        labelled = _index_list(saved.get("labelled"), "labelled")
        validation = _index_list(saved.get("validation"), "validation")
    except ValueError as error:
        return str(error)
    rows = saved.get("rows")
    if not isinstance(rows, list):
        return "rows must be a list"
    if validation != initial.validation:
        return "its validation indices are not the run's"
    if rows:
        problem = run_rows_problem(rows, finished=None, budget=budget, initial_size=len(initial.labelled))
        if problem is not None:
            position, column, message = problem
            return f"row {position}, column {column!r}: {message}"
    expected = list(initial.labelled)
    for row in rows:
        expected += parse_indices(row["acquired_indices"])
    if labelled != expected:
        return (f"labelled ({len(labelled)} indices) is not the initial set plus the acquired indices of the rows "
                f"({len(expected)} indices)")
    if len(set(labelled)) != len(labelled) or set(labelled) & set(validation):
        return "an index is labelled twice or is also a validation index"
    outside = [i for i in labelled if not 0 <= i < num_train]
    if outside:
        return f"index {outside[0]} lies outside the pool of {num_train} points"
    return None


def checkpoint_checksum(saved: Mapping[str, Any]) -> str:
    """sha256 of a checkpoint's contents but its checksum: canonical JSON (sorted keys; floats written as Python
    writes them, which read back exactly), so the saved and the reloaded contents hash alike."""
    contents = {key: value for key, value in saved.items() if key != "checksum"}
    return hashlib.sha256(json.dumps(contents, sort_keys=True).encode("utf-8")).hexdigest()


def _discard(path: Path, reason: str) -> None:
    message = f"checkpoint {path} {reason}; starting this run afresh"
    logger.warning(message)
    warnings.warn(message, stacklevel=3)


def load_checkpoint(
    path: str | os.PathLike, fingerprint: Fingerprint, *, initial: RunState, num_train: int, budget: int
) -> RunState | None:
    """The saved state when `path` holds a sound checkpoint of this very run; None (and a warning) otherwise.

    `initial`: the run's initial labelled and validation indices as it draws them.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        _discard(path, f"is unreadable ({type(error).__name__}: {str(error)[:120]})")
        return None
    except RecursionError:  # nested deeper than any checkpoint: damaged or crafted
        _discard(path, "is unreadable (nested too deeply to be a checkpoint)")
        return None
    if not isinstance(saved, dict):
        _discard(path, f"is unreadable (expected a JSON object, found {type(saved).__name__})")
        return None
    if saved.get("version") != CHECKPOINT_VERSION:
        _discard(path, f"belongs to a different run configuration (checkpoint version {saved.get('version')!r}, "
                       f"this code writes {CHECKPOINT_VERSION})")
        return None
    if saved.get("checksum") != checkpoint_checksum(saved):
        raise CheckpointError(f"checkpoint {path} does not match its checksum: it was edited or damaged after the "
                              f"run wrote it, and resuming it would give a run that no run produced; delete it to "
                              f"start this run afresh: rm {path}")
    differing = fingerprint_differences({**dict(saved.get("fingerprint") or {}), "spec": saved.get("spec")}, fingerprint)
    if differing:
        _discard(path, "belongs to a different run configuration: the "
                 + ", ".join(FINGERPRINT_PARTS[part] for part in differing) + " differ(s)")
        return None
    problem = state_problem(saved, initial=initial, num_train=num_train, budget=budget)
    if problem is not None:
        _discard(path, f"is unreadable: its contents are inconsistent ({problem})")
        return None
    return RunState(labelled=list(saved["labelled"]), validation=list(saved["validation"]), rows=list(saved["rows"]))


def save_checkpoint(path: str | os.PathLike, fingerprint: Fingerprint, state: RunState) -> Path:
    """Write the state atomically with its fingerprint (the spec under "spec", as in version 1) and its checksum."""
    recorded = fingerprint.to_json()
    spec = recorded.pop("spec")
    # Through JSON once, as it will be read back (tuples -> lists), so that the checksum is of what is read.
    saved = json.loads(json.dumps(
        {"version": CHECKPOINT_VERSION, "spec": spec, "fingerprint": recorded, "labelled": state.labelled,
         "validation": state.validation, "rows": state.rows}, default=str))
    return write_json_atomic({**saved, "checksum": checkpoint_checksum(saved)}, path)
