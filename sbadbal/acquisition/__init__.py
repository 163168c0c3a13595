"""Batch acquisition functions on log-probabilities [N pool points, K posterior samples, C classes].

Every function is pure: it reads `log_probs_N_K_C` (float64 or float32, on CPU or CUDA; computation follows the
tensor's dtype and device) and returns a CandidateBatch of pool indices in selection order with their scores.
Pick by name through `acquire`; stochastic functions need an explicit CPU `torch.Generator`.
"""

from .candidate import CandidateBatch
from .registry import (
    ALGORITHM_NAMES,
    ALGORITHMS,
    DEFAULT_CHUNK_SIZE,
    AlgorithmSpec,
    acquire,
    algorithm_defaults,
    canonical_name,
    is_stochastic,
    source_files,
    validate_params,
)

__all__ = [
    "ALGORITHMS",
    "ALGORITHM_NAMES",
    "DEFAULT_CHUNK_SIZE",
    "AlgorithmSpec",
    "CandidateBatch",
    "acquire",
    "algorithm_defaults",
    "canonical_name",
    "is_stochastic",
    "source_files",
    "validate_params",
]
