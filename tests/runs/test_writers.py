"""Atomic writers (issue 20, items 5 and 6): the umask's mode, stale temp files of killed writers, symlinked folders
that leave the results folder, and a full disk as one line (a real tmpfs where this machine allows mounts)."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sbadbal.runs.writers import WriteError, remove_stale_temps, write_csv_atomic, write_text_atomic

REPO = Path(__file__).resolve().parents[2]

# A writer that stops half-way through its temp file and holds there (until killed, or for good).
HALF_WRITER = """
import sys, time
from pathlib import Path
from sbadbal.runs.writers import write_atomically
def write(tmp):
    tmp.write_text("half a table")
    print("writing", flush=True)
    time.sleep(600)
write_atomically(Path(sys.argv[1]), write)
"""


def half_writer(target: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", HALF_WRITER, str(target)], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    assert process.stdout.readline().strip() == "writing"
    return process


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_files_get_the_mode_the_umask_allows(tmp_path, umask):
    old = os.umask(umask)
    try:
        written = write_text_atomic("x\n", tmp_path / "table.md")
    finally:
        os.umask(old)
    # Before: 0600 whatever the umask (mkstemp's mode), so colleagues could not read a shared results folder.
    assert stat.S_IMODE(written.stat().st_mode) == 0o666 & ~umask


def test_a_killed_writers_temp_file_is_cleaned_and_a_live_ones_left(tmp_path):
    target = tmp_path / "figures" / "accuracy_b10.pdf"
    killed, live = half_writer(target), half_writer(target)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        temps = sorted(target.parent.glob(".accuracy_b10.pdf.*.tmp"))
        assert len(temps) == 2  # the kill left its temp file behind (the audit's `.accuracy_b10.pdf.*.tmp`)
        write_text_atomic("the next run's figure", target)
        left = sorted(target.parent.glob(".accuracy_b10.pdf.*.tmp"))
        assert len(left) == 1 and left[0] in temps  # the live writer's file stands, the dead one's is gone
        assert target.read_text() == "the next run's figure"
        assert remove_stale_temps(target.parent) == []  # still held by the live writer
    finally:
        live.kill()
        live.wait()
    assert remove_stale_temps(target.parent) == left


def test_a_symlinked_folder_leaving_the_results_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    tables = Path("results/tiny/tables")
    tables.mkdir(parents=True)
    (tables / "tiny_mc").symlink_to(outside)
    with pytest.raises(WriteError, match=r"tiny_mc resolves to .*outside, outside results .*remove the symlink"):
        write_csv_atomic(pd.DataFrame({"a": [1]}), tables / "tiny_mc" / "runs.csv")
    assert list(outside.iterdir()) == []  # before: all six tables were written there


def test_a_symlinked_results_folder_and_links_inside_it_are_fine(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scratch = tmp_path / "scratch"
    (scratch / "tiny" / "elsewhere").mkdir(parents=True)
    Path("results").symlink_to(scratch)  # results on a big disk: the usual cluster set-up
    Path("results/tiny/tables").symlink_to(scratch / "tiny" / "elsewhere")  # a link that stays inside
    write_text_atomic("ok", "results/tiny/tables/runs.md")
    assert (scratch / "tiny" / "elsewhere" / "runs.md").read_text() == "ok"


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 64 KiB tmpfs: a disk that really fills up."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the full-disk case is then untested here")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"this machine does not allow a tmpfs mount ({mounted.stderr.strip()})")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def test_a_full_disk_is_one_line_naming_the_file_and_leaves_nothing(small_tmpfs):
    target = small_tmpfs / "runs" / "seed1.csv"
    frame = pd.DataFrame({"values": ["x" * 1000] * 200})  # 200 kB: more than the disk holds
    with pytest.raises(WriteError) as error:
        write_csv_atomic(frame, target, what="the run's CSV")
    message = str(error.value)
    assert error.value.errno == errno.ENOSPC and "\n" not in message
    assert message.startswith(f"no space left on device while writing the run's CSV {target}; free space")
    assert list(target.parent.iterdir()) == []  # no temp file, no partial CSV


def test_a_full_disk_in_a_job_script_is_one_line(small_tmpfs):
    # What a workflow script prints (scripts/_helpers.py): `error: ...`, no traceback.
    target = small_tmpfs / "table.md"
    script = (f"import sys; sys.path.insert(0, {str(REPO / 'scripts')!r}); from _helpers import log_to; log_to(None)\n"
              f"from sbadbal.runs.writers import write_text_atomic; write_text_atomic('x' * 200000, {str(target)!r})")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=small_tmpfs.parent,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: no space left on device while writing {target}; free space on that file system (or point the output "
        "folder elsewhere) and rerun"]


def test_temp_files_of_other_names_are_not_touched(tmp_path):
    keep = tmp_path / ".other.csv.abc.tmp"
    keep.write_text("someone else's")
    write_text_atomic("x", tmp_path / "table.csv")
    assert keep.exists()
