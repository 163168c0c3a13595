"""Acquisition functions by name, their tunable parameters, and the one entry point `acquire`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

import torch

from .candidate import CandidateBatch
from .records import (
    ALGORITHM_NAMES,
    PARAM_CHECKS,
    RECORDS,
    AlgorithmRecord,
    algorithm_defaults,
    canonical_name,
    is_stochastic,
    validate_params,
)
from .validation import validate_batch_size, validate_chunk_size, validate_log_probs

__all__ = [
    "ALGORITHMS", "ALGORITHM_NAMES", "DEFAULT_CHUNK_SIZE", "PARAM_CHECKS", "AlgorithmSpec", "acquire",
    "algorithm_defaults", "canonical_name", "is_stochastic", "source_files", "validate_params",
]

# Pool rows per memory chunk. Rows are independent, so this never changes a result; 1024 rows were measured the
# fastest for the elementwise passes on CPU (the chunk stays in cache).
DEFAULT_CHUNK_SIZE = 1024


@dataclass(frozen=True)
class AlgorithmSpec:
    """A record (sbadbal/acquisition/records.py) with its function imported: what `acquire` calls."""

    record: AlgorithmRecord
    function: Callable[..., CandidateBatch]

    def __getattr__(self, name: str) -> Any:  # name, stochastic, defaults, aliases, description
        return getattr(self.record, name)


class _LazySpecs(Mapping):
    """name -> AlgorithmSpec, importing an algorithm's module on first use only."""

    def __init__(self) -> None:
        self._loaded: dict[str, AlgorithmSpec] = {}

    def __getitem__(self, name: str) -> AlgorithmSpec:
        if name not in self._loaded:
            record = {r.name: r for r in RECORDS}[name]
            module = import_module(f".{record.module}", __package__)
            self._loaded[name] = AlgorithmSpec(record, getattr(module, record.function_name))
        return self._loaded[name]

    def __iter__(self):
        return iter(ALGORITHM_NAMES)

    def __len__(self) -> int:
        return len(ALGORITHM_NAMES)


ALGORITHMS: Mapping[str, AlgorithmSpec] = _LazySpecs()


def acquire(
    name: str,
    log_probs_N_K_C: torch.Tensor,
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool | None = None,
    **params: Any,
) -> CandidateBatch:
    """Select min(batch_size, N) pool indices with the named algorithm.

    Computation follows the tensor: its device (CPU or CUDA) and its dtype (float64, the default everywhere, or
    float32). Random numbers come from `generator`, which must be a CPU generator (required by stochastic algorithms).
    chunk_size is the number of pool rows processed at once; it bounds memory and never changes the result.
    progress: None shows a bar on the slow functions only when stderr is a terminal.
    """
    spec = ALGORITHMS[canonical_name(name)]
    merged = validate_params(spec.name, params)
    chunk_size = validate_chunk_size(chunk_size)
    validate_log_probs(log_probs_N_K_C, chunk_size)
    batch_size = validate_batch_size(batch_size, log_probs_N_K_C.shape[0])
    extra: dict[str, Any] = {"chunk_size": chunk_size, "progress": progress}
    if spec.stochastic:
        extra["generator"] = generator
    return spec.function(log_probs_N_K_C, batch_size, **merged, **extra)


def source_files(name: str) -> tuple[str, ...]:
    """Library files (paths relative to the sbadbal package) whose code can change what `name` selects.

    The import closure (sbadbal/ops/codegraph.py) of the algorithm's own module and of this module, which
    imports the algorithms' modules only by name. The workflow lists these as inputs of the runs of `name`, so
    an edit of `lbb.py` reruns the LBB and PLBB runs and no BALD run.
    """
    from sbadbal.ops.codegraph import import_closure

    record = ALGORITHMS[canonical_name(name)].record
    package = Path(__file__).resolve().parents[1]
    return import_closure(package / record.module_file, Path(__file__))
