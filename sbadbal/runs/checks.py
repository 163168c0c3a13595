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
from collections.abc import Callable, Mapping, Sequence
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


def _run_value(column: str, text: str) -> Any:
    try:
        return _cell(text, column)
    except ValueError:
        raise ValueError(f"text {text!r} in a numeric column") from None


def _checked_rows(path: Path, expected: list[str], value_of: Callable[[str, str], Any], hint: str, *,
                  columns_are: str, not_columns_are: str) -> tuple[list[str], list[dict[str, Any]], list[int]]:
    """The rows of a CSV whose header must be `expected` (in any order), each cell through `value_of(column, text)`
    (a ValueError's message names the problem): the header as written, the rows and each row's line number; blank
    lines skipped.

    Raises RunFileError naming the file, the line and the column, with `hint` (how to remake the file)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise RunFileError(f"{path}: empty file, expected {columns_are} {expected}" + hint)
        if sorted(header) != sorted(expected) or len(header) != len(expected):
            missing = [c for c in expected if c not in header]
            extra = [c for c in header if c not in expected]
            raise RunFileError(f"{path}: columns {header} are not {not_columns_are} (missing {missing}, "
                               f"unexpected {extra})" + hint)
        rows, lines = [], []
        for cells in reader:
            if not cells:
                continue
            if len(cells) != len(header):
                raise RunFileError(f"{path}: line {reader.line_num} has {len(cells)} cells for {len(header)} "
                                   "columns" + hint)
            row: dict[str, Any] = {}
            for column, text in zip(header, cells):
                try:
                    row[column] = value_of(column, text)
                except ValueError as problem:
                    raise RunFileError(f"{path}: line {reader.line_num}, column {column!r}: {problem}" + hint) from None
            rows.append(row)
            lines.append(reader.line_num)
    return header, rows, lines


def remake_hint(path: str | os.PathLike, sidecar: str | os.PathLike | None = None) -> str:
    """The command that remakes a run file: the workflow's run rule forced for it (its sidecar is the rule's other
    output) where the path is a workflow's, else deleting both and rerunning the run."""
    parts = Path(path).parts
    if len(parts) >= 4 and parts[0] == "results" and parts[2] == "runs":
        return f"; remake the run: `snakemake --cores 1 --force {Path(path).as_posix()} --config suite={parts[1]}`"
    files = " ".join(str(p) for p in (path, sidecar) if p is not None)
    return f"; delete {files} and rerun the run to remake it"


def check_run_provenance(path: str | os.PathLike, sidecar: str | os.PathLike, expected: Mapping[str, Any]) -> None:
    """RunFileError (one line: the file, what is wrong, the remake command) unless the run's sidecar vouches for the
    CSV: present, whole, of this very run (`expected`: RUN_KEYS) and holding the CSV's checksum."""
    from sbadbal.runs.sidecar import sidecar_problem

    problem = sidecar_problem(path, sidecar, expected)
    if problem is not None:
        raise RunFileError(f"{path}: {problem}" + remake_hint(path, sidecar))


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
    from sbadbal.runs.sidecar import sidecar_path_of

    hint = remake_hint(path, sidecar_path_of(path))
    _, rows, lines = _checked_rows(path, list(RUN_COLUMNS), _run_value, hint, columns_are="the run columns",
                                   not_columns_are=f"the run columns {list(RUN_COLUMNS)}")
    if not rows:
        raise RunFileError(f"{path}: header only, no rows: a run has at least round 0" + hint)
    problem = run_rows_problem(rows, finished=True, budget=expected_budget, initial_size=expected_initial_size)
    if problem is not None:
        position, column, message = problem
        raise RunFileError(f"{path}: line {lines[position]} (row {position}), column {column!r}: {message}" + hint)
    frame = pd.DataFrame(rows, columns=list(RUN_COLUMNS))
    return frame.astype({"round": "int64", "labelled": "int64", "acquired_indices": str})


# The tidy runs table (tables/<experiment>/runs.csv): each row of a run CSV under the run's key columns.
RUNS_TABLE_KEY_COLUMNS = ("batch_size", "algorithm", "seed")


def _key_problem(column: str, text: str) -> str | None:
    if column == "algorithm":
        return None if text.strip() else "blank algorithm name"
    try:
        value = float(text)
    except ValueError:
        return f"text {text!r} in a numeric column"
    lowest = 1 if column == "batch_size" else 0
    if not math.isfinite(value) or value != int(value) or value < lowest:
        return f"expected an integer >= {lowest}, got {text!r}"
    return None


def _table_value(column: str, text: str) -> Any:
    if column not in RUNS_TABLE_KEY_COLUMNS:
        return _run_value(column, text)
    problem = _key_problem(column, text)
    if problem:
        raise ValueError(problem)
    return text if column == "algorithm" else int(float(text))


def read_runs_table_rows(path: str | os.PathLike) -> tuple[list[str], list[dict[str, Any]]]:
    """The header and rows of an experiment's runs table, checked as `aggregate` checks run files: the key and run
    columns, numbers where numbers belong, each run (batch size, algorithm, seed) a sound sequence of rounds.

    Raises RunFileError naming the file, the line and the column of the first problem, and how to remake the table.
    """
    path = Path(path)
    hint = "; the table is damaged: delete it and rerun the workflow to remake it from the run files"
    expected = [*RUNS_TABLE_KEY_COLUMNS, *RUN_COLUMNS]
    try:
        header, rows, lines = _checked_rows(path, expected, _table_value, hint, columns_are="the columns",
                                    not_columns_are="those of a runs table")
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise RunFileError(f"{path}: cannot be read as a CSV ({type(error).__name__}: {error})" + hint) from None
    if not rows:
        raise RunFileError(f"{path}: header only, no runs" + hint)
    by_run: dict[tuple, list[int]] = {}
    for position, row in enumerate(rows):
        by_run.setdefault(tuple(row[c] for c in RUNS_TABLE_KEY_COLUMNS), []).append(position)
    for key, positions in by_run.items():
        problem = run_rows_problem([rows[p] for p in positions], finished=True)
        if problem is not None:
            at, column, message = problem
            run = ", ".join(f"{c} {v}" for c, v in zip(RUNS_TABLE_KEY_COLUMNS, key))
            raise RunFileError(f"{path}: line {lines[positions[at]]} ({run}, row {at}), column {column!r}: {message}"
                               + hint)
    return header, rows
