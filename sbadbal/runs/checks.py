"""Run files checked against the run schema before any table is made (torch-free).

A run CSV (and a checkpoint's rows) holds one row per round 0..n-1 with the columns of the run schema
(sbadbal/runs/schema.py). A blank accuracy, an accuracy of 1e9, text in a number, a header-only file or
labelled counts that do not add up would otherwise flow into means over seeds with exit code 0; here each
fails with one error naming the file, the row and the column.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sbadbal.runs.schema import DIAGNOSTIC_COLUMNS, RUN_COLUMNS, RUN_SCHEMA

INT_COLUMNS = tuple(c.name for c in RUN_SCHEMA if c.kind == "count")
FLOAT_COLUMNS = tuple(c.name for c in RUN_SCHEMA if c.kind in ("percent", "number"))
NAN_ON_LAST_ROW_ONLY = tuple(c.name for c in RUN_SCHEMA if c.blank_on_last_row)
COUNT_COLUMNS = tuple(c.name for c in RUN_SCHEMA if c.kind == "diagnostic count")
_PERCENT_COLUMNS = tuple(c.name for c in RUN_SCHEMA if c.kind == "percent")


class RunFileError(ValueError):
    """A run file (or checkpoint) that breaks the run schema; the message names file, row and column."""


def parse_indices(text: Any) -> list[int]:
    """'3 17 42' -> [3, 17, 42]; '' -> []. Anything else raises ValueError."""
    if not isinstance(text, str):
        raise ValueError(f"expected space-separated indices as text, got {text!r}")
    indices = [int(token) for token in text.split()]
    if any(index < 0 for index in indices):
        raise ValueError(f"negative index in {text!r}")
    return indices


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _column_problem(column: str, value: Any, *, last: bool) -> str | None:
    """What is wrong with one value of one row, or None."""
    if column in INT_COLUMNS:
        if not _is_number(value) or not math.isfinite(value) or value != int(value):
            return f"expected an integer, got {value!r}"
        if value < 0:
            return f"must be >= 0, got {value!r}"
        return None
    if column in FLOAT_COLUMNS:
        if not _is_number(value):
            return f"expected a number, got {value!r}"
        if math.isnan(value) and column in NAN_ON_LAST_ROW_ONLY and last:
            return None
        if not math.isfinite(value):
            return "missing or non-finite value" + (" (allowed on the last row only)" if column in NAN_ON_LAST_ROW_ONLY else "")
        if column in _PERCENT_COLUMNS and not 0.0 <= value <= 100.0:
            return f"accuracy must lie in [0, 100] (percent), got {value!r}"
        if value < 0:
            return f"must be >= 0, got {value!r}"
        return None
    if column in DIAGNOSTIC_COLUMNS:
        if not _is_number(value):
            return f"expected a number or a blank, got {value!r}"
        if math.isnan(value):
            return None
        if not math.isfinite(value):
            return f"expected a finite number or a blank, got {value!r}"
        if column in COUNT_COLUMNS and (value < 0 or value != int(value)):
            return f"expected a count (integer >= 0), got {value!r}"
        if column == "batch_sum_bald" and value < 0:
            return f"must be >= 0, got {value!r}"
        return None
    return None


def run_rows_problem(
    rows: Sequence[Mapping[str, Any]],
    *,
    finished: bool | None = True,
    budget: int | None = None,
    initial_size: int | None = None,
) -> tuple[int, str, str] | None:
    """The first (row, column, problem) of rows that break the run schema, or None when they are sound.

    `finished`: True for a run CSV (the last row acquires nothing), None when either is allowed (a checkpoint).
    `budget` / `initial_size`: when given, the first row's labelled count and the finished row's are checked too.
    """
    if not rows:
        return (0, "round", "no rows: a run has at least round 0")
    acquired_so_far: set[int] = set()
    for position, row in enumerate(rows):
        last = position == len(rows) - 1
        if not isinstance(row, Mapping):
            return (position, "round", f"expected a row of columns, got {type(row).__name__}")
        missing = [column for column in RUN_COLUMNS if column not in row]
        if missing:
            return (position, missing[0], "missing column")
        for column in (*INT_COLUMNS, *FLOAT_COLUMNS, *DIAGNOSTIC_COLUMNS):
            problem = _column_problem(column, row[column], last=last)
            if problem:
                return (position, column, problem)
        if int(row["round"]) != position:
            return (position, "round", f"rounds must be numbered 0..n-1, found {row['round']!r} at row {position}")
        try:
            acquired = parse_indices(row["acquired_indices"])
        except ValueError as error:
            return (position, "acquired_indices", str(error))
        if not acquired and not last:
            return (position, "acquired_indices", "empty before the last row: only the final round acquires nothing")
        if last and finished is True and acquired:
            return (position, "acquired_indices", "the last row of a finished run acquires nothing")
        duplicates = sorted(set(acquired) & acquired_so_far) or sorted({i for i in acquired if acquired.count(i) > 1})
        if duplicates:
            return (position, "acquired_indices", f"index {duplicates[0]} is acquired twice")
        acquired_so_far.update(acquired)
        labelled = int(row["labelled"])
        if position == 0 and initial_size is not None and labelled != initial_size:
            return (position, "labelled", f"round 0 must have the initial {initial_size} labels, found {labelled}")
        if position > 0:
            expected = int(rows[position - 1]["labelled"]) + len(parse_indices(rows[position - 1]["acquired_indices"]))
            if labelled != expected:
                return (position, "labelled", f"{labelled} does not add up: the previous row had "
                        f"{rows[position - 1]['labelled']} labels and acquired {expected - int(rows[position - 1]['labelled'])}")
        if budget is not None:
            if acquired and labelled >= budget:
                return (position, "acquired_indices", f"acquires at {labelled} labels although the budget is {budget}")
            if not acquired and labelled != budget:
                return (position, "labelled", f"a finished run ends at the budget of {budget} labels, found {labelled}")
            if labelled + len(acquired) > budget:
                return (position, "acquired_indices", f"acquires beyond the budget of {budget} labels")
    return None


def _cell(text: str, column: str) -> Any:
    """One CSV cell as its schema type; blank numbers are NaN (judged later), text in a number raises ValueError."""
    if column == "acquired_indices":
        return text
    if text.strip() == "":
        return math.nan
    value = float(text)
    integral = column in INT_COLUMNS or column in COUNT_COLUMNS
    return int(value) if integral and math.isfinite(value) and value == int(value) else value


def read_run_csv(
    path: str | os.PathLike,
    *,
    expected_budget: int | None = None,
    expected_initial_size: int | None = None,
) -> pd.DataFrame:
    """One run CSV as a frame with the columns of RUN_COLUMNS, after checking it against the run schema.

    Raises RunFileError naming the file, the line (and round row) and the column of the first problem.
    """
    path = Path(path)
    hint = "; the run file is damaged: delete it and rerun the workflow to remake it"
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise RunFileError(f"{path}: empty file, expected the run columns {list(RUN_COLUMNS)}" + hint)
        if sorted(header) != sorted(RUN_COLUMNS) or len(header) != len(RUN_COLUMNS):
            missing = [c for c in RUN_COLUMNS if c not in header]
            extra = [c for c in header if c not in RUN_COLUMNS]
            raise RunFileError(f"{path}: columns {header} are not the run columns {list(RUN_COLUMNS)} "
                               f"(missing {missing}, unexpected {extra})" + hint)
        rows, lines = [], []
        for cells in reader:
            if not cells:
                continue
            if len(cells) != len(header):
                raise RunFileError(f"{path}: line {reader.line_num} has {len(cells)} cells for {len(header)} columns" + hint)
            row = {}
            for column, text in zip(header, cells):
                try:
                    row[column] = _cell(text, column)
                except ValueError:
                    raise RunFileError(f"{path}: line {reader.line_num}, column {column!r}: text {text!r} in a numeric column" + hint) from None
            rows.append(row)
            lines.append(reader.line_num)
    if not rows:
        raise RunFileError(f"{path}: header only, no rows: a run has at least round 0" + hint)
    problem = run_rows_problem(rows, finished=True, budget=expected_budget, initial_size=expected_initial_size)
    if problem is not None:
        position, column, message = problem
        raise RunFileError(f"{path}: line {lines[position]} (row {position}), column {column!r}: {message}" + hint)
    frame = pd.DataFrame(rows, columns=list(RUN_COLUMNS))
    return frame.astype({"round": "int64", "labelled": "int64", "acquired_indices": str})
