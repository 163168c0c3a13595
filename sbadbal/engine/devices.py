"""Devices and timing with device synchronisation, for the run engine and the timing benchmark."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch


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
