"""LBB-code and PLBB-code: what the original code computes (docs/algorithms.md#lbb-code-and-plbb-code), kept to reproduce the published runs.

score[j] = BALD[j] + T[j], where the pool is cut, in its stored order, into contiguous chunks G of code_chunk_size
rows and, summing only over the other points i of j's chunk and the same class c:
    A[j,c] = (1/K) sum_k sum_{i != j} p[i,k,c] p[j,k,c]
    B[j,c] = sum_{i != j} pbar[i,c] pbar[j,c]
    T[j]   = sum_c A[j,c] (log(1 + A[j,c]) - log(1 + B[j,c]))
The original builds C x K x n x n tensors; the same numbers follow in O(N K C) from the chunk totals
S[G,k,c] = sum_{i in G} p[i,k,c]:  A[j,c] = (1/K) sum_k p[j,k,c] (S[G,k,c] - p[j,k,c]),
B[j,c] = pbar[j,c] (sum_{i in G} pbar[i,c] - pbar[j,c]).
code_chunk_size changes the scores (it is part of the original's method); chunk_size, the memory chunk, does not.
"""

from __future__ import annotations

import torch

from .candidate import CandidateBatch
from .sampling import power_log_weights, sample_without_replacement
from .scores import point_uncertainty, top_b, xlogx
from .validation import chunk_ranges, require_generator


def code_chunk_totals(log_probs_N_K_C: torch.Tensor, code_chunk_size: int, chunk_size: int) -> torch.Tensor:
    """S[G,k,c] = sum of p[i,k,c] over the rows i of each code chunk G, accumulated over memory chunks."""
    N, K, C = log_probs_N_K_C.shape
    num_code_chunks = -(-N // code_chunk_size)
    totals_G_K_C = torch.zeros((num_code_chunks, K, C), dtype=log_probs_N_K_C.dtype, device=log_probs_N_K_C.device)
    for start, end in chunk_ranges(N, chunk_size):
        code_chunk_n = torch.arange(start, end, device=log_probs_N_K_C.device) // code_chunk_size
        totals_G_K_C.index_add_(0, code_chunk_n, log_probs_N_K_C[start:end].exp())
    return totals_G_K_C


def code_chunk_term(log_probs_N_K_C: torch.Tensor, code_chunk_size: int = 1024, chunk_size: int = 1024) -> torch.Tensor:
    """The original's pairwise term T[j] (added to BALD by its code, despite the stated objective's minus sign)."""
    N, K, C = log_probs_N_K_C.shape
    totals_G_K_C = code_chunk_totals(log_probs_N_K_C, code_chunk_size, chunk_size)
    mean_totals_G_C = totals_G_K_C.mean(dim=1)  # sum_{i in G} pbar[i,c]
    term_N = torch.empty(N, dtype=log_probs_N_K_C.dtype, device=log_probs_N_K_C.device)
    for start, end in chunk_ranges(N, chunk_size):
        probs_n_K_C = log_probs_N_K_C[start:end].exp()
        code_chunk_n = torch.arange(start, end, device=log_probs_N_K_C.device) // code_chunk_size
        others_n_K_C = totals_G_K_C[code_chunk_n] - probs_n_K_C
        joint_n_C = (probs_n_K_C * others_n_K_C).mean(dim=1)
        mean_probs_n_C = probs_n_K_C.mean(dim=1)
        marginal_n_C = mean_probs_n_C * (mean_totals_G_C[code_chunk_n] - mean_probs_n_C)
        term_N[start:end] = (joint_n_C * (torch.log1p(joint_n_C) - torch.log1p(marginal_n_C))).sum(dim=1)
    return term_N


def lbb_code_scores(log_probs_N_K_C: torch.Tensor, code_chunk_size: int = 1024, chunk_size: int = 1024) -> torch.Tensor:
    """The original's final LBB score BALD + T.

    When a memory chunk can hold whole code chunks, one pass over blocks of whole code chunks computes everything
    from a single exp per element; otherwise the chunk totals are accumulated first (two passes).
    """
    if code_chunk_size > chunk_size:
        bald_N = point_uncertainty(log_probs_N_K_C, chunk_size).bald_N
        return bald_N + code_chunk_term(log_probs_N_K_C, code_chunk_size, chunk_size)
    N, K, _ = log_probs_N_K_C.shape
    scores_N = torch.empty(N, dtype=log_probs_N_K_C.dtype, device=log_probs_N_K_C.device)
    rows_per_block = (chunk_size // code_chunk_size) * code_chunk_size
    for start, end in chunk_ranges(N, rows_per_block):
        log_probs_n_K_C = log_probs_N_K_C[start:end]
        probs_n_K_C = log_probs_n_K_C.exp()
        mean_probs_n_C = probs_n_K_C.mean(dim=1)
        bald_n = -xlogx(mean_probs_n_C).sum(dim=1) + (probs_n_K_C * log_probs_n_K_C).sum(dim=(1, 2)) / K
        # Per-row chunk totals by broadcasting over whole code chunks (a gather of n x K x C would cost as much as the
        # rest of the pass); only the pool's last code chunk can be short.
        joint_n_C = torch.empty_like(mean_probs_n_C)
        for chunk_start, chunk_end in chunk_ranges(end - start, code_chunk_size):
            probs_g_K_C = probs_n_K_C[chunk_start:chunk_end]
            joint_n_C[chunk_start:chunk_end] = (probs_g_K_C * (probs_g_K_C.sum(dim=0) - probs_g_K_C)).mean(dim=1)
        totals_mean_n_C = torch.cat(
            [mean_probs_n_C[a:b].sum(dim=0).expand(b - a, -1) for a, b in chunk_ranges(end - start, code_chunk_size)]
        )
        marginal_n_C = mean_probs_n_C * (totals_mean_n_C - mean_probs_n_C)
        scores_N[start:end] = bald_n + (joint_n_C * (torch.log1p(joint_n_C) - torch.log1p(marginal_n_C))).sum(dim=1)
    return scores_N


def get_lbb_code_batch(
    log_probs_N_K_C: torch.Tensor, batch_size: int, *, code_chunk_size: int = 1024, chunk_size: int = 1024, progress: bool | None = None
) -> CandidateBatch:
    """The original's LBB: top-b of BALD + T (no interaction within the batch)."""
    batch_size = min(batch_size, log_probs_N_K_C.shape[0])
    return top_b(lbb_code_scores(log_probs_N_K_C, code_chunk_size, chunk_size), batch_size)


def get_plbb_code_batch(
    log_probs_N_K_C: torch.Tensor,
    batch_size: int,
    *,
    alpha: float = 5.0,
    code_chunk_size: int = 1024,
    generator: torch.Generator | None = None,
    chunk_size: int = 1024,
    progress: bool | None = None,
) -> CandidateBatch:
    """The original's PLBB: b draws without replacement with probability proportional to max(BALD + T, 0)^alpha."""
    generator = require_generator(generator, "PLBB-code")
    batch_size = min(batch_size, log_probs_N_K_C.shape[0])
    scores_N = lbb_code_scores(log_probs_N_K_C, code_chunk_size, chunk_size).cpu()
    indices = sample_without_replacement(power_log_weights(scores_N, alpha), batch_size, generator)
    return CandidateBatch(indices=indices.tolist(), scores=scores_N[indices].tolist())
