"""One real local run of the tiny suite, shared by the workflow tests and timed for the Slurm comparison."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from .helpers import TINY, copy_workflow, snakemake


@pytest.fixture(scope="session")
def tiny_run_process(tmp_path_factory) -> tuple[Path, float, subprocess.CompletedProcess]:
    """The run's working folder, the wall seconds of `snakemake --cores 2` there, and its process (its output)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("workflow"))
    started = time.perf_counter()
    finished = snakemake(workdir, "--cores", "2", *TINY)
    return workdir, time.perf_counter() - started, finished


@pytest.fixture(scope="session")
def timed_tiny_run(tiny_run_process) -> tuple[Path, float]:
    """The run's working folder and the wall seconds of `snakemake --cores 2` there."""
    return tiny_run_process[:2]


@pytest.fixture(scope="session")
def tiny_run(timed_tiny_run) -> Path:
    return timed_tiny_run[0]
