"""The end of a real tiny-suite run (issue 19, item 4): onsuccess prints the claims' verdicts, the headline accuracies
and the report's command; onerror, after a job really fails, names the job and its error, and the recover command
it prints reruns the suite once the cause is fixed."""

from __future__ import annotations

import csv
import shlex
import shutil
import subprocess
import sys

from .helpers import TINY, snakemake, snakemake_env, tiny_run_csvs, tiny_suite


def test_a_finished_suite_prints_its_verdicts_numbers_and_report_command(tiny_run_process):
    workdir, _, finished = tiny_run_process
    output = finished.stderr
    assert "sbadbal: suite 'tiny' finished." in output
    # The claims table's claims, one line each, with the verdict the table's own rows give; the tiny suite declares
    # no claims: section and runs no BatchBALD, so every claim is "not run", each with its reason.
    with (workdir / "results/tiny/tables/claims.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    lines = output.splitlines()
    claims = list(dict.fromkeys(row["claim"] for row in rows))
    assert len(claims) == 3
    for claim in claims:
        reason = next(row["reason"] for row in rows if row["claim"] == claim and row["verdict"] == "not run")
        (line,) = [line for line in lines if line.startswith(f"  {claim}: ")]
        assert line.startswith(f"  {claim}: not run (") and line.endswith(f"; {reason})")
    # The headline numbers: each algorithm's accuracy at the budget, as the final-accuracy table holds it.
    with (workdir / "results/tiny/tables/tiny_mc/final_accuracy.csv").open() as handle:
        at_budget = [row for row in csv.DictReader(handle) if float(row["fraction"]) == 1.0]
    (headline,) = [line for line in lines if line.startswith("  tiny_mc, b = 10, 40 labels (2 seeds): ")]
    for row in at_budget:
        assert f"{row['algorithm']} {float(row['accuracy_mean']):.1f} ± {float(row['accuracy_std']):.1f}" in headline
    assert "Report (figures, tables, claims): snakemake --report report.html --config suite=tiny" in output


def test_a_failed_job_is_named_with_its_error_and_the_printed_recover_command_reruns(tiny_run, tmp_path):
    workdir = tmp_path / "workflow"
    shutil.copytree(tiny_run, workdir, symlinks=True)  # a finished suite (copy2 keeps the mtimes)
    # A real job failure, cheaply: a damaged run file makes the aggregate job fail (and nothing else rerun).
    damaged = tiny_run_csvs(workdir)[0]
    original = damaged.read_text()
    header, first, *rest = original.splitlines(keepends=True)
    fields = first.split(",")
    fields[header.split(",").index("test_accuracy")] = "abc"
    damaged.write_text(header + ",".join(fields) + "".join(rest))

    failed = snakemake(workdir, "--cores", "2", *TINY, check=False)
    assert failed.returncode != 0
    lines = failed.stderr.splitlines()
    (heading,) = [line for line in lines if line.startswith("sbadbal: suite 'tiny' stopped: ")]
    assert "1 job failed" in heading and ".snakemake/log/" in heading
    experiment = next(iter(tiny_suite()["experiments"]))
    (job,) = [line for line in lines if line.startswith("  rule aggregate, ")]
    relative = damaged.relative_to(workdir)
    assert job.startswith(f"  rule aggregate, results/tiny/tables/{experiment}/runs.csv (+")
    # The damaged file no longer matches the sha256 its sidecar holds: aggregate names it and its remake command.
    assert f"RunFileError: {relative}" in job and "remake the run" in job
    assert f"    log: logs/tiny/aggregate/{experiment}.log" in lines
    (advice,) = [line for line in lines if line.startswith("Fix what the log says")]
    command = advice.rsplit(": ", 1)[1]
    assert command == "python -m sbadbal recover --cores 2 --config suite=tiny"

    damaged.write_text(original)
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "sbadbal"]
    recovered = subprocess.run([sys.executable, *words[1:]], cwd=workdir, env=snakemake_env(),
                               capture_output=True, text=True, timeout=600)
    assert recovered.returncode == 0, recovered.stderr[-3000:]
    assert "sbadbal: suite 'tiny' finished." in recovered.stderr
