"""Code inputs follow imports (sbadbal/ops/codegraph.py): what each rule's script runs and the modules its records
name, and nothing else."""

from __future__ import annotations

import pytest

from sbadbal.acquisition.records import RECORDS
from sbadbal.config import load_config_file
from sbadbal.data.records import SOURCES
from sbadbal.ops.codegraph import PACKAGE_ROOT, code_inputs, import_closure, module_file, run_code_inputs

from ..workflow.helpers import REPO

SCRIPTS = REPO / "scripts"


def closure(script: str) -> set[str]:
    return set(import_closure(SCRIPTS / script))


def test_runs_depend_on_training_and_not_on_tables_or_figures():
    run = closure("run_al.py")
    assert {"engine/training.py", "engine/loop.py", "engine/round.py", "models/bayesian.py", "models/posterior.py",
            "runs/writers.py"} <= run
    assert {"analysis/tables.py", "analysis/plots.py", "bench/sweep.py", "ops/codegraph.py"}.isdisjoint(run)
    # Algorithms' and architectures' modules are the run's own extra inputs (its records name them); every run's batch
    # diagnostics use the joint-entropy machinery, not BatchBALD's greedy loop.
    assert {"acquisition/lbb.py", "acquisition/simple.py", "acquisition/batchbald.py"}.isdisjoint(run)
    assert "models/architectures.py" not in run
    assert {"acquisition/diagnostics.py", "acquisition/joint.py"} <= run
    # No configuration model, no records table, nothing of ops/ (it never changes a number).
    assert not any(name.startswith(("config/", "ops/")) or name.endswith("records.py") for name in run), run


@pytest.mark.parametrize("script", ["plot_curves.py", "plot_bench.py", "aggregate.py"])
def test_figures_and_tables_do_not_depend_on_training(script):
    assert {"engine/training.py", "engine/loop.py", "models/bayesian.py", "models/posterior.py"}.isdisjoint(closure(script))


def test_the_benchmark_model_does_not_depend_on_acquisition_code():
    assert {"acquisition/registry.py", "acquisition/validation.py", "loop.py"}.isdisjoint(closure("bench_log_probs.py"))


def test_a_name_from_a_lazy_package_follows_only_its_module(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("from sbadbal.data import load_prepared\n")
    files = set(import_closure(script))
    assert "data/store.py" in files and "data/prepare.py" not in files and "data/agnews.py" not in files

