"""One active-learning run (experiment, batch size, algorithm, seed) -> a tidy CSV and a JSON sidecar."""

from _helpers import attempts_done, log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("run_al")

# Snakemake empties the log before each attempt; the run's earlier attempts live on beside its checkpoint.
ATTEMPTS = f"{snakemake.output.csv}.checkpoint.log"
logger = log_to(snakemake.log[0], attempts=ATTEMPTS)

import torch  # noqa: E402

from sbadbal.engine.loop import run_to_files  # noqa: E402
from sbadbal.engine.spec import RunSpec  # noqa: E402
from sbadbal.ops.gpu_slots import pin_job_to_free_gpu  # noqa: E402
from sbadbal.ops.progress import round_reporter, total_rounds  # noqa: E402

# Jobs share the machine: torch must use the cores Snakemake gave this job, not every core.
torch.set_num_threads(max(1, int(snakemake.threads)))

# This job's own GPU on a multi-GPU workstation, claimed before CUDA starts and held until the outputs are
# written (sbadbal/ops/gpu_slots.py); nothing happens under Slurm or without GPUs.
with pin_job_to_free_gpu(logger=logger):
    spec = RunSpec.from_config(snakemake.params.run)
    logger.info("run %s b=%s seed=%s: %s", spec.name, spec.batch_size, spec.seed, snakemake.params.run)
    # One line per round in the rule's log (and a Slurm job's), as it happens, with an estimate of the time left.
    reporter = round_reporter(total_rounds(initial_size=spec.initial_size, budget=spec.budget,
                                           batch_size=spec.batch_size), write=logger.info, bar=False)
    frame = run_to_files(
        snakemake.input.data,
        spec,
        csv_path=snakemake.output.csv,
        sidecar_path=snakemake.output.sidecar,
        device="auto",
        progress=reporter,
        code_files=snakemake.input.code,  # the rule's code inputs: the checkpoint's code fingerprint
        round_zero_path=snakemake.input.round_zero,  # the seed's round 0, computed once (rule initial_round)
        # Which run this is, by its path: the sidecar records it and aggregate checks it (sbadbal/runs/sidecar.py).
        run_keys={"suite": snakemake.wildcards.suite, "experiment": snakemake.wildcards.experiment},
    )
    reporter.close()
    logger.info("final accuracy %.2f%% at %d labels", frame["test_accuracy"].iloc[-1], frame["labelled"].iloc[-1])
attempts_done(ATTEMPTS)
