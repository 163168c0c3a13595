"""Acquisition functions by name, their tunable parameters, and the one entry point `acquire`."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import torch

from .batchbald import get_batchbald_batch
from .candidate import CandidateBatch
from .lbb import get_lbb_batch, get_plbb_batch
from .lbb_code import get_lbb_code_batch, get_plbb_code_batch
from .simple import get_bald_batch, get_entropy_batch, get_max_prob_batch, get_powerbald_batch, get_random_batch
from .validation import validate_batch_size, validate_chunk_size, validate_log_probs

# Pool rows per memory chunk. Rows are independent, so this never changes a result; 1024 rows were measured the
# fastest for the elementwise passes on CPU (the chunk stays in cache).
DEFAULT_CHUNK_SIZE = 1024


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"parameter {name!r} must be a positive integer, got {value!r}")
    return value


def _finite_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"parameter {name!r} must be a finite number, got {value!r}")
    return float(value)


def _positive_float(name: str, value: Any) -> float:
    value = _finite_float(name, value)
    if value <= 0:
        raise ValueError(f"parameter {name!r} must be > 0, got {value!r}")
    return value


# How each parameter is checked and normalised; the same name means the same thing in every function.
PARAM_CHECKS: Mapping[str, Callable[[str, Any], Any]] = MappingProxyType(
    {
        "alpha": _positive_float,
        "num_samples": _positive_int,
        "pair_weight": _finite_float,
        "code_chunk_size": _positive_int,
    }
)


@dataclass(frozen=True)
class AlgorithmSpec:
    """One acquisition function: how to call it, whether it needs a generator, its parameters and other names."""

    name: str
    function: Callable[..., CandidateBatch]
    stochastic: bool
    defaults: Mapping[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    description: str = ""


_SPECS = (
    AlgorithmSpec("BALD", get_bald_batch, False, {}, ("bald",), "top-b mutual information I(y; theta)"),
    AlgorithmSpec("PowerBALD", get_powerbald_batch, True, {"alpha": 5.0}, ("PBALD", "power_bald", "power-bald"),
                  "sample b without replacement proportionally to BALD^alpha"),
    AlgorithmSpec("BatchBALD", get_batchbald_batch, True, {"num_samples": 100_000}, ("BB", "batch_bald", "batch-bald"),
                  "greedy joint mutual information; exact while C^|S| <= num_samples, importance-sampled beyond "
                  "(needs a generator only then)"),
    AlgorithmSpec("LBB", get_lbb_batch, False, {"pair_weight": 1.0}, ("large_batchbald", "large-batchbald"),
                  "greedy BALD(j) - pair_weight * sum_{i in S} I(y_i; y_j) (the authors' stated objective)"),
    AlgorithmSpec("PLBB", get_plbb_batch, True, {"alpha": 5.0, "pair_weight": 1.0}, ("power_lbb", "power-lbb"),
                  "power-sampled greedy LBB: draw proportionally to max(gain, 0)^alpha, update gains, repeat"),
    AlgorithmSpec("LBB-code", get_lbb_code_batch, False, {"code_chunk_size": 1024}, ("lbb_code", "LBBcode", "seed_lbb"),
                  "the seed code's LBB: top-b of BALD + T over fixed pool chunks of code_chunk_size rows"),
    AlgorithmSpec("PLBB-code", get_plbb_code_batch, True, {"alpha": 5.0, "code_chunk_size": 1024},
                  ("plbb_code", "PLBBcode", "seed_plbb"),
                  "the seed code's PLBB: sample proportionally to max(BALD + T, 0)^alpha"),
    AlgorithmSpec("MaxProb", get_max_prob_batch, False, {}, ("least_confidence", "least-confidence", "LC"),
                  "top-b of 1 - max_c mean_k p (least confidence)"),
    AlgorithmSpec("Entropy", get_entropy_batch, False, {}, ("predictive_entropy", "MaxEntropy"),
                  "top-b predictive entropy"),
    AlgorithmSpec("Random", get_random_batch, True, {}, ("Rand", "uniform"), "uniform without replacement"),
)

ALGORITHMS: Mapping[str, AlgorithmSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})
ALGORITHM_NAMES: tuple[str, ...] = tuple(spec.name for spec in _SPECS)


def _name_key(name: str) -> str:
    # Case, '-', '_' and spaces are ignored, so "lbb_code", "LBB-code" and "LBBcode" are one name.
    return "".join(ch for ch in name.lower() if ch not in "-_ ")


_NAME_LOOKUP: Mapping[str, str] = MappingProxyType(
    {_name_key(alias): spec.name for spec in _SPECS for alias in (spec.name, *spec.aliases)}
)


def canonical_name(name: str) -> str:
    """The canonical name of an algorithm given any of its names (case-insensitive, '-'/'_' ignored)."""
    canonical = _NAME_LOOKUP.get(_name_key(name)) if isinstance(name, str) else None
    if canonical is None:
        choices = ", ".join(f"{spec.name} ({', '.join(spec.aliases)})" if spec.aliases else spec.name for spec in _SPECS)
        raise ValueError(f"unknown acquisition function {name!r}; valid names (aliases): {choices}")
    return canonical


def algorithm_defaults(name: str) -> dict[str, Any]:
    """The tunable parameters of an algorithm with their default values."""
    return dict(ALGORITHMS[canonical_name(name)].defaults)


def is_stochastic(name: str) -> bool:
    """Whether the algorithm may draw random numbers (and so needs a generator)."""
    return ALGORITHMS[canonical_name(name)].stochastic


def validate_params(name: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """params merged over the defaults; an unknown or invalid parameter raises a ValueError naming it."""
    canonical = canonical_name(name)
    merged = algorithm_defaults(canonical)
    for key, value in (params or {}).items():
        if key not in merged:
            valid = ", ".join(merged) or "none"
            raise ValueError(f"unknown parameter {key!r} for {canonical}; its parameters are: {valid}")
        merged[key] = PARAM_CHECKS[key](key, value)
    return merged


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


# The files `acquire` itself runs for every algorithm, whatever the algorithm's own module imports.
_CALL_PATH_MODULES = ("acquisition/__init__.py", "acquisition/registry.py", "acquisition/validation.py")


def source_files(name: str) -> tuple[str, ...]:
    """Library files (paths relative to the sbadbal package) whose code can change what `name` selects.

    The algorithm's own module and every sbadbal module it imports, transitively, plus the call path of
    `acquire`. The workflow lists these as inputs of the runs of `name`, so an edit of `lbb.py` reruns the LBB
    and PLBB runs and no BALD run. Found by reading import statements, so a new helper module is never missed.
    """
    package_root = Path(__file__).resolve().parents[1]
    function_module = ALGORITHMS[canonical_name(name)].function.__module__
    start = function_module.removeprefix("sbadbal.").replace(".", "/") + ".py"
    found: set[str] = set()
    pending = [start, *_CALL_PATH_MODULES]
    while pending:
        relative = pending.pop()
        if relative in found:
            continue
        found.add(relative)
        if relative == "acquisition/registry.py":
            continue  # it imports every algorithm's module; only its own code is on every call path
        package_parts = Path(relative).parent.parts
        for node in ast.walk(ast.parse((package_root / relative).read_text())):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                base = package_parts[: len(package_parts) - (node.level - 1)]
                for target in _module_files(package_root, base, node.module, [alias.name for alias in node.names]):
                    pending.append(target)
    return tuple(sorted(found))


def _module_files(package_root: Path, base_parts: tuple[str, ...], module: str | None, names: list[str]) -> list[str]:
    """Files that `from <base>.<module> import <names>` reads: the module, or submodules named in `names`."""
    parts = [*base_parts, *(module.split(".") if module else [])]
    candidates = [Path(*parts).with_suffix(".py") if parts else None, Path(*parts, "__init__.py")]
    if not module:
        candidates += [Path(*parts, f"{name}.py") for name in names]
    return [str(path) for path in candidates if path is not None and (package_root / path).is_file()]
