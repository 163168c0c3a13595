"""One writer per run (issue 20, item 2): a run's files are claimed by the process writing them, and a second
writer (here a real `python -m sbadbal run` process) fails at once with one line naming the holder."""

from __future__ import annotations

import getpass
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sbadbal.ops.ownership import OutputClaimedError, claim_outputs, claim_path, is_held, live_jobs, register_job

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}

# Holds a run's claim, as a running workflow job does, until its stdin closes.
HOLDER = """
import sys
from sbadbal.ops.ownership import claim_outputs
with claim_outputs(sys.argv[1]):
    print("claimed", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def holder(tmp_path):
    csv = tmp_path / "results" / "runs" / "BALD" / "seed1.csv"
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(csv)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, env=ENV)
    assert process.stdout.readline().strip() == "claimed"
    yield csv, process
    process.kill()
    process.wait()


def test_a_cli_run_into_a_claimed_path_fails_naming_the_holder(tmp_path, holder):
    csv, process = holder
    cli = subprocess.run(
        [sys.executable, "-m", "sbadbal", "run", "--experiment", str(REPO / "config.yaml"), "--key",
         "suites.tiny.experiments.tiny_mc", "--algorithm", "BALD", "--batch-size", "10", "--seed", "2",
         "--prepared", str(tmp_path / "never_read.pt"), "--csv", str(csv)],
        capture_output=True, text=True, env=ENV, timeout=300)
    lines = cli.stderr.strip().splitlines()
    assert cli.returncode == 2 and len(lines) == 1, cli.stderr
    assert lines[0].startswith(f"error: {csv} is being written by process {process.pid} of user {getpass.getuser()} (")
    assert "-c" in lines[0] and "have one writer" in lines[0]
    assert not csv.exists() and not csv.with_suffix(".json").exists()  # the second writer wrote nothing


def test_a_claim_is_released_by_exit_and_by_sigkill(tmp_path, holder):
    csv, process = holder
    assert is_held(claim_path(csv))
    with pytest.raises(OutputClaimedError, match=rf"process {process.pid} "):
        with claim_outputs(csv):
            pass
    process.send_signal(signal.SIGKILL)
    process.wait()
    # The kernel dropped the flock with the process: the next writer claims it, and removes the file after.
    with claim_outputs(csv) as path:
        assert is_held(path)
    assert not claim_path(csv).exists()


def test_a_planted_symlink_is_never_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    csv = tmp_path / "seed1.csv"
    claim_path(csv).symlink_to(victim)
    with pytest.raises(OSError):
        with claim_outputs(csv):
            pass
    assert victim.read_text() == "precious"


def test_job_records_list_live_jobs_and_drop_dead_ones(tmp_path):
    (tmp_path / ".snakemake").mkdir()
    script = "import sys; from sbadbal.ops.ownership import register_job; print(register_job()); sys.stdin.readline()"
    jobs = [subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=ENV) for _ in range(2)]
    try:
        for job in jobs:
            assert job.stdout.readline().strip().endswith(f"{job.pid}.lock")
        assert sorted(h.pid for h in live_jobs(tmp_path)) == sorted(j.pid for j in jobs)
        jobs[0].send_signal(signal.SIGKILL)
        jobs[0].wait()
        assert [h.pid for h in live_jobs(tmp_path)] == [jobs[1].pid]
        assert sorted(p.name for p in (tmp_path / ".snakemake" / "sbadbal-jobs").iterdir()) == [f"{jobs[1].pid}.lock"]
    finally:
        for job in jobs:
            job.kill()
            job.wait()


def test_no_record_outside_a_workflow_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert register_job(tmp_path) is None and not (tmp_path / ".snakemake").exists()
