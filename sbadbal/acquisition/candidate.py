"""The value every acquisition function returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CandidateBatch:
    """Selected pool indices in selection order, each with the score it had when it was selected.

    What a score means depends on the function: BALD / entropy / least-confidence value for the top-b functions,
    the joint mutual information I(y_S; theta) of the batch so far for BatchBALD (as batchbald_redux), the greedy gain
    for LBB/PLBB, BALD + T for LBB-code/PLBB-code, the underlying BALD score for PowerBALD, and 0.0 for Random.
    """

    indices: list[int]
    scores: list[float]

    def __post_init__(self) -> None:
        if len(self.indices) != len(self.scores):
            raise ValueError(f"CandidateBatch needs one score per index, got {len(self.indices)} indices and {len(self.scores)} scores")

    def __len__(self) -> int:
        return len(self.indices)
