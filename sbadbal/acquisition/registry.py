"""Acquisition functions by name, for library callers: `acquire("LBB", log_probs_N_K_C, 10)`.

The records (sbadbal/acquisition/records.py) name each function; `acquire` checks the parameters against the
record and calls the function as a run does (sbadbal/acquisition/function.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import torch

from .candidate import CandidateBatch
from .function import DEFAULT_CHUNK_SIZE, AcquisitionFunction
from .records import RECORDS, canonical_name, validate_params

# Canonical name -> the function its record names (imported on first call), in the records' order.
ALGORITHMS: Mapping[str, AcquisitionFunction] = MappingProxyType(
    {record.name: AcquisitionFunction.from_config(record.name, record.to_config()) for record in RECORDS}
)


def function_of(name: str) -> AcquisitionFunction:
    """The acquisition function of an algorithm given any of its names."""
    return ALGORITHMS[canonical_name(name)]


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
    """Select min(batch_size, N) pool indices with the named algorithm (any of its names); `params` are checked
    against its record and merged over its defaults. See AcquisitionFunction.__call__ for the rest."""
    function = function_of(name)
    merged = validate_params(function.name, params)
    return function(log_probs_N_K_C, batch_size, generator=generator, chunk_size=chunk_size, progress=progress, **merged)
