# Resources: what a job asks a scheduler for (estimates in sbadbal/ops/scheduling.py), doubled on each retry.
from pathlib import Path

from snakemake.common.tbdstring import TBDString

from sbadbal.ops import estimate, scheduling


def run_runtime_minutes(wildcards, attempt):
    """The run's expected time from `python -m sbadbal estimate`'s model, with a margin (sbadbal/ops/scheduling.py)."""
    experiment = EXPERIMENTS[wildcards.experiment]
    pool = estimate.pool_size_of(SUITE, experiment)
    return scheduling.run_runtime_minutes(experiment, wildcards.alg, int(wildcards.batch_size), pool) * attempt


def round_zero_runtime_minutes(wildcards, attempt):
    """One seed's round 0 (rule initial_round), from the same model."""
    experiment = EXPERIMENTS[wildcards.experiment]
    return scheduling.round_zero_runtime_minutes(experiment, estimate.pool_size_of(SUITE, experiment)) * attempt


def run_mem_mb(wildcards, input, attempt):
    prepared = Path(input.data)
    if not prepared.exists():
        # Not prepared yet (a dry run): Snakemake computes resources again once the input exists.
        return TBDString()
    return scheduling.run_memory_mb(EXPERIMENTS[wildcards.experiment], prepared.stat().st_size) * attempt


def prepare_mem_mb(wildcards, attempt):
    return scheduling.prepare_memory_mb(wildcards.dataset) * attempt


def doubling_on_retry(amount):
    """A resource that doubles on each retry: `mem_mb=doubling_on_retry(16000)`."""
    return lambda wildcards, attempt: amount * attempt
