"""One real local run of the tiny suite, shared by the workflow tests and timed for the Slurm comparison."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .helpers import TINY, copy_workflow, snakemake


class TimedRun(type(Path())):
    """The run's working folder; `seconds` is the wall time of `snakemake --cores 2` there."""

    seconds: float


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    workdir = copy_workflow(tmp_path_factory.mktemp("workflow"))
    started = time.perf_counter()
    snakemake(workdir, "--cores", "2", *TINY)
    run = TimedRun(workdir)
    run.seconds = time.perf_counter() - started
    return run
