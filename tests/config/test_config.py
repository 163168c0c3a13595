"""The configuration model (sbadbal/config/): one check of config.yaml, errors in words, variants, the schema.

Bad configurations are tried through a real `snakemake --dry-run` in a copy of the workflow, as a user meets
them: the message's first line names the file, the key path and the fix; no traceback, no schema dump.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sbadbal.config import ConfigError, json_schema, load_config, load_config_file

from ..workflow.helpers import REPO, TINY, change_config, copy_workflow, snakemake

SCHEMA = REPO / "schemas" / "config.schema.json"


def tiny_experiment(config):
    return config["suites"]["tiny"]["experiments"]["tiny_mc"]


def set_key(path, value):
    def change(config):
        *parents, leaf = path
        target = config
        for part in parents:
            target = target[part]
        target[leaf] = value
    return change


# (id, change to the parsed config.yaml, the message's start after "config.yaml: ")
BAD_CONFIGS = [
    ("string-budget", lambda c: tiny_experiment(c).update(budget="forty"),
     "suites.tiny.experiments.tiny_mc.budget: expected an integer, got 'forty'"),
    ("negative-budget", lambda c: tiny_experiment(c).update(budget=-5),
     "suites.tiny.experiments.tiny_mc.budget: expected a value >= 1, got -5"),
    ("misspelled-key", lambda c: tiny_experiment(c).update(buget=40),
     "suites.tiny.experiments.tiny_mc.buget: unknown key 'buget'; did you mean 'budget'?"),
    ("missing-key", lambda c: tiny_experiment(c).pop("seeds"),
     "suites.tiny.experiments.tiny_mc.seeds: required key is missing; add seeds:"),
    ("misspelled-algorithm", lambda c: tiny_experiment(c)["algorithms"].append("PowrBALD"),
     "suites.tiny.experiments.tiny_mc.algorithms[2]: unknown algorithm 'PowrBALD'; did you mean 'PowerBALD'?"),
    ("misspelled-dataset", lambda c: tiny_experiment(c).update(dataset="MNIST5k_"),
     "suites.tiny.experiments.tiny_mc.dataset: unknown dataset 'MNIST5k_'; did you mean 'MNIST5K'?"),
    ("misspelled-model", lambda c: tiny_experiment(c).update(model="mnist_cn"),
     "suites.tiny.experiments.tiny_mc.model: unknown model 'mnist_cn'; did you mean 'mnist_cnn'?"),
    ("bad-uncertainty", lambda c: tiny_experiment(c)["uncertainty"].update(method="laplace"),
     "suites.tiny.experiments.tiny_mc.uncertainty.method: expected one of mc_dropout, ensemble, got 'laplace'"),
    ("budget-below-initial", lambda c: tiny_experiment(c).update(budget=10),
     "suites.tiny.experiments.tiny_mc.budget: budget 10 must exceed initial_size 20"),
    ("model-without-mc-dropout", lambda c: tiny_experiment(c).update(model="resnet18"),
     "suites.tiny.experiments.tiny_mc.uncertainty.method: model 'resnet18' does not support uncertainty 'mc_dropout'"),
    ("bad-algorithm-param", lambda c: tiny_experiment(c).update(algorithm_params={"LBB": {"pair_wieght": 1}}),
     "suites.tiny.experiments.tiny_mc.algorithm_params.LBB: unknown parameter 'pair_wieght' for LBB"),
    ("budget-above-pool", lambda c: tiny_experiment(c).update(budget=4001),
     "suites.tiny.experiments.tiny_mc.budget: budget 4001 exceeds the pool of MNIST5K (4000 points)"),
    ("unknown-dataset-option", set_key(("suites", "tiny", "datasets"), {"MNIST5K": {"options": {"max_rows": 10}}}),
     "suites.tiny.datasets.MNIST5K.options.max_rows: MNIST5K accepts no option 'max_rows'"),
    ("unsafe-suite-name", lambda c: c["suites"].update({"../../tmp/escaped": c["suites"]["tiny"]}),
     "suites.../../tmp/escaped: suite name '../../tmp/escaped' is not a safe folder name"),
    ("variant-shadows-algorithm", set_key(("variants",), {"lbb": {"algorithm": "LBB", "params": {"pair_weight": 3}}}),
     "variants.lbb: variant name 'lbb' is taken by the algorithm 'LBB'"),
    ("variant-bad-param", set_key(("variants",), {"LBB-a": {"algorithm": "LBB", "params": {"alpha": 2}}}),
     "variants.LBB-a.params: unknown parameter 'alpha' for LBB"),
    ("benchmark-unknown-experiment", lambda c: c["suites"]["tiny"]["benchmarks"]["tiny_timing"].update(experiment="tiny_m"),
     "suites.tiny.benchmarks.tiny_timing.experiment: 'tiny_m' is not an experiment of this suite; did you mean 'tiny_mc'?"),
    ("extra-seeds-unknown-algorithm",
     lambda c: tiny_experiment(c).update(extra_seeds={"algorithms": ["PLBB"], "seeds": [3]}),
     "suites.tiny.experiments.tiny_mc.extra_seeds.algorithms: 'PLBB' is not in this experiment's algorithms"),
    ("extra-seeds-overlap", lambda c: tiny_experiment(c).update(extra_seeds={"algorithms": ["LBB"], "seeds": [2, 3]}),
     "suites.tiny.experiments.tiny_mc.extra_seeds.seeds: seed 2 is already in the experiment's seeds"),
    ("extra-seeds-twice", lambda c: tiny_experiment(c).update(extra_seeds={"algorithms": ["LBB"], "seeds": [3, 3]}),
     "suites.tiny.experiments.tiny_mc.extra_seeds.seeds: seed 3 is listed twice"),
    ("top-level-typo", lambda c: c.update(plot={"dpi": 100}),
     "plot: unknown key 'plot'; did you mean 'plots'?"),
]


@pytest.mark.parametrize("change, message", [case[1:] for case in BAD_CONFIGS], ids=[case[0] for case in BAD_CONFIGS])
def test_a_bad_configuration_is_named_in_words(change, message):
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    change(raw)
    with pytest.raises(ConfigError) as caught:
        load_config(raw)
    assert str(caught.value).startswith(f"config.yaml: {message}"), str(caught.value)


@pytest.fixture(scope="module")
def workflow_copy(tmp_path_factory) -> Path:
    return copy_workflow(tmp_path_factory.mktemp("config_workflow"))


@pytest.mark.parametrize("change, message", [case[1:] for case in BAD_CONFIGS], ids=[case[0] for case in BAD_CONFIGS])
def test_snakemake_stops_at_start_with_the_message_alone(workflow_copy, change, message):
    original = (workflow_copy / "config.yaml").read_text()
    try:
        change_config(workflow_copy, change)
        result = snakemake(workflow_copy, "--dry-run", *TINY, check=False)
    finally:
        (workflow_copy / "config.yaml").write_text(original)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    error_lines = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert error_lines and error_lines[0] == f"Error: config.yaml: {message}" or \
        error_lines[0].startswith(f"Error: config.yaml: {message}"), output
    assert "Traceback" not in output and 'File "' not in output, output
    assert "$defs" not in output and "properties" not in output  # no schema dump
    assert len(output.splitlines()) < 12, output
    assert not (workflow_copy / "results").exists()


def test_unknown_suite_names_the_valid_ones(workflow_copy):
    result = snakemake(workflow_copy, "--dry-run", "--config", "suite=tinny", check=False)
    assert result.returncode != 0
    assert ("Error: config.yaml: suite: suite 'tinny' is not defined; valid suites: default, paper, lbb_objectives, "
            "tiny; did you mean 'tiny'?") in result.stdout + result.stderr


def test_shipped_suites_load_with_their_variants():
    config = load_config_file(REPO / "config.yaml")
    assert {"LBB-w2", "PLBB-w2"} <= set(config.variants)
    assert config.variants["LBB-w2"].params == {"pair_weight": 2}
    for suite in config.suites.values():
        for experiment in suite.experiments.values():
            runs = list(experiment.runs())
            assert len(runs) == len(experiment.batch_sizes) * sum(len(experiment.seeds_of(name))
                                                                  for name in experiment.algorithm_names)


def test_a_variant_runs_its_algorithm_under_its_own_name_and_parameters():
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    tiny_experiment(raw)["algorithms"] = ["LBB", "LBB-w2", "bald"]
    tiny_experiment(raw)["algorithm_params"] = {"LBB-w2": {"pair_weight": 3}}
    experiment = load_config(raw).suites["tiny"].experiments["tiny_mc"]
    assert experiment.algorithm_names == ["LBB", "LBB-w2", "BALD"]  # aliases become canonical names
    spec = experiment.run("LBB-w2", 10, 1)
    assert (spec.name, spec.algorithm, spec.params) == ("LBB-w2", "LBB", {"pair_weight": 3.0})
    assert spec.to_config()["name"] == "LBB-w2" and "name" not in experiment.run("LBB", 10, 1).to_config()
    assert type(spec).from_config(spec.to_config()) == spec


def test_extra_seeds_run_for_their_algorithms_only():
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    tiny_experiment(raw).update(algorithms=["BALD", "LBB", "LBB-w2"],
                                extra_seeds={"algorithms": ["lbb", "LBB-w2"], "seeds": [7, 5]})
    experiment = load_config(raw).suites["tiny"].experiments["tiny_mc"]
    runs = [(spec.name, spec.seed) for spec in experiment.runs()]
    assert runs == [("BALD", 1), ("BALD", 2), ("LBB", 1), ("LBB", 2), ("LBB", 7), ("LBB", 5),
                    ("LBB-w2", 1), ("LBB-w2", 2), ("LBB-w2", 7), ("LBB-w2", 5)]
    assert experiment.all_seeds == [1, 2, 7, 5] and experiment.seeds_of("BALD") == [1, 2]


def test_the_checked_in_schema_is_generated_from_the_model():
    assert json.loads(SCHEMA.read_text()) == json_schema(), (
        "schemas/config.schema.json is stale: run `python -m sbadbal.config.schema > schemas/config.schema.json`")


def test_config_yaml_satisfies_the_generated_schema():
    import jsonschema

    jsonschema.validate(yaml.safe_load((REPO / "config.yaml").read_text()), json_schema())


def test_what_the_rules_import_leaves_torch_out():
    """The workflow parses without torch: everything rules/*.smk imports is torch-free."""
    imports = sorted({line for path in (REPO / "rules").glob("*.smk") for line in path.read_text().splitlines()
                      if line.startswith(("from sbadbal", "import sbadbal"))})
    assert len(imports) >= 4, imports  # the config model, registries, code graph, scheduling
    code = "import sys\n" + "".join(f"{line}\n" for line in imports) + (
        "from sbadbal.config import load_config_file\n"
        "load_config_file('config.yaml')\n"
        "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if m.startswith('sbadbal'))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_paper_suite_dry_run_without_torch(workflow_copy, tmp_path):
    """`snakemake -n` of the paper suite where torch cannot be imported (a stub that raises on import)."""
    blocker = tmp_path / "blocker"
    (blocker / "torch").mkdir(parents=True)
    (blocker / "torch" / "__init__.py").write_text("raise ImportError('torch is not installed here')\n")
    env = {"PYTHONPATH": f"{blocker}:{REPO}"}
    result = snakemake(workflow_copy, "--dry-run", "--quiet", "rules", "--config", "suite=paper", env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "run_al" in result.stdout + result.stderr
