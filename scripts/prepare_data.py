"""Raw data -> one prepared, checksummed file per dataset (for text: the cached sentence embeddings)."""

from _helpers import log_to, mock_snakemake

if "snakemake" not in globals():  # run by hand: the real workflow's job (scripts/_helpers.py)
    snakemake = mock_snakemake("prepare_data")

logger = log_to(snakemake.log[0])

# After the log redirect: import noise goes to the log.
from sbadbal.data.prepare import prepare  # noqa: E402
from sbadbal.data.store import save_prepared  # noqa: E402

settings = snakemake.params.settings
logger.info("preparing %s with %s", snakemake.wildcards.dataset, settings)
prepared = prepare(
    snakemake.params.dataset,
    data_dir=settings["data_dir"],
    download=settings["download"],
    repeats=settings["repeats"],
    noise_std=settings["noise_std"],
    noise_seed=settings["noise_seed"],
    **settings["options"],
)
save_prepared(prepared, snakemake.output[0])
logger.info("wrote %s: %s", snakemake.output[0], prepared.metadata)
