"""What every workflow job does first and last: its log, its one-line errors and its job record.

`log_to` sends logging and stderr to the rule's log (appended, never truncated; a run's earlier attempts copied in
from the file that outlives a kill) and registers the job for recovery (sbadbal/ops/ownership.py); scripts call it
through scripts/_helpers.py. Nothing here changes a number (sbadbal/ops/ is never a job's code input).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path


class _Tee:
    """A text stream writing to several line-buffered files (the rule's log and the run's attempts log)."""

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text):
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self):
        for stream in self.streams:
            stream.flush()

    def fileno(self):  # faulthandler and subprocesses write to the rule's log
        return self.streams[0].fileno()

    def isatty(self):
        return False


def _one_line_errors(kind, error, trace):
    """A write that cannot go ahead (a full disk, a file another process writes, an escaping symlink; WriteError
    in sbadbal/runs/writers.py) or a bad GPU setting is one line naming the file and the fix; anything else keeps
    its traceback."""
    from sbadbal.ops.gpu_slots import GpuSettingError
    from sbadbal.runs.writers import WriteError

    if isinstance(error, (WriteError, GpuSettingError)):
        print(f"error: {error}", file=sys.stderr)
        sys.stderr.flush()
    else:
        sys.__excepthook__(kind, error, trace)


def log_to(path: str | None, attempts: str | None = None) -> logging.Logger:
    """Send logging and stderr (warnings, tracebacks, progress) to the rule's log file, and record this job.

    `attempts`: a file beside the run's checkpoint that outlives a killed attempt. Snakemake deletes a job's log
    before the job starts, so the earlier attempts' lines are copied from it into the new log first, and every
    line goes to both; the job removes it once its outputs are written (`attempts_done`).
    """
    from sbadbal.ops.ownership import register_job

    # Recovery finds the jobs a killed Snakemake left running by this record (sbadbal/ops/recovery.py).
    register_job(Path.cwd())
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Appended, never truncated: a rerun by hand of a job keeps its earlier lines.
        stream = open(path, "a", buffering=1)
        if attempts:
            earlier = Path(attempts)
            if earlier.is_file() and earlier.stat().st_size:
                stream.write(f"--- earlier attempt(s) of this job, kept in {earlier} ---\n")
                stream.write(earlier.read_text(errors="replace"))
                stream.write("--- this attempt ---\n")
            earlier.parent.mkdir(parents=True, exist_ok=True)
            stream = _Tee(stream, open(earlier, "a", buffering=1))
        sys.stderr = stream
    sys.excepthook = _one_line_errors
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    return logging.getLogger("sbadbal.workflow")


def attempts_done(attempts: str) -> None:
    """The job's outputs are written: its attempts' lines are all in the rule's log, the spare copy goes."""
    Path(attempts).unlink(missing_ok=True)
