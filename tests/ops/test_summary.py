"""The end-of-suite summary's pieces on constructed tables and logs (the real run: tests/workflow/test_summary_workflow)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from sbadbal.analysis.verdicts import claim_verdict
from sbadbal.ops.summary import (
    claim_lines,
    failed_jobs,
    failure_summary,
    headline_lines,
    last_error_line,
    recover_command,
    report_command,
    success_summary,
)

SNAKEMAKE = "/venv/lib/python3.11/site-packages/snakemake/__main__.py"  # sys.argv[0] of `python -m snakemake`


def write_csv(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def claim_row(claim: str, verdict: str, rule: str = "95% CI above -1 points", reason: str = "") -> dict:
    return {"claim": claim, "comparison": "x", "estimate": "", "rule": rule, "verdict": verdict, "reason": reason}


CLAIMS = [
    claim_row("(i) fast", "reproduced", rule="95% CI above 10x"),
    claim_row("(i) fast", "reported", rule="reported, no decision"),
    claim_row("(ii) accurate", "reproduced"),
    claim_row("(ii) accurate", "inconclusive"),
    claim_row("(iii) power", "reproduced"),
    claim_row("(iii) power", "not run", reason="PLBB has no runs in e at b = 10"),
    claim_row("(iii) power", "not run", reason="Random has no runs in e at b = 10"),
]


def test_claim_verdict_leaves_context_rows_out_and_never_decides_on_part_of_a_claim():
    assert claim_verdict([("reproduced", "95% CI"), ("reported", "reported, no decision")]) == \
        ("reproduced", "1 reproduced")
    assert claim_verdict([("reproduced", "a"), ("inconclusive", "a")]) == \
        ("inconclusive", "1 reproduced, 1 inconclusive")
    assert claim_verdict([("reproduced", "a"), ("not reproduced", "a")])[0] == "not reproduced"
    assert claim_verdict([("not reproduced", "a"), ("not run", "a")])[0] == "not run"
    assert claim_verdict([("reported", "reported")]) == ("not run", "")


def test_one_line_per_claim_with_its_verdict_and_why_it_did_not_run(tmp_path):
    table = write_csv(tmp_path / "claims.csv", CLAIMS)
    assert claim_lines(table) == [
        f"Claims ({table}):",
        "  (i) fast: reproduced (1 reproduced)",
        "  (ii) accurate: inconclusive (1 reproduced, 1 inconclusive)",
        "  (iii) power: not run (1 reproduced, 2 not run; PLBB has no runs in e at b = 10)",
    ]


def test_a_claims_table_older_than_a_runs_table_says_so(tmp_path):
    table = write_csv(tmp_path / "claims.csv", CLAIMS)
    runs = write_csv(tmp_path / "e" / "runs.csv", [{"a": 1}])
    os.utime(table, (1_000_000, 1_000_000))
    assert claim_lines(table, [runs])[0] == f"Claims ({table}, OLDER than {runs}: run the whole suite to update it):"
    os.utime(runs, (900_000, 900_000))
    assert claim_lines(table, [runs])[0] == f"Claims ({table}):"


def test_missing_or_empty_tables_give_a_line_not_an_error(tmp_path):
    missing = tmp_path / "tables" / "claims.csv"
    assert claim_lines(missing) == [f"Claims: not made in this run ({missing} does not exist yet; run the whole suite)."]
    empty = tmp_path / "empty.csv"
    empty.write_text("claim,verdict,rule\n")
    assert claim_lines(empty) == [f"Claims: {empty} has no rows."]
    assert headline_lines([]) == ["Test accuracy: no experiment ran in this suite."]
    damaged = tmp_path / "tables" / "e" / "final_accuracy.csv"
    damaged.parent.mkdir(parents=True)
    damaged.write_text("batch_size,algorithm\n10,BALD\n")
    (line,) = headline_lines([damaged])[1:]
    assert line.startswith(f"  e: {damaged} has no usable accuracy rows")


def accuracy_row(b, algorithm, fraction, labelled, mean, std, seeds):
    return {"batch_size": b, "algorithm": algorithm, "fraction": fraction, "labelled": labelled,
            "accuracy_mean": mean, "accuracy_std": std, "nll_mean": 1.0, "nll_std": 0.1, "seeds": seeds}


def test_headline_is_each_algorithms_accuracy_at_the_budget_per_batch_size(tmp_path):
    table = write_csv(tmp_path / "tables" / "rmnist" / "final_accuracy.csv", [
        accuracy_row(10, "BALD", 0.5, 40, 60.0, 3.0, 8), accuracy_row(10, "BALD", 1.0, 60, 72.04, 2.01, 8),
        accuracy_row(10, "LBB", 0.5, 40, 61.0, 3.0, 8), accuracy_row(10, "LBB", 1.0, 60, 79.96, 1.55, 8),
        accuracy_row(20, "BALD", 1.0, 60, 70.0, 2.0, 3), accuracy_row(20, "LBB", 1.0, 60, 75.0, 1.0, 2),
    ])
    missing = tmp_path / "tables" / "agnews" / "final_accuracy.csv"
    assert headline_lines([table, missing]) == [
        "Test accuracy at the budget (%, mean ± std over seeds):",
        "  rmnist, b = 10, 60 labels (8 seeds): BALD 72.0 ± 2.0, LBB 80.0 ± 1.6",
        "  rmnist, b = 20, 60 labels (2-3 seeds): BALD 70.0 ± 2.0, LBB 75.0 ± 1.0",
        f"  agnews: not made in this run ({missing} does not exist yet)",
    ]


def test_the_report_and_recover_commands_repeat_the_runs_configuration():
    argv = [SNAKEMAKE, "--cores", "2", "--config", "suite=tiny", "data={root: /d}", "-d", "work", "results/x.pt"]
    assert report_command(argv, "tiny") == \
        "snakemake --report report.html --config suite=tiny 'data={root: /d}' -d work"
    assert recover_command(argv, "tiny") == \
        "python -m sbadbal recover --cores 2 --config suite=tiny 'data={root: /d}' -d work results/x.pt"
    # An option recover does not name is forwarded as written, after `--`.
    assert recover_command(["/venv/bin/snakemake", "--cores", "2", "--latency-wait", "60"], "default") == \
        "python -m sbadbal recover -- --cores 2 --latency-wait 60"
    # Snakemake started from another program (its API): the suite's own command.
    assert report_command(["pytest", "-x"], "paper") == "snakemake --report report.html --config suite=paper"
    assert recover_command(None, "paper") == "python -m sbadbal recover --cores all --config suite=paper"


def test_success_summary_finds_the_tables_among_the_targets(tmp_path):
    claims = write_csv(tmp_path / "results/s/tables/claims.csv", CLAIMS[:2])
    accuracy = write_csv(tmp_path / "results/s/tables/e/final_accuracy.csv",
                         [accuracy_row(5, "Random", 1.0, 30, 50.0, 1.0, 2)])
    targets = [str(tmp_path / "results/s/data/X.pt"), str(claims), str(accuracy)]
    assert success_summary(targets, "s", [SNAKEMAKE, "--cores", "1", "--config", "suite=s"]).splitlines() == [
        "sbadbal: suite 's' finished.",
        f"Claims ({claims}):",
        "  (i) fast: reproduced (1 reproduced)",
        "Test accuracy at the budget (%, mean ± std over seeds):",
        "  e, b = 5, 30 labels (2 seeds): Random 50.0 ± 1.0",
        "Report (figures, tables, claims): snakemake --report report.html --config suite=s",
    ]


# The shape of Snakemake 9's log around a failed job (rule names, fields, a retry that finished).
LOG = """\
Building DAG of jobs...
[Wed Dec  2 02:43:33 2026]
localrule aggregate:
    input: results/t/runs/e/b10/BALD/seed1.csv
    jobid: 6
Error in rule run_al:
    message: None
    jobid: 3
    output: results/t/runs/e/b10/LBB/seed1.csv, results/t/runs/e/b10/LBB/seed1.json
    log: logs/t/run_al/e/b10/LBB/seed1.log (check log file(s) for error details)
Trying to restart job 3.
Finished jobid: 3 (Rule: run_al)
Error in rule aggregate:
    message: None
    jobid: 6
    input: results/t/runs/e/b10/BALD/seed1.csv, sbadbal/runs/checks.py
    output: results/t/tables/e/runs.csv, results/t/tables/e/final_accuracy.csv
    log: logs/t/aggregate/e.log (check log file(s) for error details)
Logfile logs/t/aggregate/e.log:
================================================================================
Traceback (most recent call last):
================================================================================
Error in rule aggregate:
    jobid: 6
    output: results/t/tables/e/runs.csv, results/t/tables/e/final_accuracy.csv
    log: logs/t/aggregate/e.log (check log file(s) for error details)
Shutting down, this might take some time.
"""


def test_failed_jobs_are_read_from_snakemakes_log_each_once_without_the_retried_one():
    (job,) = failed_jobs(LOG)
    assert job.rule == "aggregate"
    assert job.outputs == ("results/t/tables/e/runs.csv", "results/t/tables/e/final_accuracy.csv")
    assert job.logs == ("logs/t/aggregate/e.log",)
    assert failed_jobs("Building DAG of jobs...\nNothing to be done.\n") == []


def test_the_error_line_of_a_job_log_is_its_last_line_without_the_module_path(tmp_path):
    log = tmp_path / "e.log"
    log.write_text("2026 INFO start\nTraceback (most recent call last):\n  File \"x.py\", line 1\n"
                   "sbadbal.runs.checks.RunFileError: results/x.csv: line 2: text 'abc'\n\n====\n")
    assert last_error_line(log) == "RunFileError: results/x.csv: line 2: text 'abc'"
    log.write_text("x" * 1000 + "\n")
    assert len(last_error_line(log)) == 300
    assert last_error_line(tmp_path / "absent.log") is None


def test_failure_summary_names_each_failed_job_its_error_and_the_recover_command(tmp_path):
    (tmp_path / "logs/t/aggregate").mkdir(parents=True)
    (tmp_path / "logs/t/aggregate/e.log").write_text("ValueError: results/t/runs/e/b10/BALD/seed1.csv is damaged\n")
    snakemake_log = tmp_path / "run.snakemake.log"
    snakemake_log.write_text(LOG)
    argv = [SNAKEMAKE, "--cores", "2", "--config", "suite=t"]
    assert failure_summary([snakemake_log], "t", argv, workdir=tmp_path).splitlines() == [
        f"sbadbal: suite 't' stopped: 1 job failed (Snakemake's log: {snakemake_log}).",
        "  rule aggregate, results/t/tables/e/runs.csv (+1 more): ValueError: results/t/runs/e/b10/BALD/seed1.csv "
        "is damaged",
        "    log: logs/t/aggregate/e.log",
        "Fix what the log says, then rerun; finished outputs stand and interrupted runs resume from their "
        "checkpoints: python -m sbadbal recover --cores 2 --config suite=t",
    ]
    snakemake_log.write_text("Building DAG of jobs...\nWorkflowError: something outside a job\n")
    assert failure_summary([snakemake_log], "t", argv).splitlines()[0] == \
        f"sbadbal: suite 't' stopped with an error outside a job; see {snakemake_log}."
