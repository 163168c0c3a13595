"""A user's own acquisition function named in config.yaml (sbadbal/acquisition/plugins.py): checked when the
configuration is loaded, one ConfigError naming the key for each way it can be wrong, then a record like a
built-in one whose file is its runs' code."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import pytest
import torch
import yaml

from sbadbal.acquisition.function import AcquisitionFunction
from sbadbal.acquisition.records import RECORDS, looks
from sbadbal.analysis.plots import algorithm_styles
from sbadbal.config import ConfigError, load_config
from sbadbal.ops.codegraph import run_code_inputs

from ..workflow.helpers import REPO

# A toy plug-in (the README's, with a parameter): the points whose two most probable classes are closest.
MARGIN = '''
import torch

from sbadbal.acquisition.candidate import CandidateBatch


def margin(log_probs_N_K_C, batch_size, *, chunk_size=1024, progress=None, temperature=1.0):
    """Smallest margin between the two most probable classes of the mean prediction."""
    probs_N_C = (log_probs_N_K_C / temperature).log_softmax(-1).exp().mean(dim=1)
    top_N_2 = probs_N_C.topk(2, dim=1).values
    margin_N = top_N_2[:, 0] - top_N_2[:, 1]
    picked = torch.argsort(margin_N)[:batch_size]
    return CandidateBatch(indices=picked.tolist(), scores=(-margin_N[picked]).tolist())
'''

CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())


def config_with(variant_algorithm: str | None = None, listed: str | None = None, params: dict | None = None) -> dict:
    """config.yaml with a `Margin` variant of `variant_algorithm` in the tiny suite, or `listed` in its algorithms."""
    config = copy.deepcopy(CONFIG)
    config["suite"] = "tiny"
    algorithms = config["suites"]["tiny"]["experiments"]["tiny_mc"]["algorithms"]
    if variant_algorithm is not None:
        config["variants"]["Margin"] = {"algorithm": variant_algorithm, "params": params or {}}
        algorithms.append("Margin")
    if listed is not None:
        algorithms.append(listed)
    return config


def write_module(folder: Path, text: str, name: str = "my_acquisitions.py") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_a_plugin_variant_runs_like_a_built_in_function(tmp_path):
    write_module(tmp_path, MARGIN)
    config = load_config(config_with("my_acquisitions:margin", params={"temperature": 2}), base=tmp_path)
    experiment = config.selected_suite().experiments["tiny_mc"]
    assert "Margin" in experiment.algorithm_names and "Margin" in config.algorithm_names
    spec = experiment.run("Margin", 10, 1)
    assert spec.name == "Margin" and spec.algorithm == "my_acquisitions:margin"
    assert spec.params == {"temperature": 2.0}
    assert spec.acquisition["file"] == (tmp_path / "my_acquisitions.py").as_posix()
    assert spec.acquisition["stochastic"] is False
    # The run calls it as it calls a built-in one.
    log_probs = torch.randn(30, 4, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64).log_softmax(-1)
    batch = AcquisitionFunction.from_config(spec.algorithm, spec.acquisition)(log_probs, 7, **spec.params)
    assert len(batch) == 7 and len(set(batch.indices)) == 7
    # Its code: its file (with the library files it imports), not another acquisition module.
    code = {path.as_posix() for path in run_code_inputs(spec)}
    assert (tmp_path / "my_acquisitions.py").as_posix() in code
    assert not any(path.endswith(("acquisition/simple.py", "acquisition/lbb.py")) for path in code)
    # Built-in records are unchanged (their runs' params, hence their runs, stay the same).
    assert all("file" not in record.to_config() for record in RECORDS)


def test_a_plugin_listed_by_reference_runs_under_its_function_name(tmp_path):
    write_module(tmp_path / "plugins", MARGIN, "margins.py")
    config = load_config(config_with(listed="plugins/margins.py:margin"), base=tmp_path)
    experiment = config.selected_suite().experiments["tiny_mc"]
    assert experiment.algorithm_names[-1] == "margin" and "margin" in config.algorithm_names
    assert experiment.run("margin", 10, 1).acquisition["function"] == "margin"


def test_a_plugin_gets_a_default_colour_of_its_own():
    bases = {"BALD": "BALD", "LBB": "LBB", "Margin": "my_acquisitions:margin"}
    styles = algorithm_styles(bases, bases, registered=looks(bases.values()))
    assert styles["Margin"].colour not in {record.style[0] for record in RECORDS}


BROKEN = [
    ("no-file", None, "nowhere:margin", "variants.Margin.algorithm", "no file"),
    ("not-a-reference", None, "my acquisitions:margin", "variants.Margin.algorithm", "neither a module name"),
    ("import-fails", "import not_a_module_anywhere\n", "my_acquisitions:margin", "variants.Margin.algorithm",
     "importing .*my_acquisitions.py failed: ModuleNotFoundError"),
    ("no-function", "x = 1\n", "my_acquisitions:margin", "variants.Margin.algorithm", "defines no function 'margin'"),
    ("no-chunk-size", "def margin(log_probs_N_K_C, batch_size):\n    pass\n", "my_acquisitions:margin",
     "variants.Margin.algorithm", "must take the keyword.*chunk_size, progress"),
    ("one-positional", "def margin(log_probs_N_K_C, *, chunk_size, progress):\n    pass\n", "my_acquisitions:margin",
     "variants.Margin.algorithm", r"must start \(log_probs_N_K_C, batch_size"),
    ("parameter-without-default", "def margin(log_probs_N_K_C, batch_size, *, chunk_size, progress, t):\n    pass\n",
     "my_acquisitions:margin", "variants.Margin.algorithm", "parameter 't' needs a default"),
    ("raises", "def margin(log_probs_N_K_C, batch_size, *, chunk_size, progress):\n    raise RuntimeError('boom')\n",
     "my_acquisitions:margin", "variants.Margin.algorithm", r"failed on a \[12, 3, 4\].*RuntimeError: boom"),
    ("not-a-batch", "def margin(log_probs_N_K_C, batch_size, *, chunk_size, progress):\n    return [0, 1, 2]\n",
     "my_acquisitions:margin", "variants.Margin.algorithm", "returned list, not a CandidateBatch"),
    ("wrong-size", "from sbadbal.acquisition.candidate import CandidateBatch\n"
     "def margin(log_probs_N_K_C, batch_size, *, chunk_size, progress):\n    return CandidateBatch([0], [1.0])\n",
     "my_acquisitions:margin", "variants.Margin.algorithm", "returned 1 indices, not 3"),
    ("repeated-index", "from sbadbal.acquisition.candidate import CandidateBatch\n"
     "def margin(log_probs_N_K_C, batch_size, *, chunk_size, progress):\n    return CandidateBatch([0, 0, 1], [1.0] * 3)\n",
     "my_acquisitions:margin", "variants.Margin.algorithm", "with repeats"),
    ("out-of-range", "from sbadbal.acquisition.candidate import CandidateBatch\n"
     "def margin(log_probs_N_K_C, batch_size, *, chunk_size, progress):\n    return CandidateBatch([0, 1, 99], [1.0] * 3)\n",
     "my_acquisitions:margin", "variants.Margin.algorithm", r"must be Python ints in 0\.\.11"),
]


@pytest.mark.parametrize("module, reference, path, message", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_a_broken_plugin_is_one_error_naming_the_key(tmp_path, module, reference, path, message):
    if module is not None:
        write_module(tmp_path, module)
    with pytest.raises(ConfigError, match=message) as error:
        load_config(config_with(reference), base=tmp_path)
    assert error.value.path == path
    assert str(error.value).startswith(f"config.yaml: {path}: plug-in acquisition function ")


def test_a_plugin_listed_in_algorithms_is_checked_at_its_key(tmp_path):
    with pytest.raises(ConfigError) as error:
        load_config(config_with(listed="nowhere:margin"), base=tmp_path)
    assert error.value.path == "suites.tiny.experiments.tiny_mc.algorithms[2]"


def test_a_plugin_parameter_is_checked_against_its_default(tmp_path):
    write_module(tmp_path, MARGIN)
    with pytest.raises(ConfigError, match="unknown parameter 'alpha' for my_acquisitions:margin") as error:
        load_config(config_with("my_acquisitions:margin", params={"alpha": 1}), base=tmp_path)
    assert error.value.path == "variants.Margin.params"
    with pytest.raises(ConfigError, match="parameter 'temperature' must be a finite number"):
        load_config(config_with("my_acquisitions:margin", params={"temperature": "hot"}), base=tmp_path)


def test_a_plugin_named_like_a_built_in_function_needs_a_variant_name(tmp_path):
    write_module(tmp_path, MARGIN.replace("def margin(", "def bald("))
    with pytest.raises(ConfigError, match="name 'bald' is taken by 'BALD'; give it another name under `variants:`"):
        load_config(config_with(listed="my_acquisitions:bald"), base=tmp_path)
