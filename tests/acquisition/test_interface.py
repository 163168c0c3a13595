"""The records and the by-name registry, parameter checks, input validation and progress bars."""

from __future__ import annotations

import math

import pytest
import torch

from sbadbal.acquisition import (
    ALGORITHM_NAMES,
    ALGORITHMS,
    CandidateBatch,
    acquire,
    algorithm_defaults,
    canonical_name,
    is_stochastic,
    validate_params,
)
from sbadbal.acquisition.records import RECORDS


def test_names_come_from_the_records_in_their_order():
    assert tuple(ALGORITHMS) == ALGORITHM_NAMES == tuple(record.name for record in RECORDS)
    assert len(set(ALGORITHM_NAMES)) == len(ALGORITHM_NAMES)
    for record in RECORDS:
        function = ALGORITHMS[record.name]
        assert function.imported().__name__ == record.function_name and function.stochastic == record.stochastic


@pytest.mark.parametrize(
    ("alias", "expected"),
    [("PBALD", "PowerBALD"), ("BB", "BatchBALD"), ("Rand", "Random"), ("bald", "BALD"), ("lbb_code", "LBB-code"),
     ("PLBB-code", "PLBB-code"), ("plbb", "PLBB"), ("maxprob", "MaxProb"), ("entropy", "Entropy"), ("LBB", "LBB")],
)
def test_aliases_resolve(alias, expected):
    assert canonical_name(alias) == expected


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown acquisition function 'CoreSet'.*BALD.*PowerBALD.*Random"):
        canonical_name("CoreSet")
    with pytest.raises(ValueError, match="unknown acquisition function"):
        acquire("CoreSet", torch.zeros(1, 1, 1, dtype=torch.float64), 1)


def test_defaults_and_stochastic_flags():
    assert algorithm_defaults("PBALD") == {"alpha": 5.0}
    assert algorithm_defaults("BatchBALD") == {"num_samples": 100_000}
    assert algorithm_defaults("LBB") == {"pair_weight": 1.0}
    assert algorithm_defaults("PLBB") == {"alpha": 5.0, "pair_weight": 1.0}
    assert algorithm_defaults("LBB-code") == {"code_chunk_size": 1024}
    assert algorithm_defaults("PLBB-code") == {"alpha": 5.0, "code_chunk_size": 1024}
    assert algorithm_defaults("BALD") == {}
    stochastic = {name for name in ALGORITHM_NAMES if is_stochastic(name)}
    assert stochastic == {"PowerBALD", "BatchBALD", "PLBB", "PLBB-code", "Random"}


def test_validate_params_merges_and_rejects():
    assert validate_params("PowerBALD", {"alpha": 1}) == {"alpha": 1.0}
    assert validate_params("PLBB", None) == {"alpha": 5.0, "pair_weight": 1.0}
    with pytest.raises(ValueError, match="unknown parameter 'beta' for PowerBALD; its parameters are: alpha"):
        validate_params("PowerBALD", {"beta": 1})
    with pytest.raises(ValueError, match="unknown parameter 'alpha' for BALD; its parameters are: none"):
        validate_params("BALD", {"alpha": 1})
    for name, params in [("PowerBALD", {"alpha": -1}), ("PowerBALD", {"alpha": math.nan}), ("BatchBALD", {"num_samples": 0}),
                         ("LBB-code", {"code_chunk_size": 1.5}), ("LBB", {"pair_weight": "two"}), ("BatchBALD", {"num_samples": True})]:
        (key,) = params
        with pytest.raises(ValueError, match=f"parameter '{key}'"):
            validate_params(name, params)


def good_log_probs() -> torch.Tensor:
    return torch.log_softmax(torch.randn(10, 3, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64), dim=-1)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (torch.zeros(10, 4, dtype=torch.float64), "rank 3"),
        (good_log_probs().exp(), "not log-probabilities"),
        (good_log_probs() + 0.5, "not log-probabilities"),
        (torch.randn(10, 3, 4, dtype=torch.float64), "not log-probabilities"),
        (good_log_probs().half(), "float64 or float32"),
        ([[[0.0]]], "torch.Tensor"),
    ],
)
def test_bad_tensors_raise_clear_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        acquire("BALD", bad, 2)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_values_rejected(value, device):
    log_probs = good_log_probs().to(device)
    log_probs[3, 1, 2] = value
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        acquire("Entropy", log_probs, 2)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True, "4"])
def test_bad_batch_sizes_rejected(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        acquire("BALD", good_log_probs(), batch_size)


def test_bad_chunk_size_rejected():
    with pytest.raises(ValueError, match="chunk_size"):
        acquire("BALD", good_log_probs(), 2, chunk_size=0)


@pytest.mark.parametrize("name", ["PowerBALD", "PLBB", "PLBB-code", "Random"])
def test_stochastic_functions_demand_a_generator(name):
    with pytest.raises(ValueError, match=r"torch\.Generator\(\)\.manual_seed\(seed\)"):
        acquire(name, good_log_probs(), 2)


def test_batchbald_needs_a_generator_only_in_sampled_regime():
    log_probs = good_log_probs()  # C = 4
    assert len(acquire("BatchBALD", log_probs, 3, num_samples=16).indices) == 3  # 4^2 <= 16: exact throughout
    with pytest.raises(ValueError, match="sampled regime.*manual_seed"):
        acquire("BatchBALD", log_probs, 4, num_samples=16)  # 4^3 > 16
    with pytest.raises(ValueError, match="num_samples = 2 must be >= K = 3"):
        acquire("BatchBALD", log_probs, 4, num_samples=2, generator=torch.Generator().manual_seed(0))


def test_candidate_batch_is_frozen_and_consistent():
    batch = acquire("BALD", good_log_probs(), 3)
    assert isinstance(batch, CandidateBatch) and len(batch) == 3
    with pytest.raises(AttributeError):
        batch.indices = [0]
    with pytest.raises(ValueError, match="one score per index"):
        CandidateBatch(indices=[1, 2], scores=[0.5])


@pytest.mark.parametrize("name", ["BatchBALD", "LBB", "PLBB"])
def test_progress_bar_only_when_asked_or_on_a_terminal(name, capsys):
    log_probs = good_log_probs()
    generator = torch.Generator().manual_seed(0)
    acquire(name, log_probs, 3, generator=generator)  # pytest captures stderr: not a terminal, no bar
    assert capsys.readouterr().err == ""
    acquire(name, log_probs, 3, generator=generator, progress=True)
    assert name in capsys.readouterr().err
