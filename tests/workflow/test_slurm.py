"""The workflow on a real Slurm: `snakemake --workflow-profile profiles/slurm` against a single-node cluster.

The cluster (slurm_cluster.py) runs from Debian's slurm-wlm and munge, started and stopped by each test. Where
they are not installed (or the tests do not run as root) the cluster tests skip with the install command, and fail
instead when SBADBAL_REQUIRE_SYSTEM_TESTS=1 (as in CI). Once the packages are there, a cluster that cannot start
fails the test with the daemons' logs. The profile is used as shipped;
only its site settings are given, through the environment variables its header documents.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from .helpers import (
    TINY,
    change_config,
    copy_workflow,
    missing_outputs,
    snakemake,
    snakemake_command,
    snakemake_env,
    tiny_run_csvs,
    tiny_suite,
)
from ..data.mirror import Mirror
from ..system_packages import require_system
from .slurm_cluster import PARTITION, LocalSlurmCluster, missing_requirements
from .test_retrieve import ARGS as MNIST_ARGS, copy_env, mnist_workflow, served_mnist

# Columns that depend only on the seeds, not on the machine's speed.
DETERMINISTIC_COLUMNS = ["round", "labelled", "test_accuracy", "test_nll", "acquired_indices"]
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (\S+)\)")
SLURM_TIMEOUT_S = 900

# This test machine: a cluster without an accounting database (status from squeue), checked every few seconds
# rather than the plugin's 40 s, and Slurm's own job logs kept so that the tests can read them.
SLURM_ARGS = ("--workflow-profile", "profiles/slurm", "--slurm-status-command", "squeue",
              "--slurm-init-seconds-before-status-checks", "2", "--slurm-keep-successful-logs")


def site_settings(gpus_per_job: int) -> dict[str, str]:
    """The profile's site block, set for the test node: its only partition and cores."""
    return {
        "SBADBAL_SLURM_CPU_PARTITION": PARTITION,
        "SBADBAL_SLURM_GPU_PARTITION": PARTITION,
        "SBADBAL_SLURM_GPUS_PER_JOB": str(gpus_per_job),
        "SBADBAL_SLURM_CPUS_PER_GPU_JOB": "1",  # as the local run's `threads: 1`, so the numbers agree exactly
        "SBADBAL_SLURM_ACCOUNT": "",
    }


def submissions(output: str) -> list[tuple[str, str, str]]:
    """(Snakemake job id, Slurm job id, Slurm log) for every sbatch the run made, in order."""
    return SUBMITTED.findall(output)


def deterministic_part(csv: Path) -> pd.DataFrame:
    return pd.read_csv(csv, dtype={"acquired_indices": str}, keep_default_na=False)[DETERMINISTIC_COLUMNS]


@pytest.fixture
def slurm_installed() -> None:
    require_system(missing_requirements())


def show(capsys, text: str) -> None:
    """Into the test log even when the test passes: CI's log shows the Slurm job ids and the timings."""
    with capsys.disabled():
        sys.stdout.write(f"\n{text}\n")


def test_tiny_suite_through_slurm_matches_the_local_run(slurm_installed, tmp_path, timed_tiny_run, capsys):
    tiny_run, local_seconds = timed_tiny_run
    workdir = copy_workflow(tmp_path / "workflow")
    with LocalSlurmCluster(tmp_path / "cluster", gpus=0) as cluster:
        started = time.perf_counter()
        result = snakemake(workdir, *SLURM_ARGS, *TINY, env={**cluster.env, **site_settings(gpus_per_job=0)},
                           check=False, timeout=SLURM_TIMEOUT_S)
        slurm_seconds = time.perf_counter() - started
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"{output[-6000:]}\n{cluster.daemon_logs()}"
        jobs = cluster.jobs()

    submitted = submissions(output)
    show(capsys, "Slurm job ids (snakemake job -> slurm job):\n" +
         "\n".join(f"  {job} -> {slurm_id}  {log}" for job, slurm_id, log in submitted) +
         f"\ntiny suite: {slurm_seconds:.0f} s through Slurm, {local_seconds:.0f} s with the local executor "
         "(--cores 2)")

    assert not missing_outputs(workdir), missing_outputs(workdir)
    # Every non-local job went through sbatch once: data preparation, each seed's round 0, each AL run, both
    # benchmark steps; nothing else (tables, figures and their pages are local rules).
    suite = tiny_suite()
    runs = len(tiny_run_csvs(workdir))
    seeds = sum(len(experiment["seeds"]) for experiment in suite["experiments"].values())
    submitted_rules = sorted(rule_of(log) for *_, log in submitted)
    assert len(submitted) == 1 + seeds + runs + 2 * len(suite["benchmarks"]), submitted_rules
    slurm_ids = {slurm_id for _, slurm_id, _ in submitted}
    assert {job["id"] for job in jobs if job["state"] == "COMPLETED"} >= slurm_ids
    run_logs = [log for _, _, log in submitted if "/rule_run_al/" in log]
    assert len(run_logs) == runs and all(Path(log).is_file() for log in run_logs)
    comments = {job["comment"] for job in jobs}
    assert sum(comment.startswith("rule_run_al_wildcards_") for comment in comments) == runs

    # The same numbers as the local run: seeds, not the executor, decide a run.
    for local_csv, slurm_csv in zip(tiny_run_csvs(tiny_run), tiny_run_csvs(workdir)):
        pd.testing.assert_frame_equal(deterministic_part(slurm_csv), deterministic_part(local_csv))


# --- retrieval on the submitting node, preparation in a job that never downloads ------------------------------


def rule_of(slurm_log: str) -> str:
    return re.search(r"/rule_(\w+?)/", slurm_log).group(1)


def test_retrieval_runs_where_snakemake_runs_and_preparation_in_a_job_never_downloads(slurm_installed, tmp_path,
                                                                                       capsys):
    """One experiment on MNIST through the Slurm profile, its files served by a mirror on this machine: the mirror
    records the process behind every request, and a request from inside a Slurm job descends from slurmstepd."""
    served = tmp_path / "served"
    archives = served_mnist(served)
    root = tmp_path / "datasets"
    with Mirror(served) as mirror, LocalSlurmCluster(tmp_path / "cluster", gpus=0) as cluster:
        workdir = mnist_workflow(tmp_path / "workflow", mirror.url, archives, download=True, root=root)
        result = snakemake(workdir, *SLURM_ARGS, *MNIST_ARGS, check=False, timeout=SLURM_TIMEOUT_S,
                           env={**cluster.env, **site_settings(gpus_per_job=0), **copy_env(workdir)})
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"{output[-6000:]}\n{cluster.daemon_logs()}"
        workflow_requests = list(mirror.requests)
        # The check can fail: a download from inside a Slurm job is seen as one.
        probe = tmp_path / "probe.out"
        cluster.run("sbatch", "--mem=100", f"--output={probe}", "--wrap",
                    f"{sys.executable} -c 'import urllib.request; urllib.request.urlopen(\"{mirror.url}{archives[0][0]}\").read()'")
        wait_for(lambda: len(mirror.requests) > len(workflow_requests), 60, "the probe job's request", poll_s=0.2)
        probe_request = mirror.requests[-1]

    submitted = submissions(output)
    show(capsys, "retrieval requests (path, client ancestry):\n" + "\n".join(
        f"  {r.path} {' < '.join(r.client_ancestry)}" for r in workflow_requests) +
        f"\nprobe from a Slurm job: {' < '.join(probe_request.client_ancestry)}")
    submitted_rules = {rule_of(log) for _, _, log in submitted}
    assert {"initial_round", "prepare_data", "run_al"} <= submitted_rules and "retrieve_raw" not in submitted_rules
    assert sorted(r.path for r in workflow_requests) == sorted(f"/{name}" for name, _ in archives)
    assert all(r.status == 200 and r.client_pid is not None for r in workflow_requests)
    assert not any("slurmstepd" in r.client_ancestry for r in workflow_requests)
    assert "slurmstepd" in probe_request.client_ancestry
    retrieve_log = (workdir / "logs" / "mnist_retrieval" / "retrieve_raw" / "MNIST.log").read_text()
    assert "Slurm job none" in retrieve_log
    prepare_job = next(slurm_id for _, slurm_id, log in submitted if rule_of(log) == "prepare_data")
    prepare_log = (workdir / "logs" / "mnist_retrieval" / "prepare_data" / "MNIST.log").read_text()
    assert f"Slurm job {prepare_job}" in prepare_log and f"preparing MNIST from {root}" in prepare_log
    assert (workdir / "results" / "mnist_retrieval" / "tables" / "mnist_tiny" / "runs.csv").is_file()


# --- a paper experiment through the profile ----------------------------------------------------------------

# The README figure's experiment: the paper suite's first, on a torchvision source (FMNIST's IDX files).
PAPER_EXPERIMENT = "fmnist_mc"


def test_a_paper_experiment_through_slurm(slurm_installed, tmp_path, capsys):
    """One experiment of the paper suite's smoke twin (test_paper_smoke.py: the paper's own definitions by one
    scaling rule, on files in the source's real format) through the Slurm profile as shipped: its preparation,
    round 0 and runs are Slurm jobs with the resources the profile derives for a paper experiment, everything
    else runs where Snakemake runs, and the outputs prove the same code paths as the local smoke run."""
    from sbadbal.config.smoke import SmokeScale

    from .test_paper_smoke import FAST_ALGORITHMS, check_experiment, smoke_workflow

    workdir, suite, points = smoke_workflow(tmp_path, SmokeScale(algorithms=FAST_ALGORITHMS))
    experiment = suite.experiments[PAPER_EXPERIMENT]
    base = "results/paper_smoke"
    targets = [f"{base}/figures/{PAPER_EXPERIMENT}/accuracy_b{b}.{ext}"
               for b in experiment.batch_sizes for ext in ("pdf", "png", "svg")]
    targets += [f"{base}/tables/{PAPER_EXPERIMENT}/{table}.csv" for table in ("final_accuracy", "reference_comparison")]
    with LocalSlurmCluster(tmp_path / "cluster", gpus=0) as cluster:
        started = time.perf_counter()
        result = snakemake(workdir, *SLURM_ARGS, *targets, check=False, timeout=SLURM_TIMEOUT_S,
                           env={**cluster.env, **site_settings(gpus_per_job=0)})
        seconds = time.perf_counter() - started
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"{output[-6000:]}\n{cluster.daemon_logs()}"
        jobs = cluster.jobs()

    submitted = submissions(output)
    rules = sorted(rule_of(log) for *_, log in submitted)
    show(capsys, f"{PAPER_EXPERIMENT} (paper smoke twin) through Slurm: {len(submitted)} Slurm jobs "
         f"({', '.join(f'{rule} {rules.count(rule)}' for rule in sorted(set(rules)))}), {seconds:.0f} s")
    runs = len(experiment.batch_sizes) * len(experiment.algorithm_names) * len(experiment.seeds)
    assert rules == sorted(["prepare_data"] + ["initial_round"] * len(experiment.seeds) + ["run_al"] * runs)
    assert {job["id"] for job in jobs if job["state"] == "COMPLETED"} >= {slurm_id for _, slurm_id, _ in submitted}
    reached = check_experiment(workdir, PAPER_EXPERIMENT, experiment, points)
    assert {"MC dropout", "reference comparison"} <= reached


# --- a run cancelled mid-way is retried and resumes from its checkpoint ---------------------------------------

LONG_BUDGET = 80  # 7 rounds of 10: room to cancel the run after its second round


def lengthen_tiny_runs(workdir: Path) -> None:
    change_config(workdir, lambda config: config["suites"]["tiny"]["experiments"]["tiny_mc"].update(budget=LONG_BUDGET))


def wait_for(condition, timeout_s: float, what: str, poll_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def memory_mb(job: dict[str, str]) -> int:
    return int(re.search(r"mem=(\d+)M", job["TRES"]).group(1))


def minutes(job: dict[str, str]) -> int:
    """TimeLimit as Slurm prints it: [days-]hours:minutes:seconds."""
    days, _, clock = job["TimeLimit"].rpartition("-")
    hours, mins, _ = (int(part) for part in clock.split(":"))
    return (int(days or 0) * 24 + hours) * 60 + mins


def rounds_done(checkpoint: Path) -> int:
    """Finished rounds in a run's checkpoint (written atomically, so never half a file); 0 before the first."""
    try:
        return len(json.loads(checkpoint.read_text())["rows"])
    except FileNotFoundError:
        return 0


def test_cancelled_run_is_retried_and_resumes_to_the_undisturbed_result(slurm_installed, tmp_path, capsys):
    workdir = copy_workflow(tmp_path / "workflow")
    lengthen_tiny_runs(workdir)
    csv = tiny_run_csvs(workdir)[-1]
    target = str(csv.relative_to(workdir))
    checkpoint = csv.with_name(csv.name + ".checkpoint.json")

    # The undisturbed run, with the local executor; then its outputs go, and Slurm makes them again.
    snakemake(workdir, target, "--cores", "2", *TINY)
    undisturbed = deterministic_part(csv)
    for path in (csv, csv.with_suffix(".json")):
        path.unlink()

    # The profile as shipped: one GPU per AL run. The node declares two placeholder GPUs.
    with LocalSlurmCluster(tmp_path / "cluster", gpus=2) as cluster:
        env = {**cluster.env, **site_settings(gpus_per_job=1)}
        command = snakemake_command(target, *SLURM_ARGS, *TINY)
        log_path = tmp_path / "snakemake.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                                       env=snakemake_env(env))
        try:
            run_job = wait_for(lambda: next((job for job in cluster.jobs() if job["state"] == "RUNNING"
                                             and job["comment"].startswith("rule_run_al_")), None),
                               300, "the AL run to start as a Slurm job", poll_s=0.2)
            allocation = cluster.job_details(run_job["id"])
            done_before_cancel = wait_for(lambda: (done := rounds_done(checkpoint)) >= 2 and done, 300,
                                          "two finished rounds in the checkpoint")
            cluster.run("scancel", run_job["id"])
            process.wait(timeout=SLURM_TIMEOUT_S)
        finally:
            if process.poll() is None:
                process.kill()
        output = log_path.read_text()
        assert process.returncode == 0, f"{output[-6000:]}\n{cluster.daemon_logs()}"
        states = {job["id"]: job["state"] for job in cluster.jobs()}
        run_submissions = [slurm_id for _, slurm_id, log in submissions(output) if "/rule_run_al/" in log]
        retry = cluster.job_details(run_submissions[-1])

    show(capsys, f"cancelled Slurm job {run_job['id']} after {done_before_cancel} finished rounds; "
         f"run_al submissions: {run_submissions}; states: {states}")

    assert allocation.get("TresPerJob") == "gres:gpu:1", allocation  # the profile's one GPU per run reached sbatch
    assert run_submissions[0] == run_job["id"] and len(run_submissions) == 2
    # The retry asked for twice the memory and twice the time (the profile's `retries`, sbadbal/ops/scheduling.py).
    assert memory_mb(retry) == 2 * memory_mb(allocation) and minutes(retry) == 2 * minutes(allocation)
    assert states[run_job["id"]] == "CANCELLED" and states[run_submissions[1]] == "COMPLETED"
    rule_log = (workdir / "logs" / "tiny" / "run_al").rglob(f"{csv.parent.name}/seed*.log")
    whole_log = next(path for path in rule_log if path.stem == csv.stem).read_text()
    # The log keeps the cancelled attempt's lines, then the retry's (scripts/_helpers.py, issue 20).
    earlier_log, retried_log = whole_log.split("--- this attempt ---\n")
    assert f"GPU: Slurm job {run_job['id']} step" in earlier_log, whole_log
    bound = re.search(r"GPU: Slurm job (\d+) step \S+, CUDA_VISIBLE_DEVICES=(\S*) as Slurm bound it", retried_log)
    assert bound and bound.group(1) == run_submissions[1] and bound.group(2) in ("0", "1"), retried_log
    resumed = re.search(r"resuming from checkpoint \S+: (\d+) round\(s\) done", retried_log)
    assert resumed, retried_log
    assert int(resumed.group(1)) >= done_before_cancel
    assert not checkpoint.exists()
    pd.testing.assert_frame_equal(deterministic_part(csv), undisturbed)
    assert len(undisturbed) == 1 + (LONG_BUDGET - 20) // 10


def test_placeholder_gpus_are_bound_by_slurm(slurm_installed, tmp_path):
    """Two --gpus=1 jobs on the test node each get a device of their own in CUDA_VISIBLE_DEVICES."""
    with LocalSlurmCluster(tmp_path / "cluster", gpus=2) as cluster:
        outputs = [tmp_path / f"job{index}.out" for index in range(2)]
        for output in outputs:
            cluster.run("sbatch", "--gpus=1", "--mem=100", f"--output={output}",
                        "--wrap", "echo $CUDA_VISIBLE_DEVICES; sleep 3")
        wait_for(lambda: all(path.exists() and path.read_text().strip() for path in outputs), 60,
                 "both jobs to print their device", poll_s=0.2)
        devices = {path.read_text().strip() for path in outputs}
    assert devices == {"0", "1"}


# --- the profile's site block, read by Snakemake itself (dry runs; no cluster needed) ------------------------


def planned_resources(workdir: Path, env: dict[str, str], *args: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, resources and threads) of every job a dry run with the SLURM profile plans."""
    # A dry run caps threads at --cores (1 by default); a SLURM run does not, so lift the cap to see the profile's.
    result = snakemake(workdir, "--dry-run", "--cores", "256", "--workflow-profile", "profiles/slurm", *args, env=env)
    jobs = []
    for block in re.split(r"^rule ", result.stdout + result.stderr, flags=re.MULTILINE)[1:]:
        rule = block.split(":", 1)[0]
        fields = dict(re.findall(r"(\w+)=([^,\s]+)", re.search(r"resources: (.*)", block).group(1)))
        threads = re.search(r"threads: (\d+)", block)
        fields["threads"] = threads.group(1) if threads else "1"
        jobs.append((rule, fields))
    return jobs


def test_site_settings_reach_every_slurm_job(tmp_path):
    workdir = copy_workflow(tmp_path)
    site = {"SBADBAL_SLURM_ACCOUNT": "proj42", "SBADBAL_SLURM_CPU_PARTITION": "cpuq",
            "SBADBAL_SLURM_GPU_PARTITION": "gpuq", "SBADBAL_SLURM_GPU_MODEL": "a100",
            "SBADBAL_SLURM_CPUS_PER_GPU_JOB": "6"}
    jobs = dict(planned_resources(workdir, site, "--config", "suite=paper"))
    assert jobs["prepare_data"]["slurm_partition"] == "cpuq" and "gpu" not in jobs["prepare_data"]
    for rule in ("initial_round", "run_al", "bench_log_probs", "bench_acquisition"):
        assert jobs[rule]["slurm_partition"] == "gpuq" and jobs[rule]["gpu"] == "1", (rule, jobs[rule])
        assert jobs[rule]["gpu_model"] == "a100" and jobs[rule]["threads"] == "6", (rule, jobs[rule])
    assert all(fields["slurm_account"] == "proj42" for fields in jobs.values())
    # Memory of an AL run is estimated once its data is prepared, so a dry run shows it as to be decided.
    assert jobs["run_al"]["mem_mb"] == "<TBD>" and int(jobs["run_al"]["runtime"]) >= 30


def test_a_cluster_without_gpus_runs_the_gpu_jobs_on_the_cpu_partition(tmp_path):
    workdir = copy_workflow(tmp_path)
    site = {"SBADBAL_SLURM_CPU_PARTITION": "cpuq", "SBADBAL_SLURM_GPU_PARTITION": "gpuq",
            "SBADBAL_SLURM_GPUS_PER_JOB": "0", "SBADBAL_SLURM_ACCOUNT": ""}
    jobs = dict(planned_resources(workdir, site, *TINY))
    assert jobs["run_al"]["gpu"] == "0" and jobs["run_al"]["slurm_partition"] == "cpuq"
    assert "slurm_account" not in jobs["run_al"]


def test_a_bad_site_setting_names_the_variable(tmp_path):
    workdir = copy_workflow(tmp_path)
    result = snakemake(workdir, "--dry-run", "--workflow-profile", "profiles/slurm", *TINY,
                       env={"SBADBAL_SLURM_GPUS_PER_JOB": "two"}, check=False)
    assert result.returncode != 0
    assert "SBADBAL_SLURM_GPUS_PER_JOB='two' in profiles/slurm: expected a whole number" in result.stderr
