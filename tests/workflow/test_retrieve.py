"""Retrieval in the real workflow (rules/retrieve.smk): a suite on MNIST whose files a local HTTP mirror serves.

The workflow copy's origins for MNIST point at the mirror (one record replaced, as a site mirror would be added);
everything else is the shipped workflow."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

from ..data.formats import MNIST_NAMES, write_mnist_like
from ..data.mirror import Mirror
from .helpers import change_config, copy_workflow, planned_jobs, snakemake

SUITE = "mnist_retrieval"
ARGS = ("--config", f"suite={SUITE}")


def copy_env(workdir: Path) -> dict[str, str]:
    """Jobs import the copy's package (whose MNIST origin is the mirror), not this checkout's."""
    return {"PYTHONPATH": str(workdir)}


def mnist_suite(download: bool) -> dict:
    """The tiny suite's experiment on MNIST: one algorithm, one seed, no benchmark."""
    return {"download": download, "experiments": {"mnist_tiny": {
        "dataset": "MNIST", "model": "mnist_cnn", "uncertainty": {"method": "mc_dropout", "k_acquisition": 4, "k_test": 2},
        "training": {"protocol": "iterations", "iterations": 64, "batch_size": 32, "lr": 0.001},
        "initial_size": 20, "budget": 30, "pool_subset": 100, "batch_sizes": [10], "algorithms": ["BALD"],
        "seeds": [1]}}}


def served_mnist(folder: Path) -> list[tuple[str, str]]:
    """MNIST's four published .gz files, small, in `folder`: (name, md5)."""
    write_mnist_like(folder, n_train=120, n_test=40, gz=True)
    return [(f"{n}.gz", hashlib.md5((folder / f"{n}.gz").read_bytes()).hexdigest()) for n in MNIST_NAMES]


def mnist_workflow(workdir: Path, mirror_url: str, archives, *, download: bool, root: Path) -> Path:
    """A copy of the workflow whose MNIST origin is the mirror, with the suite above and data.root at `root`."""
    copy_workflow(workdir)
    with open(workdir / "sbadbal" / "data" / "retrieve.py", "a") as module:
        module.write(f"\n\n# The test's mirror (tests/workflow/test_retrieve.py).\nORIGINS = MappingProxyType({{**ORIGINS, "
                     f"'MNIST': Origins(_mirrored({tuple(archives)!r}, ({mirror_url!r},)))}})\n")

    def add_suite(config):
        config["suites"][SUITE] = mnist_suite(download)
        config["data"] = {"root": str(root)}

    change_config(workdir, add_suite)
    return workdir


def test_a_suite_without_download_stops_before_any_job_naming_files_and_the_command(tmp_path):
    served = tmp_path / "served"
    archives = served_mnist(served)
    root = tmp_path / "datasets"
    with Mirror(served) as mirror:
        workdir = mnist_workflow(tmp_path / "wf", mirror.url, archives, download=False, root=root)
        result = snakemake(workdir, "--dry-run", *ARGS, check=False, env=copy_env(workdir))
        assert result.returncode == 1
        assert mirror.requests == []
    error = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert error == [
        f"Error: config.yaml: suites.{SUITE}.download: the suite does not download and MNIST's raw files "
        "train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], "
        f"t10k-labels-idx1-ubyte[.gz] are in none of {root}/MNIST/raw, {root}/MNIST, {root}/mnist, {root} "
        "(README: Data already on disk); fetch them once on a machine with internet (a cluster's login node): "
        f"snakemake --cores 1 retrieve --config suite={SUITE}"]
    assert "Traceback" not in result.stderr


def test_retrieve_target_fetches_only_what_the_suite_needs_then_the_suite_runs_offline(tmp_path):
    served = tmp_path / "served"
    archives = served_mnist(served)
    root = tmp_path / "datasets"
    with Mirror(served) as mirror:
        workdir = mnist_workflow(tmp_path / "wf", mirror.url, archives, download=False, root=root)
        assert planned_jobs(workdir, "--cores", "1", "retrieve", *ARGS) == Counter(retrieve=1, retrieve_raw=1)
        snakemake(workdir, "--cores", "1", "retrieve", *ARGS, env=copy_env(workdir))
        assert sorted(r.path for r in mirror.requests) == sorted(f"/{name}" for name, _ in archives)
        snakemake(workdir, "--cores", "1", "retrieve", *ARGS, env=copy_env(workdir))  # idempotent: nothing to do, nothing asked
        assert len(mirror.requests) == 4
    # The mirror is gone: the suite itself reads local files only.
    snakemake(workdir, "--cores", "2", *ARGS, env=copy_env(workdir))
    manifest = json.loads((workdir / "results" / SUITE / "data" / "raw" / "MNIST.json").read_text())
    assert manifest["fetched"] == [f"{mirror.url}{name}" for name, _ in archives]
    assert sorted(p.name for p in (root / "MNIST" / "raw").iterdir()) == sorted(name for name, _ in archives)
    log = (workdir / "logs" / SUITE / "prepare_data" / "MNIST.log").read_text()
    assert f"preparing MNIST from {root}" in log
    # Files moved to a shared folder in another accepted layout: nothing reruns, nothing is fetched.
    shared = tmp_path / "shared"
    (root / "MNIST" / "raw").rename(shared)
    change_config(workdir, lambda config: config["data"].update(root=str(shared)))
    assert planned_jobs(workdir, *ARGS) == Counter()
