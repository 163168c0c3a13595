"""An acquisition function as its record names it: imported from its module when first called, behind the input
checks that every call gets.

What a run calls: the workflow passes the run's algorithm record as a parameter (`AlgorithmRecord.to_config()`),
and the run builds this from it without importing the records table (sbadbal/acquisition/records.py), so the
run's acquisition code inputs are its function's module alone. `acquire` (sbadbal/acquisition/registry.py) is the
same call by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
import importlib.util
import os
import sys
from importlib import import_module
from types import ModuleType
from typing import Any

import torch

from .candidate import CandidateBatch
from .validation import validate_batch_size, validate_chunk_size, validate_log_probs

# Pool rows per memory chunk. Rows are independent, so this never changes a result; 1024 rows were measured the
# fastest for the elementwise passes on CPU (the chunk stays in cache).
DEFAULT_CHUNK_SIZE = 1024


@dataclass(frozen=True)
class AcquisitionFunction:
    """`name`'s function `function` of module `module`, its parameter defaults, whether it draws random numbers
    (`stochastic`: it gets the generator) and whether its scores are greedy gains (`scores_are_gains`)."""

    name: str
    module: str
    function: str
    stochastic: bool
    defaults: Mapping[str, Any] = field(default_factory=dict)
    scores_are_gains: bool = False
    file: str | None = None  # a user's plug-in module (config.yaml names it): loaded from this file

    @classmethod
    def from_config(cls, name: str, config: Mapping[str, Any]) -> AcquisitionFunction:
        """From a record's plain values (`AlgorithmRecord.to_config()`)."""
        return cls(name=name, module=str(config["module"]), function=str(config["function"]),
                   stochastic=bool(config["stochastic"]), defaults=dict(config.get("defaults") or {}),
                   scores_are_gains=bool(config.get("scores_are_gains", False)), file=config.get("file"))

    def imported(self) -> Callable[..., CandidateBatch]:
        module = import_module(self.module) if self.file is None else load_module_file(self.module, self.file)
        return getattr(module, self.function)

    def __call__(
        self,
        log_probs_N_K_C: torch.Tensor,
        batch_size: int,
        *,
        generator: torch.Generator | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        progress: bool | None = None,
        **params: Any,
    ) -> CandidateBatch:
        """Select min(batch_size, N) pool indices; `params` over the defaults (checked by the caller: the
        configuration model for runs, `acquire` for calls by name).

        Computation follows the tensor: its device (CPU or CUDA) and its dtype (float64, the default everywhere, or
        float32). Random numbers come from `generator`, which must be a CPU generator (required by stochastic
        functions). chunk_size is the number of pool rows processed at once; it bounds memory and never changes the
        result. progress: None shows a bar on the slow functions only when stderr is a terminal.
        """
        chunk_size = validate_chunk_size(chunk_size)
        validate_log_probs(log_probs_N_K_C, chunk_size)
        batch_size = validate_batch_size(batch_size, log_probs_N_K_C.shape[0])
        extra: dict[str, Any] = {"chunk_size": chunk_size, "progress": progress}
        if self.stochastic:
            extra["generator"] = generator
        return self.imported()(log_probs_N_K_C, batch_size, **{**self.defaults, **params}, **extra)


def load_module_file(name: str, path: str | os.PathLike, *, fresh: bool = False) -> ModuleType:
    """A user's plug-in module, run from its file under the module name `name` (once per process, unless
    `fresh`: the configuration check runs the file as it is now)."""
    loaded = sys.modules.get(name)
    if loaded is not None and not fresh and getattr(loaded, "__file__", None) == os.fspath(path):
        return loaded
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
