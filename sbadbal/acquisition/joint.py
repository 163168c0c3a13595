"""Joint entropies of label configurations under K posterior samples: what BatchBALD greedily maximises and the
batch diagnostics (sbadbal/acquisition/diagnostics.py) evaluate, behind one object, `JointEntropy`, that decides
between exact enumeration and importance sampling.

Its own module so that the diagnostics, which every run computes, do not depend on BatchBALD's greedy loop: an edit
of batchbald.py reruns the BatchBALD runs only (a run's code inputs follow its imports, sbadbal/ops/codegraph.py).
With the joint configuration probabilities J[m,k] = prod_{s in S} p[s,k,y_s^(m)] and the pool probabilities laid out
as a K x (N*C) matrix, P[m,(n,c)] = (1/K) sum_k J[m,k] p[n,k,c] is J @ probs_K_NC for all candidates at once.
"""

from __future__ import annotations

import torch

from .scores import xlogx
from .validation import chunk_ranges

# The candidate chunk holds an [M, n*C] matrix; cap it at this many elements (32 MiB in float64) whatever the chunk
# size, because M can be 10^5. Much smaller blocks were measured slower on a busy 2-core machine (per-op overhead).
JOINT_ELEMENTS_PER_CHUNK = 1 << 22


def uses_sampled_regime(num_classes: int, batch_size: int, num_samples: int) -> bool:
    """True when the last greedy step conditions on more than num_samples joint configurations."""
    return batch_size >= 2 and num_classes ** (batch_size - 1) > num_samples


def probs_K_NC(log_probs_N_K_C: torch.Tensor, chunk_size: int) -> torch.Tensor:
    """exp(log_probs) laid out as [K, N*C] so that a candidate chunk is a column slice of one matrix."""
    N, K, C = log_probs_N_K_C.shape
    out_K_N_C = torch.empty((K, N, C), dtype=log_probs_N_K_C.dtype, device=log_probs_N_K_C.device)
    for start, end in chunk_ranges(N, chunk_size):
        out_K_N_C[:, start:end] = log_probs_N_K_C[start:end].exp().transpose(0, 1)
    return out_K_N_C.view(K, N * C)


def extend_exact_joint(joint_probs_M_K: torch.Tensor, probs_K_C: torch.Tensor) -> torch.Tensor:
    """Joint configuration probabilities after adding one variable: [M, K] -> [M*C, K], configuration-major."""
    M, K = joint_probs_M_K.shape
    return (joint_probs_M_K[:, None, :] * probs_K_C.t()[None, :, :]).reshape(M * probs_K_C.shape[1], K)


def sample_joint(log_probs_S_K_C: torch.Tensor, num_samples: int, generator: torch.Generator) -> torch.Tensor:
    """Importance samples of y_S: for each posterior sample k draw num_samples // K label vectors from p(.|w_k),
    and return J[m,k'] = prod_s p[s,k',y_{m,s}] for every k' (shape [K * (num_samples // K), K]).

    Labels are drawn on the CPU generator so the samples are the same on every device.
    """
    S, K, C = log_probs_S_K_C.shape
    per_posterior_sample = num_samples // K
    probs_SK_C = log_probs_S_K_C.detach().to(device="cpu", dtype=torch.float64).exp().reshape(S * K, C)
    labels_S_K_R = torch.multinomial(probs_SK_C, per_posterior_sample, replacement=True, generator=generator).view(S, K, -1)
    # Configuration m = (k, r): the label vector drawn from posterior sample k, repetition r.
    labels_S_M = labels_S_K_R.reshape(S, K * per_posterior_sample).to(log_probs_S_K_C.device)
    log_joint_K_M = torch.zeros((K, labels_S_M.shape[1]), dtype=log_probs_S_K_C.dtype, device=log_probs_S_K_C.device)
    for s in range(S):
        # log p[s, k', y_{m,s}] for all k' and m; summing logs keeps the product of many small probabilities exact-ish.
        log_joint_K_M += log_probs_S_K_C[s][:, labels_S_M[s]]
    return log_joint_K_M.exp().t().contiguous()


def joint_entropies(
    joint_probs_M_K: torch.Tensor,
    probs_K_NC: torch.Tensor,
    num_classes: int,
    chunk_size: int,
    importance_weights_M: torch.Tensor | None = None,
) -> torch.Tensor:
    """H(y_S, y_n) for every pool point n: exact, or the importance-sampled estimate when weights 1/(M q_m) are given."""
    M, K = joint_probs_M_K.shape
    N = probs_K_NC.shape[1] // num_classes
    rows_per_chunk = max(1, min(chunk_size, JOINT_ELEMENTS_PER_CHUNK // (M * num_classes)))
    scaled_joint_M_K = joint_probs_M_K / K
    entropies_N = torch.empty(N, dtype=probs_K_NC.dtype, device=probs_K_NC.device)
    for start, end in chunk_ranges(N, rows_per_chunk):
        joint_M_nC = scaled_joint_M_K @ probs_K_NC[:, start * num_classes : end * num_classes]
        nats_M_nC = xlogx(joint_M_nC)
        if importance_weights_M is None:
            nats_nC = nats_M_nC.sum(dim=0)
        else:
            nats_nC = importance_weights_M @ nats_M_nC
        entropies_N[start:end] = -nats_nC.view(end - start, num_classes).sum(dim=1)
    return entropies_N


class JointEntropy:
    """H(y_S, y_n) of a set S of chosen points and each candidate n, under the K posterior samples.

    The labels of S are enumerated (all C^|S| configurations, J[m, k] = prod_{s in S} p[s, k, y_s^(m)]) while
    C^|S| <= num_samples; beyond, K * (num_samples // K) label vectors are drawn from the posterior predictive
    q(m) = (1/K) sum_k J[m, k] (`sample_joint`, on `generator`) and the sum over configurations is weighted by
    1 / (M q(m)): importance-sampled, unbiased. A candidate's C classes are always summed exactly.

    `add` grows S by one point (BatchBALD's greedy steps: the exact table is extended, a sampled one drawn afresh
    for the new S); `condition_on` sets S at once (one batch's diagnostics: sampled once when S is too large).
    """

    def __init__(self, num_classes: int, num_samples: int, like_N_K_C: torch.Tensor,
                 generator: torch.Generator | None = None) -> None:
        # like_N_K_C: any log-probabilities of the pool, for K, dtype and device.
        self.num_classes, self.num_samples, self.generator = num_classes, num_samples, generator
        self._joint_M_K = torch.ones((1, like_N_K_C.shape[1]), dtype=like_N_K_C.dtype, device=like_N_K_C.device)
        self._weights_M: torch.Tensor | None = None

    @property
    def is_sampled(self) -> bool:
        """Whether the current set S is importance-sampled (False: enumerated, or still empty)."""
        return self._weights_M is not None

    def sampled(self, size: int) -> bool:
        """Whether a set of `size` points is importance-sampled rather than enumerated."""
        return self.num_classes ** size > self.num_samples

    def add(self, chosen_S_K_C: torch.Tensor, newest_probs_K_C: torch.Tensor) -> None:
        """S becomes the points of `chosen_S_K_C` (log-probabilities, the newest last, whose probabilities are
        `newest_probs_K_C`)."""
        if self.sampled(chosen_S_K_C.shape[0]):
            self._draw(chosen_S_K_C)
        else:
            self._joint_M_K = extend_exact_joint(self._joint_M_K, newest_probs_K_C)

    def condition_on(self, chosen_S_K_C: torch.Tensor) -> None:
        """S becomes the points of `chosen_S_K_C` (log-probabilities), enumerated or sampled as a whole."""
        if self.sampled(chosen_S_K_C.shape[0]):
            self._draw(chosen_S_K_C)
            return
        for s in range(chosen_S_K_C.shape[0]):
            self._joint_M_K = extend_exact_joint(self._joint_M_K, chosen_S_K_C[s].exp())

    def _draw(self, chosen_S_K_C: torch.Tensor) -> None:
        K = chosen_S_K_C.shape[1]
        if self.num_samples < K:
            raise ValueError(f"num_samples = {self.num_samples} must be >= K = {K} to sample joint configurations")
        if self.generator is None:
            raise ValueError("sampling joint configurations needs a generator")
        self._joint_M_K = sample_joint(chosen_S_K_C, self.num_samples, self.generator)
        proposal_M = self._joint_M_K.mean(dim=1)
        # A sample whose joint probability underflowed to 0 (long batches, float32) contributes P = 0 for every
        # candidate; weight 0 instead of 1/0 keeps the estimate free of 0 * inf = NaN.
        self._weights_M = torch.where(
            proposal_M > 0, 1.0 / (proposal_M * self._joint_M_K.shape[0]), torch.zeros_like(proposal_M)
        )

    def entropies(self, probs_K_NC: torch.Tensor, chunk_size: int) -> torch.Tensor:
        """H(y_S, y_n) for every candidate n of `probs_K_NC` (probs_K_NC's layout)."""
        return joint_entropies(self._joint_M_K, probs_K_NC, self.num_classes, chunk_size, self._weights_M)
