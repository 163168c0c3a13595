"""Local raw files -> one prepared, checksummed file per dataset (for text: the cached sentence embeddings). It
never downloads: the local `retrieve_raw` rule fetches the files first (rules/retrieve.smk)."""

import os
import socket

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("prepare_data")

logger = log_to(snakemake.log[0])

# After the log redirect: import noise goes to the log.
from sbadbal.data.prepare import prepare  # noqa: E402
from sbadbal.data.store import save_prepared  # noqa: E402

settings = snakemake.params.settings
# Where the raw files are is read from the workflow's config, not the params: it is not what is prepared, so
# pointing data.root at another folder with the same data reruns nothing (rules/common.smk sets the default).
data_root = snakemake.config["data"]["root"]
logger.info("preparing %s from %s with %s", snakemake.wildcards.dataset, data_root, settings)
# Where it ran: on a cluster, a compute job (rules/retrieve.smk fetched the files on the submitting node).
logger.info("on host %s, Slurm job %s", socket.gethostname(), os.environ.get("SLURM_JOB_ID", "none"))
prepared = prepare(
    snakemake.params.dataset,
    data_dir=data_root,
    repeats=settings["repeats"],
    noise_std=settings["noise_std"],
    noise_seed=settings["noise_seed"],
    **settings["options"],
)
save_prepared(prepared, snakemake.output[0])
logger.info("wrote %s: %s", snakemake.output[0], prepared.metadata)
