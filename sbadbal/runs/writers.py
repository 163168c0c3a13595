"""Atomic writers: a temp file in the same folder, fsynced, then renamed; never appended to.

What every job writes its outputs with (runs, prepared data, tables, figures), so that a reader never sees a
half-written file and a crash leaves no partial one under the final name. Beyond that, each write:

- gives the file the mode the umask allows (0666 & ~umask), as `open()` would: mkstemp makes 0600 files, which
  colleagues reading a shared results folder could not open;
- holds an flock on its temp file while writing, so that the next write to the same file can tell a killed
  writer's leftover `.<name>.*.tmp` (lock free: deleted) from a live writer's (lock held: left alone);
- refuses a path whose folders leave its top folder through a symlink (`results/tiny/tables/x -> /elsewhere`):
  a relative path's resolved folder must stay inside its first component resolved (`results`, which may itself
  be a symlink to a scratch disk);
- turns a full disk (ENOSPC, EDQUOT; also when a library wraps it) into one `WriteError` naming the file.

`WriteError` is the one error type for a write that cannot go ahead; its message is one line with the fix.
"""

from __future__ import annotations

import errno
import fcntl
import glob
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # recovery imports this module and must run without pandas
    import pandas as pd

TEMP_SUFFIX = ".tmp"
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


class WriteError(OSError):
    """A write that cannot go ahead (full disk, an escaping symlink, a file another process writes): one line."""

    def __str__(self) -> str:  # OSError's str() would prefix "[Errno 28]"
        return str(self.strerror if self.strerror is not None else (self.args[0] if self.args else ""))


def is_disk_full(error: BaseException | None) -> bool:
    """ENOSPC/EDQUOT anywhere in the chain (torch and pandas wrap the writer's OSError, or the close raises it)."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS:
            return True
        if "No space left on device" in str(error) or "Disk quota exceeded" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def disk_full_error(path: str | os.PathLike, what: str = "") -> WriteError:
    """The one line a full disk gives, for `path` (`what`: e.g. "the checkpoint")."""
    subject = f"{what} {path}" if what else str(path)
    return WriteError(errno.ENOSPC, f"no space left on device while writing {subject}; free space on that file system "
                      "(or point the output folder elsewhere) and rerun")


def current_umask() -> int:
    """The process's umask, read without changing it where Linux says it (/proc/self/status)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and put back (not thread-safe, but writers run one per job)
    os.umask(mask)
    return mask


def check_stays_inside(path: str | os.PathLike) -> None:
    """Refuse a relative `path` whose folder resolves outside its first component (a symlinked folder that leaves
    the results folder). Absolute paths name their own place and are not checked."""
    path = Path(path)
    if path.is_absolute() or len(path.parts) < 2:
        return
    top = Path(path.parts[0]).resolve()
    parent = path.parent.resolve()
    if parent != top and not parent.is_relative_to(top):
        raise WriteError(errno.EXDEV, f"{path.parent} resolves to {parent}, outside {path.parts[0]} ({top}): a symlinked "
                         f"folder would put {path.name} outside the results folder; remove the symlink (or make it "
                         "point inside) and rerun")


def _lock_is_free(path: Path) -> bool:
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False  # gone meanwhile, a symlink, or not ours to open: leave it
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(descriptor)


def remove_stale_temps(folder: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Delete `.<name>.*.tmp` (any name when None) in `folder` whose writer is gone (its flock is free); the
    files removed.

    A live writer holds the flock on its temp file until the rename, so its file is never touched."""
    removed = []
    for candidate in Path(folder).glob(f".{'*' if name is None else glob.escape(name)}.*{TEMP_SUFFIX}"):
        if candidate.is_file() and not candidate.is_symlink() and candidate.stat().st_uid == os.getuid() \
                and _lock_is_free(candidate):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def write_atomically(path: str | os.PathLike, write: Callable[[Path], None], *, what: str = "") -> Path:
    """Write through a temp file in the same folder, then rename: readers never see a half-written file.

    `write(tmp)` writes the content to the path it is given. `what` names the file in errors ("the checkpoint")."""
    path = Path(path)
    check_stays_inside(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path.parent, path.name)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    except OSError as error:
        if is_disk_full(error):
            raise disk_full_error(path, what) from None
        raise
    tmp = Path(tmp_name)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # ours alone: a later writer's sweep leaves a live temp file alone
        os.fchmod(fd, 0o666 & ~current_umask())
        write(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException as error:
        tmp.unlink(missing_ok=True)
        if isinstance(error, Exception) and not isinstance(error, WriteError) and is_disk_full(error):
            raise disk_full_error(path, what) from None
        raise
    finally:
        os.close(fd)
    return path


def _fsync(path: Path) -> None:
    """Flush the file's data to disk before the rename makes it visible: after a crash or power loss the name
    then never points at an empty or partial file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_csv_atomic(frame: pd.DataFrame, path: str | os.PathLike, *, what: str = "") -> Path:
    return write_atomically(path, lambda tmp: frame.to_csv(tmp, index=False), what=what)


def write_json_atomic(obj: Any, path: str | os.PathLike, *, what: str = "") -> Path:
    def write(tmp: Path) -> None:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")

    return write_atomically(path, write, what=what)


def write_text_atomic(text: str, path: str | os.PathLike, *, what: str = "") -> Path:
    return write_atomically(path, lambda tmp: tmp.write_text(text), what=what)


def write_bytes_atomic(data: bytes, path: str | os.PathLike, *, what: str = "") -> Path:
    """Exactly these bytes (a run's CSV, whose sha256 its sidecar already holds)."""
    return write_atomically(path, lambda tmp: tmp.write_bytes(data), what=what)


def write_torch_atomic(payload: Any, path: str | os.PathLike, *, what: str = "") -> Path:
    """`torch.save(payload)` atomically (prepared data, round 0, embedding caches)."""
    import torch  # here, not above: recovery imports this module and runs without torch

    def write(tmp: Path) -> None:
        # Through a Python file object, not a path: torch's own C++ writer reports a full disk as
        # "basic_ios::clear: iostream error", Python's as OSError(ENOSPC), which write_atomically names.
        with open(tmp, "wb") as handle:
            torch.save(payload, handle)

    return write_atomically(path, write, what=what)
