"""Dataset source options (suites.<s>.datasets.<name>.options), each checked by its record: its type, its bounds and,
for a local file, that it is a file of the shape its source reads. Options are plain values (text, numbers,
true/false): anything else (a mapping, a list, a YAML alias of one) is refused before it reaches a job or
Snakemake's own handling of the configuration.

The sources accept them as keyword arguments (sbadbal/data/records.py lists which source takes which).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sbadbal.config.fields import MAX_SEED

MAX_ROWS = 10_000_000
MAX_ENCODER_BATCH = 100_000
# AG News CSV rows: class index (1..4), title, description (sbadbal/data/agnews.py reads them).
AGNEWS_CSV_FIELDS = 3
AGNEWS_CLASS_COUNT = 4


def _integer(lower: int, upper: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not lower <= value <= upper:
            return f"expected an integer in {lower:,}..{upper:,}, got {value!r}"
        return None

    return check


def _fraction(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 < value < 1:
        return f"expected a fraction strictly between 0 and 1, got {value!r}"
    return None


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else f"expected a non-empty text, got {value!r}"


def agnews_file_problem(path: Path) -> str | None:
    """Why an existing local AG News file is not one the source reads (None when its first rows fit): a .parquet
    file, or a CSV of `class index,title,description` rows (a header row allowed)."""
    if path.suffix == ".parquet":
        return None if path.is_file() else f"{path} is not a file"
    if path.suffix != ".csv":
        return f"{path} is neither a .csv nor a .parquet file (the AG News formats)"
    if not path.is_file():
        return f"{path} is not a file"
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = []
            for row in csv.reader(handle, skipinitialspace=True):
                rows.append(row)
                if len(rows) == 2:
                    break
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        return f"{path} cannot be read as a UTF-8 CSV ({type(error).__name__}: {error})"
    if rows and len(rows[0]) == AGNEWS_CSV_FIELDS and not rows[0][0].strip().lstrip("-").isdigit():
        rows = rows[1:]  # a header row (Class Index,Title,Description)
    if not rows:
        return f"{path} holds no rows"
    row = rows[0]
    if len(row) != AGNEWS_CSV_FIELDS:
        return f"{path}: its first row has {len(row)} field(s), expected {AGNEWS_CSV_FIELDS} (class index,title,description)"
    if not row[0].strip().isdigit() or not 1 <= int(row[0]) <= AGNEWS_CLASS_COUNT:
        return f"{path}: its first row's class index {row[0]!r} is not one of 1..{AGNEWS_CLASS_COUNT}"
    return None


def _local_agnews_file(value: Any) -> str | None:
    problem = _text(value)
    if problem:
        return problem
    path = Path(value)
    # A missing file skips the experiment with a message (Suite.available_experiments); one that exists must fit.
    return agnews_file_problem(path) if path.exists() else None


@dataclass(frozen=True)
class OptionRecord:
    """One source option: what its value must be (a check returning the problem in words, or None)."""

    check: Callable[[Any], str | None]
    description: str


OPTIONS: Mapping[str, OptionRecord] = {
    "test_fraction": OptionRecord(_fraction, "share of each class moved to the test split"),
    "split_seed": OptionRecord(_integer(0, MAX_SEED), "seed of that split"),
    "pool_rows": OptionRecord(_integer(1, MAX_ROWS), "a class-stratified subset of the pool of this many rows"),
    "max_rows": OptionRecord(_integer(1, MAX_ROWS), "at most this many rows of each file (class-stratified)"),
    "local_csv": OptionRecord(_local_agnews_file, "the pool file (.csv: class index,title,description; .parquet)"),
    "local_test_csv": OptionRecord(_local_agnews_file, "the test file, same formats"),
    "encoder": OptionRecord(_text, "sentence encoder: all-MiniLM-L6-v2 or a local model folder"),
    "batch_size": OptionRecord(_integer(1, MAX_ENCODER_BATCH), "documents per encoder batch (memory only)"),
    "device": OptionRecord(_text, "device of the encoder (cpu, cuda, ...)"),
}

_PLAIN = (str, int, float, bool, type(None))


def option_problem(name: str, value: Any) -> str | None:
    """What is wrong with one option's value, or None."""
    if not isinstance(value, _PLAIN):
        return (f"expected a plain value (text, number, true/false), got a {type(value).__name__}; options take no "
                "mappings or lists")
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number, got {value!r}"
    record = OPTIONS.get(name)
    return record.check(value) if record is not None else None


def options_problem(options: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first (option, problem) of a dataset's options, or None; `local_test_csv` needs `local_csv`."""
    for name, value in options.items():
        problem = option_problem(name, value)
        if problem:
            return name, problem
    if "local_test_csv" in options and "local_csv" not in options:
        return "local_test_csv", "needs local_csv (the pool file) as well"
    return None
