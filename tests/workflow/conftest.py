"""One real local run of the tiny suite, shared by the workflow tests and timed for the Slurm comparison."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .helpers import TINY, copy_workflow, snakemake


@pytest.fixture(scope="session")
def timed_tiny_run(tmp_path_factory) -> tuple[Path, float]:
    """The run's working folder and the wall seconds of `snakemake --cores 2` there."""
    workdir = copy_workflow(tmp_path_factory.mktemp("workflow"))
    started = time.perf_counter()
    snakemake(workdir, "--cores", "2", *TINY)
    return workdir, time.perf_counter() - started


@pytest.fixture(scope="session")
def tiny_run(timed_tiny_run) -> Path:
    return timed_tiny_run[0]
