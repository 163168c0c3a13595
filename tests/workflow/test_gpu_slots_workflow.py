"""GPU slots in a real Snakemake run: concurrent GPU jobs of the tiny suite each get their own device.

The run says there are two GPUs (CUDA_VISIBLE_DEVICES=0,1) and lets two GPU jobs run at once. On a machine
without CUDA torch then runs on the CPU, but every GPU job still claims a slot and logs which device it would
use; the rule logs' timestamps show which jobs held their slots at the same time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from pathlib import Path

import pytest

from .helpers import TINY, copy_workflow, snakemake, tiny_suite

GPU_RULES = ("initial_round", "run_al", "bench_log_probs", "bench_acquisition")
STAMPED = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
SLOT_LINE = re.compile(r"GPU slot: CUDA_VISIBLE_DEVICES=(\S+) \(lock (.+)\)$")


@dataclass(frozen=True)
class HeldSlot:
    """A job's slot and a time span inside which it surely held it: its slot line to its last log line."""

    log: str
    gpu_id: str
    lock_path: Path
    start: datetime
    end: datetime

    def overlaps(self, other: HeldSlot) -> bool:
        return self.start < other.end and other.start < self.end


def held_slot(log: Path, root: Path) -> HeldSlot:
    stamped = [(datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f"), line)
               for line in log.read_text().splitlines() if (match := STAMPED.match(line))]
    slots = [(time, SLOT_LINE.search(line)) for time, line in stamped if SLOT_LINE.search(line)]
    assert len(slots) == 1, f"{log.relative_to(root)}: expected one 'GPU slot:' line, found {len(slots)}"
    (start, slot), = slots
    return HeldSlot(str(log.relative_to(root)), slot[1], Path(slot[2]), start, stamped[-1][0])


@pytest.fixture(scope="module")
def gpu_run(tmp_path_factory) -> tuple[Path, Path]:
    workdir = copy_workflow(tmp_path_factory.mktemp("workflow"))
    lock_dir = tmp_path_factory.mktemp("gpu-locks")
    env = {
        "CUDA_VISIBLE_DEVICES": "0,1",
        "SBADBAL_GPU_LOCK_DIR": str(lock_dir),
        "SBADBAL_JOBS_PER_GPU": "",
        "SLURM_STEP_ID": "",  # in case the tests themselves run inside a Slurm step: this run is local
    }
    snakemake(workdir, "--cores", "2", "--resources", "gpu=2", *TINY, env=env)
    return workdir, lock_dir


def test_concurrent_gpu_jobs_get_different_gpus(gpu_run):
    workdir, lock_dir = gpu_run
    logs = sorted(log for rule in GPU_RULES for log in (workdir / "logs" / "tiny" / rule).rglob("*.log"))
    experiment = next(iter(tiny_suite()["experiments"].values()))
    runs = len(experiment["batch_sizes"]) * len(experiment["algorithms"]) * len(experiment["seeds"])
    rounds_zero = len(experiment["seeds"])
    assert len(logs) == runs + rounds_zero + 2  # every AL run, each seed's round 0 and both benchmark jobs

    held = [held_slot(log, workdir) for log in logs]
    assert {slot.gpu_id for slot in held} <= {"0", "1"}
    assert {slot.lock_path for slot in held} <= {lock_dir / "gpu0.slot0.lock", lock_dir / "gpu1.slot0.lock"}
    overlapping = [(a, b) for a, b in combinations(held, 2) if a.overlaps(b)]
    # Two cores and four one-thread AL runs: Snakemake starts two GPU jobs at once, so some spans overlap.
    assert overlapping, "no two GPU jobs ran at the same time, so this run shows nothing about slots"
    shared = [(a.log, b.log, a.gpu_id) for a, b in overlapping if a.gpu_id == b.gpu_id]
    assert not shared, f"jobs that ran at the same time shared a GPU: {shared}"
