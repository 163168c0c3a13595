"""Timing one acquisition call the way the pipeline reports it: the function alone, device-synchronised, with the
machine's load before and after."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

import torch

from sbadbal.acquisition.function import DEFAULT_CHUNK_SIZE, AcquisitionFunction
from sbadbal.engine.devices import synchronize

# A warm-up call is made first when a single call is expected to be cheap (below this many seconds).
WARMUP_IF_BELOW_SECONDS = 2.0


def load_average() -> float | None:
    """The 1-minute load average (os.getloadavg); None where the platform has none.

    Recorded next to timings: the same benchmark ran 3.2x slower on a loaded machine.
    """
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _rss_bytes() -> int | None:
    """Resident set size of this process from /proc (Linux); None elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _peak_rss_bytes() -> int | None:
    """Peak resident set size (VmHWM) of this process; None where /proc is missing."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0, writing '5' to clear_refs); False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def measure_call(call: Callable[[], Any], device: torch.device) -> tuple[float, int, Any]:
    """Seconds and peak memory of one call, device-synchronised before and after; also returns the call's result.

    Peak memory: on CUDA torch.cuda.max_memory_allocated minus the allocation before the call; on CPU the rise of
    the process's peak resident set size (VmHWM, reset before the call where the kernel allows it) over the resident
    size before the call.
    """
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
    else:
        _reset_peak_rss()
        before = _rss_bytes() or 0
    synchronize(device)
    start = time.perf_counter()
    result = call()
    synchronize(device)
    seconds = time.perf_counter() - start
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) - before
    else:
        peak = (_peak_rss_bytes() or 0) - before
    return seconds, max(int(peak), 0), result


def memory_method(device: torch.device) -> str:
    return "cuda_max_allocated" if device.type == "cuda" else "cpu_rss_peak_delta"


def time_acquisition(
    function: AcquisitionFunction,
    log_probs_N_K_C: torch.Tensor,
    batch_size: int,
    *,
    repeats: int = 3,
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool | None = False,
) -> dict[str, Any]:
    """Median seconds over `repeats` calls of `function` (after one untimed warm-up call when a call takes under
    WARMUP_IF_BELOW_SECONDS), every timed call's seconds (repeat_seconds, space-separated) and the largest peak
    memory of those calls (see measure_call; memory_method says which measure was used). Stochastic functions get
    torch.Generator().manual_seed(seed) afresh for every call.
    The 1-minute load average before and after the calls says whether the machine was busy meanwhile.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    device = log_probs_N_K_C.device

    def one_call():
        generator = torch.Generator().manual_seed(seed) if function.stochastic else None
        return function(log_probs_N_K_C, batch_size, generator=generator, chunk_size=chunk_size, progress=progress,
                        **dict(params or {}))

    load_before = load_average()
    first_seconds, first_peak, batch = measure_call(one_call, device)
    measured = [] if first_seconds < WARMUP_IF_BELOW_SECONDS else [(first_seconds, first_peak)]
    while len(measured) < repeats:
        seconds, peak, batch = measure_call(one_call, device)
        measured.append((seconds, peak))
    N, K, C = log_probs_N_K_C.shape
    return dict(
        algorithm=function.name,
        batch_size=min(batch_size, N),
        N=N,
        K=K,
        C=C,
        median_seconds=statistics.median(seconds for seconds, _ in measured),
        peak_memory_bytes=max(peak for _, peak in measured),
        memory_method=memory_method(device),
        device=str(device),
        dtype=str(log_probs_N_K_C.dtype).removeprefix("torch."),
        repeats=len(measured),
        load_average_before=load_before,
        load_average_after=load_average(),
        # Every timed call, space-separated (one CSV cell), so that tables can show the spread, not only the median.
        repeat_seconds=" ".join(f"{seconds:.6g}" for seconds, _ in measured),
        indices=list(batch.indices),
    )
