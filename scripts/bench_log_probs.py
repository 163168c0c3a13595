"""Train one model as an experiment's first round would, score its pool -> log_probs_N_K_C for timing."""

from _helpers import log_to, standalone_job

if "snakemake" not in globals():
    snakemake = standalone_job(__doc__, inputs=["data"], outputs=["log_probs"], params=["experiment", "model"])
    snakemake.output = [snakemake.output.log_probs]

logger = log_to(snakemake.log[0])

import torch  # noqa: E402

from sbadbal.data import load_prepared  # noqa: E402
from sbadbal.gpu_slots import pin_job_to_free_gpu  # noqa: E402
from sbadbal.loop import RunSpec, trained_pool_log_probs  # noqa: E402
from sbadbal.results import nested_pool_subset, write_atomically  # noqa: E402

# Jobs share the machine: torch must use the cores Snakemake gave this job, not every core.
torch.set_num_threads(max(1, int(snakemake.threads)))

settings = snakemake.params.model
# The algorithm does not matter for the first round's model; BALD names one so that the spec is complete.
spec = RunSpec.from_experiment(snakemake.params.experiment, algorithm="BALD", batch_size=1, seed=settings["seed"])
# This job's own GPU on a multi-GPU workstation, held until the output is written (sbadbal/gpu_slots.py).
with pin_job_to_free_gpu(logger=logger):
    log_probs_N_K_C = trained_pool_log_probs(load_prepared(snakemake.input.data), spec, device="auto")
    log_probs_N_K_C = nested_pool_subset(log_probs_N_K_C, settings["max_pool_size"], seed=settings["seed"])
    write_atomically(snakemake.output[0], lambda tmp: torch.save(log_probs_N_K_C.cpu(), tmp))
    logger.info("saved log_probs_N_K_C of shape %s", tuple(log_probs_N_K_C.shape))
