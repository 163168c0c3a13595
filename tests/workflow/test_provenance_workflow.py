"""Results that no run produced are refused by the real workflow (issue 20 group 3): a run file written by another
run under a workflow path, edited by hand, or with a truncated sidecar stops `aggregate` with one line naming the
file and the command that remakes it; a deleted sidecar reruns its run."""

from __future__ import annotations

import re
import shutil

from .helpers import TINY, planned_jobs, snakemake

RUNS_TABLE = "results/tiny/tables/tiny_mc/runs.csv"
AGGREGATE_LOG = "logs/tiny/aggregate/tiny_mc.log"


def copy_of(tiny_run, tmp_path, name):
    workdir = tmp_path / name
    shutil.copytree(tiny_run, workdir, symlinks=True, ignore=shutil.ignore_patterns("report.html"))
    return workdir


def refused_by_aggregate(workdir) -> str:
    """The last line of aggregate's log after a failing run of the runs table; checked to be the refusal."""
    (workdir / AGGREGATE_LOG).unlink(missing_ok=True)
    result = snakemake(workdir, "--cores", "1", RUNS_TABLE, *TINY, check=False)
    assert result.returncode != 0, result.stdout + result.stderr
    last = (workdir / AGGREGATE_LOG).read_text().strip().splitlines()[-1]
    assert last.startswith("sbadbal.runs.checks.RunFileError: results/tiny/runs/tiny_mc/b10/"), last
    return last


def run_the_hint(workdir, line: str) -> None:
    hint = re.search(r"`(snakemake [^`]+)`", line).group(1)
    result = snakemake(workdir, *hint.split()[1:])
    assert "run_al" in result.stdout + result.stderr
    snakemake(workdir, "--cores", "1", RUNS_TABLE, *TINY)


def test_a_run_of_another_seed_under_a_workflow_path_is_refused_then_remade(tiny_run, tmp_path):
    # The audit: a CLI run of seed 2 written to BALD/seed1.csv became the workflow's seed 1 in tables and claims.
    workdir = copy_of(tiny_run, tmp_path, "other_seed")
    runs = workdir / "results" / "tiny" / "runs" / "tiny_mc" / "b10" / "BALD"
    for suffix in (".json", ".csv"):
        (runs / f"seed1{suffix}").write_bytes((runs / f"seed2{suffix}").read_bytes())
    line = refused_by_aggregate(workdir)
    assert "BALD/seed1.csv: its sidecar" in line and "is of another run: seed 2, where this path holds seed 1" in line
    assert line.endswith("`snakemake --cores 1 --force results/tiny/runs/tiny_mc/b10/BALD/seed1.csv "
                         "--config suite=tiny`")
    run_the_hint(workdir, line)
    assert (runs / "seed1.csv").read_bytes() != (runs / "seed2.csv").read_bytes()


def test_a_run_file_edited_by_hand_is_refused(tiny_run, tmp_path):
    # The audit: accuracy 9.6 -> 55.5 by hand changed tables and claims.
    workdir = copy_of(tiny_run, tmp_path, "edited")
    csv = workdir / "results" / "tiny" / "runs" / "tiny_mc" / "b10" / "LBB" / "seed2.csv"
    lines = csv.read_text().splitlines()
    cells = lines[1].split(",")
    cells[2] = "55.5"  # test_accuracy of round 0
    csv.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    line = refused_by_aggregate(workdir)
    assert "LBB/seed2.csv: its content does not match the checksum in its sidecar" in line


def test_a_truncated_sidecar_is_refused_and_a_deleted_one_reruns_its_run(tiny_run, tmp_path):
    workdir = copy_of(tiny_run, tmp_path, "sidecars")
    sidecar = workdir / "results" / "tiny" / "runs" / "tiny_mc" / "b10" / "BALD" / "seed2.json"
    text = sidecar.read_text()
    sidecar.write_text(text[: len(text) // 2])
    line = refused_by_aggregate(workdir)
    assert "BALD/seed2.csv: its sidecar" in line and "is not valid JSON (truncated or damaged" in line
    sidecar.unlink()
    jobs = planned_jobs(workdir, *TINY)
    assert jobs["run_al"] == 1 and jobs["aggregate"] == 1, jobs
