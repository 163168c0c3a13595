"""One active-learning run, resumable: rounds until the label budget, one row each. A round is the public
`fit_and_score` (sbadbal/engine/round.py: fit on the labels, test, score the pool) then `acquire_batch`
(sbadbal/engine/acquire.py).

Every random draw comes from a generator derived from (seed, round, purpose) (sbadbal/engine/seeds.py), so a run
needs no RNG state to resume: the checkpoint written atomically after every round holds the rows and the labelled
indices, and a restarted run continues from the last finished round with the same rows as an uninterrupted one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from sbadbal.acquisition.function import AcquisitionFunction
from sbadbal.engine.checkpoint import load_checkpoint, run_fingerprint, save_checkpoint
from sbadbal.engine.devices import device_name, resolve_device
from sbadbal.engine.acquire import acquire_batch
from sbadbal.engine.round import ScoredRound, fit_and_score
from sbadbal.engine.spec import RunSpec
from sbadbal.engine.state import check_fit, initial_state
from sbadbal.ops.ownership import claim_outputs
from sbadbal.ops.provenance import git_provenance
from sbadbal.runs.schema import RUN_COLUMNS
from sbadbal.runs.sidecar import environment_facts, run_sidecar
from sbadbal.runs.writers import write_bytes_atomic, write_json_atomic

logger = logging.getLogger(__name__)


def run_active_learning(
    prepared: Any,
    spec: RunSpec,
    *,
    checkpoint_path: str | os.PathLike | None = None,
    device: str | torch.device = "auto",
    progress: Callable[[dict[str, Any]], None] | None = None,
    code_files: Iterable[str | os.PathLike] | None = None,
    round_zero: ScoredRound | None = None,
) -> pd.DataFrame:
    """Run (or resume) one AL run; one row per round with the columns of the run schema (sbadbal/runs/schema.py).

    Row r: the labelled count L_r, accuracy (percent) and NLL on the test split of the model trained on those
    labels, the round's training / pool-scoring / acquisition seconds, and the global train indices acquired
    after it (space-separated). The last row (L >= budget) acquires nothing: empty indices, NaN score and
    acquisition times. `checkpoint_path`: resume from it when present, rewrite it after every round.
    `progress(row)` is called after each round is checkpointed. `code_files`: the run's code inputs, whose content
    is the code part of the checkpoint's fingerprint (the workflow passes the run rule's; default: the same
    computation, sbadbal.ops.codegraph.run_code_inputs). `round_zero`: round 0 computed once for the seed
    (sbadbal/engine/initial.py), used instead of computing it again; its row's seconds are that computation's.
    """
    check_fit(prepared, spec)
    device = resolve_device(device)
    function = AcquisitionFunction.from_config(spec.algorithm, spec.acquisition)
    checkpoint = Path(checkpoint_path) if checkpoint_path is not None else None
    initial = initial_state(prepared, spec)
    state = None
    if checkpoint is not None:
        if code_files is None:
            from sbadbal.ops.codegraph import run_code_inputs

            code_files = run_code_inputs(spec)
        fingerprint = run_fingerprint(prepared, spec.to_config(), code_files)
        state = load_checkpoint(checkpoint, fingerprint, initial=initial, num_train=prepared.num_train,
                                budget=spec.budget)
    if state is None:
        state = initial
    else:
        # A rerun after a crash, a kill or a scheduler's cancel: say so, since the rows before it are not redone.
        logger.info("resuming from checkpoint %s: %d round(s) done, %d labelled", checkpoint, len(state.rows),
                    len(state.labelled))
    while not state.finished:
        round_index = len(state.rows)
        if round_index == 0 and round_zero is not None:
            scored = ScoredRound(dict(round_zero.row), round_zero.pool_P, round_zero.log_probs_P_K_C)
        else:
            scored = fit_and_score(prepared, spec, state, round_index, device)
        state.rows.append(acquire_batch(scored, prepared, spec, state, round_index, device, function))
        if checkpoint is not None:
            save_checkpoint(checkpoint, fingerprint, state)
        if progress is not None:
            progress(dict(state.rows[-1]))
    return pd.DataFrame(state.rows, columns=list(RUN_COLUMNS))


def default_checkpoint_path(csv_path: str | os.PathLike) -> Path:
    csv_path = Path(csv_path)
    return csv_path.with_name(csv_path.name + ".checkpoint.json")


def run_to_files(
    prepared_path: str | os.PathLike | Any,
    spec: RunSpec,
    *,
    csv_path: str | os.PathLike,
    sidecar_path: str | os.PathLike,
    checkpoint_path: str | os.PathLike | None = None,
    device: str | torch.device = "auto",
    progress: Callable[[dict[str, Any]], None] | None = None,
    code_files: Iterable[str | os.PathLike] | None = None,
    round_zero_path: str | os.PathLike | None = None,
    run_keys: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Load a prepared dataset file, run (or resume) the AL run, write the CSV and its JSON sidecar atomically.

    `spec`: what the workflow passes (`RunSpec.from_config` of the run rule's parameter) and what the CLI builds
    (`Experiment.run(...)`). `prepared_path` may also be an already loaded PreparedDataset. `checkpoint_path`
    defaults to `<csv_path>.checkpoint.json`; it is removed once both files are written. `round_zero_path`: the
    seed's round 0 computed once (rule initial_round; sbadbal/engine/initial.py), checked against `spec`.
    `run_keys`: the run's suite and experiment (the workflow's wildcards; None outside a suite), recorded in the
    sidecar with the batch size, algorithm and seed of `spec` and the CSV's sha256, which `aggregate` checks.
    """
    from sbadbal.data.store import load_prepared

    checkpoint = Path(checkpoint_path) if checkpoint_path is not None else default_checkpoint_path(csv_path)
    # One writer per run: a second process aimed at the same CSV (a CLI run into the workflow's folder, an
    # orphan of a killed Snakemake) fails here naming the holder, before it touches the checkpoint.
    with claim_outputs(csv_path, what="a run's CSV, sidecar and checkpoint"):
        prepared = load_prepared(prepared_path) if isinstance(prepared_path, (str, os.PathLike)) else prepared_path
        resolved = resolve_device(device)
        round_zero = None
        if round_zero_path is not None:
            from sbadbal.engine.initial import load_round_zero

            round_zero = load_round_zero(round_zero_path, prepared, spec)
        rows = run_active_learning(prepared, spec, checkpoint_path=checkpoint, device=resolved, progress=progress,
                                   code_files=code_files, round_zero=round_zero)
        csv_text = rows.to_csv(index=False)
        run = {"suite": None, "experiment": None, **dict(run_keys or {}), "batch_size": spec.batch_size,
               "algorithm": spec.name, "seed": spec.seed}
        sidecar = {**run_sidecar(spec.to_config(), device_name(resolved), run=run,
                                 csv_bytes=csv_text.encode("utf-8")),
                   **environment_facts(prepared), "code": git_provenance()}
        write_json_atomic(sidecar, sidecar_path, what="the run's sidecar")
        # The CSV last: its presence means the run (and its sidecar) finished; the sidecar holds these very bytes'
        # sha256.
        write_bytes_atomic(csv_text.encode("utf-8"), csv_path, what="the run's CSV")
        checkpoint.unlink(missing_ok=True)
    return rows
