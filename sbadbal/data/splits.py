"""Class-stratified splits and subsets, as fixed functions of a seed (MNIST5K's pool/test split, AG News subsets)."""

from __future__ import annotations

import torch


def stratified_split(labels_N: torch.Tensor, test_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(pool indices, test indices), each class split in the same proportion; both sorted. A fixed seed fixes it."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction!r}")
    generator = torch.Generator().manual_seed(int(seed))
    pool, test = [], []
    for label in torch.unique(labels_N).tolist():
        members = torch.nonzero(labels_N == label).flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        n_test = int(round(test_fraction * len(members)))
        if n_test == 0 or n_test == len(members):
            raise ValueError(
                f"test_fraction={test_fraction} leaves class {label} ({len(members)} rows) with an empty pool or test split"
            )
        test.append(members[:n_test])
        pool.append(members[n_test:])
    return torch.cat(pool).sort().values, torch.cat(test).sort().values


def stratified_subset(labels_N: torch.Tensor, max_rows: int, seed: int) -> torch.Tensor:
    """Sorted indices of at most `max_rows` rows, classes kept in their proportions (largest remainders)."""
    if not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < 1:
        raise ValueError(f"max_rows must be a positive integer, got {max_rows!r}")
    total = len(labels_N)
    if max_rows >= total:
        return torch.arange(total)
    classes, counts = torch.unique(labels_N, return_counts=True)
    exact = counts.double() * max_rows / total
    quota = exact.floor().long()
    leftover = max_rows - int(quota.sum())
    quota[torch.argsort(exact - quota, descending=True, stable=True)[:leftover]] += 1
    generator = torch.Generator().manual_seed(int(seed))
    chosen = []
    for label, take in zip(classes.tolist(), quota.tolist()):
        members = torch.nonzero(labels_N == label).flatten()
        chosen.append(members[torch.randperm(len(members), generator=generator)[:take]])
    return torch.cat(chosen).sort().values
