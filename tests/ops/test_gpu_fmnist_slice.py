"""benchmarks/gpu_fmnist_slice.py, the device check of the FMNIST slice, run end to end on CPU at a tiny setting
(small FMNIST-format files; the numbers mean nothing, the script's every step runs)."""

from __future__ import annotations

import importlib.util
import json
import sys

from ..data.formats import write_mnist_like
from ..workflow.helpers import REPO


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_fmnist_slice", REPO / "benchmarks" / "gpu_fmnist_slice.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_slice_runs_on_cpu_and_writes_every_table(tmp_path):
    write_mnist_like(tmp_path / "data" / "FashionMNIST" / "raw", n_train=120, n_test=40, gz=True)
    out = tmp_path / "slice.md"
    tiny = ["training.iterations=32", "uncertainty.k_acquisition=4", "uncertainty.k_test=2", "pool_subset=50"]
    argv = ["--data-dir", str(tmp_path / "data"), "--out", str(out), "--work", str(tmp_path / "work"),
            "--algorithms", "BALD", "Random", "--seeds", "1", "--budget", "40", "--jobs-per-gpu", "2",
            "--device", "cpu", *(item for pair in tiny for item in ("--set", pair))]
    assert load_script().main(argv) == 0
    text = out.read_text()
    assert "| BALD |" in text and "| Random |" in text
    assert "| 2 | 2 |" in text  # two runs, two at a time
    assert "no nvidia-smi on this machine" in text or "utilisation mean" in text
    assert "estimate / measured" in text
    summary = json.loads((tmp_path / "work" / "summary.json").read_text())
    assert set(summary["accuracy"]) == {"BALD", "Random"} and all(0 <= a <= 100 for v in summary["accuracy"].values()
                                                                  for a in v)
    assert len(list((tmp_path / "work" / "jobs2").glob("*.csv"))) == 2
