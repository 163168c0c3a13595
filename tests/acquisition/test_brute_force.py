"""Exact checks on tiny pools: joint label configurations enumerated with itertools.product."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from sbadbal.acquisition import acquire
from sbadbal.acquisition.joint import joint_entropies, probs_K_NC, sample_joint
from sbadbal.acquisition.lbb import pairwise_mutual_information
from sbadbal.acquisition.lbb_code import lbb_code_scores
from sbadbal.acquisition.scores import point_uncertainty

TINY_SHAPES = [(8, 6, 4), (7, 3, 3), (6, 5, 2), (8, 4, 3)]


def brute_joint_entropy(probs_N_K_C: torch.Tensor, subset: list[int]) -> float:
    """H(y_subset) by enumerating all C^|subset| label configurations (one row each)."""
    _, K, C = probs_N_K_C.shape
    labels_M_S = torch.tensor(list(itertools.product(range(C), repeat=len(subset))), dtype=torch.long).view(-1, len(subset))
    joint_M_K = torch.ones((labels_M_S.shape[0], K), dtype=torch.float64)
    for position, point in enumerate(subset):
        joint_M_K = joint_M_K * probs_N_K_C[point][:, labels_M_S[:, position]].t()
    probability_M = joint_M_K.mean(dim=1)
    return float(-torch.special.xlogy(probability_M, probability_M).sum())


def brute_conditional_entropy(probs_N_K_C: torch.Tensor, point: int) -> float:
    """E_k H(y_point | theta_k)."""
    probs_K_C = probs_N_K_C[point]
    return float(-(torch.special.xlogy(probs_K_C, probs_K_C)).sum(dim=1).mean())


def brute_joint_mutual_information(probs_N_K_C: torch.Tensor, subset: list[int]) -> float:
    """I(y_subset; theta) = H(y_subset) - sum_s E_k H(y_s | theta_k) (labels independent given theta)."""
    return brute_joint_entropy(probs_N_K_C, subset) - sum(brute_conditional_entropy(probs_N_K_C, s) for s in subset)


def brute_pairwise_mi(probs_N_K_C: torch.Tensor, i: int, j: int) -> float:
    return brute_joint_entropy(probs_N_K_C, [i]) + brute_joint_entropy(probs_N_K_C, [j]) - brute_joint_entropy(probs_N_K_C, [i, j])


def brute_batchbald_greedy(probs_N_K_C: torch.Tensor, batch_size: int) -> tuple[list[int], list[float]]:
    picks, scores = [], []
    for _ in range(batch_size):
        candidates = [j for j in range(probs_N_K_C.shape[0]) if j not in picks]
        values = [brute_joint_mutual_information(probs_N_K_C, picks + [j]) for j in candidates]
        best = max(range(len(candidates)), key=lambda position: values[position])
        picks.append(candidates[best])
        scores.append(values[best])
    return picks, scores


def brute_lbb_greedy(probs_N_K_C: torch.Tensor, batch_size: int, pair_weight: float) -> tuple[list[int], list[float]]:
    N = probs_N_K_C.shape[0]
    bald = [brute_joint_mutual_information(probs_N_K_C, [j]) for j in range(N)]
    mi = [[brute_pairwise_mi(probs_N_K_C, i, j) for j in range(N)] for i in range(N)]
    picks, scores = [], []
    for _ in range(batch_size):
        gains = {j: bald[j] - pair_weight * sum(mi[i][j] for i in picks) for j in range(N) if j not in picks}
        best = max(gains, key=gains.get)
        picks.append(best)
        scores.append(gains[best])
    return picks, scores


@pytest.mark.parametrize("shape", TINY_SHAPES)
def test_batchbald_matches_brute_force_greedy_in_exact_regime(shape, device, log_probs_factory):
    N, K, C = shape
    log_probs = log_probs_factory(N, K, C, seed=sum(shape), device=device)
    expected_picks, expected_scores = brute_batchbald_greedy(log_probs.cpu().exp(), N)
    batch = acquire("BatchBALD", log_probs, N, num_samples=C ** (N - 1))
    assert batch.indices == expected_picks
    assert batch.scores == pytest.approx(expected_scores, abs=1e-10)


def test_batchbald_first_score_is_bald(device, log_probs_factory):
    log_probs = log_probs_factory(8, 6, 4, seed=3, device=device)
    first = acquire("BatchBALD", log_probs, 1)
    bald = acquire("BALD", log_probs, 1)
    assert first.indices == bald.indices
    assert first.scores == pytest.approx(bald.scores, abs=1e-12)


def test_sampled_joint_entropy_estimates_exact_entropy(device, log_probs_factory):
    """The importance-sampled H(y_S, y_j) must approach the enumerated value (here 3 + 1 variables, C = 3)."""
    log_probs = log_probs_factory(8, 6, 3, seed=11, device=device)
    subset = [0, 2, 5]
    joint_M_K = sample_joint(log_probs[subset], 60_000, torch.Generator().manual_seed(0))
    weights_M = 1.0 / (joint_M_K.mean(dim=1) * joint_M_K.shape[0])
    estimated = joint_entropies(joint_M_K, probs_K_NC(log_probs, 4), 3, 4, weights_M).cpu()
    probs = log_probs.cpu().exp()
    for j in (1, 3, 7):
        assert float(estimated[j]) == pytest.approx(brute_joint_entropy(probs, subset + [j]), abs=0.03)


@pytest.mark.parametrize("shape", TINY_SHAPES)
def test_pairwise_mutual_information_matches_enumeration(shape, device, log_probs_factory):
    N, K, C = shape
    log_probs = log_probs_factory(N, K, C, seed=100 + N, device=device)
    entropy_N = point_uncertainty(log_probs, 3).predictive_entropy_N
    mi_N_N = pairwise_mutual_information(log_probs, log_probs, entropy_N, entropy_N).cpu()
    probs = log_probs.cpu().exp()
    expected = torch.tensor([[brute_pairwise_mi(probs, i, j) for j in range(N)] for i in range(N)], dtype=torch.float64)
    torch.testing.assert_close(mi_N_N, expected.clamp_min(0), atol=1e-12, rtol=0)
    # I(y_i; y_i) = H(y_i) - E_k H(y_i | theta)... is not BALD, but MI is symmetric and bounded by each BALD.
    bald_N = point_uncertainty(log_probs, 3).bald_N.cpu()
    torch.testing.assert_close(mi_N_N, mi_N_N.t(), atol=1e-12, rtol=0)
    off_diagonal = ~torch.eye(N, dtype=torch.bool)
    assert bool((mi_N_N <= bald_N[:, None] + 1e-12)[off_diagonal].all())


@pytest.mark.parametrize("pair_weight", [2.0, 1.0, 0.5, -0.5])
@pytest.mark.parametrize("chunk_size", [1, 3, 1024])
def test_lbb_greedy_gains_match_brute_force(pair_weight, chunk_size, device, log_probs_factory):
    N, K, C = 8, 6, 4
    log_probs = log_probs_factory(N, K, C, seed=7, device=device)
    expected_picks, expected_scores = brute_lbb_greedy(log_probs.cpu().exp(), N, pair_weight)
    batch = acquire("LBB", log_probs, N, pair_weight=pair_weight, chunk_size=chunk_size)
    assert batch.indices == expected_picks
    assert batch.scores == pytest.approx(expected_scores, abs=1e-10)


def test_plbb_scores_are_gains_along_its_draws(device, log_probs_factory):
    N, K, C = 8, 5, 3
    log_probs = log_probs_factory(N, K, C, seed=21, device=device)
    batch = acquire("PLBB", log_probs, N, generator=torch.Generator().manual_seed(4), alpha=1.0, pair_weight=2.0)
    probs = log_probs.cpu().exp()
    assert sorted(batch.indices) == list(range(N))
    for step, (point, score) in enumerate(zip(batch.indices, batch.scores)):
        earlier = batch.indices[:step]
        gain = brute_joint_mutual_information(probs, [point]) - 2.0 * sum(brute_pairwise_mi(probs, i, point) for i in earlier)
        assert score == pytest.approx(gain, abs=1e-10)


def original_lbb_direct(probs_N_K_C: torch.Tensor, code_chunk_size: int) -> torch.Tensor:
    """The original's BALD + T with explicit O(n^2) double loops over each chunk, as docs/algorithms.md#lbb-code-and-plbb-code describes it."""
    N, K, C = probs_N_K_C.shape
    mean_N_C = probs_N_K_C.mean(dim=1)
    bald = [
        float(-(torch.special.xlogy(mean_N_C[j], mean_N_C[j])).sum()) - brute_conditional_entropy(probs_N_K_C, j) for j in range(N)
    ]
    scores = torch.empty(N, dtype=torch.float64)
    for start in range(0, N, code_chunk_size):
        chunk = range(start, min(start + code_chunk_size, N))
        for j in chunk:
            term = 0.0
            for c in range(C):
                joint = sum(float((probs_N_K_C[i, :, c] * probs_N_K_C[j, :, c]).sum()) / K for i in chunk if i != j)
                marginal = sum(float(mean_N_C[i, c] * mean_N_C[j, c]) for i in chunk if i != j)
                term += joint * (math.log(1 + joint) - math.log(1 + marginal))
            scores[j] = bald[j] + term
    return scores


@pytest.mark.parametrize("code_chunk_size", [1, 3, 5, 8, 100])
@pytest.mark.parametrize("chunk_size", [2, 1024])
def test_lbb_code_matches_direct_seed_formula(code_chunk_size, chunk_size, device, log_probs_factory):
    log_probs = log_probs_factory(8, 6, 4, seed=5, device=device)
    expected = original_lbb_direct(log_probs.cpu().exp(), code_chunk_size)
    scores = lbb_code_scores(log_probs, code_chunk_size=code_chunk_size, chunk_size=chunk_size).cpu()
    torch.testing.assert_close(scores, expected, atol=1e-12, rtol=1e-12)
    batch = acquire("LBB-code", log_probs, 3, code_chunk_size=code_chunk_size, chunk_size=chunk_size)
    assert batch.indices == torch.topk(expected, 3).indices.tolist()


def test_lbb_code_term_depends_on_code_chunk_size(log_probs_factory):
    """The code chunk is part of the original's method (unlike the memory chunk): different sizes, different scores."""
    log_probs = log_probs_factory(64, 10, 5, seed=9)
    assert not torch.allclose(lbb_code_scores(log_probs, 8), lbb_code_scores(log_probs, 32))


def test_lbb_default_weight_is_one_and_matches_brute_force(device, log_probs_factory):
    """The default gain is BALD(j) - sum_{i in S} I(y_i; y_j): the second-order truncation of I(y_S; theta)."""
    N, K, C = 8, 6, 4
    log_probs = log_probs_factory(N, K, C, seed=17, device=device)
    expected_picks, expected_scores = brute_lbb_greedy(log_probs.cpu().exp(), N, 1.0)
    batch = acquire("LBB", log_probs, N)
    assert batch.indices == expected_picks
    assert batch.scores == pytest.approx(expected_scores, abs=1e-10)
    plbb = acquire("PLBB", log_probs, N, generator=torch.Generator().manual_seed(4), alpha=1.0)
    probs = log_probs.cpu().exp()
    for step, (point, score) in enumerate(zip(plbb.indices, plbb.scores)):
        earlier = plbb.indices[:step]
        gain = brute_joint_mutual_information(probs, [point]) - sum(brute_pairwise_mi(probs, i, point) for i in earlier)
        assert score == pytest.approx(gain, abs=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_lbb_with_weight_one_picks_batchbalds_first_two_points(seed, device, log_probs_factory):
    """I(y1, y2; theta) = BALD1 + BALD2 - I(y1; y2), so the greedy second steps maximise the same quantity."""
    log_probs = log_probs_factory(40, 8, 5, seed=300 + seed, device=device)
    lbb = acquire("LBB", log_probs, 2)
    batchbald = acquire("BatchBALD", log_probs, 2)
    assert lbb.indices == batchbald.indices
    # BatchBALD's score is the joint MI of the batch so far; LBB's is the gain, so they differ by the first BALD.
    assert lbb.scores[0] + lbb.scores[1] == pytest.approx(batchbald.scores[1], abs=1e-10)


def binary_log_probs(p_one_N_K: list[list[float]]) -> torch.Tensor:
    p_N_K = torch.tensor(p_one_N_K, dtype=torch.float64)
    return torch.stack([1 - p_N_K, p_N_K], dim=-1).log()


def test_lbb_with_weight_two_departs_from_batchbald_on_a_constructed_pool(device):
    """Point 0 is the most informative; point 1 is informative but shares I(y0; y1) = 0.169 nats with it; point 2 is
    independent of point 0 with a smaller BALD. Second gains: w = 1 gives 0.419 - 0.169 = 0.250 > 0.193 (point 1, as
    BatchBALD); w = 2 gives 0.419 - 0.338 = 0.081 < 0.193 (point 2)."""
    log_probs = binary_log_probs([[0.999, 0.999, 0.001, 0.001], [0.01, 0.01, 0.01, 0.9], [0.8, 0.2, 0.8, 0.2]]).to(device)
    assert acquire("BatchBALD", log_probs, 2).indices == [0, 1]
    assert acquire("LBB", log_probs, 2).indices == [0, 1]
    assert acquire("LBB", log_probs, 2, pair_weight=2.0).indices == [0, 2]


@pytest.mark.parametrize("shape", TINY_SHAPES)
def test_batch_joint_mi_matches_enumeration(shape, device, log_probs_factory):
    from sbadbal.acquisition.diagnostics import batch_joint_mi

    N, K, C = shape
    log_probs = log_probs_factory(N, K, C, seed=200 + N, device=device)
    probs = log_probs.cpu().exp()
    for picks in ([2], [0, 3], [4, 1, 5], list(range(N - 1, -1, -1))):
        expected = brute_joint_mutual_information(probs, picks)
        assert batch_joint_mi(log_probs, picks, num_samples=C ** (len(picks) - 1)) == pytest.approx(expected, abs=1e-10)


def test_sampled_batch_joint_mi_estimates_enumeration(device, log_probs_factory):
    """8 picks, C = 3: 3^7 = 2187 configurations enumerated vs 1000 drawn (standard deviation 0.05 nats here)."""
    from sbadbal.acquisition.diagnostics import batch_joint_mi

    log_probs = log_probs_factory(12, 10, 3, seed=41, device=device)
    picks = [0, 2, 3, 5, 7, 8, 10, 11]
    exact = brute_joint_mutual_information(log_probs.cpu().exp(), picks)
    estimates = [batch_joint_mi(log_probs, picks, num_samples=1000, seed=seed) for seed in range(8)]
    assert len(set(estimates)) == 8, "each seed must draw its own configurations"
    assert batch_joint_mi(log_probs, picks, num_samples=1000, seed=3) == estimates[3], "a seed fixes the estimate"
    for estimate in estimates:
        assert estimate == pytest.approx(exact, abs=0.2)
    assert sum(estimates) / len(estimates) == pytest.approx(exact, abs=0.05)
