"""Batch-quality diagnostics on constructed pools whose answers are known."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from sbadbal.acquisition import acquire
from sbadbal.acquisition.diagnostics import (
    base_indices,
    batch_copies,
    batch_diagnostics,
    batch_joint_mi,
    batch_nonpositive_gains,
    batch_sum_bald,
)
from sbadbal.acquisition.records import record_of
from sbadbal.acquisition.scores import bald_scores
from sbadbal.runs.schema import DIAGNOSTIC_COLUMNS


def independent_log_probs(num_points: int, num_classes: int, seed: int) -> torch.Tensor:
    """Posterior samples on a grid: sample k = (k_1, ..., k_n) in {0, 1}^n and point i depends on k_i only, so the
    labels are independent under the empirical posterior of the K = 2^n samples and I(y_B; theta) = sum BALD."""
    generator = torch.Generator().manual_seed(seed)
    logits_N_2_C = torch.randn(num_points, 2, num_classes, generator=generator, dtype=torch.float64) * 2
    grid_K_N = torch.tensor(list(itertools.product((0, 1), repeat=num_points)), dtype=torch.long)
    logits_N_K_C = torch.stack([logits_N_2_C[i, grid_K_N[:, i]] for i in range(num_points)])
    return torch.log_softmax(logits_N_K_C, dim=-1)


def test_independent_points_joint_mi_equals_sum_bald(device):
    log_probs = independent_log_probs(5, 3, seed=1).to(device)
    picks = [4, 0, 2, 1]
    assert batch_joint_mi(log_probs, picks) == pytest.approx(batch_sum_bald(log_probs, picks), abs=1e-10)
    assert batch_sum_bald(log_probs, picks) == pytest.approx(float(bald_scores(log_probs)[picks].sum()), abs=1e-12)


def test_one_pick_joint_mi_is_its_bald(device, log_probs_factory):
    log_probs = log_probs_factory(10, 6, 4, seed=2, device=device)
    assert batch_joint_mi(log_probs, [7]) == pytest.approx(float(bald_scores(log_probs)[7]), abs=1e-12)


def test_copies_of_a_deterministic_point_add_nothing(device):
    """Each posterior sample certain of one class: a copy's label is a function of the first's, so I(y, y'; theta)
    = I(y; theta) = BALD of one copy, for two and for three copies."""
    certain_K_C = torch.full((6, 3), 1e-12, dtype=torch.float64)
    certain_K_C[torch.arange(6), torch.tensor([0, 1, 2, 0, 0, 1])] = 1 - 2e-12
    other_K_C = torch.softmax(torch.randn(6, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64), -1)
    log_probs = torch.stack([certain_K_C, certain_K_C, other_K_C, certain_K_C]).log().to(device)
    bald_one = float(bald_scores(log_probs)[0])
    assert batch_joint_mi(log_probs, [0, 1]) == pytest.approx(bald_one, abs=1e-9)
    assert batch_joint_mi(log_probs, [0, 1, 3]) == pytest.approx(bald_one, abs=1e-9)
    assert batch_sum_bald(log_probs, [0, 1]) == pytest.approx(2 * bald_one, abs=1e-12)


def test_copies_of_a_noisy_point_add_less_than_their_bald(device, log_probs_factory):
    """With label noise given theta a second label of the same point still informs, but less than BALD."""
    point = log_probs_factory(1, 8, 4, seed=3)
    log_probs = torch.cat([point, point]).to(device)
    bald_one = float(bald_scores(log_probs)[0])
    assert bald_one < batch_joint_mi(log_probs, [0, 1]) < 2 * bald_one


def test_joint_mi_of_a_batchbald_batch_is_its_last_score(device, log_probs_factory):
    log_probs = log_probs_factory(30, 6, 3, seed=4, device=device)
    batch = acquire("BatchBALD", log_probs, 5, num_samples=3**4)
    assert batch_joint_mi(log_probs, batch.indices, num_samples=3**4) == pytest.approx(batch.scores[-1], abs=1e-10)


def test_sampled_joint_mi_agrees_with_batchbalds_sampled_value(log_probs_factory):
    """Both importance-sample H(y_B) with BatchBALD's machinery (from different draws): close to each other and to
    the exact value."""
    log_probs = log_probs_factory(30, 10, 3, seed=5)
    sampled = acquire("BatchBALD", log_probs, 8, num_samples=3000, generator=torch.Generator().manual_seed(1))
    exact = batch_joint_mi(log_probs, sampled.indices, num_samples=3**7)
    ours = batch_joint_mi(log_probs, sampled.indices, num_samples=3000)
    assert ours == pytest.approx(exact, abs=0.15)
    assert sampled.scores[-1] == pytest.approx(exact, abs=0.15)


def test_joint_mi_does_not_exceed_sum_bald(log_probs_factory):
    log_probs = log_probs_factory(40, 8, 4, seed=6)
    for picks in ([0, 1], [3, 9, 27], list(range(0, 40, 7))):
        assert batch_joint_mi(log_probs, picks) <= batch_sum_bald(log_probs, picks) + 1e-10


def test_base_indices_follow_the_repeated_layout():
    # Copy r of base point i sits at i + r * n_base.
    assert base_indices([3, 13, 23, 7], num_base_train=10) == [3, 3, 3, 7]


@pytest.mark.parametrize(
    "picks, labelled, expected",
    [
        ([1, 2, 3], [4, 5], 0),  # all new
        ([1, 2, 1], [], 1),  # two copies of one new point: one is redundant
        ([1, 1, 1], [], 2),
        ([1, 2, 3], [3, 1], 2),  # copies of labelled points
        ([5, 5, 6], [5], 2),
        ([], [1], 0),
    ],
)
def test_batch_copies_counts_picks_adding_no_new_base_point(picks, labelled, expected):
    assert batch_copies(picks, labelled) == expected


def test_which_scores_are_gains():
    assert record_of("LBB").scores_are_gains and record_of("PLBB").scores_are_gains
    assert record_of("large_batchbald").scores_are_gains
    for name in ("BALD", "PowerBALD", "BatchBALD", "LBB-code", "PLBB-code", "Random"):
        assert not record_of(name).scores_are_gains


def test_nonpositive_gains_on_copies(device):
    """Three exact copies of the most informative point: with w = 2 the second copy's gain is BALD - 2 I < 0 (I is
    close to BALD for a near-deterministic point), with w = 1 it is BALD - I, about 0 but positive."""
    certain_K_C = torch.full((4, 2), 1e-3, dtype=torch.float64)
    certain_K_C[torch.arange(4), torch.tensor([0, 1, 0, 1])] = 1 - 1e-3
    weak_K_C = torch.tensor([[0.6, 0.4], [0.4, 0.6], [0.6, 0.4], [0.4, 0.6]], dtype=torch.float64)
    log_probs = torch.stack([certain_K_C, certain_K_C, weak_K_C, certain_K_C]).log().to(device)
    batch = acquire("LBB", log_probs, 4, pair_weight=2.0)
    assert batch_nonpositive_gains(batch.scores) == sum(score <= 0 for score in batch.scores) >= 2
    assert batch_nonpositive_gains([0.3, 0.0, -1e-9, 1e-12]) == 2


def test_batch_diagnostics_columns_and_not_applicable(device, log_probs_factory):
    log_probs = log_probs_factory(20, 6, 3, seed=7, device=device)
    lbb = acquire("LBB", log_probs, 4)
    row = batch_diagnostics(log_probs, lbb.indices, scores_are_gains=True, scores=lbb.scores,
                            pick_base_indices=base_indices(lbb.indices, 10), labelled_base_indices=[0, 1])
    assert tuple(row) == DIAGNOSTIC_COLUMNS
    assert row["batch_joint_mi"] == pytest.approx(batch_joint_mi(log_probs, lbb.indices), abs=1e-12)
    assert row["batch_sum_bald"] == pytest.approx(batch_sum_bald(log_probs, lbb.indices), abs=1e-12)
    assert row["batch_copies"] == batch_copies(base_indices(lbb.indices, 10), [0, 1])
    assert row["batch_nonpositive_gains"] == batch_nonpositive_gains(lbb.scores)
    bald = acquire("BALD", log_probs, 4)
    row = batch_diagnostics(log_probs, bald.indices, scores_are_gains=False, scores=bald.scores)
    assert row["batch_copies"] is None and row["batch_nonpositive_gains"] is None
    empty = batch_diagnostics(log_probs, [], scores_are_gains=False)
    assert math.isnan(empty["batch_joint_mi"]) and math.isnan(empty["batch_sum_bald"])


def test_diagnostics_show_balds_redundancy_on_a_repeated_pool():
    """Three exact copies of 12 base points (pool index i + r * 12), sharp per-sample predictions, K = 64 so that the
    joint MI (at most log K) does not saturate within 4 picks: top-b BALD takes copies of its best point, BatchBALD
    and LBB do not, and the joint MI says how redundant BALD's batch is."""
    generator = torch.Generator().manual_seed(8)
    base_log_probs = torch.log_softmax(torch.randn(12, 64, 4, generator=generator, dtype=torch.float64) * 8, dim=-1)
    log_probs = base_log_probs.repeat(3, 1, 1)
    rows = {}
    for name in ("BALD", "BatchBALD", "LBB"):
        batch = acquire(name, log_probs, 4, generator=torch.Generator().manual_seed(0))
        rows[name] = batch_diagnostics(log_probs, batch.indices, scores_are_gains=record_of(name).scores_are_gains,
                                       scores=batch.scores,
                                       pick_base_indices=base_indices(batch.indices, 12), labelled_base_indices=[])
    assert rows["BALD"]["batch_copies"] == 2  # the best base point three times
    assert rows["BatchBALD"]["batch_copies"] == 0 and rows["LBB"]["batch_copies"] == 0
    assert rows["BALD"]["batch_joint_mi"] < 0.6 * rows["BALD"]["batch_sum_bald"]
    assert rows["BALD"]["batch_joint_mi"] < rows["BatchBALD"]["batch_joint_mi"]
    assert rows["LBB"]["batch_nonpositive_gains"] == 0 and rows["BALD"]["batch_nonpositive_gains"] is None
