"""BatchBALD (Kirsch et al. 2019): greedy maximisation of the joint mutual information I(y_S; theta).

Score of candidate j given the batch S (as batchbald_redux): H(y_S, y_j) - E_k H(y_j|w_k) - sum_{s in S} E_k H(y_s|w_k).
The joint entropy is exact while C^|S| <= num_samples joint configurations, and importance-sampled beyond
(docs/algorithms.md#batchbald). Speed comes from computing every candidate's joint entropy as one matrix product: with the joint
configuration probabilities J[m,k] = prod_{s in S} p[s,k,y_s^(m)] and the pool probabilities laid out as a
K x (N*C) matrix, P[m,(n,c)] = (1/K) sum_k J[m,k] p[n,k,c] is J @ probs_K_NC for all candidates at once.
"""

from __future__ import annotations

import logging

import torch

from ..ops.progress import progress_bar
from .candidate import CandidateBatch
from .joint import JointEntropy, probs_K_NC, uses_sampled_regime
from .scores import point_uncertainty
from .validation import require_generator

logger = logging.getLogger(__name__)


def joint_phases(sampled_by_pick: list[bool], num_samples: int) -> str:
    """In words, which greedy picks scored their candidates on the exact joint of the labels chosen before them and
    which on the importance-sampled one, from what the joint entropy reported at each pick."""
    sampled = [i + 1 for i, flag in enumerate(sampled_by_pick) if flag]
    if not sampled:
        return f"all {len(sampled_by_pick)} pick(s) on the exact joint"
    exact = f"picks 1-{sampled[0] - 1} on the exact joint, " if sampled[0] > 1 else ""
    return f"{exact}picks {sampled[0]}-{sampled[-1]} on {num_samples} importance-sampled configurations"


def get_batchbald_batch(
    log_probs_N_K_C: torch.Tensor,
    batch_size: int,
    *,
    num_samples: int = 100_000,
    generator: torch.Generator | None = None,
    chunk_size: int = 1024,
    progress: bool | None = None,
) -> CandidateBatch:
    """Greedy BatchBALD; needs a generator only when the batch reaches the sampled regime."""
    N, K, C = log_probs_N_K_C.shape
    batch_size = min(batch_size, N)
    sampled = uses_sampled_regime(C, batch_size, num_samples)
    if sampled:
        require_generator(generator, f"BatchBALD with C^(b-1) = {C}^{batch_size - 1} > num_samples = {num_samples} (sampled regime)")
        if num_samples < K:
            raise ValueError(
                f"num_samples = {num_samples} must be >= K = {K} in BatchBALD's sampled regime (num_samples // K label "
                "vectors are drawn per posterior sample)"
            )
    conditional_entropies_N = point_uncertainty(log_probs_N_K_C, chunk_size).expected_conditional_entropy_N
    probs = probs_K_NC(log_probs_N_K_C, chunk_size)
    # Re-sampled from scratch for every new batch size once sampled, as the reference does.
    joint = JointEntropy(C, num_samples, log_probs_N_K_C, generator)
    selected_mask_N = torch.zeros(N, dtype=torch.bool, device=log_probs_N_K_C.device)
    indices: list[int] = []
    scores: list[float] = []
    selected_conditional_entropy = 0.0
    sampled_by_pick: list[bool] = []
    for step in progress_bar(range(batch_size), total=batch_size, desc="BatchBALD", enabled=progress):
        if step > 0:
            joint.add(log_probs_N_K_C[indices], probs.view(K, N, C)[:, indices[-1]])
        sampled_by_pick.append(joint.is_sampled)
        scores_N = joint.entropies(probs, chunk_size)
        scores_N -= conditional_entropies_N + selected_conditional_entropy
        scores_N[selected_mask_N] = -torch.inf
        # argmax, not max(dim=0): the latter was measured at ~10 ms per call on CPU in this torch build.
        index = int(scores_N.argmax())
        indices.append(index)
        scores.append(float(scores_N[index]))
        selected_mask_N[index] = True
        selected_conditional_entropy += float(conditional_entropies_N[index])
    # Which phase a batch reached is what small tests are least likely to exercise; the run's log says it.
    logger.info("BatchBALD: %s (C = %d, K = %d)", joint_phases(sampled_by_pick, num_samples), C, K)
    return CandidateBatch(indices=indices, scores=scores)
