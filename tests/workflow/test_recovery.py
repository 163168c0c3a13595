"""Recovery in one command (issue 13 item 6): a stale lock left by `kill -9` is removed, a live run's is not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from sbadbal.ops.recovery import LiveRunError, live_snakemake_pids, lock_files, unlock_if_stale

from .helpers import REPO, TINY, copy_workflow, snakemake, snakemake_command, snakemake_env

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="live-run detection reads /proc (Linux)")


def wait_for(condition, timeout=180.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def sbadbal_cli(workdir, *args):
    return subprocess.run([sys.executable, "-m", "sbadbal", *args], cwd=workdir, env=snakemake_env(),
                          capture_output=True, text=True, timeout=600)


def test_recover_refuses_a_live_run_and_removes_the_lock_a_kill_left(tmp_path):
    workdir = copy_workflow(tmp_path / "workflow")
    # A real run of the tiny suite, in its own process group so that the kill reaches its job processes too.
    live = subprocess.Popen(snakemake_command("--cores", "1", *TINY), cwd=workdir, env=snakemake_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: lock_files(workdir) or live.poll() is not None, what="Snakemake's lock")
        assert live.poll() is None, "the tiny run finished before it could be observed locked"
        assert live.pid in live_snakemake_pids(workdir)
        with pytest.raises(LiveRunError, match=rf"process .*{live.pid}.*live, not stale"):
            unlock_if_stale(workdir)
        refused = sbadbal_cli(workdir, "recover", "--cores", "1", *TINY)
        assert refused.returncode == 3 and "its lock is live" in refused.stderr
        assert lock_files(workdir)  # the live run's lock is left alone
    finally:
        os.killpg(live.pid, signal.SIGKILL)  # the audit's kill -9
        live.wait()
    assert lock_files(workdir) and live_snakemake_pids(workdir) == []

    target = "results/tiny/data/MNIST5K.pt"
    # Before: the rerun fails on the stale lock and needs `--unlock` and a third command.
    locked = snakemake(workdir, "--cores", "1", target, *TINY, check=False)
    assert locked.returncode != 0 and "LockException" in locked.stdout + locked.stderr
    recovered = sbadbal_cli(workdir, "recover", "--cores", "1", target, *TINY)
    assert recovered.returncode == 0, recovered.stderr[-3000:]
    assert "removed the stale Snakemake lock" in recovered.stderr
    assert (workdir / target).is_file() and lock_files(workdir) == []


def test_unlock_without_locks_or_runs_is_a_no_op(tmp_path):
    assert unlock_if_stale(tmp_path) == []
    result = subprocess.run([sys.executable, "-m", "sbadbal", "unlock"], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == ""
