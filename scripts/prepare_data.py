"""Raw data -> one prepared, checksummed file per dataset (for text: the cached sentence embeddings)."""

from _helpers import log_to, standalone_job

if "snakemake" not in globals():
    snakemake = standalone_job(
        __doc__, inputs=[], outputs=["prepared"], params=["settings"], wildcards=["dataset"]
    )
    snakemake.output = [snakemake.output.prepared]

logger = log_to(snakemake.log[0])

from sbadbal.data import prepare_dataset, save_prepared  # noqa: E402  (after the log redirect: import noise goes to the log)

settings = snakemake.params.settings
logger.info("preparing %s with %s", snakemake.wildcards.dataset, settings)
prepared = prepare_dataset(
    snakemake.wildcards.dataset,
    data_dir=settings["data_dir"],
    download=settings["download"],
    repeats=settings["repeats"],
    noise_std=settings["noise_std"],
    noise_seed=settings["noise_seed"],
    **settings["options"],
)
save_prepared(prepared, snakemake.output[0])
logger.info("wrote %s: %s", snakemake.output[0], prepared.metadata)
