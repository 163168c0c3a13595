"""One GPU per running job on a local multi-GPU machine: a file-lock slot per device, held for the job's life.

Snakemake's `--resources gpu=N` only caps how many GPU jobs run at once; it never says which device a job
gets, so every job would land on cuda:0. Each GPU job instead claims a free slot `gpu<id>.slot<k>.lock` in a
machine-local folder and sets CUDA_VISIBLE_DEVICES to that id before CUDA starts. The slot is an
`flock`, so the kernel drops it when the job's process ends in any way, SIGKILL included: no stale slots.

Settings are facts of the machine, read from the environment rather than the workflow config (a config
change would rerun every job):
  SBADBAL_GPU_LOCK_DIR   the lock folder; must be on a local disk (flock over NFS is unreliable)
  SBADBAL_JOBS_PER_GPU   how many jobs may share one GPU (default 1)
Inside a Slurm job step (SLURM_STEP_ID set: how the SLURM executor runs each rule) nothing is done: Slurm
already gave the step its GPUs, and with device cgroups every step may call its GPU "0". A local Snakemake
inside one big allocation (an sbatch script or salloc shell, no step yet) does pin, over the allocation's GPUs.

This module imports torch only inside `detected_gpu_count`, so that the lock can be taken before any CUDA use.
"""

from __future__ import annotations

import ctypes
import fcntl
import logging
import os
import re
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LOCK_DIR_VARIABLE = "SBADBAL_GPU_LOCK_DIR"
JOBS_PER_GPU_VARIABLE = "SBADBAL_JOBS_PER_GPU"


@dataclass(frozen=True)
class GpuSlot:
    """A claimed slot: the device id to put in CUDA_VISIBLE_DEVICES and the lock file that holds it."""

    gpu_id: str
    lock_path: Path


def visible_gpu_ids(cuda_visible_devices: str | None, detected_count: int) -> list[str]:
    """The GPU ids a job may be pinned to, in order.

    From CUDA_VISIBLE_DEVICES when it is set (indices, GPU-UUIDs or MIG ids, kept as written); CUDA reads the
    list up to the first invalid entry, so an empty entry or a negative index ends it ("" and "-1" mean no
    GPU). When it is unset: "0" .. str(detected_count - 1).
    """
    if cuda_visible_devices is None:
        return [str(index) for index in range(detected_count)]
    ids: list[str] = []
    for entry in (part.strip() for part in cuda_visible_devices.split(",")):
        if not entry or entry.startswith("-"):
            break
        if entry not in ids:
            ids.append(entry)
    return ids


def slot_lock_path(lock_dir: Path, gpu_id: str, slot: int) -> Path:
    """`<lock_dir>/gpu<id>.slot<k>.lock`; characters a file name cannot hold (old MIG ids have '/') become '_'."""
    return Path(lock_dir) / f"gpu{re.sub(r'[^A-Za-z0-9._-]', '_', gpu_id)}.slot{slot}.lock"


def slot_order(gpu_ids: Sequence[str], jobs_per_gpu: int) -> list[tuple[str, int]]:
    """(gpu id, slot) in the order claimants try them: every GPU's slot 0 before any slot 1, so jobs spread out."""
    return [(gpu_id, slot) for slot in range(jobs_per_gpu) for gpu_id in gpu_ids]


MAX_JOBS_PER_GPU = 64  # a sanity bound: more sharers than this is a typo, and the slot list is built eagerly
SLOT_FILE = re.compile(r"gpu[A-Za-z0-9._-]*\.slot\d+\.lock")


class GpuSettingError(ValueError):
    """A bad SBADBAL_GPU_LOCK_DIR or SBADBAL_JOBS_PER_GPU, or an unsafe lock folder: one line with the fix."""


def _unsafe(message: str, lock_dir: Path) -> GpuSettingError:
    return GpuSettingError(f"GPU lock folder {lock_dir} {message}; set {LOCK_DIR_VARIABLE} to a folder of your own "
                           f"(e.g. {LOCK_DIR_VARIABLE}=$HOME/.cache/sbadbal-gpu-slots on a local disk)")


def secure_lock_dir(lock_dir: str | Path) -> Path:
    """The lock folder, made with mode 0700 if missing, refused unless it is safe to create lock files in.

    Safe: a real folder (no symlink) owned by this user, writable by no one else (another user could plant a
    `gpu0.slot0.lock` symlink there), holding nothing but slot lock files (so `/` or a home folder is refused).
    `mkdir` with the mode is atomic: a folder another user made first is found by the ownership check.
    """
    lock_dir = Path(lock_dir)
    lock_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(lock_dir, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(lock_dir)
    if not stat.S_ISDIR(info.st_mode):
        raise _unsafe("is not a folder (a symlink or a file)", lock_dir)
    if info.st_uid != os.getuid():
        raise _unsafe(f"belongs to uid {info.st_uid}, not to you (uid {os.getuid()})", lock_dir)
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise _unsafe(f"is writable by others (mode {stat.S_IMODE(info.st_mode):04o})", lock_dir)
    strangers = sorted(name for name in os.listdir(lock_dir) if not SLOT_FILE.fullmatch(name))
    if strangers:
        raise _unsafe(f"holds other files ({', '.join(strangers[:3])}{', ...' if len(strangers) > 3 else ''}), "
                      "not only GPU slot locks", lock_dir)
    return lock_dir


def _lock_if_free(path: Path) -> int | None:
    """An open descriptor holding an exclusive flock on `path`, or None when another process holds it."""
    # O_NOFOLLOW: a planted symlink fails here instead of leading the write elsewhere; no O_TRUNC on open, and
    # only a regular file of ours is emptied.
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise _unsafe(f"holds {path.name}, which cannot be opened as a plain file ({error.strerror})",
                      path.parent) from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
        os.close(descriptor)
        raise _unsafe(f"holds {path.name}, which is not a regular file of yours", path.parent)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    # Who holds it, for whoever wonders which job is on which GPU (`cat <lock_dir>/*.lock`); only a note, so a
    # full disk does not fail the job here.
    try:
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
    except OSError:
        pass
    return descriptor


@contextmanager
def claim_gpu_slot(gpu_ids: Sequence[str], lock_dir: str | Path, jobs_per_gpu: int = 1,
                   poll_seconds: float = 1.0, on_wait: Callable[[], None] | None = None) -> Iterator[GpuSlot]:
    """Hold the first free slot in `slot_order` for the duration of the `with` block.

    When every slot is held, polls every `poll_seconds` until one frees, calling `on_wait()` once before the
    first wait. The lock files are never deleted: unlinking a lock file while another process has it open
    would let two jobs hold "the same" slot on different inodes.
    """
    if not gpu_ids:
        raise ValueError("claim_gpu_slot needs at least one GPU id")
    if not 1 <= jobs_per_gpu <= MAX_JOBS_PER_GPU:
        raise ValueError(f"jobs_per_gpu must be in 1..{MAX_JOBS_PER_GPU}, got {jobs_per_gpu}")
    lock_dir = secure_lock_dir(lock_dir)
    order = slot_order(gpu_ids, jobs_per_gpu)
    waited = False
    while True:
        for gpu_id, slot in order:
            path = slot_lock_path(lock_dir, gpu_id, slot)
            descriptor = _lock_if_free(path)
            if descriptor is not None:
                try:
                    yield GpuSlot(gpu_id, path)
                finally:
                    os.close(descriptor)  # closing the only descriptor drops the flock
                return
        if not waited and on_wait is not None:
            on_wait()
        waited = True
        time.sleep(poll_seconds)


def jobs_per_gpu_setting(environ: MutableMapping[str, str]) -> int:
    """SBADBAL_JOBS_PER_GPU as a whole number >= 1; 1 when unset or empty."""
    raw = environ.get(JOBS_PER_GPU_VARIABLE, "").strip()
    if not raw:
        return 1
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise GpuSettingError(
            f"{JOBS_PER_GPU_VARIABLE}={raw!r} is not a whole number >= 1: set it to how many jobs may share one "
            f"GPU (e.g. {JOBS_PER_GPU_VARIABLE}=2), or unset it for one job per GPU"
        )
    if value > MAX_JOBS_PER_GPU:
        raise GpuSettingError(
            f"{JOBS_PER_GPU_VARIABLE}={raw!r} is more than {MAX_JOBS_PER_GPU} jobs on one GPU: set it to how many "
            f"jobs may share one GPU (e.g. {JOBS_PER_GPU_VARIABLE}=2), or unset it for one job per GPU"
        )
    return value


def gpu_lock_dir_setting(environ: MutableMapping[str, str]) -> Path:
    """SBADBAL_GPU_LOCK_DIR, else a per-user folder in the local temp dir (flock over NFS is unreliable).

    Checked here only for what the value says (a file, the root folder); the folder itself when a slot is
    claimed (`secure_lock_dir`), so that nothing is created on a machine without GPUs."""
    raw = environ.get(LOCK_DIR_VARIABLE, "").strip()
    if not raw:
        return Path(tempfile.gettempdir()) / f"sbadbal-gpu-slots-{os.getuid()}"
    lock_dir = Path(raw).expanduser()
    if lock_dir.resolve() == Path(lock_dir.anchor or "/").resolve():
        raise GpuSettingError(f"{LOCK_DIR_VARIABLE}={raw!r} is the root folder: set it to a folder of its own for "
                              f"the GPU slot locks (e.g. {LOCK_DIR_VARIABLE}=$HOME/.cache/sbadbal-gpu-slots)")
    if lock_dir.exists() and not lock_dir.is_dir():
        raise GpuSettingError(f"{LOCK_DIR_VARIABLE}={raw!r} is a file, not a folder: set it to a folder for the GPU "
                              f"slot locks (e.g. {LOCK_DIR_VARIABLE}=$HOME/.cache/sbadbal-gpu-slots), or unset it")
    return lock_dir


def _cuda_driver_present() -> bool:
    # Loading the driver library does not initialise CUDA (cuInit does); without it there is no GPU to count.
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


def detected_gpu_count() -> int:
    """GPUs torch could use, counted without initialising CUDA in this process.

    CUDA reads CUDA_VISIBLE_DEVICES once, when it initialises; the pin must come first. In torch 2.x
    `torch.cuda.device_count()` asks NVML, which does not initialise CUDA, but where NVML is unavailable it
    falls back to cudaGetDeviceCount, which does. So NVML is asked here directly, and in that fallback case
    the count comes from a child process, leaving this one's CUDA untouched.
    """
    import torch

    if not torch.backends.cuda.is_built():
        return 0
    nvml_count = getattr(torch.cuda, "_device_count_nvml", lambda: -1)()
    if nvml_count >= 0:
        return nvml_count
    if not _cuda_driver_present():
        return 0
    child = subprocess.run([sys.executable, "-c", "import torch; print(torch.cuda.device_count())"],
                           capture_output=True, text=True, check=True)
    return int(child.stdout.strip())


@contextmanager
def pin_job_to_free_gpu(environ: MutableMapping[str, str] = os.environ, logger: logging.Logger | None = None,
                        poll_seconds: float = 1.0) -> Iterator[GpuSlot | None]:
    """Give this job its own GPU until the `with` block ends: claim a slot, set CUDA_VISIBLE_DEVICES in `environ`.

    Enter it before anything touches CUDA. Yields None (and changes nothing) in a Slurm job step, whose GPUs
    Slurm bound, and where there is no GPU. `environ` is os.environ for real jobs; the previous
    CUDA_VISIBLE_DEVICES is put back on exit.
    """
    logger = logger or logging.getLogger(__name__)
    if environ.get("SLURM_STEP_ID"):
        logger.info("GPU: Slurm job %s step %s, CUDA_VISIBLE_DEVICES=%s as Slurm bound it",
                    environ.get("SLURM_JOB_ID"), environ["SLURM_STEP_ID"], environ.get("CUDA_VISIBLE_DEVICES", ""))
        yield None
        return
    # Settings first, so that a bad value fails on any machine, not only on one with GPUs.
    jobs_per_gpu = jobs_per_gpu_setting(environ)
    lock_dir = gpu_lock_dir_setting(environ)
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    gpu_ids = visible_gpu_ids(visible, detected_gpu_count() if visible is None else 0)
    if not gpu_ids:
        yield None
        return

    def log_wait() -> None:
        logger.info("GPU slot: all %d slots (%d GPUs x %d jobs) in %s are held by other jobs; waiting for one",
                    len(gpu_ids) * jobs_per_gpu, len(gpu_ids), jobs_per_gpu, lock_dir)

    with claim_gpu_slot(gpu_ids, lock_dir, jobs_per_gpu, poll_seconds=poll_seconds, on_wait=log_wait) as slot:
        environ["CUDA_VISIBLE_DEVICES"] = slot.gpu_id
        logger.info("GPU slot: CUDA_VISIBLE_DEVICES=%s (lock %s)", slot.gpu_id, slot.lock_path)
        try:
            yield slot
        finally:
            if visible is None:
                environ.pop("CUDA_VISIBLE_DEVICES", None)
            else:
                environ["CUDA_VISIBLE_DEVICES"] = visible
