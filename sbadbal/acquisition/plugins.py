"""A user's own acquisition function, named in config.yaml as `module:function` (a module beside the config file,
`my_acquisitions:margin` -> my_acquisitions.py) or `path/to/file.py:function`, checked when the workflow starts.

`plugin_record` turns such a reference into an AlgorithmRecord (sbadbal/acquisition/records.py) that names the
file, so that a run loads the function from it (sbadbal/acquisition/function.py) and the workflow lists the file as
the code input of that function's runs only. The function has the built-in ones' contract,
`f(log_probs_N_K_C, batch_size, *, chunk_size, progress, [generator], **params) -> CandidateBatch`: taking a
`generator` makes it stochastic, and its other keyword parameters with defaults are its parameters. The check
imports the module, reads the signature and calls the function once on a small constructed tensor. This module is
torch-free; the check imports torch only when a plug-in is configured.

Such a module is code that the workflow runs, when it starts and in the runs: name only modules you trust.
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path
from typing import Any

from .records import AlgorithmRecord

# Parameters of the contract that are no tunable parameter of the function.
CONTRACT = ("log_probs_N_K_C", "batch_size", "chunk_size", "progress", "generator")
# The smoke call: N pool points, K posterior samples, C classes, a batch of B.
SMOKE_N, SMOKE_K, SMOKE_C, SMOKE_B = 12, 3, 4, 3


def is_plugin_reference(name: Any) -> bool:
    """`module:function` or `path/file.py:function` (no registry name holds a ':')."""
    return isinstance(name, str) and ":" in name


def plugin_file(reference: str, base: Path) -> tuple[Path, str]:
    """(the module's file, the function's name) of a reference, relative to `base` (the config file's folder)."""
    target, _, function = reference.rpartition(":")
    if not target or not function.isidentifier():
        raise ValueError(f"{reference!r} is not `module:function` or `path/to/file.py:function`")
    if target.endswith(".py") or "/" in target:
        relative = Path(target)
    elif all(part.isidentifier() for part in target.split(".")):
        relative = Path(*target.split(".")).with_suffix(".py")
    else:
        raise ValueError(f"{target!r} in {reference!r} is neither a module name nor a .py file")
    path = relative if relative.is_absolute() else base / relative
    if not path.is_file():
        raise ValueError(f"{reference!r}: no file {path} (a plug-in module lies beside the config file, or give "
                         "its path: path/to/file.py:function)")
    return path, function


def module_name(path: Path) -> str:
    """The name a plug-in module is loaded under: its path, prefixed so that it never shadows another module."""
    return "sbadbal_plugin_" + "".join(ch if ch.isalnum() else "_" for ch in path.with_suffix("").as_posix())


def _parameters(function: Any, reference: str) -> tuple[bool, dict[str, Any]]:
    """(stochastic, parameter defaults) from the signature; a ValueError when it breaks the contract."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        raise ValueError(f"{reference}: cannot read its signature") from None
    parameters = list(signature.parameters.values())
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) < 2:
        raise ValueError(f"{reference}: the signature must start (log_probs_N_K_C, batch_size, ...); got {signature}")
    names = {p.name for p in parameters}
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters)
    missing = [name for name in ("chunk_size", "progress") if name not in names and not takes_any]
    if missing:
        raise ValueError(f"{reference}: the signature must take the keyword(s) {', '.join(missing)} "
                         f"(f(log_probs_N_K_C, batch_size, *, chunk_size, progress, [generator], **params)); "
                         f"got {signature}")
    defaults: dict[str, Any] = {}
    for parameter in parameters[2:]:
        if parameter.name in CONTRACT or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.default is parameter.empty:
            raise ValueError(f"{reference}: parameter {parameter.name!r} needs a default (its value when config.yaml "
                             "sets none)")
        default = parameter.default
        if not isinstance(default, (bool, int, float, str)) or (isinstance(default, float) and not math.isfinite(default)):
            raise ValueError(f"{reference}: parameter {parameter.name!r} has the default {default!r}; a parameter "
                             "takes a number, a string or true/false")
        defaults[parameter.name] = default
    return "generator" in names, defaults


def _smoke_call(record: AlgorithmRecord, reference: str) -> None:
    """One call on a constructed [N, K, C] tensor: a CandidateBatch of B distinct pool indices with finite scores."""
    import torch

    from .candidate import CandidateBatch
    from .function import AcquisitionFunction

    generator = torch.Generator().manual_seed(0)
    log_probs = torch.randn(SMOKE_N, SMOKE_K, SMOKE_C, generator=generator, dtype=torch.float64).log_softmax(-1)
    function = AcquisitionFunction.from_config(record.name, record.to_config())
    try:
        batch = function(log_probs, SMOKE_B, generator=torch.Generator().manual_seed(1))
    except Exception as error:  # the user's code: any failure is the message
        raise ValueError(f"{reference} failed on a [{SMOKE_N}, {SMOKE_K}, {SMOKE_C}] log-probability tensor with "
                         f"batch size {SMOKE_B}: {type(error).__name__}: {error}") from None
    on = f"{reference} on a [{SMOKE_N}, {SMOKE_K}, {SMOKE_C}] tensor with batch size {SMOKE_B}"
    if not isinstance(batch, CandidateBatch):
        raise ValueError(f"{on} returned {type(batch).__name__}, not a CandidateBatch "
                         "(from sbadbal.acquisition.candidate import CandidateBatch)")
    indices = list(batch.indices)
    if len(indices) != SMOKE_B:
        raise ValueError(f"{on} returned {len(indices)} indices, not {SMOKE_B}")
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < SMOKE_N for i in indices):
        raise ValueError(f"{on} returned indices {indices}; they must be Python ints in 0..{SMOKE_N - 1}")
    if len(set(indices)) != len(indices):
        raise ValueError(f"{on} returned the indices {indices}, with repeats")
    if not all(isinstance(s, (int, float)) and math.isfinite(s) for s in batch.scores):
        raise ValueError(f"{on} returned scores {list(batch.scores)}; they must be finite numbers")


def plugin_record(name: str, reference: str, base: Path) -> AlgorithmRecord:
    """The checked record of a plug-in (importable, its signature, a smoke call) under the display name `name`;
    one ValueError that says what is wrong otherwise."""
    from .function import load_module_file

    path, function_name = plugin_file(reference, base)
    module = module_name(path)
    try:
        loaded = load_module_file(module, path, fresh=True)
    except Exception as error:
        raise ValueError(f"{reference}: importing {path} failed: {type(error).__name__}: {error}") from None
    function = getattr(loaded, function_name, None)
    if not callable(function):
        raise ValueError(f"{reference}: {path} defines no function {function_name!r}")
    stochastic, defaults = _parameters(function, reference)
    record = AlgorithmRecord(name, module, function_name, stochastic, defaults, description=f"plug-in {reference}",
                             file=path.as_posix())
    _smoke_call(record, reference)
    return record
