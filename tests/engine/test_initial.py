"""Round 0 once per seed (sbadbal/engine/initial.py): a run that reads it equals one that computes it, and a file made
for another setting, other data or edited is refused naming the file."""

import pandas as pd
import pytest
import torch

from sbadbal.data import save_prepared
from sbadbal.data.store import load_prepared
from sbadbal.engine.initial import compute_round_zero, load_round_zero, save_round_zero
from sbadbal.engine.loop import run_active_learning, run_to_files

from .helpers import blobs
from .test_loop import EXPERIMENT, spec_of, without_timing

ENSEMBLE = {"method": "ensemble", "members": 2}


@pytest.fixture()
def prepared(tmp_path):
    return load_prepared(save_prepared(blobs(), tmp_path / "blobs.pt"))


@pytest.mark.parametrize("uncertainty", [EXPERIMENT["uncertainty"], ENSEMBLE], ids=["mc_dropout", "ensemble"])
def test_every_algorithm_of_a_seed_computes_the_same_round_zero(prepared, uncertainty):
    spec = spec_of("BALD", uncertainty=uncertainty)
    shared = compute_round_zero(prepared, spec, torch.device("cpu"))
    for algorithm, batch_size in [("BALD", 8), ("Random", 4), ("LBB", 8)]:
        other = spec_of(algorithm, batch_size=batch_size, uncertainty=uncertainty)
        computed = run_active_learning(prepared, other, device="cpu")
        reused = run_active_learning(prepared, other, device="cpu", round_zero=shared)
        pd.testing.assert_frame_equal(without_timing(reused), without_timing(computed))
        # The reused row carries the shared computation's seconds: proof that round 0 was not computed again.
        assert reused["train_seconds"].iloc[0] == shared.row["train_seconds"]
        assert reused["train_seconds"].iloc[0] != computed["train_seconds"].iloc[0]


def test_run_to_files_reads_the_round_zero_file(tmp_path, prepared):
    spec = spec_of("PowerBALD")
    path = save_round_zero(tmp_path / "seed1.pt", prepared, spec, compute_round_zero(prepared, spec, torch.device("cpu")))
    rows = run_to_files(prepared, spec, csv_path=tmp_path / "r.csv", sidecar_path=tmp_path / "r.json", device="cpu",
                        round_zero_path=path)
    pd.testing.assert_frame_equal(without_timing(rows), without_timing(run_active_learning(prepared, spec, device="cpu")))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"seed": 2}, "another run setting"),
        ({"training": {"protocol": "iterations", "iterations": 128, "batch_size": 32, "lr": 0.01}}, "another run setting"),
        ({"pool_subset": 100}, "another run setting"),
    ],
)
def test_a_round_zero_of_another_setting_is_refused(tmp_path, prepared, change, message):
    spec = spec_of("BALD")
    path = save_round_zero(tmp_path / "seed1.pt", prepared, spec, compute_round_zero(prepared, spec, torch.device("cpu")))
    with pytest.raises(ValueError, match=message) as error:
        load_round_zero(path, prepared, spec_of("BALD", **change))
    assert str(path) in str(error.value) and "initial_round" in str(error.value)


def test_the_algorithm_and_batch_size_are_no_part_of_round_zero(tmp_path, prepared):
    path = save_round_zero(tmp_path / "seed1.pt", prepared, spec_of("BALD"),
                           compute_round_zero(prepared, spec_of("BALD"), torch.device("cpu")))
    assert load_round_zero(path, prepared, spec_of("BatchBALD", batch_size=3)).log_probs_P_K_C.shape == (120, 6, 3)


def test_round_zero_of_other_data_is_refused(tmp_path, prepared):
    spec = spec_of("BALD")
    path = save_round_zero(tmp_path / "seed1.pt", prepared, spec, compute_round_zero(prepared, spec, torch.device("cpu")))
    other = load_prepared(save_prepared(blobs(seed=5), tmp_path / "other.pt"))
    with pytest.raises(ValueError, match="another version of the prepared dataset"):
        load_round_zero(path, other, spec)


@pytest.mark.parametrize("damage", ["edit", "truncate", "missing"])
def test_a_damaged_round_zero_file_is_one_clear_error(tmp_path, prepared, damage):
    spec = spec_of("BALD")
    path = save_round_zero(tmp_path / "seed1.pt", prepared, spec, compute_round_zero(prepared, spec, torch.device("cpu")))
    if damage == "edit":
        payload = torch.load(path, weights_only=True)
        payload["fields"]["row"]["test_accuracy"] = 99.0
        torch.save(payload, path)
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    else:
        path.unlink()
    with pytest.raises((ValueError, FileNotFoundError), match="initial_round") as error:
        load_round_zero(path, prepared, spec)
    assert str(path) in str(error.value)
