"""Recovery in one command (issue 13 item 6): a stale lock left by `kill -9` is removed, a live run's is not."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sbadbal.ops.ownership import live_jobs
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


# --- issue 20: live runs however started, orphaned jobs, other users' locks (real Snakemake, real kills) -----------

SMALL_WORKFLOW = '''
rule all:
    input: "recorded.txt", "plain.txt"

rule recorded:
    output: "recorded.txt"
    script: "recorded.py"

rule plain:
    output: "plain.txt"
    script: "plain.py"
'''
# A job that records itself as every workflow script does (scripts/_helpers.py), and one that does not: the
# second is found by the job script Snakemake runs it from. Each says it started, then works for SECONDS.
RECORDED_JOB = '''
import time
from pathlib import Path
from sbadbal.ops.ownership import register_job
register_job()
Path("recorded.started").write_text("")
time.sleep(float(open("seconds").read()))
Path(snakemake.output[0]).write_text("done")
'''
PLAIN_JOB = '''
import time
from pathlib import Path
Path("plain.started").write_text("")
time.sleep(float(open("seconds").read()))
Path(snakemake.output[0]).write_text("done")
'''

# However Snakemake was started, it is the one holding its session log open.
SPELLINGS = {
    "snakemake": ["-m", "snakemake"],
    "python -u -m": ["-u", "-m", "snakemake"],
    "python -X utf8 -m": ["-X", "utf8", "-m", "snakemake"],
    "python -W ignore -m": ["-W", "ignore", "-m", "snakemake"],
    "python -c cli.main()": ["-c", "import sys; from snakemake.cli import main; sys.exit(main())"],
}


def small_workflow(folder, seconds: float):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Snakefile").write_text(SMALL_WORKFLOW)
    (folder / "recorded.py").write_text(RECORDED_JOB)
    (folder / "plain.py").write_text(PLAIN_JOB)
    (folder / "seconds").write_text(str(seconds))
    return folder


def start_snakemake(folder, spelling=SPELLINGS["snakemake"], **popen):
    return subprocess.Popen([sys.executable, *spelling, "--cores", "2", "--workflow-profile", "none"], cwd=folder,
                            env=snakemake_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, **popen)


def alive(pid: int) -> bool:
    try:
        return (open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]) != "Z"
    except OSError:
        return False


def job_pids(folder) -> list[int]:
    """Processes running the small workflow's job scripts (how the test sees them, independent of recovery)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                argv = open(f"/proc/{entry}/cmdline", "rb").read().decode()
                cwd = os.readlink(f"/proc/{entry}/cwd")
            except OSError:
                continue
            if cwd == str(folder) and ".snakemake/scripts/" in argv and alive(int(entry)):
                found.append(int(entry))
    return sorted(found)


@pytest.mark.parametrize("spelling", list(SPELLINGS), ids=list(SPELLINGS))
def test_a_live_run_is_seen_however_snakemake_was_started(tmp_path, spelling):
    folder = small_workflow(tmp_path / "workflow", seconds=120)
    live = start_snakemake(folder, SPELLINGS[spelling])
    try:
        wait_for(lambda: (folder / "recorded.started").exists() or live.poll() is not None, what="the jobs")
        assert live.poll() is None
        assert live_snakemake_pids(folder) == [live.pid]
        # Before: `python -u -m snakemake` and the others were not seen, and recover removed the live lock.
        refused = sbadbal_cli(folder, "unlock")
        assert refused.returncode == 3 and f"(process {live.pid}): its lock is live" in refused.stderr
        assert lock_files(folder) and all(alive(pid) for pid in job_pids(folder))
    finally:
        os.killpg(live.pid, signal.SIGKILL)
        live.wait()


def kill_snakemake_only(folder, seconds):
    """A small run killed with `kill -9` of Snakemake alone, its two jobs left running; the jobs' pids."""
    live = start_snakemake(folder)
    wait_for(lambda: ((folder / "recorded.started").exists() and (folder / "plain.started").exists())
             or live.poll() is not None, what="both jobs")
    jobs = job_pids(folder)
    os.kill(live.pid, signal.SIGKILL)  # the audit's kill: Snakemake alone, not its process group
    live.wait()
    assert len(jobs) == 2 and all(alive(pid) for pid in jobs), "the kill should leave both jobs running"
    return jobs


def test_unlock_stops_the_orphaned_jobs_by_pid_before_the_lock_goes(tmp_path):
    folder = small_workflow(tmp_path / "workflow", seconds=300)
    orphans = kill_snakemake_only(folder, 300)
    try:
        result = sbadbal_cli(folder, "unlock")
        # Before: the lock went and a rerun started new jobs beside the orphans, two writers per output.
        assert result.returncode == 0, result.stderr
        assert "stopping 2 job process(es) a killed Snakemake left running" in result.stderr
        assert all(str(pid) in result.stderr for pid in orphans)
        assert not any(alive(pid) for pid in orphans) and lock_files(folder) == []
        assert not (folder / "recorded.txt").exists() and not (folder / "plain.txt").exists()
    finally:
        for pid in orphans:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_unlock_can_wait_for_the_orphaned_jobs_instead(tmp_path):
    folder = small_workflow(tmp_path / "workflow", seconds=4)
    orphans = kill_snakemake_only(folder, 4)
    result = sbadbal_cli(folder, "unlock", "--wait-for-jobs")
    assert result.returncode == 0, result.stderr
    assert "waiting for 2 job process(es)" in result.stderr
    # They finished their work before the lock went.
    assert (folder / "recorded.txt").read_text() == "done" and (folder / "plain.txt").read_text() == "done"
    assert not any(alive(pid) for pid in orphans) and lock_files(folder) == []


def test_another_users_unlock_leaves_a_live_run_alone(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("running unlock as another user needs root")
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="sbadbal-shared-", dir="/tmp"))  # a folder user nobody can reach
    shared.chmod(0o777)
    folder = small_workflow(shared / "workflow", seconds=120)
    folder.chmod(0o777)
    # A root run with umask 0: every folder it makes is writable by all, as in a group-shared project folder.
    live = start_snakemake(folder, preexec_fn=lambda: os.umask(0))
    try:
        wait_for(lambda: (folder / "recorded.started").exists() or live.poll() is not None, what="the jobs")
        assert live.poll() is None
        # The system Python (the venv's lies under /root), with only the library: recovery needs nothing else.
        # A copy of the package that nobody can read (a checkout under a 0700 temp folder is out of its reach).
        library = shared / "library"
        shutil.copytree(REPO / "sbadbal", library / "sbadbal", ignore=shutil.ignore_patterns("__pycache__"))
        for path in [library, *library.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        unlock = subprocess.run(["/usr/bin/python3", "-m", "sbadbal", "unlock"], cwd=folder, user="nobody",
                                group="nogroup", env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(library)},
                                capture_output=True, text=True, timeout=120)
        # Before: nobody could not read root's /proc entries, took the lock for stale and removed it.
        assert unlock.returncode == 3, unlock.stderr
        assert "belongs to user root, whose processes" in unlock.stderr and "cannot inspect" in unlock.stderr
        assert lock_files(folder)
    finally:
        os.killpg(live.pid, signal.SIGKILL)
        live.wait()
        shutil.rmtree(shared)


def test_the_tiny_suite_killed_mid_run_recovers_without_a_second_writer(tmp_path):
    """The audit's case on the real workflow: Snakemake alone killed while an AL run works. A CLI run aimed at
    that run's CSV fails naming the job; `recover` stops the orphaned job by PID before the lock goes, the run
    resumes from its checkpoint, and its log keeps both attempts."""
    workdir = copy_workflow(tmp_path / "workflow")
    run_csv = workdir / "results/tiny/runs/tiny_mc/b10/BALD/seed1.csv"
    target = str(run_csv.relative_to(workdir))
    log = workdir / "logs/tiny/run_al/tiny_mc/b10/BALD/seed1.log"
    checkpoint = run_csv.with_name(run_csv.name + ".checkpoint.json")
    live = subprocess.Popen(snakemake_command("--cores", "1", target, *TINY), cwd=workdir, env=snakemake_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    orphans = []
    try:
        wait_for(lambda: checkpoint.exists() or live.poll() is not None, what="the run's first checkpoint")
        job = [holder.pid for holder in live_jobs(workdir)]
        assert live.poll() is None and len(job) == 1
        os.kill(job[0], signal.SIGSTOP)  # hold the job mid-run (the tiny run would finish within seconds)
        orphans = job
        # A second writer while the workflow runs: before, its seed-2 run became the workflow's seed 1.
        cli = sbadbal_cli(workdir, "run", "--experiment", "config.yaml", "--key", "suites.tiny.experiments.tiny_mc",
                          "--algorithm", "BALD", "--batch-size", "10", "--seed", "2",
                          "--prepared", "results/tiny/data/MNIST5K.pt", "--csv", target)
        assert cli.returncode == 2 and len(cli.stderr.strip().splitlines()) == 1, cli.stderr
        assert f"{target} is being written by process {job[0]} of user " in cli.stderr
        os.kill(live.pid, signal.SIGKILL)  # Snakemake alone: its job goes on
        live.wait()
        recovered = sbadbal_cli(workdir, "recover", "--cores", "1", target, *TINY)
        assert recovered.returncode == 0, recovered.stderr[-3000:]
        assert f"stopping 1 job process(es) a killed Snakemake left running (their runs resume from their " \
               f"checkpoints): {job[0]} " in recovered.stderr
        assert not alive(job[0])
    finally:
        if live.poll() is None:
            os.killpg(live.pid, signal.SIGKILL)
            live.wait()
        for pid in orphans:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert run_csv.is_file() and not checkpoint.exists()
    text = log.read_text()
    # Before: Snakemake emptied the log for the new attempt; now the first attempt's lines come first.
    assert "--- earlier attempt(s) of this job" in text and "--- this attempt ---" in text
    earlier, this = text.split("--- this attempt ---")
    assert "run BALD b=10 seed=1" in earlier and "run BALD b=10 seed=1" in this
    assert "resuming from checkpoint" in this and "final accuracy" in this
    assert not run_csv.with_name(run_csv.name + ".checkpoint.log").exists()
    assert not run_csv.with_name(run_csv.name + ".lock").exists()
