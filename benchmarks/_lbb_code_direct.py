"""The original's LBB-code formula computed the direct way, with explicit n x n pair products per chunk and class.

This mirrors the cost structure of the original code (O(N n K C) time for chunk size n; the original materialises
C x K x n x n tensors, here blocked over rows of j to bound memory) and serves as the speed reference for
sbadbal's O(N K C) LBB-code.
"""

from __future__ import annotations

import torch

from sbadbal.acquisition.scores import bald_scores

ROW_BLOCK_ELEMENTS = 1 << 23


def lbb_code_scores_direct(log_probs_N_K_C: torch.Tensor, code_chunk_size: int = 1024) -> torch.Tensor:
    """BALD[j] + sum_c A[j,c] (log(1+A[j,c]) - log(1+B[j,c])) with A, B summed over i != j in j's code chunk."""
    N, K, C = log_probs_N_K_C.shape
    scores_N = bald_scores(log_probs_N_K_C)
    for start in range(0, N, code_chunk_size):
        probs_n_K_C = log_probs_N_K_C[start : start + code_chunk_size].exp()
        n = probs_n_K_C.shape[0]
        mean_n_C = probs_n_K_C.mean(dim=1)
        others_n_n = ~torch.eye(n, dtype=torch.bool, device=log_probs_N_K_C.device)
        rows_per_block = max(1, ROW_BLOCK_ELEMENTS // (K * n))
        for c in range(C):
            probs_K_n = probs_n_K_C[:, :, c].t()
            for row in range(0, n, rows_per_block):
                rows = slice(row, min(row + rows_per_block, n))
                # Every pair product p[i,k,c] p[j,k,c], as the original forms it, then the masked sums over k and i.
                pair_K_r_n = probs_K_n[:, rows, None] * probs_K_n[:, None, :]
                joint_r = (pair_K_r_n.mean(dim=0) * others_n_n[rows]).sum(dim=1)
                marginal_r = ((mean_n_C[rows, c, None] * mean_n_C[None, :, c]) * others_n_n[rows]).sum(dim=1)
                scores_N[start + rows.start : start + rows.stop] += joint_r * (torch.log1p(joint_r) - torch.log1p(marginal_r))
    return scores_N
