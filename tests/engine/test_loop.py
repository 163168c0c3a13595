"""The AL run: spec validation, initial sets, row semantics, determinism, resume, atomic outputs, CLI."""

import hashlib
import json
import math
import subprocess
import sys
from collections import Counter

import pandas as pd
import pytest
import torch

from sbadbal.bench.log_probs import trained_pool_log_probs
from sbadbal.config import ConfigError, run_from_mapping
from sbadbal.engine.loop import default_checkpoint_path, run_active_learning, run_to_files
from sbadbal.engine.state import balanced_initial_indices, initial_sets
from sbadbal.runs.schema import RUN_COLUMNS

from .helpers import blobs

TIMING = ["train_seconds", "score_seconds", "acquisition_seconds"]

EXPERIMENT = {
    "dataset": "AGNEWS",
    "model": "mlp",
    "uncertainty": {"method": "mc_dropout", "k_acquisition": 6, "k_test": 3},
    "training": {"protocol": "iterations", "iterations": 256, "batch_size": 32, "lr": 0.01},
    "initial_size": 6,
    "budget": 30,
    "pool_subset": 120,
    "scoring_batch_size": 50,
    "batch_sizes": [8],
    "algorithms": ["BALD"],
    "seeds": [1],
    "description": "ignored by run_from_mapping",
}


def spec_of(algorithm="BALD", batch_size=8, seed=1, **changes):
    return run_from_mapping({**EXPERIMENT, **changes}, algorithm=algorithm, batch_size=batch_size, seed=seed)


def without_timing(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.drop(columns=TIMING)


# ----------------------------------------------------------------------------------------------- spec


def test_spec_reads_the_experiment_and_fills_the_defaults():
    spec = run_from_mapping({"dataset": "MNIST", "model": "mnist_cnn", "initial_size": 20, "budget": 500},
                                   algorithm="powerbald", batch_size=10, seed=42)
    assert spec.algorithm == "PowerBALD" and spec.algorithm_params  # canonical name, defaults merged
    assert spec.uncertainty.method == "mc_dropout" and spec.uncertainty.k_acquisition == 100
    assert spec.uncertainty.k_test == 5
    assert spec.training.iterations == 24_576 and spec.training.batch_size == 64
    assert spec.pool_subset is None and spec.scoring_batch_size == 512 and not spec.shared_initial_set
    assert json.loads(json.dumps(spec.to_config()))["training"]["protocol"] == "iterations"


@pytest.mark.parametrize(
    "changes,kwargs,message",
    [
        ({"datset": "MNIST"}, {}, "datset: unknown key 'datset'; did you mean 'dataset'"),
        ({"dataset": "MNIST6K"}, {}, "dataset: unknown dataset 'MNIST6K'; did you mean 'MNIST5K'"),
        ({"model": "vgg"}, {}, "model: unknown model 'vgg'"),
        ({"uncertainty": {"method": "laplace"}}, {}, "uncertainty.method: expected one of mc_dropout, ensemble"),
        ({"uncertainty": {"method": "ensemble", "k_test": 3}}, {}, "key 'k_test' does not apply to method 'ensemble'"),
        ({"uncertainty": {"method": "mc_dropout", "k_acquisition": 0}}, {}, "k_acquisition: expected a value >= 1"),
        ({"model": "resnet18"}, {}, "does not support uncertainty 'mc_dropout'"),
        ({"training": {"protocol": "adam"}}, {}, "unknown training protocol 'adam'"),
        ({"budget": 4}, {}, "budget: budget 4 must exceed initial_size 6"),
        ({"pool_subset": 5}, {}, r"pool_subset \(5\) is smaller than the acquisition batch size \(8\)"),
        ({"shared_initial_set": "yes"}, {}, "shared_initial_set: expected true or false, got 'yes'"),
        ({}, {"algorithm": "SuperBALD"}, "unknown algorithm 'SuperBALD'"),
        ({}, {"batch_size": 0}, "batch_size: expected a value >= 1"),
    ],
)
def test_bad_experiments_raise_one_clear_error(changes, kwargs, message):
    with pytest.raises(ValueError, match=message):
        spec_of(**kwargs, **changes)


def test_missing_keys_are_named():
    with pytest.raises(ConfigError, match="budget: required key is missing"):
        run_from_mapping({"dataset": "MNIST", "model": "mlp", "initial_size": 3}, algorithm="BALD", batch_size=1, seed=0)


def test_impossible_budgets_against_the_data():
    data = blobs(num_train=40)
    with pytest.raises(ValueError, match=r"initial_size \(50\) is larger than the pool \(40 points\)"):
        run_active_learning(data, spec_of(initial_size=50, budget=60), device="cpu")
    with pytest.raises(ValueError, match=r"budget \(41\) exceeds the labelable pool \(40 points\)"):
        run_active_learning(data, spec_of(budget=41), device="cpu")
    epochs = {"protocol": "epochs", "epochs": 1, "validation_size": 30}
    with pytest.raises(ValueError, match=r"budget \(30\) exceeds the labelable pool \(10 points after 30 validation"):
        run_active_learning(data, spec_of(training=epochs), device="cpu")
    with pytest.raises(ValueError, match="prepared dataset is 'MNIST5K'"):
        run_active_learning(blobs(name="MNIST5K"), spec_of(), device="cpu")


# ------------------------------------------------------------------------------------------ initial sets


@pytest.mark.parametrize("size,num_classes", [(20, 10), (20, 47), (7, 3), (3, 3)])
def test_initial_sets_are_class_balanced(size, num_classes):
    targets = torch.arange(30 * num_classes) % num_classes
    chosen = balanced_initial_indices(targets, num_classes, size, torch.Generator().manual_seed(0))
    assert len(set(chosen)) == size
    counts = Counter(targets[chosen].tolist())
    per_class = [counts.get(c, 0) for c in range(num_classes)]
    assert max(per_class) - min(per_class) <= 1
    assert chosen == balanced_initial_indices(targets, num_classes, size, torch.Generator().manual_seed(0))


def test_a_class_too_small_for_balance_is_an_error():
    targets = torch.tensor([0] * 10 + [1] * 2)
    with pytest.raises(ValueError, match="needs 3 points of class 1, but the pool has 2"):
        balanced_initial_indices(targets, 2, 6, torch.Generator().manual_seed(0))


def test_initial_set_per_seed_or_shared():
    data = blobs()
    per_seed = [initial_sets(data, spec_of(seed=s))[0] for s in (1, 2)]
    shared = [initial_sets(data, spec_of(seed=s, shared_initial_set=True))[0] for s in (1, 2)]
    assert per_seed[0] != per_seed[1]
    assert shared[0] == shared[1]


# ------------------------------------------------------------------------------------------------ runs


def test_rows_follow_the_schema_and_the_budget():
    data = blobs()
    spec = spec_of(initial_size=6, budget=30, batch_size=10)
    rows = run_active_learning(data, spec, device="cpu")
    assert list(rows.columns) == list(RUN_COLUMNS)
    assert rows["labelled"].tolist() == [6, 16, 26, 30]  # the last batch is cut to the budget
    assert rows["round"].tolist() == [0, 1, 2, 3]
    initial = set(initial_sets(data, spec)[0])
    seen = set(initial)
    for row in rows.itertuples():
        acquired = [int(i) for i in row.acquired_indices.split()] if row.acquired_indices else []
        assert not seen & set(acquired) and len(set(acquired)) == len(acquired)
        seen |= set(acquired)
    assert len(seen) == 30
    last = rows.iloc[-1]
    assert last["acquired_indices"] == "" and math.isnan(last["score_seconds"]) and math.isnan(last["acquisition_seconds"])
    assert (rows["train_seconds"] > 0).all() and (rows["score_seconds"].iloc[:-1] > 0).all()
    assert rows["test_accuracy"].between(0, 100).all() and (rows["test_nll"] > 0).all()


@pytest.mark.parametrize("algorithm", ["BALD", "PowerBALD", "Random"])
def test_cpu_runs_are_deterministic(algorithm):
    data = blobs()
    first = run_active_learning(data, spec_of(algorithm), device="cpu")
    second = run_active_learning(data, spec_of(algorithm), device="cpu")
    pd.testing.assert_frame_equal(without_timing(first), without_timing(second))
    other_seed = run_active_learning(data, spec_of(algorithm, seed=2), device="cpu")
    assert not first["acquired_indices"].equals(other_seed["acquired_indices"])


class Interrupt(Exception):
    pass


def _interrupt_after(round_index):
    def progress(row):
        if row["round"] == round_index:
            raise Interrupt

    return progress


@pytest.mark.parametrize("method", ["mc_dropout", "ensemble"])
def test_a_killed_run_resumes_to_the_same_rows(tmp_path, method):
    data = blobs()
    uncertainty = {"method": "ensemble", "members": 2} if method == "ensemble" else EXPERIMENT["uncertainty"]
    spec = spec_of("PowerBALD", uncertainty=uncertainty)
    uninterrupted = run_active_learning(data, spec, device="cpu")
    checkpoint = tmp_path / "run.checkpoint.json"
    with pytest.raises(Interrupt):
        run_active_learning(data, spec, checkpoint_path=checkpoint, device="cpu", progress=_interrupt_after(1))
    assert len(json.loads(checkpoint.read_text())["rows"]) == 2
    rounds_done_after_restart = []
    resumed = run_active_learning(data, spec, checkpoint_path=checkpoint, device="cpu",
                                  progress=lambda row: rounds_done_after_restart.append(row["round"]))
    assert rounds_done_after_restart == list(range(2, len(uninterrupted)))
    pd.testing.assert_frame_equal(without_timing(resumed), without_timing(uninterrupted))


def test_a_checkpoint_of_another_configuration_is_not_resumed(tmp_path):
    data = blobs()
    checkpoint = tmp_path / "run.checkpoint.json"
    with pytest.raises(Interrupt):
        run_active_learning(data, spec_of(seed=1), checkpoint_path=checkpoint, device="cpu", progress=_interrupt_after(0))
    with pytest.warns(UserWarning, match="different run configuration"):
        rows = run_active_learning(data, spec_of(seed=2), checkpoint_path=checkpoint, device="cpu")
    pd.testing.assert_frame_equal(without_timing(rows), without_timing(run_active_learning(data, spec_of(seed=2), device="cpu")))


def test_a_checkpoint_edited_by_hand_is_refused_saying_to_delete_it(tmp_path):
    # Issue 20 group 3: an edited checkpoint resumed silently; now its checksum refuses it, with the fix.
    from sbadbal.engine.checkpoint import CheckpointError

    data, spec = blobs(), spec_of(seed=1)
    checkpoint = tmp_path / "run.checkpoint.json"
    with pytest.raises(Interrupt):
        run_active_learning(data, spec, checkpoint_path=checkpoint, device="cpu", progress=_interrupt_after(0))
    saved = json.loads(checkpoint.read_text())
    saved["rows"][0]["test_accuracy"] = 99.0
    checkpoint.write_text(json.dumps(saved))
    with pytest.raises(CheckpointError, match=f"delete it to start this run afresh: rm {checkpoint}"):
        run_active_learning(data, spec, checkpoint_path=checkpoint, device="cpu")


@pytest.mark.parametrize("damage", ["[1, 2]", "{not json"])
def test_a_damaged_checkpoint_warns_and_starts_afresh(tmp_path, damage):
    data, spec = blobs(), spec_of(seed=1)
    checkpoint = tmp_path / "run.checkpoint.json"
    with pytest.raises(Interrupt):
        run_active_learning(data, spec, checkpoint_path=checkpoint, device="cpu", progress=_interrupt_after(0))
    checkpoint.write_text(damage)
    with pytest.warns(UserWarning, match="unreadable"):
        rows = run_active_learning(data, spec, checkpoint_path=checkpoint, device="cpu")
    pd.testing.assert_frame_equal(without_timing(rows), without_timing(run_active_learning(data, spec, device="cpu")))


def test_run_to_files_is_atomic_and_resumable(tmp_path):
    from sbadbal.data import save_prepared

    prepared = save_prepared(blobs(), tmp_path / "blobs.pt")
    csv, sidecar = tmp_path / "out" / "BALD_8_1.csv", tmp_path / "out" / "BALD_8_1.json"
    kwargs = dict(csv_path=csv, sidecar_path=sidecar, device="cpu")
    with pytest.raises(Interrupt):
        run_to_files(prepared, spec_of(), progress=_interrupt_after(1), **kwargs)
    assert not csv.exists() and not sidecar.exists()  # a half-finished run leaves nothing that looks complete
    assert default_checkpoint_path(csv).exists()
    rows = run_to_files(prepared, spec_of(), **kwargs)
    assert not default_checkpoint_path(csv).exists()
    written = pd.read_csv(csv, keep_default_na=False, na_values=[""], dtype={"acquired_indices": str})
    assert written["labelled"].tolist() == rows["labelled"].tolist()
    meta = json.loads(sidecar.read_text())
    assert meta["config"]["algorithm"] == "BALD" and meta["config"]["seed"] == 1 and meta["device"] == "cpu"
    assert meta["config"]["uncertainty"] == EXPERIMENT["uncertainty"]
    # Issue 20 group 3: the sidecar names the run and holds the CSV's checksum, which aggregate checks.
    assert meta["run"] == {"suite": None, "experiment": None, "batch_size": 8, "algorithm": "BALD", "seed": 1}
    assert meta["csv_sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
    run_to_files(prepared, spec_of(), run_keys={"suite": "tiny", "experiment": "tiny_mc"}, **kwargs)
    assert json.loads(sidecar.read_text())["run"]["experiment"] == "tiny_mc"


def test_epochs_protocol_holds_out_validation_points_that_are_never_acquired():
    data = blobs(num_train=200)
    training = {"protocol": "epochs", "epochs": 3, "batch_size": 8, "lr": 0.05, "milestones": [2], "validation_size": 50}
    spec = spec_of("Random", training=training, pool_subset=None)
    labelled, validation = initial_sets(data, spec)
    assert len(validation) == 50 and not set(labelled) & set(validation)
    rows = run_active_learning(data, spec, device="cpu")
    acquired = {int(i) for text in rows["acquired_indices"] for i in text.split()}
    assert not acquired & set(validation)


def test_trained_pool_log_probs_cover_the_whole_pool():
    data = blobs()
    spec = spec_of(pool_subset=10)
    log_probs = trained_pool_log_probs(data, spec, device="cpu")
    assert log_probs.shape == (data.num_train - spec.initial_size, 6, 3) and log_probs.dtype == torch.float64
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(log_probs.shape[:2], dtype=torch.float64))


def test_cli_runs_one_al_run(tmp_path):
    from sbadbal.data import save_prepared

    prepared = save_prepared(blobs(), tmp_path / "blobs.pt")
    experiment = tmp_path / "experiment.json"
    experiment.write_text(json.dumps({"suites": {"s": {"experiments": {"e": EXPERIMENT}}}}))
    csv = tmp_path / "run.csv"
    result = subprocess.run(
        [sys.executable, "-m", "sbadbal", "run", "--experiment", str(experiment), "--key", "suites.s.experiments.e",
         "--prepared", str(prepared), "--set", "budget=14", "--algorithm", "Random", "--csv", str(csv), "--device", "cpu"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = pd.read_csv(csv)
    assert rows["labelled"].tolist() == [6, 14]
    assert json.loads(csv.with_suffix(".json").read_text())["config"]["algorithm"] == "Random"
    bad = subprocess.run([sys.executable, "-m", "sbadbal", "run", "--experiment", str(experiment), "--key", "suites.x",
                          "--csv", str(csv)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "no entry 'x'" in bad.stderr


def test_cli_runs_an_experiment_of_config_yaml_with_its_algorithm_params(tmp_path):
    from pathlib import Path

    from sbadbal.__main__ import main

    config = Path(__file__).resolve().parents[2] / "config.yaml"
    csv = tmp_path / "bb.csv"
    small = ["--set", "budget=30", "--set", "batch_sizes=[10]", "--set", "training.iterations=64", "--set", "pool_subset=40",
             "--set", "uncertainty.k_acquisition=3"]
    assert main(["run", "--experiment", str(config), "--key", "suites.default.experiments.rmnist5k_mc", *small,
                 "--algorithm", "BB", "--batch-size", "10", "--seed", "1", "--csv", str(csv), "--device", "cpu",
                 "--quiet"]) == 0
    sidecar = json.loads(csv.with_suffix(".json").read_text())
    # config.yaml gives BatchBALD num_samples 2000 there; the alias BB must still find it.
    assert sidecar["config"]["algorithm"] == "BatchBALD"
    assert sidecar["config"]["algorithm_params"] == {"num_samples": 2000}
    assert list(pd.read_csv(csv)["labelled"]) == [20, 30]


def test_cli_prepares_a_dataset_file(tmp_path, capsys):
    from sbadbal.__main__ import main
    from sbadbal.data import load_prepared

    out = tmp_path / "mnist5k.pt"
    assert main(["prepare", "MNIST5K", "--out", str(out)]) == 0
    prepared = load_prepared(out)
    assert (prepared.num_train, prepared.num_test, prepared.num_classes) == (4000, 1000, 10)
    assert main(["prepare", "NOPE", "--out", str(out)]) == 2
    assert "NOPE" in capsys.readouterr().err


@pytest.mark.slow  # three CLI processes; the in-process interruption test above covers resume by default
def test_a_run_killed_by_sigkill_resumes_to_the_same_rows(tmp_path):
    import signal
    import time

    from sbadbal.data import save_prepared

    prepared = save_prepared(blobs(num_train=400), tmp_path / "blobs.pt")
    experiment = tmp_path / "experiment.json"
    slow = {**EXPERIMENT, "training": {**EXPERIMENT["training"], "iterations": 2048}, "budget": 46}
    experiment.write_text(json.dumps(slow))

    def command(csv):
        return [sys.executable, "-m", "sbadbal", "run", "--experiment", str(experiment), "--prepared", str(prepared),
                "--algorithm", "PowerBALD", "--batch-size", "8", "--seed", "3", "--csv", str(csv), "--device", "cpu",
                "--quiet"]

    reference = tmp_path / "reference.csv"
    subprocess.run(command(reference), check=True, capture_output=True, timeout=300)
    killed = tmp_path / "killed.csv"
    checkpoint = default_checkpoint_path(killed)
    process = subprocess.Popen(command(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if checkpoint.exists() and len(json.loads(checkpoint.read_text())["rows"]) >= 2:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    rows_before_restart = len(json.loads(checkpoint.read_text())["rows"])
    assert not killed.exists() and 2 <= rows_before_restart < 6
    subprocess.run(command(killed), check=True, capture_output=True, timeout=300)
    pd.testing.assert_frame_equal(without_timing(pd.read_csv(killed)), without_timing(pd.read_csv(reference)))
    assert not checkpoint.exists()


def test_runs_on_every_device(device):
    rows = run_active_learning(blobs(), spec_of("PowerBALD"), device=device)
    assert rows["labelled"].tolist() == [6, 14, 22, 30]
    assert rows["test_accuracy"].iloc[-1] > 80.0  # three well-separated blobs


def test_a_missing_prepared_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        run_to_files(tmp_path / "missing.pt", spec_of(), csv_path=tmp_path / "a.csv", sidecar_path=tmp_path / "a.json",
                     device="cpu")
    assert not (tmp_path / "a.csv").exists()


# ------------------------------------------------ what a run must not do silently (issue 13 items 1, 4, 14)


def test_a_checkpoint_made_on_other_data_is_discarded_and_the_run_matches_a_clean_one(tmp_path):
    spec = spec_of(seed=1)
    checkpoint = tmp_path / "run.checkpoint.json"
    with pytest.raises(Interrupt):
        run_active_learning(blobs(seed=0), spec, checkpoint_path=checkpoint, device="cpu", progress=_interrupt_after(1))
    other_data = blobs(seed=5)  # same shapes and names, other points: as a preparation setting changed
    with pytest.warns(UserWarning, match=r"prepared data \(content checksum\)"):
        rows = run_active_learning(other_data, spec, checkpoint_path=checkpoint, device="cpu")
    clean = run_active_learning(other_data, spec, device="cpu")
    pd.testing.assert_frame_equal(without_timing(rows), without_timing(clean))


def test_a_diverging_run_fails_naming_run_round_and_learning_rate():
    from sbadbal.engine.training import DivergenceError

    from dataclasses import replace

    from sbadbal.engine.protocols import IterationsProtocol

    # lr 1e6 is above the configuration's bound (training.lr <= 10), so the spec is built past it: the engine's own
    # divergence check is what is tested here.
    spec = replace(spec_of(), training=IterationsProtocol(iterations=64, batch_size=32, lr=1.0e6))
    with pytest.raises(DivergenceError, match=r"AGNEWS BALD b8 seed 1, round 0: .*training\.lr = 1e\+06"):
        run_active_learning(blobs(), spec, device="cpu")


def test_the_rows_carry_the_batch_diagnostics_and_the_sidecar_its_provenance(tmp_path):
    rows = run_to_files(blobs(), spec_of("LBB"), csv_path=tmp_path / "r.csv", sidecar_path=tmp_path / "r.json",
                        device="cpu")
    acquiring, last = rows.iloc[:-1], rows.iloc[-1]
    assert (acquiring["batch_joint_mi"] > 0).all() and (acquiring["batch_sum_bald"] >= acquiring["batch_joint_mi"] - 1e-6).all()
    assert acquiring["batch_nonpositive_gains"].notna().all() and acquiring["batch_copies"].isna().all()
    assert math.isnan(last["batch_joint_mi"])
    sidecar = json.loads((tmp_path / "r.json").read_text())
    assert sidecar["torch_threads"] == torch.get_num_threads() and len(sidecar["prepared_sha256"]) == 64
    assert set(sidecar["code"]) >= {"version", "git_commit", "git_dirty"}


def test_the_log_says_what_each_round_fitted_and_scored(caplog):
    """The lines the paper smoke suite (tests/workflow/test_paper_smoke.py) reads its code paths from."""
    data = blobs(num_train=120)
    training = {"protocol": "epochs", "epochs": 3, "batch_size": 8, "lr": 0.05, "milestones": [1, 2], "gamma": 0.5,
                "validation_size": 10}
    spec = spec_of("BALD", training=training, pool_subset=None, uncertainty={"method": "ensemble", "members": 3},
                   budget=14)
    with caplog.at_level("INFO", logger="sbadbal.engine.round"):
        run_active_learning(data, spec, device="cpu")
    fits = [r.getMessage() for r in caplog.records if ": fit " in r.getMessage()]
    assert len(fits) == 2  # 6 -> 14 labels in one batch of 8, then the final round
    assert all(line.startswith(f"round {i}: fit 3 network(s) (ensemble) by epochs: 3 epoch(s) at lr 0.05, 0.025, "
                               "0.0125; validation on 10 point(s), best epochs ") for i, line in enumerate(fits))
    scored = [r.getMessage() for r in caplog.records if "scored" in r.getMessage()]
    assert scored == [f"round 0: scored {120 - 6 - 10} pool point(s): log_probs_P_K_C [104, 3, 3]"]

    caplog.clear()
    with caplog.at_level("INFO", logger="sbadbal.engine.round"):
        run_active_learning(data, spec_of("BALD", budget=14), device="cpu")
    assert [r.getMessage() for r in caplog.records if ": fit " in r.getMessage()][0] == (
        "round 0: fit 1 network(s) (mc_dropout) by iterations: 8 step(s) of 32")


def test_batchbald_logs_which_picks_were_exact_and_which_sampled(caplog):
    from sbadbal.acquisition.batchbald import get_batchbald_batch

    log_probs = torch.randn(30, 8, 10, dtype=torch.float64).log_softmax(-1)
    with caplog.at_level("INFO", logger="sbadbal.acquisition.batchbald"):
        get_batchbald_batch(log_probs, 4, num_samples=100, generator=torch.Generator().manual_seed(0))
        get_batchbald_batch(log_probs, 3, num_samples=100, generator=torch.Generator().manual_seed(0))
        get_batchbald_batch(log_probs, 3, num_samples=8, generator=torch.Generator().manual_seed(0))
    assert [r.getMessage() for r in caplog.records] == [
        # pick 4 conditions on 3 labels: 10^3 > 100 configurations
        "BatchBALD: picks 1-3 on the exact joint, picks 4-4 on 100 importance-sampled configurations (C = 10, K = 8)",
        "BatchBALD: all 3 pick(s) on the exact joint (C = 10, K = 8)",
        "BatchBALD: picks 1-1 on the exact joint, picks 2-3 on 8 importance-sampled configurations (C = 10, K = 8)",
    ]
