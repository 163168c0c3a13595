"""GPU slots: id parsing, flock slots claimed by real concurrent processes, the job entry's settings and no-ops.

Nothing here needs a GPU: the ids are only names for lock files, and CUDA_VISIBLE_DEVICES is given explicitly.
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import stat
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from sbadbal.ops import gpu_slots
from sbadbal.ops.gpu_slots import (
    GpuSettingError,
    claim_gpu_slot,
    detected_gpu_count,
    jobs_per_gpu_setting,
    pin_job_to_free_gpu,
    slot_lock_path,
    slot_order,
    visible_gpu_ids,
)

REPO = Path(__file__).resolve().parents[2]
LINE_TIMEOUT_S = 20

# A claimant in its own process: says "waiting" if it has to, then "claimed <id>", and holds the slot until
# its stdin gets a line (or closes).
CLAIMANT = """
import sys
from sbadbal.ops.gpu_slots import claim_gpu_slot
ids, lock_dir, jobs_per_gpu = sys.argv[1].split(","), sys.argv[2], int(sys.argv[3])
say_waiting = lambda: print("waiting", flush=True)
with claim_gpu_slot(ids, lock_dir, jobs_per_gpu, poll_seconds=0.02, on_wait=say_waiting) as slot:
    print("claimed", slot.gpu_id, flush=True)
    sys.stdin.readline()
"""


class Claimant:
    """A claimant process; its output is read straight from the pipe, so "no line yet" can be asked with a timeout."""

    def __init__(self, gpu_ids: list[str], lock_dir: Path, jobs_per_gpu: int = 1):
        self.process = subprocess.Popen(
            [sys.executable, "-c", CLAIMANT, ",".join(gpu_ids), str(lock_dir), str(jobs_per_gpu)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        self.unread = b""

    def next_line(self, timeout: float = LINE_TIMEOUT_S) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.unread:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.process.stdout], [], [], left)[0]:
                return None
            chunk = os.read(self.process.stdout.fileno(), 4096)
            if not chunk:
                return None
            self.unread += chunk
        line, self.unread = self.unread.split(b"\n", 1)
        return line.decode()

    def claimed_id(self) -> str:
        line = self.next_line()
        assert line is not None and line.startswith("claimed "), f"{line!r} (exit code {self.process.poll()})"
        return line.removeprefix("claimed ")

    def release(self) -> None:
        self.process.stdin.write(b"\n")
        self.process.stdin.flush()
        assert self.process.wait(timeout=LINE_TIMEOUT_S) == 0


@pytest.fixture
def claimants():
    started: list[Claimant] = []

    def start(*args, **kwargs) -> Claimant:
        started.append(Claimant(*args, **kwargs))
        return started[-1]

    yield start
    for claimant in started:
        claimant.process.kill()
        claimant.process.wait()


class WouldWait(Exception):
    pass


def stop_at_first_wait() -> None:
    raise WouldWait


def fail_if_waiting() -> None:
    raise AssertionError("the claim waited although a slot should have been free")


@pytest.mark.parametrize(
    ("cuda_visible_devices", "detected_count", "expected"),
    [
        (None, 0, []),
        (None, 3, ["0", "1", "2"]),
        ("", 4, []),
        ("-1", 4, []),
        ("2,0", 4, ["2", "0"]),
        (" 1 , 3 ", 0, ["1", "3"]),
        ("0,-1,1", 0, ["0"]),
        ("0,,1", 0, ["0"]),
        ("1,1,0", 0, ["1", "0"]),
        ("GPU-8f6e2a1c-aaaa,GPU-0c1d-bbbb", 0, ["GPU-8f6e2a1c-aaaa", "GPU-0c1d-bbbb"]),
        ("MIG-4f1e-cccc", 0, ["MIG-4f1e-cccc"]),
    ],
)
def test_visible_gpu_ids(cuda_visible_devices, detected_count, expected):
    assert visible_gpu_ids(cuda_visible_devices, detected_count) == expected


def test_lock_paths_stay_in_the_lock_dir_for_any_id(tmp_path):
    assert slot_lock_path(tmp_path, "1", 0) == tmp_path / "gpu1.slot0.lock"
    assert slot_lock_path(tmp_path, "MIG-GPU-ab12/1/0", 2) == tmp_path / "gpuMIG-GPU-ab12_1_0.slot2.lock"


def test_slot_order_spreads_over_gpus_first():
    assert slot_order(["0", "1"], 2) == [("0", 0), ("1", 0), ("0", 1), ("1", 1)]


def test_concurrent_processes_get_distinct_gpus(tmp_path, claimants):
    first, second = claimants(["0", "1"], tmp_path), claimants(["0", "1"], tmp_path)
    assert {first.claimed_id(), second.claimed_id()} == {"0", "1"}


def test_third_claimant_waits_until_a_slot_frees(tmp_path, claimants):
    first, second = claimants(["0", "1"], tmp_path), claimants(["0", "1"], tmp_path)
    held = {first.claimed_id(): first, second.claimed_id(): second}
    third = claimants(["0", "1"], tmp_path)
    assert third.next_line() == "waiting"
    assert third.next_line(timeout=0.5) is None  # many polls later, still waiting
    held["1"].release()
    assert third.claimed_id() == "1"


def test_two_jobs_per_gpu_fill_every_gpu_before_sharing(tmp_path):
    with ExitStack() as stack:
        slots = [stack.enter_context(claim_gpu_slot(["0", "1"], tmp_path, jobs_per_gpu=2, on_wait=fail_if_waiting))
                 for _ in range(4)]
        assert [(slot.gpu_id, slot.lock_path.name) for slot in slots] == [
            ("0", "gpu0.slot0.lock"), ("1", "gpu1.slot0.lock"), ("0", "gpu0.slot1.lock"), ("1", "gpu1.slot1.lock"),
        ]
        with pytest.raises(WouldWait), claim_gpu_slot(["0", "1"], tmp_path, jobs_per_gpu=2, on_wait=stop_at_first_wait):
            pass


def test_waiting_is_reported_once_however_long_it_lasts(tmp_path, caplog):
    environ = {"CUDA_VISIBLE_DEVICES": "0", "SBADBAL_GPU_LOCK_DIR": str(tmp_path)}
    claimed = threading.Event()

    def second_job() -> None:
        with pin_job_to_free_gpu(environ, poll_seconds=0.01):
            claimed.set()

    with caplog.at_level(logging.INFO, logger="sbadbal.ops.gpu_slots"):
        with claim_gpu_slot(["0"], tmp_path):
            waiter = threading.Thread(target=second_job)
            waiter.start()
            assert not claimed.wait(timeout=0.5)  # about 50 polls
        waiter.join(timeout=LINE_TIMEOUT_S)
    assert claimed.is_set()
    assert sum("held by other jobs; waiting for one" in message for message in caplog.messages) == 1


def test_released_slot_is_claimed_again(tmp_path):
    with claim_gpu_slot(["0"], tmp_path) as slot:
        assert slot.gpu_id == "0"
    with claim_gpu_slot(["0"], tmp_path, on_wait=fail_if_waiting) as slot:
        assert slot.gpu_id == "0"


def test_sigkilled_holder_frees_its_slot(tmp_path, claimants):
    holder = claimants(["0"], tmp_path)
    assert holder.claimed_id() == "0"
    holder.process.kill()  # SIGKILL: no finally, no atexit; only the kernel can drop the lock
    holder.process.wait()
    with claim_gpu_slot(["0"], tmp_path, on_wait=fail_if_waiting) as slot:
        assert slot.lock_path == tmp_path / "gpu0.slot0.lock"


def test_pin_sets_cuda_visible_devices_and_logs_the_slot(tmp_path, caplog):
    environ = {"CUDA_VISIBLE_DEVICES": "3,5", "SBADBAL_GPU_LOCK_DIR": str(tmp_path)}
    other_job_environ = dict(environ)
    with (
        caplog.at_level(logging.INFO),
        pin_job_to_free_gpu(environ) as first,
        pin_job_to_free_gpu(other_job_environ) as second,
    ):
        assert environ["CUDA_VISIBLE_DEVICES"] == first.gpu_id == "3"
        assert second.gpu_id == other_job_environ["CUDA_VISIBLE_DEVICES"] == "5"
    assert environ["CUDA_VISIBLE_DEVICES"] == "3,5"  # put back on exit
    assert f"GPU slot: CUDA_VISIBLE_DEVICES=3 (lock {tmp_path / 'gpu3.slot0.lock'})" in caplog.messages


def test_pin_uses_the_detected_count_only_without_cuda_visible_devices(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_slots, "detected_gpu_count", lambda: 2)
    environ = {"SBADBAL_GPU_LOCK_DIR": str(tmp_path)}
    with pin_job_to_free_gpu(environ) as slot:
        assert slot.gpu_id == environ["CUDA_VISIBLE_DEVICES"] == "0"
    assert "CUDA_VISIBLE_DEVICES" not in environ

    monkeypatch.setattr(gpu_slots, "detected_gpu_count", lambda: pytest.fail("counted although the ids were given"))
    with pin_job_to_free_gpu({**environ, "CUDA_VISIBLE_DEVICES": "1"}) as slot:
        assert slot.gpu_id == "1"


def test_no_pin_in_a_slurm_job_step(tmp_path, monkeypatch):
    before = os.environ.get("CUDA_VISIBLE_DEVICES")
    monkeypatch.setattr(gpu_slots, "detected_gpu_count", lambda: pytest.fail("Slurm steps need no count"))
    environ = {"SLURM_JOB_ID": "4242", "SLURM_STEP_ID": "0", "CUDA_VISIBLE_DEVICES": "2,3",
               "SBADBAL_GPU_LOCK_DIR": str(tmp_path / "locks"), "SBADBAL_JOBS_PER_GPU": "not checked under Slurm"}
    with pin_job_to_free_gpu(environ) as slot:
        assert slot is None
        assert environ["CUDA_VISIBLE_DEVICES"] == "2,3"
    assert os.environ.get("CUDA_VISIBLE_DEVICES") == before
    assert not (tmp_path / "locks").exists()


def test_local_snakemake_inside_a_slurm_allocation_pins_over_its_gpus(tmp_path):
    """An sbatch script (no step) running `snakemake --resources gpu=2` on its two allocated GPUs."""
    environ = {"SLURM_JOB_ID": "4242", "CUDA_VISIBLE_DEVICES": "2,3", "SBADBAL_GPU_LOCK_DIR": str(tmp_path / "locks")}
    with pin_job_to_free_gpu(environ) as slot:
        assert slot.gpu_id == "2" and environ["CUDA_VISIBLE_DEVICES"] == "2"
    assert environ["CUDA_VISIBLE_DEVICES"] == "2,3"


@pytest.mark.parametrize("environ", [{"CUDA_VISIBLE_DEVICES": ""}, {"CUDA_VISIBLE_DEVICES": "-1"}, {}],
                         ids=["empty", "minus-one", "none-detected"])
def test_no_pin_without_gpus(tmp_path, monkeypatch, environ):
    monkeypatch.setattr(gpu_slots, "detected_gpu_count", lambda: 0)
    environ = {**environ, "SBADBAL_GPU_LOCK_DIR": str(tmp_path / "locks")}
    before = dict(environ)
    with pin_job_to_free_gpu(environ) as slot:
        assert slot is None
    assert environ == before
    assert not (tmp_path / "locks").exists()


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_jobs_per_gpu_names_the_variable_and_the_fix(tmp_path, value):
    environ = {"CUDA_VISIBLE_DEVICES": "", "SBADBAL_GPU_LOCK_DIR": str(tmp_path), "SBADBAL_JOBS_PER_GPU": value}
    expected = rf"SBADBAL_JOBS_PER_GPU='{value}' is not a whole number >= 1.*unset it"
    with pytest.raises(ValueError, match=expected), pin_job_to_free_gpu(environ):
        pass


def test_jobs_per_gpu_default_and_value():
    assert jobs_per_gpu_setting({}) == 1
    assert jobs_per_gpu_setting({"SBADBAL_JOBS_PER_GPU": " 3 "}) == 3


def test_default_lock_dir_is_per_user_and_local():
    lock_dir = gpu_slots.gpu_lock_dir_setting({})
    assert lock_dir.name == f"sbadbal-gpu-slots-{os.getuid()}"


def test_counting_gpus_leaves_cuda_uninitialised():
    import torch

    assert detected_gpu_count() == torch.cuda.device_count()
    assert not torch.cuda.is_initialized()


@pytest.mark.parametrize(
    ("nvml_count", "driver_present", "expected", "child_processes"),
    [(3, True, 3, 0), (0, False, 0, 0), (-1, False, 0, 0), (-1, True, 2, 1)],
    ids=["nvml", "nvml-none", "no-nvml-no-driver", "no-nvml-child-process"],
)
def test_gpu_count_without_cuda_init_in_this_process(monkeypatch, nvml_count, driver_present, expected,
                                                     child_processes):
    import torch

    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: True)
    monkeypatch.setattr(torch.cuda, "_device_count_nvml", lambda: nvml_count, raising=False)
    monkeypatch.setattr(gpu_slots, "_cuda_driver_present", lambda: driver_present)
    children = []

    def child_count(command, **kwargs):
        children.append(command)
        return subprocess.CompletedProcess(command, 0, stdout="2\n")

    monkeypatch.setattr(gpu_slots.subprocess, "run", child_count)
    assert detected_gpu_count() == expected
    assert len(children) == child_processes  # only where NVML cannot answer and a driver could


# --- the lock folder's safety (issue 20, item 5): all on CPU, the ids are only lock-file names -------------------

def as_nobody():
    """Run the child as user nobody (to plant files as another user); needs root."""
    if os.geteuid() != 0:
        pytest.skip("planting another user's files needs root")
    return {"user": "nobody", "group": "nogroup"}


def test_a_new_lock_folder_is_private(tmp_path):
    lock_dir = tmp_path / "locks"
    with claim_gpu_slot(["0"], lock_dir):
        assert stat.S_IMODE(lock_dir.stat().st_mode) == 0o700


def test_a_planted_symlink_is_refused_and_its_target_untouched(tmp_path):
    lock_dir = tmp_path / "locks"
    lock_dir.mkdir(mode=0o700)
    victim = tmp_path / "root_owned_file"
    victim.write_text("precious\n")
    (lock_dir / "gpu0.slot0.lock").symlink_to(victim)
    # Before: the job truncated and overwrote the symlink's target.
    with pytest.raises(GpuSettingError, match=r"gpu0.slot0.lock, which cannot be opened as a plain file"):
        with claim_gpu_slot(["0"], lock_dir):
            pass
    assert victim.read_text() == "precious\n"


def test_a_world_writable_lock_folder_is_refused(tmp_path):
    lock_dir = tmp_path / "shared"
    lock_dir.mkdir()
    lock_dir.chmod(0o777)
    with pytest.raises(GpuSettingError, match=r"is writable by others \(mode 0777\).*SBADBAL_GPU_LOCK_DIR"):
        with claim_gpu_slot(["0"], lock_dir):
            pass


def test_a_folder_pre_created_by_another_user_in_a_shared_tmpdir_is_refused(monkeypatch):
    import tempfile

    tmpdir = Path(tempfile.mkdtemp(prefix="sbadbal-shared-tmp-", dir="/tmp"))  # where user nobody can reach
    tmpdir.chmod(0o1777)
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    planted = gpu_slots.gpu_lock_dir_setting({})
    assert planted.parent == tmpdir
    try:
        # Another user makes the per-user folder first (mkdir(exist_ok=True) accepted it) and plants a symlink.
        subprocess.run(["/bin/sh", "-c", f"mkdir -m 755 {planted} && ln -s /etc/hostname {planted}/gpu0.slot0.lock"],
                       check=True, **as_nobody())
        before = Path("/etc/hostname").read_bytes()
        with pytest.raises(GpuSettingError, match=rf"{planted} belongs to uid 65534, not to you"):
            with pin_job_to_free_gpu({"CUDA_VISIBLE_DEVICES": "0"}):
                pass
        assert Path("/etc/hostname").read_bytes() == before
    finally:
        shutil.rmtree(tmpdir)


@pytest.mark.parametrize(("value", "message"), [
    ("/etc/hostname", r"SBADBAL_GPU_LOCK_DIR='/etc/hostname' is a file, not a folder"),
    ("/", r"SBADBAL_GPU_LOCK_DIR='/' is the root folder"),
])
def test_bad_lock_dir_values_are_one_line(value, message):
    # Before: a raw FileExistsError for the file; `/` made /gpu0.slot0.lock silently.
    with pytest.raises(GpuSettingError, match=message) as error:
        with pin_job_to_free_gpu({"CUDA_VISIBLE_DEVICES": "0", "SBADBAL_GPU_LOCK_DIR": value}):
            pass
    assert "\n" not in str(error.value)
    assert not Path("/gpu0.slot0.lock").exists()


def test_a_folder_holding_other_files_is_not_a_lock_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(GpuSettingError, match=r"holds other files \(notes.txt\)"):
        with claim_gpu_slot(["0"], tmp_path):
            pass


def test_a_huge_jobs_per_gpu_is_one_line_not_a_memory_error(tmp_path):
    environ = {"CUDA_VISIBLE_DEVICES": "0", "SBADBAL_GPU_LOCK_DIR": str(tmp_path), "SBADBAL_JOBS_PER_GPU": "1000000000"}
    with pytest.raises(GpuSettingError, match=r"SBADBAL_JOBS_PER_GPU='1000000000' is more than 64 jobs on one GPU"):
        with pin_job_to_free_gpu(environ):
            pass
