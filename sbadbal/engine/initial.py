"""Round 0 once per seed: the fit on the initial set, its test metrics and the pool scores it gives, shared by every
algorithm and batch size of that seed.

Round 0 acquires nothing before it is scored, and every draw in it comes from (seed, 0, purpose) generators
(sbadbal/engine/seeds.py), so the runs of one seed compute the same round 0, bit for bit, whatever their
algorithm. The workflow computes it once (rule initial_round) into a file that the runs read: in the default
suite that is one fit, one test pass and one pool scoring fewer per run (docs/design.md#round-0). The file holds
what the round computed (its row, the scored pool indices and log_probs_P_K_C), the round-0 spec it was computed
for, and a checksum; a run refuses a file made for another spec, another prepared dataset or a damaged one.
A run started by hand (the CLI) computes its own round 0, the same numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import torch

from sbadbal.data.store import load_error_text, tensors_sha256
from sbadbal.engine.round import ScoredRound, fit_and_score
from sbadbal.engine.spec import RunSpec
from sbadbal.engine.state import initial_state
from sbadbal.runs.writers import write_torch_atomic

FORMAT = "sbadbal-round-zero/1"


def remake_hint(path: str | os.PathLike) -> str:
    return f"delete {path} and rerun snakemake (rule initial_round remakes it)"


def compute_round_zero(prepared: Any, spec: RunSpec, device: torch.device) -> ScoredRound:
    """Round 0 of `spec`'s seed up to its acquisition: what every run of that seed computes first."""
    return fit_and_score(prepared, spec.round_zero(), initial_state(prepared, spec), 0, device)


def _checksum(tensors: dict[str, torch.Tensor], fields: dict[str, Any]) -> str:
    fields_text = json.dumps(fields, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(f"{tensors_sha256(tensors)}|{fields_text}".encode()).hexdigest()


def _plain_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: (float(value) if isinstance(value, float) else value) for key, value in row.items()}


def save_round_zero(path: str | os.PathLike, prepared: Any, spec: RunSpec, scored: ScoredRound) -> Path:
    """Write round 0 atomically, with the round-0 spec and the prepared dataset's checksum it belongs to."""
    if scored.pool_P is None or scored.log_probs_P_K_C is None:
        raise ValueError(f"round 0 of {spec.dataset} seed {spec.seed} scored no pool (initial_size >= budget)")
    tensors = {"pool_P": scored.pool_P.contiguous(), "log_probs_P_K_C": scored.log_probs_P_K_C.contiguous()}
    fields = {"round_zero": spec.round_zero().to_config(), "row": _plain_row(scored.row),
              "prepared_sha256": prepared.metadata.get("sha256")}
    payload = {"format": FORMAT, "tensors": tensors, "fields": fields,
               "sha256": _checksum(tensors, fields)}
    # A full disk is one line naming the file (sbadbal/runs/writers.py).
    return write_torch_atomic(payload, path, what="round 0")


def load_round_zero(path: str | os.PathLike, prepared: Any, spec: RunSpec) -> ScoredRound:
    """Round 0 as `save_round_zero` wrote it, checked against the run: its round-0 spec, its prepared dataset, the
    pool the run would score and the shapes and values of its scores. One error naming the file and the fix."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"round-0 file {path} does not exist; {remake_hint(path)}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        tensors, fields, stored = payload["tensors"], payload["fields"], payload["sha256"]
        if payload["format"] != FORMAT:
            raise ValueError(f"format {payload['format']!r}, not {FORMAT}")
        pool_P, log_probs_P_K_C = tensors["pool_P"], tensors["log_probs_P_K_C"]
        row = dict(fields["row"])
    except Exception as error:  # a broken file surfaces as any of many error types
        raise ValueError(f"{path} is not a round-0 file ({type(error).__name__}: {load_error_text(error)}); "
                         f"{remake_hint(path)}") from None
    if _checksum(tensors, fields) != stored:
        raise ValueError(f"{path}: checksum mismatch, the file is damaged or was edited; {remake_hint(path)}")
    if fields["round_zero"] != spec.round_zero().to_config():
        raise ValueError(f"{path} holds round 0 of another run setting than {spec.dataset} {spec.name} seed "
                         f"{spec.seed}; {remake_hint(path)}")
    if fields.get("prepared_sha256") != prepared.metadata.get("sha256"):
        raise ValueError(f"{path} was computed on another version of the prepared dataset; {remake_hint(path)}")
    expected = round_zero_shape(prepared, spec)
    if tuple(log_probs_P_K_C.shape) != expected or len(pool_P) != expected[0]:
        raise ValueError(f"{path}: scores of shape {tuple(log_probs_P_K_C.shape)}, expected {expected}; "
                         f"{remake_hint(path)}")
    if not bool(torch.isfinite(log_probs_P_K_C).all()) or not math.isfinite(float(row["test_accuracy"])):
        raise ValueError(f"{path}: non-finite scores or test accuracy; {remake_hint(path)}")
    return ScoredRound(row, pool_P, log_probs_P_K_C)


def round_zero_shape(prepared: Any, spec: RunSpec) -> tuple[int, int, int]:
    """(P, K, C) of round 0's scores: the pool (or its subset) after the initial and validation sets."""
    pool = prepared.num_train - spec.initial_size - spec.validation_size
    if spec.pool_subset is not None:
        pool = min(pool, spec.pool_subset)
    samples = spec.uncertainty.k_acquisition if spec.uncertainty.method == "mc_dropout" else spec.uncertainty.members
    return pool, samples, prepared.num_classes
