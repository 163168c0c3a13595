"""Every missing key of a mapping in one error line (issue 19, item 5: `run --set` used to name one per call)."""

from __future__ import annotations

import copy

import pytest
import yaml

from sbadbal.config import ConfigError, experiment_from_mapping, load_config

from ..workflow.helpers import REPO


def test_an_experiment_missing_several_keys_names_them_all_in_one_line():
    with pytest.raises(ConfigError) as raised:
        experiment_from_mapping({"dataset": "MNIST5K", "budget": 40}, source="--set")
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("--set: required keys are missing; add model: (a model name")
    assert [key for key in ("model", "initial_size", "batch_sizes", "algorithms", "seeds")
            if f"{key}: (" not in message] == []
    assert "budget:" not in message and "dataset:" not in message


def test_a_config_file_missing_keys_in_one_experiment_names_the_path_once():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    broken = copy.deepcopy(config)
    experiment = broken["suites"]["tiny"]["experiments"]["tiny_mc"]
    experiment.pop("seeds"), experiment.pop("batch_sizes")
    with pytest.raises(ConfigError) as raised:
        load_config(broken)
    assert str(raised.value) == ("config.yaml: suites.tiny.experiments.tiny_mc: required keys are missing; add "
                                 "batch_sizes: (acquisition batch sizes b (distinct; at most 100,000)); seeds: (one run per seed)")


def test_one_missing_key_reads_as_before():
    with pytest.raises(ConfigError, match=r"^--set: seeds: required key is missing; add seeds: \(one run per seed\)$"):
        experiment_from_mapping({"dataset": "MNIST5K", "model": "mnist_cnn", "initial_size": 20, "budget": 40,
                                 "batch_sizes": [10], "algorithms": ["BALD"]}, source="--set")
