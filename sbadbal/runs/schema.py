"""The run-row schema, defined once: the columns of a run's CSV (and of its checkpoint's rows) and what each holds.

One row per evaluated round of one AL run. Timing columns are seconds; acquisition time is the acquisition
function alone (device-synchronised), scoring is the pool's forward passes, training the model fit. The run
engine writes these rows, sbadbal/runs/checks.py checks them against this table, the tables read them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column: its name and kind.

    Kinds: "count" (an integer >= 0), "percent" (a finite number in [0, 100]), "number" (finite, >= 0),
    "indices" (space-separated train indices, empty on the last row only), "diagnostic" (a finite number, or
    blank where it does not apply and on the last row), "diagnostic count" (the same, an integer >= 0).
    `blank_on_last_row`: the last round scores and acquires nothing, so the column is NaN (blank) there only.
    """

    name: str
    kind: str
    blank_on_last_row: bool = False


RUN_SCHEMA: tuple[Column, ...] = (
    Column("round", "count"),
    Column("labelled", "count"),
    Column("test_accuracy", "percent"),
    Column("test_nll", "number"),
    Column("train_seconds", "number"),
    Column("score_seconds", "number", blank_on_last_row=True),
    Column("acquisition_seconds", "number", blank_on_last_row=True),
    Column("acquired_indices", "indices"),
    # Batch quality of the acquisition after this round (sbadbal/acquisition/diagnostics.py); blank on the last row
    # and where a column does not apply (copies on a dataset without repeats, gains of a non-LBB algorithm). The
    # importance-sampled joint MI may fall a hair below 0 for a near-redundant batch; a sum of BALD may not.
    Column("batch_joint_mi", "diagnostic"),
    Column("batch_sum_bald", "diagnostic"),
    Column("batch_copies", "diagnostic count"),
    Column("batch_nonpositive_gains", "diagnostic count"),
)

RUN_COLUMNS: tuple[str, ...] = tuple(column.name for column in RUN_SCHEMA)
DIAGNOSTIC_COLUMNS: tuple[str, ...] = tuple(c.name for c in RUN_SCHEMA if c.kind.startswith("diagnostic"))
