"""Small runtime helpers shared by the library: devices, timing with device synchronisation, progress bars."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import torch

T = TypeVar("T")


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """'auto' (or None) picks CUDA when visible, else CPU; anything else is passed to torch.device."""
    if name is None or name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(name)!r} was requested but no CUDA device is visible; use 'cpu' or 'auto'")
    return device


def device_name(device: torch.device) -> str:
    """Human-readable device name for result sidecars, e.g. 'NVIDIA H100 80GB HBM3' or 'cpu'."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "cpu"


def synchronize(device: torch.device | str) -> None:
    """Wait for queued kernels so that wall-clock timings cover the work; a no-op on CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Stopwatch:
    """Seconds spent inside `with stopwatch.measure(device):` blocks, synchronised on both sides."""

    def __init__(self) -> None:
        self.seconds = 0.0

    @contextmanager
    def measure(self, device: torch.device | str = "cpu") -> Iterator[None]:
        synchronize(device)
        start = time.perf_counter()
        try:
            yield
        finally:
            synchronize(device)
            self.seconds += time.perf_counter() - start


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str = "", enabled: bool | None = None) -> Iterable[T]:
    """A tqdm bar when stderr is a terminal (or when enabled=True); the bare iterable otherwise."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)


def load_average() -> float | None:
    """The 1-minute load average (os.getloadavg); None where the platform has none.

    Recorded next to timings: the same benchmark ran 3.2x slower on a loaded machine.
    """
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def environment_facts(prepared: Any = None) -> dict[str, Any]:
    """Facts of this process that change a run's numbers, for the run sidecar.

    torch's intra-op thread count changes results in the 8th digit (1 vs 2 threads); the prepared file's content
    checksum says which data the run saw.
    """
    facts: dict[str, Any] = {"torch_threads": torch.get_num_threads()}
    if prepared is not None:
        from sbadbal.data.store import prepared_checksum

        facts["prepared_sha256"] = prepared_checksum(prepared)
    return facts
