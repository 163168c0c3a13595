"""Acquisition functions as records: names, aliases, parameters, where the code lives and how it is drawn. Torch-free.

The workflow reads this module when it parses (names for wildcards, parameters for config checks). Each record
names its function by module and attribute; a run receives its record as a parameter
(`AlgorithmRecord.to_config()`), imports the function from that module (sbadbal/acquisition/function.py), and
has that module as its one acquisition code input. No job imports this table, so adding a record reruns nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


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


def _count_up_to(upper: int) -> Callable[[str, Any], int]:
    """A positive integer with an upper bound: counts that size an acquisition's work are bounded, so that a typo
    (num_samples: 10**12) fails when the configuration is read instead of allocating inside a job."""

    def check(name: str, value: Any) -> int:
        value = _positive_int(name, value)
        if value > upper:
            raise ValueError(f"parameter {name!r} must be at most {upper:,}, got {value!r}")
        return value

    return check


# Upper bounds of the work-sizing parameters: BatchBALD's sampled configurations (10x its default; its joint
# entropy holds num_samples x K probabilities per pick) and the original LBB's pool chunk (1,000x its default).
MAX_NUM_SAMPLES = 1_000_000
MAX_CODE_CHUNK_SIZE = 1_000_000

# How each parameter is checked and normalised; the same name means the same thing in every function.
PARAM_CHECKS: Mapping[str, Callable[[str, Any], Any]] = MappingProxyType(
    {
        "alpha": _positive_float,
        "num_samples": _count_up_to(MAX_NUM_SAMPLES),
        "pair_weight": _finite_float,
        "code_chunk_size": _count_up_to(MAX_CODE_CHUNK_SIZE),
    }
)


@dataclass(frozen=True)
class AlgorithmRecord:
    """One acquisition function: where its code is, whether it needs a generator, its parameters, other names.

    `module` is a dotted module path and `function_name` the function in it. `scores_are_gains`: its
    CandidateBatch.scores are greedy gains at pick time (the batch diagnostics count the non-positive ones).
    `style`: (colour, matplotlib line style, marker) in figures; the order of RECORDS is the legends' order.
    `file`: a user's plug-in module, loaded from this file (sbadbal/acquisition/plugins.py builds such records
    from config.yaml); None for the package's own functions, which are imported by `module`.
    """

    name: str
    module: str
    function_name: str
    stochastic: bool
    defaults: Mapping[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    description: str = ""
    scores_are_gains: bool = False
    style: tuple[str, str, str] = ("#7f7f7f", "-", "o")
    file: str | None = None

    def to_config(self) -> dict[str, Any]:
        """What a run of this function needs, as plain values (the run rule's parameter): description, aliases and
        style are left out, so that editing them reruns nothing."""
        config = {"module": self.module, "function": self.function_name, "stochastic": self.stochastic,
                  "defaults": dict(self.defaults), "scores_are_gains": self.scores_are_gains}
        if self.file is not None:
            config["file"] = self.file
        return config


_PACKAGE = "sbadbal.acquisition"
# Families by hue, power variants dashed, each algorithm its own marker; colours from colour-blind-safe palettes
# (Tableau / Okabe-Ito), every pair at least sbadbal.analysis.colours.MIN_COLOUR_DISTANCE (CIEDE2000) apart, so
# that they can be told apart at 3.3 in (tests/analysis/test_plots.py checks every figure of the paper suite).
RECORDS = (
    AlgorithmRecord("BALD", f"{_PACKAGE}.simple", "get_bald_batch", False, {}, ("bald",),
                    "top-b mutual information I(y; theta)", style=("#1f5fbf", "-", "o")),
    AlgorithmRecord("PowerBALD", f"{_PACKAGE}.simple", "get_powerbald_batch", True, {"alpha": 5.0},
                    ("PBALD", "power_bald", "power-bald"), "sample b without replacement proportionally to BALD^alpha",
                    style=("#56b4e9", "--", "o")),
    AlgorithmRecord("BatchBALD", f"{_PACKAGE}.batchbald", "get_batchbald_batch", True, {"num_samples": 100_000},
                    ("BB", "batch_bald", "batch-bald"),
                    "greedy joint mutual information; exact while C^|S| <= num_samples, importance-sampled beyond "
                    "(needs a generator only then)", style=("#009e73", "-", "s")),
    AlgorithmRecord("LBB", f"{_PACKAGE}.lbb", "get_lbb_batch", False, {"pair_weight": 1.0},
                    ("large_batchbald", "large-batchbald"),
                    "greedy BALD(j) - pair_weight * sum_{i in S} I(y_i; y_j) (pair_weight 1: the second-order "
                    "truncation of the joint MI; 2: the stated double sum)",
                    scores_are_gains=True, style=("#d62728", "-", "^")),
    AlgorithmRecord("PLBB", f"{_PACKAGE}.lbb", "get_plbb_batch", True, {"alpha": 5.0, "pair_weight": 1.0},
                    ("power_lbb", "power-lbb"),
                    "power-sampled greedy LBB: draw proportionally to max(gain, 0)^alpha, update gains, repeat",
                    scores_are_gains=True, style=("#ff8c00", "--", "^")),
    AlgorithmRecord("LBB-code", f"{_PACKAGE}.lbb_code", "get_lbb_code_batch", False, {"code_chunk_size": 1024},
                    ("lbb_code", "LBBcode", "original_lbb"),
                    "the original code's LBB: top-b of BALD + T over fixed pool chunks of code_chunk_size rows",
                    style=("#8c3b0f", "-", "v")),
    AlgorithmRecord("PLBB-code", f"{_PACKAGE}.lbb_code", "get_plbb_code_batch", True,
                    {"alpha": 5.0, "code_chunk_size": 1024}, ("plbb_code", "PLBBcode", "original_plbb"),
                    "the original code's PLBB: sample proportionally to max(BALD + T, 0)^alpha",
                    style=("#e377c2", "--", "v")),
    AlgorithmRecord("MaxProb", f"{_PACKAGE}.simple", "get_max_prob_batch", False, {},
                    ("least_confidence", "least-confidence", "LC"), "top-b of 1 - max_c mean_k p (least confidence)",
                    style=("#9acd32", ":", "D")),
    AlgorithmRecord("Entropy", f"{_PACKAGE}.simple", "get_entropy_batch", False, {},
                    ("predictive_entropy", "MaxEntropy"), "top-b predictive entropy", style=("#7b3fb0", ":", "P")),
    AlgorithmRecord("Random", f"{_PACKAGE}.simple", "get_random_batch", True, {}, ("Rand", "uniform"),
                    "uniform without replacement", style=("#666666", "-.", "x")),
)

RECORDS_BY_NAME: Mapping[str, AlgorithmRecord] = MappingProxyType({record.name: record for record in RECORDS})
ALGORITHM_NAMES: tuple[str, ...] = tuple(record.name for record in RECORDS)


def name_key(name: str) -> str:
    """Case, '-', '_' and spaces are ignored, so "lbb_code", "LBB-code" and "LBBcode" are one name."""
    return "".join(ch for ch in name.lower() if ch not in "-_ ")


_NAME_LOOKUP: Mapping[str, str] = MappingProxyType(
    {name_key(alias): record.name for record in RECORDS for alias in (record.name, *record.aliases)}
)


def resolve_name(name: Any) -> str | None:
    """The canonical name of an algorithm given any of its names; None when it names none."""
    return _NAME_LOOKUP.get(name_key(name)) if isinstance(name, str) else None


def canonical_name(name: str) -> str:
    """The canonical name of an algorithm given any of its names (case-insensitive, '-'/'_' ignored)."""
    canonical = resolve_name(name)
    if canonical is None:
        choices = ", ".join(f"{r.name} ({', '.join(r.aliases)})" if r.aliases else r.name for r in RECORDS)
        raise ValueError(f"unknown acquisition function {name!r}; valid names (aliases): {choices}")
    return canonical


def record_of(name: str) -> AlgorithmRecord:
    """The record of an algorithm given any of its names."""
    return RECORDS_BY_NAME[canonical_name(name)]


def algorithm_defaults(name: str) -> dict[str, Any]:
    """The tunable parameters of an algorithm with their default values."""
    return dict(RECORDS_BY_NAME[canonical_name(name)].defaults)


def is_stochastic(name: str) -> bool:
    """Whether the algorithm may draw random numbers (and so needs a generator)."""
    return RECORDS_BY_NAME[canonical_name(name)].stochastic


def validate_params(name: str | AlgorithmRecord, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """params merged over the defaults of the algorithm (a name, or a record: a plug-in's); an unknown or invalid
    parameter raises a ValueError naming it. A plug-in's parameter takes a value of its default's type."""
    record = name if isinstance(name, AlgorithmRecord) else record_of(name)
    merged = dict(record.defaults)
    for key, value in (params or {}).items():
        if key not in merged:
            valid = ", ".join(merged) or "none"
            raise ValueError(f"unknown parameter {key!r} for {record.name}; its parameters are: {valid}")
        merged[key] = _like_default(key, value, merged[key]) if record.file is not None else PARAM_CHECKS[key](key, value)
    return merged


def _like_default(name: str, value: Any, default: Any) -> Any:
    """A plug-in parameter's value, of its default's type (an integer passes for a float)."""
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        if type(value) is not type(default):
            raise ValueError(f"parameter {name!r} must be a {type(default).__name__} like its default "
                             f"{default!r}, got {value!r}")
        return value
    if isinstance(default, float):
        return _finite_float(name, value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"parameter {name!r} must be an integer like its default {default!r}, got {value!r}")
    return value


def looks(names: Iterable[str]) -> dict[str, list[str]]:
    """(colour, line style, marker) of the registry algorithms among `names` (canonical names), in the records'
    order, which is the legends' order: what a figure rule passes to the plots."""
    wanted = set(names)
    return {record.name: list(record.style) for record in RECORDS if record.name in wanted}
