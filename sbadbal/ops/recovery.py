"""Recovery after a kill in one command: refuse while a run is live, deal with the jobs a killed run left, unlock.

A `kill -9` of Snakemake leaves its lock files (.snakemake/locks/*) behind, and the next run fails with a
LockException until `snakemake --unlock`. It also leaves its running jobs behind: they were its children, not
part of it, and go on writing their outputs. So before the lock goes:

1. No live Snakemake may work in the folder. One is found by what it holds, not by how it was started: every
   Snakemake that runs (and so locks) keeps its session log `.snakemake/log/*.snakemake.log` open for its whole
   life, whatever its command line (`snakemake`, `python -u -m snakemake`, `python -c '...main()'`, the API).
   A lock made by another user whose processes this user cannot inspect (/proc hides their open files) is
   refused as well: it may be live, and only its owner (or root) can tell.
2. The orphaned jobs are found by the folder they work in and the job they run: each workflow script records
   itself in `.snakemake/sbadbal-jobs/<pid>.lock` (sbadbal/ops/ownership.py), and any process working in the
   folder that runs one of Snakemake's job scripts (`.snakemake/scripts/...`) counts too, with its children.
   They are stopped by PID (SIGTERM, then SIGKILL), or waited for (`--wait-for-jobs`); an AL run resumes from
   its last checkpoint either way.
3. The lock files are removed, and stale temporary files of killed writers under results/ with them.

    python -m sbadbal recover --cores 4 --config suite=tiny    # the above, then snakemake --cores 4 ...
    python -m sbadbal unlock                                   # only the above
"""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sbadbal.ops.ownership import JOBS_FOLDER, live_jobs
from sbadbal.runs.writers import remove_stale_temps

LOCKS = Path(".snakemake") / "locks"
SESSION_LOGS = Path(".snakemake") / "log"
JOB_SCRIPTS = Path(".snakemake") / "scripts"
RESULTS = Path("results")
PROC = Path("/proc")
STOP_GRACE_S = 10.0
WAIT_FLAG = "--wait-for-jobs"


class LiveRunError(RuntimeError):
    """A Snakemake process is running in the workflow folder (or may be): its lock is not stale."""


@dataclass(frozen=True)
class ProcessInfo:
    """One process as /proc shows it to this user; `cwd` and `open_files` are None where /proc hides them."""

    pid: int
    ppid: int
    uid: int
    started: int  # clock ticks after boot: with the pid, who it is (a pid can be reused)
    cwd: Path | None
    open_files: tuple[Path, ...] | None
    argv: tuple[str, ...]

    @property
    def inspectable(self) -> bool:
        return self.cwd is not None and self.open_files is not None


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # fields after the command name, which may hold spaces


def _process(pid: int) -> ProcessInfo | None:
    fields = _stat_fields(pid)
    if fields is None or fields[0] == "Z":  # gone, or a zombie that only waits for its parent
        return None
    entry = PROC / str(pid)
    try:
        uid = entry.stat().st_uid
        argv = tuple((entry / "cmdline").read_bytes().decode(errors="replace").split("\0")[:-1])
    except OSError:
        return None
    try:
        cwd: Path | None = Path(os.readlink(entry / "cwd"))
    except OSError:
        cwd = None
    try:
        files = []
        for fd in os.listdir(entry / "fd"):
            try:
                target = os.readlink(entry / "fd" / fd)
            except OSError:
                continue
            if target.startswith("/"):
                files.append(Path(target.removesuffix(" (deleted)")))
        open_files: tuple[Path, ...] | None = tuple(files)
    except OSError:
        open_files = None
    return ProcessInfo(pid, int(fields[1]), uid, int(fields[19]), cwd, open_files, argv)


def processes() -> list[ProcessInfo]:
    """Every process this user can see, with what /proc lets it read of each."""
    if not PROC.is_dir():
        raise LiveRunError(
            "cannot tell whether Snakemake is running here (no /proc on this system); "
            "if no run is live, remove the lock with `snakemake --unlock` and rerun"
        )
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            info = _process(int(entry.name))
            if info is not None:
                found.append(info)
    return found


def _ancestors(table: dict[int, ProcessInfo]) -> set[int]:
    """This process and its parents: a `snakemake` that started this command must not count as a live run."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        info = table.get(pid) or _process(pid)
        if info is None:
            break
        pid = info.ppid
    return pids


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def lock_files(workdir: str | os.PathLike) -> list[Path]:
    folder = Path(workdir) / LOCKS
    return sorted(path for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []


def live_snakemake_pids(workdir: str | os.PathLike, table: Iterable[ProcessInfo] | None = None) -> list[int]:
    """Ids of running Snakemake processes in `workdir`: those holding its session log open (module docstring)."""
    table = {info.pid: info for info in (processes() if table is None else table)}
    logs, skip = Path(workdir).resolve() / SESSION_LOGS, _ancestors(table)
    return sorted(info.pid for info in table.values() if info.pid not in skip and info.open_files
                  and any(_inside(path, logs) for path in info.open_files))


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _boot_time() -> float:
    for line in (PROC / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


def hidden_owner_processes(locks: Sequence[Path], table: Iterable[ProcessInfo]) -> dict[int, list[int]]:
    """Per owner of a lock file who is not this user: their processes this user cannot inspect that started
    before the lock was written (any of them may be the Snakemake holding it)."""
    me, owners = os.getuid(), {}
    for path in locks:
        try:
            info = path.stat()
        except OSError:
            continue
        if info.st_uid != me:
            owners[info.st_uid] = min(owners.get(info.st_uid, info.st_mtime), info.st_mtime)
    if not owners:
        return {}
    boot, ticks = _boot_time(), os.sysconf("SC_CLK_TCK")
    hidden: dict[int, list[int]] = {}
    for process in table:
        if process.uid in owners and not process.inspectable and boot + process.started / ticks <= owners[process.uid] + 1:
            hidden.setdefault(process.uid, []).append(process.pid)
    return hidden


def orphaned_jobs(workdir: str | os.PathLike, table: Iterable[ProcessInfo] | None = None) -> list[ProcessInfo]:
    """Job processes of a Snakemake that is gone, still working in `workdir`, with their children.

    A job is a process that recorded itself in `.snakemake/sbadbal-jobs/`, or that works in `workdir` and runs
    one of Snakemake's job scripts there. Call it when no Snakemake is live: a live one's jobs are not orphans."""
    table = {info.pid: info for info in (processes() if table is None else table)}
    folder, skip = Path(workdir).resolve(), _ancestors(table)
    scripts = folder / JOB_SCRIPTS
    # A record of a job on another node (a cluster's shared folder) names a pid of that node: not ours to stop.
    recorded = {holder.pid for holder in live_jobs(folder) if holder.host in ("", socket.gethostname())}

    def runs_a_job_script(info: ProcessInfo) -> bool:
        if info.cwd is None or info.cwd.resolve() != folder:
            return False
        return any(_inside((info.cwd / word).resolve(), scripts) for word in info.argv[1:] if word and "\n" not in word)

    jobs = {pid for pid, info in table.items() if pid not in skip and (pid in recorded or runs_a_job_script(info))}
    children: dict[int, list[int]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info.pid)
    pending = list(jobs)
    while pending:  # their children too (a job's own helpers die with it, or are stopped with it)
        for child in children.get(pending.pop(), []):
            if child not in jobs and child not in skip:
                jobs.add(child)
                pending.append(child)
    return sorted((table[pid] for pid in jobs if pid in table), key=lambda info: info.pid)


def _same_process(info: ProcessInfo) -> bool:
    fields = _stat_fields(info.pid)
    return fields is not None and fields[0] != "Z" and int(fields[19]) == info.started


def _wait_gone(jobs: Sequence[ProcessInfo], seconds: float | None) -> list[ProcessInfo]:
    deadline = None if seconds is None else time.monotonic() + seconds
    left = [job for job in jobs if _same_process(job)]
    while left and (deadline is None or time.monotonic() < deadline):
        time.sleep(0.1)
        left = [job for job in left if _same_process(job)]
    return left


def stop_jobs(jobs: Sequence[ProcessInfo], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM each job by PID (only if it is still the same process), SIGKILL what is left after `grace_s`."""
    for signum, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, grace_s)):
        left = [job for job in jobs if _same_process(job)]
        for job in left:
            try:
                os.kill(job.pid, signum)
                if signum == signal.SIGTERM:
                    os.kill(job.pid, signal.SIGCONT)  # a stopped job (Ctrl-Z, SIGSTOP) acts on SIGTERM only once resumed
            except (ProcessLookupError, PermissionError):
                pass
        jobs = _wait_gone(left, wait_s)
        if not jobs:
            return
    raise LiveRunError(f"job process(es) {', '.join(str(job.pid) for job in jobs)} did not stop; stop them and rerun")


def _describe(jobs: Sequence[ProcessInfo]) -> str:
    return "; ".join(f"{job.pid} ({' '.join(job.argv)[:120]})" for job in jobs)


def unlock_if_stale(workdir: str | os.PathLike = ".", *, wait_for_jobs: bool = False,
                    say: Callable[[str], None] | None = None) -> list[Path]:
    """Remove the lock files when no Snakemake runs in `workdir`; the removed files. LiveRunError when one runs
    (or may: another user's lock). Orphaned jobs of a killed run are stopped first, or waited for."""
    say = say or (lambda line: print(line, file=sys.stderr))
    folder = Path(workdir).resolve()
    table = processes()
    locks = lock_files(folder)
    live = live_snakemake_pids(folder, table)
    if live:
        raise LiveRunError(
            f"Snakemake is running in {folder} (process {', '.join(map(str, live))}): its lock is live, "
            "not stale. Wait for it to finish (or stop it) and rerun; a second run would write the same files."
        )
    hidden = hidden_owner_processes(locks, table)
    if hidden:
        uid, pids = next(iter(hidden.items()))
        raise LiveRunError(
            f"the lock in {folder / LOCKS} belongs to user {_user(uid)}, whose processes (e.g. "
            f"{', '.join(map(str, sorted(pids)[:5]))}) this user cannot inspect: its run may be live. Ask "
            f"{_user(uid)} (or root) to run `python -m sbadbal unlock` there."
        )
    jobs = orphaned_jobs(folder, table)
    if jobs and wait_for_jobs:
        say(f"waiting for {len(jobs)} job process(es) a killed Snakemake left running: {_describe(jobs)}")
        _wait_gone(jobs, None)
    elif jobs:
        say(f"stopping {len(jobs)} job process(es) a killed Snakemake left running (their runs resume from their "
            f"checkpoints): {_describe(jobs)}")
        stop_jobs(jobs)
    for path in locks:
        try:
            path.unlink(missing_ok=True)
        except PermissionError:
            raise LiveRunError(f"cannot remove the lock file {path}: it belongs to user {_user(path.stat().st_uid)} "
                               "and this user may not delete it; ask them (or root) to run unlock") from None
    live_jobs(folder)  # drops the records of the jobs just stopped
    if (folder / RESULTS).is_dir():
        for sub in [folder / RESULTS, *(p for p in (folder / RESULTS).rglob("*") if p.is_dir())]:
            remove_stale_temps(sub)
    return locks


def _workdir(snakemake_args: Sequence[str]) -> Path:
    for flag in ("--directory", "-d"):
        if flag in snakemake_args[:-1]:
            return Path(snakemake_args[list(snakemake_args).index(flag) + 1])
    return Path.cwd()


def main(argv: Sequence[str]) -> int:
    """`recover [--wait-for-jobs] [snakemake args...]`: the module docstring's steps, then snakemake; `unlock`:
    only the steps."""
    command, args = argv[0], list(argv[1:])
    wait_for_jobs = WAIT_FLAG in args
    args = [a for a in args if a != WAIT_FLAG]
    if args[:1] == ["--"]:
        args = args[1:]
    workdir = _workdir(args)
    try:
        removed = unlock_if_stale(workdir, wait_for_jobs=wait_for_jobs)
    except LiveRunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    if removed:
        print(f"removed the stale Snakemake lock left by a killed run ({len(removed)} file(s) in {workdir / LOCKS})",
              file=sys.stderr)
    if command == "unlock":
        return 0
    return subprocess.run([sys.executable, "-m", "snakemake", *args]).returncode


__all__ = ["JOBS_FOLDER", "LiveRunError", "live_snakemake_pids", "lock_files", "main", "orphaned_jobs",
           "unlock_if_stale"]
