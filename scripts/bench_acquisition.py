"""log_probs_N_K_C of a trained model -> acquisition time of each algorithm vs batch size and pool size."""

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("bench_acquisition")

logger = log_to(snakemake.log[0])

import torch  # noqa: E402

from sbadbal.acquisition.function import AcquisitionFunction  # noqa: E402
from sbadbal.bench.sweep import load_log_probs, markdown_timing_table, sweep_acquisition_timing  # noqa: E402
from sbadbal.ops.gpu_slots import pin_job_to_free_gpu  # noqa: E402
from sbadbal.runs.writers import write_csv_atomic, write_text_atomic  # noqa: E402

torch.set_num_threads(max(1, int(snakemake.threads)))
timing = snakemake.params.timing
# Each display name's function, from its record's plain values (the rule's parameter), in table order.
functions = {name: AcquisitionFunction.from_config(timing["bases"][name], timing["acquisition"][name])
             for name in timing["algorithms"]}
# This job's own GPU on a multi-GPU workstation, held until the tables are written (sbadbal/ops/gpu_slots.py).
with pin_job_to_free_gpu(logger=logger):
    timings = sweep_acquisition_timing(
        load_log_probs(snakemake.input.log_probs),
        functions=functions,
        batch_sizes=timing["batch_sizes"],
        pool_sizes=timing["pool_sizes"],
        repeats=timing["repeats"],
        seed=timing["seed"],
        algorithm_params=timing["algorithm_params"],
    )
    write_csv_atomic(timings, snakemake.output.table)
    write_text_atomic(markdown_timing_table(timings), snakemake.output.markdown)
    logger.info("timed %d (algorithm, batch size, pool size) cases", len(timings))
