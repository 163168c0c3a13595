"""Recovery after a kill in one command: remove a stale Snakemake lock, refuse while a run is live, then rerun.

A `kill -9` of Snakemake leaves its lock files (.snakemake/locks/*) behind, and the next run fails with a
LockException until `snakemake --unlock`. The same lock also protects a live run from a concurrent one, so
it may only be removed when no Snakemake process works in this folder: on Linux that is read from /proc
(each process's command line and working directory).

    python -m sbadbal recover --cores 4 --config suite=tiny    # unlock if stale, then snakemake --cores 4 ...
    python -m sbadbal unlock                                   # only the unlock
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

LOCKS = Path(".snakemake") / "locks"
PROC = Path("/proc")


class LiveRunError(RuntimeError):
    """A Snakemake process is running in the workflow folder: its lock is not stale."""


def lock_files(workdir: str | os.PathLike) -> list[Path]:
    folder = Path(workdir) / LOCKS
    return sorted(path for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []


def _is_snakemake(argv: Sequence[str]) -> bool:
    # `snakemake ...`, `/venv/bin/snakemake ...`, `python /venv/bin/snakemake ...` or `python -m snakemake ...`.
    return any(Path(token).name == "snakemake" for token in argv[:3])


def _working_directory(pid: int, argv: Sequence[str]) -> Path | None:
    try:
        cwd = Path(os.readlink(PROC / str(pid) / "cwd"))
    except OSError:
        return None  # gone meanwhile, or another user's process
    for flag in ("--directory", "-d"):  # `snakemake -d DIR` works in DIR, whatever its cwd
        if flag in argv[:-1]:
            return (cwd / argv[argv.index(flag) + 1]).resolve()
    return cwd.resolve()


def _ancestors() -> set[int]:
    """This process and its parents: a wrapper started by `snakemake` must not count as a live run."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            stat = (PROC / str(pid) / "stat").read_text()
            pid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def live_snakemake_pids(workdir: str | os.PathLike) -> list[int]:
    """Ids of running Snakemake processes whose working directory is `workdir` (Linux /proc)."""
    if not PROC.is_dir():
        raise LiveRunError(
            "cannot tell whether Snakemake is running here (no /proc on this system); "
            "if no run is live, remove the lock with `snakemake --unlock` and rerun"
        )
    target, skip, found = Path(workdir).resolve(), _ancestors(), []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) in skip:
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if _is_snakemake(argv) and _working_directory(int(entry.name), argv) == target:
            found.append(int(entry.name))
    return sorted(found)


def unlock_if_stale(workdir: str | os.PathLike = ".") -> list[Path]:
    """Remove the lock files when no Snakemake runs in `workdir`; the removed files. LiveRunError when one runs."""
    locks = lock_files(workdir)
    live = live_snakemake_pids(workdir)
    if live:
        raise LiveRunError(
            f"Snakemake is running in {Path(workdir).resolve()} (process {', '.join(map(str, live))}): its lock is live, "
            "not stale. Wait for it to finish (or stop it) and rerun; a second run would write the same files."
        )
    for path in locks:
        path.unlink(missing_ok=True)
    return locks


def _workdir(snakemake_args: Sequence[str]) -> Path:
    for flag in ("--directory", "-d"):
        if flag in snakemake_args[:-1]:
            return Path(snakemake_args[list(snakemake_args).index(flag) + 1])
    return Path.cwd()


def main(argv: Sequence[str]) -> int:
    """`recover [snakemake args...]`: unlock if stale, then run snakemake; `unlock`: only the unlock."""
    command, args = argv[0], [a for a in argv[1:]]
    if args[:1] == ["--"]:
        args = args[1:]
    workdir = _workdir(args)
    try:
        removed = unlock_if_stale(workdir)
    except LiveRunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    if removed:
        print(f"removed the stale Snakemake lock left by a killed run ({len(removed)} file(s) in {workdir / LOCKS})",
              file=sys.stderr)
    if command == "unlock":
        return 0
    return subprocess.run([sys.executable, "-m", "snakemake", *args]).returncode
