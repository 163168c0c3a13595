"""LBB and PLBB: greedy maximisation of sum_i I(y_i; theta) - w * sum_{i<j} I(y_i; y_j).

Adding j to the batch S gains BALD(j) - w * sum_{i in S} I(y_i; y_j), with the exact pairwise mutual information
I(y_i; y_j) = H(y_i) + H(y_j) - H(y_i, y_j) from the C x C joint P_ij(c, c') = (1/K) sum_k p[i,k,c] p[j,k,c'].

w = 1 (the default) is the second-order truncation of the joint mutual information: labels are independent given
theta, so I(y_B; theta) = sum_i BALD(i) - sum_{i<j} I(y_i; y_j) + (third- and higher-order terms), and for two
points it is exact, I(y_1, y_2; theta) = BALD(1) + BALD(2) - I(y_1; y_2): greedy LBB with w = 1 picks the same first
two points as BatchBALD. w = 2 is the README objective as written, sum_i BALD(i) - sum_i sum_{j != i} I(y_i; y_j),
whose double sum over ordered pairs counts each unordered pair twice; it over-penalises redundancy, and on synthetic
pools made many picks at a non-positive gain. It stays reachable as pair_weight = 2.

LBB is exact greedy computed lazily: with w >= 0 a gain can only shrink as the batch grows (I >= 0), so a stale gain
is an upper bound. Each step takes the best bound; if it is stale, the penalties of the top `chunk_size` stale
candidates are brought up to date with the picks they missed and the step looks again. A pick is made only when the
best bound is current, so the picks and scores equal those of recomputing every gain each step, at a fraction of the
O(N K C^2) pass per step. With w < 0 bounds do not hold and every gain is recomputed each step.
"""

from __future__ import annotations

import torch

from ..ops.progress import progress_bar
from .candidate import CandidateBatch
from .sampling import draw_one, power_log_weights
from .scores import point_uncertainty, xlogx
from .validation import chunk_ranges, require_generator

# Bound on the [a*C, m*C] pairwise joint block, in elements (4 MiB in float64).
PAIR_ELEMENTS_PER_BLOCK = 1 << 19


def pairwise_mutual_information(
    log_probs_A_K_C: torch.Tensor,
    log_probs_B_K_C: torch.Tensor,
    predictive_entropy_A: torch.Tensor,
    predictive_entropy_B: torch.Tensor,
) -> torch.Tensor:
    """I(y_a; y_b) for every pair, shape [A, B], exact under the empirical posterior of the K samples."""
    return pairwise_mutual_information_from_probs(
        log_probs_A_K_C.exp(), log_probs_B_K_C.exp(), predictive_entropy_A, predictive_entropy_B
    )


def pairwise_mutual_information_from_probs(
    probs_A_K_C: torch.Tensor,
    probs_B_K_C: torch.Tensor,
    predictive_entropy_A: torch.Tensor,
    predictive_entropy_B: torch.Tensor,
) -> torch.Tensor:
    """As pairwise_mutual_information, from probabilities (callers that reuse them skip the exp)."""
    A, K, C = probs_A_K_C.shape
    B = probs_B_K_C.shape[0]
    right_K_BC = probs_B_K_C.permute(1, 0, 2).reshape(K, B * C)
    left_AC_K = (probs_A_K_C / K).permute(0, 2, 1).reshape(A * C, K)
    joint_entropy_A_B = torch.empty((A, B), dtype=probs_A_K_C.dtype, device=probs_A_K_C.device)
    rows_per_block = max(1, PAIR_ELEMENTS_PER_BLOCK // (B * C * C))
    for start, end in chunk_ranges(A, rows_per_block):
        joint_aC_BC = left_AC_K[start * C : end * C] @ right_K_BC
        joint_entropy_A_B[start:end] = -xlogx(joint_aC_BC).view(end - start, C, B, C).sum(dim=(1, 3))
    mutual_information_A_B = predictive_entropy_A[:, None] + predictive_entropy_B[None, :] - joint_entropy_A_B
    # The identity gives -1e-16 for independent pairs; a negative MI would break the lazy upper bounds.
    return mutual_information_A_B.clamp_min_(0.0)


def refresh_penalties(
    log_probs_N_K_C: torch.Tensor,
    predictive_entropy_N: torch.Tensor,
    picks: list[int],
    candidates_Q: torch.Tensor,
    penalty_N: torch.Tensor,
    accounted_N: torch.Tensor,
) -> None:
    """Add to each candidate's penalty sum the MI with the picks it has not yet seen (picks[accounted:]).

    Candidates are grouped by how many picks they have seen, so each pair is computed once and only when needed.
    """
    accounted_Q = accounted_N[candidates_Q]
    seen_counts = torch.unique(accounted_Q).tolist()
    # One exp for the refreshed candidates and one for the picks they miss, shared by all groups.
    missing_picks = torch.tensor(picks[seen_counts[0]:], device=log_probs_N_K_C.device)
    pick_probs_P_K_C = log_probs_N_K_C[missing_picks].exp()
    pick_entropy_P = predictive_entropy_N[missing_picks]
    candidate_probs_Q_K_C = log_probs_N_K_C[candidates_Q].exp()
    for seen in seen_counts:
        in_group_Q = accounted_Q == seen
        group_G = candidates_Q[in_group_Q]
        offset = seen - seen_counts[0]
        mi_P_G = pairwise_mutual_information_from_probs(
            pick_probs_P_K_C[offset:], candidate_probs_Q_K_C[in_group_Q], pick_entropy_P[offset:], predictive_entropy_N[group_G]
        )
        penalty_N[group_G] += mi_P_G.sum(dim=0)
    accounted_N[candidates_Q] = len(picks)


def get_lbb_batch(
    log_probs_N_K_C: torch.Tensor,
    batch_size: int,
    *,
    pair_weight: float = 1.0,
    chunk_size: int = 1024,
    progress: bool | None = None,
) -> CandidateBatch:
    """Greedy LBB; each score is the gain BALD(j) - w * sum_{i in S} I(y_i; y_j) at the time j was picked."""
    N = log_probs_N_K_C.shape[0]
    batch_size = min(batch_size, N)
    device = log_probs_N_K_C.device
    uncertainty = point_uncertainty(log_probs_N_K_C, chunk_size)
    bald_N, predictive_entropy_N = uncertainty.bald_N, uncertainty.predictive_entropy_N
    penalty_N = torch.zeros_like(bald_N)
    accounted_N = torch.zeros(N, dtype=torch.long, device=device)
    # bound_N = BALD - w * (penalty over the picks seen so far); -inf once selected. Kept up to date incrementally so
    # that a refresh costs two passes over N (argmax, topk), not a dozen.
    bound_N = bald_N.clone()
    refresh_size = min(chunk_size, N) if pair_weight >= 0 else N
    picks: list[int] = []
    scores: list[float] = []
    for _ in progress_bar(range(batch_size), total=batch_size, desc="LBB", enabled=progress):
        while True:
            best = int(bound_N.argmax())
            if int(accounted_N[best]) == len(picks):
                break
            top_Q = torch.topk(bound_N, refresh_size).indices
            # The stale best is among the top, so every round makes progress.
            candidates_Q = top_Q[(accounted_N[top_Q] < len(picks)) & torch.isfinite(bound_N[top_Q])]
            refresh_penalties(log_probs_N_K_C, predictive_entropy_N, picks, candidates_Q, penalty_N, accounted_N)
            bound_N[candidates_Q] = bald_N[candidates_Q] - pair_weight * penalty_N[candidates_Q]
        picks.append(best)
        scores.append(float(bound_N[best]))
        bound_N[best] = -torch.inf
    return CandidateBatch(indices=picks, scores=scores)


def get_plbb_batch(
    log_probs_N_K_C: torch.Tensor,
    batch_size: int,
    *,
    alpha: float = 5.0,
    pair_weight: float = 1.0,
    generator: torch.Generator | None = None,
    chunk_size: int = 1024,
    progress: bool | None = None,
) -> CandidateBatch:
    """Power-sampled LBB: draw the next point with probability proportional to max(gain, 0)^alpha among the points
    not yet drawn, update every gain with the MI to the new point, repeat. Scores are the gains at drawing time."""
    generator = require_generator(generator, "PLBB")
    N = log_probs_N_K_C.shape[0]
    batch_size = min(batch_size, N)
    uncertainty = point_uncertainty(log_probs_N_K_C, chunk_size)
    bald_N, predictive_entropy_N = uncertainty.bald_N, uncertainty.predictive_entropy_N
    penalty_N = torch.zeros_like(bald_N)
    remaining_N = torch.ones(N, dtype=torch.bool, device="cpu")
    picks: list[int] = []
    scores: list[float] = []
    for _ in progress_bar(range(batch_size), total=batch_size, desc="PLBB", enabled=progress):
        if picks:
            latest = picks[-1]
            for start, end in chunk_ranges(N, chunk_size):
                penalty_N[start:end] += pairwise_mutual_information(
                    log_probs_N_K_C[latest : latest + 1],
                    log_probs_N_K_C[start:end],
                    predictive_entropy_N[latest : latest + 1],
                    predictive_entropy_N[start:end],
                )[0]
        gains_N = (bald_N - pair_weight * penalty_N).cpu()
        remaining_indices = torch.nonzero(remaining_N).flatten()
        drawn = int(remaining_indices[draw_one(power_log_weights(gains_N[remaining_indices], alpha), generator)])
        picks.append(drawn)
        scores.append(float(gains_N[drawn]))
        remaining_N[drawn] = False
    return CandidateBatch(indices=picks, scores=scores)
