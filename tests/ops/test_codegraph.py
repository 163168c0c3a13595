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
    files = closure("bench_log_probs.py")
    assert "engine/round.py" in files  # the round the loop runs, up to its scoring
    assert not any(name.startswith("acquisition/") for name in files) and "engine/loop.py" not in files, files


# The claims section's rules (their defaults and bounds) are the claims table's code, and the comparisons with the
# original repository's numbers use the claims' statistics: those read config/claims.py, no other section.
CLAIMS_SECTION = {"config/__init__.py", "config/claims.py", "config/errors.py", "config/fields.py"}


@pytest.mark.parametrize("script", sorted(path.name for path in SCRIPTS.glob("[a-z]*.py")))
def test_no_script_depends_on_the_configuration_model_or_a_records_table(script):
    files = closure(script) - CLAIMS_SECTION
    assert not any(name.startswith(("config/", "ops/")) or name.endswith("records.py") for name in files), files
    if CLAIMS_SECTION & closure(script):
        assert "analysis/claims.py" in files


def test_each_run_depends_on_its_own_acquisition_module_only():
    experiments = load_config_file(REPO / "config.yaml").suites["paper"].experiments
    spec = next(iter(experiments.values())).run("LBB", 10, 1)
    files = {path.relative_to(PACKAGE_ROOT).as_posix() for path in run_code_inputs(spec, entry=SCRIPTS / "run_al.py")}
    assert {"acquisition/lbb.py", "models/architectures.py", "engine/loop.py"} <= files
    assert {"acquisition/simple.py", "acquisition/batchbald.py", "acquisition/lbb_code.py"}.isdisjoint(files)
    # Without an entry: the engine's loop, as the CLI and a checkpoint's default fingerprint take it.
    assert {path.relative_to(PACKAGE_ROOT).as_posix() for path in run_code_inputs(spec)} == files


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record.name)
def test_every_algorithm_record_names_a_module_of_the_package(record):
    path = module_file(record.module)
    assert path.relative_to(PACKAGE_ROOT).as_posix() in import_closure(path)


def test_each_data_source_is_its_own_module():
    modules = {source.module for source in SOURCES.values()}
    assert len(modules) == len(SOURCES)
    for module in modules:
        files = {path.relative_to(PACKAGE_ROOT).as_posix() for path in code_inputs(SCRIPTS / "prepare_data.py", module)}
        others = {module_file(other).relative_to(PACKAGE_ROOT).as_posix() for other in modules - {module}}
        assert module_file(module).relative_to(PACKAGE_ROOT).as_posix() in files and others.isdisjoint(files), files


def test_a_name_from_a_lazy_package_follows_only_its_module(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("from sbadbal.data import load_prepared\n")
    files = set(import_closure(script))
    assert "data/store.py" in files and "data/prepare.py" not in files and "data/agnews.py" not in files

