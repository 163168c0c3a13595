"""Batch acquisition functions on log-probabilities [N pool points, K posterior samples, C classes].

Every function is pure: it reads `log_probs_N_K_C` (float64 or float32, on CPU or CUDA; computation follows the
tensor's dtype and device) and returns a CandidateBatch of pool indices in selection order with their scores.
Pick by name through `acquire`; stochastic functions need an explicit CPU `torch.Generator`.

Names are loaded lazily (PEP 562), so that `sbadbal.acquisition.records` (names and parameters, what the
workflow reads when it parses) can be imported without torch.
"""

from sbadbal._lazy import lazy_exports

# Exported name -> the submodule that defines it. sbadbal/ops/codegraph.py reads this literal to follow an import
# of one name to its module only.
_EXPORTS = {
    "ALGORITHMS": "registry",
    "ALGORITHM_NAMES": "records",
    "DEFAULT_CHUNK_SIZE": "function",
    "AcquisitionFunction": "function",
    "AlgorithmRecord": "records",
    "CandidateBatch": "candidate",
    "acquire": "registry",
    "algorithm_defaults": "records",
    "canonical_name": "records",
    "function_of": "registry",
    "is_stochastic": "records",
    "validate_params": "records",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
