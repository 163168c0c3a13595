"""One raw source's files put in place under data.root (fetched when missing), and a manifest of where they are.

A local rule (rules/retrieve.smk): it runs where Snakemake runs, the login node on a cluster, never in a job."""

import json
import os
import socket

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("retrieve_raw")

logger = log_to(snakemake.log[0])

from sbadbal.data.retrieve import retrieve  # noqa: E402
from sbadbal.runs.writers import write_atomically  # noqa: E402

# Like prepare_data, the folder comes from the workflow's config rather than the params: a new data.root is no
# reason to fetch again or to re-prepare (rules/common.smk sets it).
data_root = snakemake.config["data"]["root"]
where = f"host {socket.gethostname()}, pid {os.getpid()}, Slurm job {os.environ.get('SLURM_JOB_ID', 'none')}"
logger.info("retrieving %s into %s (%s)", snakemake.wildcards.raw, data_root, where)
manifest = retrieve(snakemake.wildcards.raw, data_root, log=logger.info)
manifest["where"] = where
write_atomically(snakemake.output[0], lambda tmp: tmp.write_text(json.dumps(manifest, indent=1) + "\n"))
