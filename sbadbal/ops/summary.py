"""What a suite says when it ends: Snakemake's `onsuccess` prints the claims' verdicts, the headline accuracies and
the command that builds the report; `onerror` prints which jobs failed, each with the last line of its log, and the
command that recovers. The Snakefile's handlers call `success_summary` and `failure_summary` and print the text.

These run inside Snakemake's own process, which may hold Snakemake and the configuration model alone: plain csv,
no pandas. They read only files the suite declares (its targets) and Snakemake's log, and never raise on a missing
or unreadable file: a summary must not turn a finished suite into a failed one.
"""

from __future__ import annotations

import csv
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sbadbal.analysis.verdicts import claim_verdict
from sbadbal.ops.snakemake_args import recover_arguments, workflow_arguments

CLAIMS_TABLE = "claims.csv"  # results/<suite>/tables/claims.csv (rules/figures.smk, rule claims)
FINAL_ACCURACY_TABLE = "final_accuracy.csv"  # results/<suite>/tables/<experiment>/ (rule aggregate)
RUNS_TABLE = "runs.csv"
REPORT_FILE = "report.html"
MAX_MESSAGE = 300  # characters of a failed job's error line


def _named(targets: Sequence[str | Path], name: str) -> list[Path]:
    return [Path(target) for target in targets if Path(target).name == name]


def _read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


# --- onsuccess ------------------------------------------------------------------------------------------------

def claim_lines(claims_csv: Path, runs_tables: Sequence[Path] = ()) -> list[str]:
    """One line per claim: its verdict and the count of its rows' verdicts; a claim not run says why (its first
    not-run row's reason). A table older than a runs table it reads says so."""
    if not claims_csv.is_file():
        return [f"Claims: not made in this run ({claims_csv} does not exist yet; run the whole suite)."]
    try:
        rows = _read_rows(claims_csv)
    except (OSError, csv.Error, UnicodeDecodeError) as error:
        return [f"Claims: {claims_csv} could not be read ({error})."]
    newer = [str(path) for path in runs_tables
             if path.is_file() and path.stat().st_mtime > claims_csv.stat().st_mtime]
    lines = [f"Claims ({claims_csv}):"]
    if newer:
        lines[0] = f"Claims ({claims_csv}, OLDER than {newer[0]}: run the whole suite to update it):"
    claims = list(dict.fromkeys(row.get("claim", "") for row in rows))
    if not claims:
        return [f"Claims: {claims_csv} has no rows."]
    for claim in claims:
        per_claim = [row for row in rows if row.get("claim", "") == claim]
        verdict, counts = claim_verdict((row.get("verdict", ""), row.get("rule", "")) for row in per_claim)
        why = next((row.get("reason") for row in per_claim if row.get("verdict") == "not run" and row.get("reason")),
                   None)
        detail = f"{counts}; {why}" if verdict == "not run" and why else counts
        lines.append(f"  {claim}: {verdict}" + (f" ({detail})" if detail else ""))
    return lines


def _number(text: str | None, digits: int = 1) -> str:
    try:
        return f"{float(text):.{digits}f}" if text not in (None, "") else "?"
    except ValueError:
        return "?"


def headline_lines(final_accuracy_csvs: Sequence[Path]) -> list[str]:
    """Per experiment and batch size, each algorithm's test accuracy at the budget (mean +- std over seeds)."""
    lines = []
    for path in final_accuracy_csvs:
        experiment = path.parent.name
        if not path.is_file():
            lines.append(f"  {experiment}: not made in this run ({path} does not exist yet)")
            continue
        try:
            rows = _read_rows(path)
        except (OSError, csv.Error, UnicodeDecodeError) as error:
            lines.append(f"  {experiment}: {path} could not be read ({error})")
            continue
        try:
            lines += _accuracy_lines(experiment, rows)
        except (KeyError, ValueError, TypeError) as error:
            lines.append(f"  {experiment}: {path} has no usable accuracy rows ({error!r})")
    if not lines:
        return ["Test accuracy: no experiment ran in this suite."]
    return ["Test accuracy at the budget (%, mean ± std over seeds):", *lines]


def _accuracy_lines(experiment: str, rows: list[dict[str, str]]) -> list[str]:
    lines = []
    for batch_size in dict.fromkeys(row["batch_size"] for row in rows):
        per_batch = [row for row in rows if row["batch_size"] == batch_size]
        last = max(float(row["fraction"]) for row in per_batch)
        at_budget = [row for row in per_batch if float(row["fraction"]) == last]
        seeds = sorted({int(row["seeds"]) for row in at_budget})
        seeds_text = f"{seeds[0]} seeds" if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]} seeds"
        accuracies = ", ".join(
            f"{row['algorithm']} {_number(row['accuracy_mean'])} ± {_number(row['accuracy_std'])}" for row in at_budget)
        lines.append(f"  {experiment}, b = {batch_size}, {at_budget[0]['labelled']} labels ({seeds_text}): "
                     f"{accuracies}")
    return lines


def _is_snakemake(argv: Sequence[str]) -> bool:
    """Whether `argv` is a Snakemake command line (`snakemake ...` or `python -m snakemake ...`)."""
    return bool(argv) and (Path(argv[0]).name == "snakemake" or Path(argv[0]).parent.name == "snakemake")


def _arguments(argv: Sequence[str] | None, suite: str) -> list[str]:
    """The Snakemake arguments of this process, or, when Snakemake was started from another program, the suite's."""
    if argv is not None and _is_snakemake(argv):
        return list(argv[1:])
    return ["--cores", "all", "--config", f"suite={suite}"]


def report_command(argv: Sequence[str] | None, suite: str) -> str:
    return shlex.join(["snakemake", "--report", REPORT_FILE, *workflow_arguments(_arguments(argv, suite))])


def recover_command(argv: Sequence[str] | None, suite: str) -> str:
    return shlex.join(["python", "-m", "sbadbal", "recover", *recover_arguments(_arguments(argv, suite))])


def success_summary(targets: Sequence[str | Path], suite: str, argv: Sequence[str] | None = None) -> str:
    """The end of a finished suite: claims, headline accuracies, and the report's command. `targets`: the suite's
    declared outputs (rules/common.smk, final_targets), in which the tables are found by name."""
    claims = _named(targets, CLAIMS_TABLE)
    lines = [f"sbadbal: suite {suite!r} finished."]
    if claims:
        lines += claim_lines(claims[0], _named(targets, RUNS_TABLE))
    lines += headline_lines(_named(targets, FINAL_ACCURACY_TABLE))
    lines.append(f"Report (figures, tables, claims): {report_command(argv, suite)}")
    return "\n".join(lines)


# --- onerror --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FailedJob:
    """A job that Snakemake's log reports failed: its rule, its outputs and its log files."""

    rule: str
    outputs: tuple[str, ...]
    logs: tuple[str, ...]


_ERROR_IN_RULE = re.compile(r"^Error in rule (\S+?):\s*$")
_FIELD = re.compile(r"^\s+(jobid|output|log): (.*)$")
_FINISHED = re.compile(r"^Finished jobid: (\d+)\b")


def failed_jobs(log_text: str) -> list[FailedJob]:
    """The jobs of a Snakemake log's `Error in rule R:` blocks (their field lines are indented), in order, each
    once; a job that failed and then finished on a retry is left out."""
    blocks, finished, current = [], {}, None
    for number, line in enumerate(log_text.splitlines()):
        started = _ERROR_IN_RULE.match(line)
        done = _FINISHED.match(line)
        if started:
            current = {"rule": started.group(1), "jobid": None, "output": (), "log": (), "line": number}
            blocks.append(current)
            continue
        if done:
            finished[done.group(1)] = number
        field = _FIELD.match(line) if current is not None else None
        if field:
            value = field.group(2).removesuffix(" (check log file(s) for error details)")
            current[field.group(1)] = tuple(part.strip() for part in value.split(", ") if part.strip())
        elif current is not None and not line.startswith((" ", "\t")):
            current = None
    failed = [block for block in blocks
              if not (block["jobid"] and finished.get(block["jobid"][0], -1) > block["line"])]
    return list(dict.fromkeys(FailedJob(block["rule"], block["output"], block["log"]) for block in failed))


_EXCEPTION = re.compile(r"^(?:[A-Za-z_][\w]*\.)+(?P<name>[A-Za-z_]\w*(?:Error|Exception|Exit)\b)")


def last_error_line(job_log: Path) -> str | None:
    """The last line of a job's log that is not a blank or a rule (the exception of a traceback), with its
    exception's module path dropped (`RunFileError: ...`)."""
    try:
        lines = job_log.read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        line = line.strip()
        if line and not set(line) <= set("=-"):
            line = _EXCEPTION.sub(lambda match: match.group("name"), line)
            return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"
    return None


def failure_summary(snakemake_logs: Sequence[str | Path], suite: str, argv: Sequence[str] | None = None,
                    workdir: str | Path = ".") -> str:
    """The end of a failed suite: each failed job (rule, first output, its log's last line, the log's path) from
    Snakemake's log, and the command that reruns after the cause is fixed."""
    jobs: list[FailedJob] = []
    for path in snakemake_logs:
        try:
            jobs += failed_jobs(Path(path).read_text(errors="replace"))
        except OSError:
            continue
    jobs = list(dict.fromkeys(jobs))
    where = ", ".join(map(str, snakemake_logs)) or "Snakemake's output above"
    if not jobs:
        lines = [f"sbadbal: suite {suite!r} stopped with an error outside a job; see {where}."]
    else:
        lines = [f"sbadbal: suite {suite!r} stopped: {len(jobs)} job{'s' if len(jobs) != 1 else ''} failed "
                 f"(Snakemake's log: {where})."]
    for job in jobs:
        target = job.outputs[0] if job.outputs else "(no output)"
        more = f" (+{len(job.outputs) - 1} more)" if len(job.outputs) > 1 else ""
        message = next((m for m in (last_error_line(Path(workdir) / log) for log in job.logs) if m), None)
        lines.append(f"  rule {job.rule}, {target}{more}: {message or 'no message in its log'}")
        if job.logs:
            lines.append(f"    log: {', '.join(job.logs)}")
    lines.append("Fix what the log says, then rerun; finished outputs stand and interrupted runs resume from their "
                 f"checkpoints: {recover_command(argv, suite)}")
    return "\n".join(lines)
