"""The JSON sidecar of a run file: the run's config, versions, device, host, time and the facts of the process that
change a run's numbers."""

from __future__ import annotations

import datetime as _dt
import platform
from collections.abc import Mapping
from typing import Any

import pandas as pd


def software_versions() -> dict[str, str]:
    """Versions that decide a run's numbers, for the JSON sidecar."""
    import numpy
    import torch

    import sbadbal

    versions = {
        "python": platform.python_version(),
        "sbadbal": sbadbal.__version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "pandas": pd.__version__,
        "cuda": str(torch.version.cuda),
    }
    return versions


def run_sidecar(config: Mapping[str, Any], device_name: str) -> dict[str, Any]:
    """The JSON sidecar of a result file: the config that produced it, versions, device and time of the run."""
    return {
        "config": dict(config),
        "versions": software_versions(),
        "device": device_name,
        "host": platform.node(),
        "finished_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def environment_facts(prepared: Any = None) -> dict[str, Any]:
    """Facts of this process that change a run's numbers, for the run sidecar.

    torch's intra-op thread count changes results in the 8th digit (1 vs 2 threads); the prepared file's content
    checksum says which data the run saw.
    """
    import torch

    facts: dict[str, Any] = {"torch_threads": torch.get_num_threads()}
    if prepared is not None:
        from sbadbal.data.store import prepared_checksum

        facts["prepared_sha256"] = prepared_checksum(prepared)
    return facts
