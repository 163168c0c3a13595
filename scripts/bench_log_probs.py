"""Train one model as an experiment's first round would, score its pool -> log_probs_N_K_C for timing."""

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("bench_log_probs")

logger = log_to(snakemake.log[0])

import torch  # noqa: E402

from sbadbal.bench.log_probs import nested_pool_subset, trained_pool_log_probs  # noqa: E402
from sbadbal.data.store import load_prepared  # noqa: E402
from sbadbal.engine.spec import RunSpec  # noqa: E402
from sbadbal.ops.gpu_slots import pin_job_to_free_gpu  # noqa: E402
from sbadbal.runs.writers import write_atomically  # noqa: E402

# Jobs share the machine: torch must use the cores Snakemake gave this job, not every core.
torch.set_num_threads(max(1, int(snakemake.threads)))

settings = snakemake.params.model
spec = RunSpec.from_config(snakemake.params.run)
# This job's own GPU on a multi-GPU workstation, held until the output is written (sbadbal/ops/gpu_slots.py).
with pin_job_to_free_gpu(logger=logger):
    log_probs_N_K_C = trained_pool_log_probs(load_prepared(snakemake.input.data), spec, device="auto")
    log_probs_N_K_C = nested_pool_subset(log_probs_N_K_C, settings["max_pool_size"], seed=settings["seed"])
    write_atomically(snakemake.output[0], lambda tmp: torch.save(log_probs_N_K_C.cpu(), tmp))
    logger.info("saved log_probs_N_K_C of shape %s", tuple(log_probs_N_K_C.shape))
