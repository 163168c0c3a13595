"""Batch-quality diagnostics of one acquired batch, for any algorithm: how much the batch tells about theta.

Accuracy at small budgets is noisy; the information content of a batch is not. For a batch B (pool positions in
selection order) under the K posterior samples that scored the pool:

- batch_joint_mi = I(y_B; theta) = H(y_B) - sum_{s in B} E_k H(y_s | theta_k)  (labels independent given theta),
  with H(y_B) exact while C^(|B|-1) <= num_samples and importance-sampled beyond, by BatchBALD's own machinery
  (sbadbal.acquisition.joint.JointEntropy), so a BatchBALD batch's value is its last greedy score;
- batch_sum_bald = sum_{s in B} I(y_s; theta). I(y_B; theta) <= sum BALD, with equality for independent labels, so
  batch_joint_mi / batch_sum_bald in (0, 1] measures how little of the batch is redundant;
- batch_copies: on repeated datasets, the picks that add no new base point (a copy of a labelled point or of an
  earlier pick of the same batch);
- batch_nonpositive_gains: for algorithms whose scores are greedy gains at pick time (their record says
  scores_are_gains: LBB, PLBB and their pair_weight variants, CandidateBatch.scores[t] = BALD(j_t) - w * sum_{i
  picked before} I(y_i; y_{j_t})), the picks whose gain was <= 0, i.e. made although the objective said they did not
  help.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from .joint import JointEntropy, probs_K_NC
from .scores import point_uncertainty

# Enumerate while the first |B|-1 labels have at most this many joint configurations (as BatchBALD's num_samples);
# beyond, draw this many configurations. Exact at C = 10 up to b = 5; sampled with standard error of a few 0.01
# nats on MNIST-like batches of 10 to 20, at a cost small next to scoring the pool (see the tests and the report).
DEFAULT_NUM_SAMPLES = 10_000
# The importance samples are drawn from a generator seeded with this, so a diagnostic is a function of its inputs.
DEFAULT_SAMPLE_SEED = 0

def joint_entropy_of_batch(
    log_probs_B_K_C: torch.Tensor, *, num_samples: int = DEFAULT_NUM_SAMPLES, seed: int = DEFAULT_SAMPLE_SEED
) -> float:
    """H(y_B) under the empirical posterior of the K samples, P(y_B) = (1/K) sum_k prod_s p[s, k, y_s].

    The first |B|-1 labels give the joint configuration probabilities J[m, k] = prod_s p[s, k, y_s^(m)], and the last
    point enters as BatchBALD's candidate: H(y_B) = -sum_m sum_c P(m, c) log P(m, c) with P(m, c) = (1/K) sum_k J[m, k]
    p[last, k, c]. J is enumerated (C^(|B|-1) rows) while that is <= num_samples; beyond, K * (num_samples // K)
    label vectors are drawn from the posterior predictive, q(m) = (1/K) sum_k J[m, k], and the sum is weighted by
    1 / (M q(m)): the sum over the first |B|-1 labels is importance-sampled (unbiased), the last label's C classes
    are summed exactly. Standard error about std(log P(y_B)) / sqrt(M).
    """
    B, K, C = log_probs_B_K_C.shape
    if B == 0:
        return 0.0
    joint = JointEntropy(C, num_samples, log_probs_B_K_C, torch.Generator().manual_seed(seed))
    joint.condition_on(log_probs_B_K_C[:-1])
    return float(joint.entropies(probs_K_NC(log_probs_B_K_C[-1:], 1), 1)[0])


def batch_joint_mi(
    log_probs_P_K_C: torch.Tensor,
    picks: Sequence[int],
    *,
    num_samples: int = DEFAULT_NUM_SAMPLES,
    seed: int = DEFAULT_SAMPLE_SEED,
) -> float:
    """I(y_B; theta) = H(y_B) - sum_{s in B} E_k H(y_s | theta_k) for the pool positions `picks` (exact or sampled, as
    joint_entropy_of_batch). For a single pick it is that pick's BALD; for an exact copy of a pick it adds nothing."""
    log_probs_B_K_C = log_probs_P_K_C[torch.as_tensor(list(picks), dtype=torch.long, device=log_probs_P_K_C.device)]
    conditional_entropy = float(point_uncertainty(log_probs_B_K_C, 1024).expected_conditional_entropy_N.sum())
    return joint_entropy_of_batch(log_probs_B_K_C, num_samples=num_samples, seed=seed) - conditional_entropy


def batch_sum_bald(log_probs_P_K_C: torch.Tensor, picks: Sequence[int]) -> float:
    """sum_{s in B} I(y_s; theta), the value of the batch if its labels were independent given nothing."""
    log_probs_B_K_C = log_probs_P_K_C[torch.as_tensor(list(picks), dtype=torch.long, device=log_probs_P_K_C.device)]
    return float(point_uncertainty(log_probs_B_K_C, 1024).bald_N.sum())


def base_indices(train_indices: Sequence[int], num_base_train: int) -> list[int]:
    """The base point of each train index of a repeated dataset: copy r of base point i sits at i + r * n_base
    (sbadbal.data.prepared.PreparedDataset), so the base index is the train index modulo n_base."""
    return [int(index) % num_base_train for index in train_indices]


def batch_copies(pick_base_indices: Sequence[int], labelled_base_indices: Sequence[int]) -> int:
    """Picks that add no new base point: a copy of a labelled point, or of an earlier pick of the same batch.

    Equals |B| - |{base(j) : j in B} minus {base(i) : i labelled}|; two copies of one new point in a batch count once
    (one of them is redundant), three count twice.
    """
    seen = set(int(index) for index in labelled_base_indices)
    copies = 0
    for index in pick_base_indices:
        copies += int(index) in seen
        seen.add(int(index))
    return copies


def batch_nonpositive_gains(gains: Sequence[float]) -> int:
    """Picks made at a gain <= 0 (the objective said the pick did not add information)."""
    return sum(1 for gain in gains if gain <= 0)


def batch_diagnostics(
    log_probs_P_K_C: torch.Tensor,
    picks: Sequence[int],
    *,
    scores_are_gains: bool,
    scores: Sequence[float] | None = None,
    pick_base_indices: Sequence[int] | None = None,
    labelled_base_indices: Sequence[int] | None = None,
    num_samples: int = DEFAULT_NUM_SAMPLES,
    seed: int = DEFAULT_SAMPLE_SEED,
) -> dict[str, Any]:
    """The four diagnostic columns of one acquired batch (sbadbal/runs/schema.py).

    log_probs_P_K_C: the scored pool; picks: positions in it, in selection order (CandidateBatch.indices);
    scores_are_gains: whether the acquisition function's scores are greedy gains (its record says); scores:
    CandidateBatch.scores; pick_base_indices / labelled_base_indices: base indices (base_indices) of the picks and
    of every point labelled before this batch, on repeated datasets only. Not applicable is None for batch_copies
    (dataset not repeated) and batch_nonpositive_gains (scores are not gains); an empty batch has NaN MI values.
    """
    if len(picks) == 0:
        return {"batch_joint_mi": math.nan, "batch_sum_bald": math.nan, "batch_copies": None,
                "batch_nonpositive_gains": None}
    gains_apply = scores is not None and scores_are_gains
    copies_apply = pick_base_indices is not None and labelled_base_indices is not None
    return {
        "batch_joint_mi": batch_joint_mi(log_probs_P_K_C, picks, num_samples=num_samples, seed=seed),
        "batch_sum_bald": batch_sum_bald(log_probs_P_K_C, picks),
        "batch_copies": batch_copies(pick_base_indices, labelled_base_indices) if copies_apply else None,
        "batch_nonpositive_gains": batch_nonpositive_gains(scores) if gains_apply else None,
    }
