"""The JSON sidecar of a run file: the run's config, versions, device, host, time and the facts of the process that
change a run's numbers; and the provenance that `aggregate` checks before it reads the run: which run it is
(suite, experiment, batch size, algorithm, seed) and the sha256 of the CSV it describes.

A CSV written by another run (a CLI run of seed 2 saved under seed 1's path), edited by hand, or left without its
sidecar is refused, naming the file and the command that remakes it, instead of entering tables and claims.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

# The wildcards of a run's path, in the order of the path (results/<suite>/runs/<experiment>/b<b>/<alg>/seed<s>.csv).
RUN_KEYS = ("suite", "experiment", "batch_size", "algorithm", "seed")


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


def csv_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_sidecar(config: Mapping[str, Any], device_name: str, *, run: Mapping[str, Any] | None = None,
                csv_bytes: bytes | None = None) -> dict[str, Any]:
    """The JSON sidecar of a result file: the config that produced it, versions, device and time of the run; `run`
    (RUN_KEYS) and the sha256 of the CSV's bytes when given."""
    provenance: dict[str, Any] = {}
    if run is not None:
        provenance["run"] = {key: run.get(key) for key in RUN_KEYS}
    if csv_bytes is not None:
        provenance["csv_sha256"] = csv_sha256(csv_bytes)
    return {
        **provenance,
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


def sidecar_path_of(csv_path: str | os.PathLike) -> Path:
    """Where a run CSV's sidecar lies: beside it, .json for .csv (the run rule's second output)."""
    return Path(csv_path).with_suffix(".json")


def sidecar_problem(csv_path: str | os.PathLike, sidecar_path: str | os.PathLike,
                    expected: Mapping[str, Any]) -> str | None:
    """Why a run CSV's sidecar does not vouch for it (None when it does): missing, unreadable or truncated, of another
    run (a key of RUN_KEYS in `expected` differs), or holding another CSV's checksum."""
    sidecar_path = Path(sidecar_path)
    try:
        text = sidecar_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"its sidecar {sidecar_path} is missing"
    except (OSError, UnicodeDecodeError) as error:
        return f"its sidecar {sidecar_path} cannot be read ({type(error).__name__})"
    try:
        sidecar = json.loads(text)
    except (ValueError, RecursionError) as error:
        return f"its sidecar {sidecar_path} is not valid JSON (truncated or damaged: {str(error)[:80]})"
    if not isinstance(sidecar, dict) or not isinstance(sidecar.get("run"), dict) or "csv_sha256" not in sidecar:
        return (f"its sidecar {sidecar_path} does not say which run wrote the CSV (no run keys or checksum: damaged, "
                "or written by an older version)")
    recorded = sidecar["run"]
    for key in RUN_KEYS:
        if key in expected and recorded.get(key) != expected[key]:
            return (f"its sidecar {sidecar_path} is of another run: {key} {recorded.get(key)!r}, where this path "
                    f"holds {key} {expected[key]!r}")
    try:
        actual = csv_sha256(Path(csv_path).read_bytes())
    except OSError as error:
        return f"cannot be read ({type(error).__name__}: {error})"
    if sidecar["csv_sha256"] != actual:
        return (f"its content does not match the checksum in its sidecar {sidecar_path} (edited, or written by "
                "another run)")
    return None
