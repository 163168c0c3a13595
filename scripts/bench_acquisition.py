"""log_probs_N_K_C of a trained model -> acquisition time of each algorithm vs batch size and pool size."""

from _helpers import log_to, standalone_job

if "snakemake" not in globals():
    snakemake = standalone_job(__doc__, inputs=["log_probs"], outputs=["table", "markdown"], params=["timing"])

logger = log_to(snakemake.log[0])

import torch  # noqa: E402

from sbadbal.gpu_slots import pin_job_to_free_gpu  # noqa: E402
from sbadbal.results import (  # noqa: E402
    markdown_timing_table,
    sweep_acquisition_timing,
    write_csv_atomic,
    write_text_atomic,
)

torch.set_num_threads(max(1, int(snakemake.threads)))
timing = snakemake.params.timing
# This job's own GPU on a multi-GPU workstation, held until the tables are written (sbadbal/gpu_slots.py).
with pin_job_to_free_gpu(logger=logger):
    timings = sweep_acquisition_timing(
        torch.load(snakemake.input.log_probs),
        algorithms=timing["algorithms"],
        batch_sizes=timing["batch_sizes"],
        pool_sizes=timing["pool_sizes"],
        repeats=timing["repeats"],
        seed=timing["seed"],
        algorithm_params=timing.get("algorithm_params", {}),
    )
    write_csv_atomic(timings, snakemake.output.table)
    write_text_atomic(markdown_timing_table(timings), snakemake.output.markdown)
    logger.info("timed %d (algorithm, batch size, pool size) cases", len(timings))
