"""Round 0 of one seed of an experiment, once for all its algorithms and batch sizes (sbadbal/engine/initial.py)."""

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("initial_round")

logger = log_to(snakemake.log[0])

import torch  # noqa: E402

from sbadbal.data.store import load_prepared  # noqa: E402
from sbadbal.engine.devices import resolve_device  # noqa: E402
from sbadbal.engine.initial import compute_round_zero, save_round_zero  # noqa: E402
from sbadbal.engine.spec import RunSpec  # noqa: E402
from sbadbal.ops.gpu_slots import pin_job_to_free_gpu  # noqa: E402

# The same thread count as the runs that read it (run_al): round 0 is then what each of them would compute.
torch.set_num_threads(max(1, int(snakemake.threads)))

with pin_job_to_free_gpu(logger=logger):
    spec = RunSpec.from_config(snakemake.params.round_zero)
    prepared = load_prepared(snakemake.input.data)
    scored = compute_round_zero(prepared, spec, resolve_device("auto"))
    save_round_zero(snakemake.output[0], prepared, spec, scored)
    row = scored.row
    logger.info("round 0 of %s seed %s: %d labels, test accuracy %.2f%%, train %.1fs, pool of %d scored in %.1fs",
                spec.dataset, spec.seed, row["labelled"], row["test_accuracy"], row["train_seconds"],
                len(scored.pool_P), row["score_seconds"])
