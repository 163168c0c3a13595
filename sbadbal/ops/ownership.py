"""Who writes what: one writer per run's files, and a record of every workflow job that recovery can find.

Two kinds of lock file, both an exclusive `flock` held for as long as the holder's process lives (the kernel
drops it on any exit, SIGKILL included, so no lock outlives its holder), both holding one line saying who:

- A run's claim, `<run>.csv.lock` beside its CSV: the CSV, its sidecar and its checkpoint are written only by
  the process holding it. A second writer (a CLI `python -m sbadbal run` aimed at the workflow's path while the
  workflow runs, or an orphaned job of a killed Snakemake) fails at once with one line naming the holder.
- A job's record, `.snakemake/sbadbal-jobs/<pid>.lock` in the workflow folder, taken by every workflow script
  when it starts (scripts/_helpers.py): `recover` finds the jobs a killed Snakemake left running by these
  records, whatever their command line (sbadbal/ops/recovery.py).

A claim file is removed by its holder on release. Removing a lock file can let two processes lock different
inodes under one name, so a claimant checks after locking that the name still leads to its inode, and retries
if not.
"""

from __future__ import annotations

import errno
import fcntl
import getpass
import json
import logging
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sbadbal.runs.writers import WriteError, disk_full_error, is_disk_full

JOBS_FOLDER = Path(".snakemake") / "sbadbal-jobs"
UNSUPPORTED = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)
logger = logging.getLogger(__name__)
CLAIM_SUFFIX = ".lock"


class OutputClaimedError(WriteError):
    """Another live process holds the claim on these outputs."""


@dataclass(frozen=True)
class Holder:
    """Who holds a lock file: read from its one JSON line."""

    pid: int
    user: str
    command: str
    host: str = ""

    def describe(self) -> str:
        return f"process {self.pid} of user {self.user} ({self.command})"


def this_process() -> Holder:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    command = " ".join(Path(sys.argv[0]).name if i == 0 else word for i, word in enumerate(sys.argv)) or "python"
    return Holder(os.getpid(), user, f"{Path(sys.executable).name} {command}"[:300], socket.gethostname())


def read_holder(path: str | os.PathLike) -> Holder | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            record = json.loads(handle.readline() or "{}")
        return Holder(int(record["pid"]), str(record["user"]), str(record["command"]), str(record.get("host", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _open_lock_file(path: Path) -> int:
    # O_NOFOLLOW: a planted symlink is refused, never followed; no O_TRUNC: nothing is emptied before it is ours.
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)


def try_lock(path: str | os.PathLike) -> int | None:
    """An open descriptor holding an exclusive flock on `path` (created if missing), with this process's line
    written into it; None when another process holds it."""
    path = Path(path)
    while True:
        descriptor = _open_lock_file(path)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(descriptor).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # its holder removed it between our open and our lock: lock the new one
            os.close(descriptor)
            continue
        os.ftruncate(descriptor, 0)
        holder = this_process()
        os.write(descriptor, (json.dumps(holder.__dict__) + "\n").encode())
        return descriptor


def is_held(path: str | os.PathLike) -> bool:
    """Whether a live process holds the flock on `path` (False when it is missing or free)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)


def claim_path(output: str | os.PathLike) -> Path:
    output = Path(output)
    return output.with_name(output.name + CLAIM_SUFFIX)


@contextmanager
def claim_outputs(output: str | os.PathLike, *, what: str = "these files") -> Iterator[Path]:
    """Hold `<output>.lock` for the `with` block: the one writer of `output` and the files named after it.

    OutputClaimedError (one line naming the holder) when another live process holds it."""
    path = claim_path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = try_lock(path)
    except OSError as error:
        if is_disk_full(error):
            raise disk_full_error(path, "the run's claim") from None
        if error.errno not in UNSUPPORTED:
            raise
        # A file system without locks (some network mounts): the run goes ahead unguarded rather than not at all.
        logger.warning("cannot lock %s (%s): this run's files are not guarded against a second writer", path,
                       error.strerror)
        yield path
        return
    if descriptor is None:
        holder = read_holder(path)
        who = holder.describe() if holder is not None else "another process"
        raise OutputClaimedError(errno.EBUSY, f"{output} is being written by {who}, which holds {path}: {what} "
                                 "have one writer; wait for it to finish (or stop it), or write elsewhere")
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)  # before the close: a claimant that opened the old inode retries (try_lock)
        os.close(descriptor)


_job_record: int | None = None


def register_job(workdir: str | os.PathLike = ".") -> Path | None:
    """Record this process as a job of the workflow in `workdir` for its whole life (see the module docstring).

    Only where Snakemake works (`workdir/.snakemake` exists); the record is released when the process ends."""
    global _job_record
    folder = Path(workdir) / JOBS_FOLDER
    if _job_record is not None or not folder.parent.is_dir():
        return None
    path = folder / f"{os.getpid()}{CLAIM_SUFFIX}"
    try:
        folder.mkdir(exist_ok=True)
        _job_record = try_lock(path)
    except OSError:  # no locks on this file system, or the folder is not ours: recovery then finds the job by its script
        return None
    return path if _job_record is not None else None


def live_jobs(workdir: str | os.PathLike) -> list[Holder]:
    """The recorded jobs of the workflow in `workdir` whose process still lives; records of dead ones removed."""
    folder = Path(workdir) / JOBS_FOLDER
    found = []
    for path in sorted(folder.glob(f"*{CLAIM_SUFFIX}")) if folder.is_dir() else []:
        if is_held(path):
            holder = read_holder(path)
            if holder is not None:
                found.append(holder)
        elif not path.is_symlink():
            path.unlink(missing_ok=True)
    return found
