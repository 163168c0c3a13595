"""Markdown tables, one helper for every table the pipeline writes (runs, claims, comparisons, timings)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A pipe table of text cells: the header, its rule, one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def format_cell(value: Any, digits: int = 3) -> str:
    """A value as a cell: blank for None and NaN, `digits` decimals (trailing zeros dropped) for numbers below 1000,
    `digits` significant digits above."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) >= 1000 else f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def frame_table(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> str:
    """A frame's `columns` (default: all) as a pipe table, each value through format_cell."""
    columns = list(columns or frame.columns)
    return markdown_table(columns, [[format_cell(row[column]) for column in columns] for _, row in frame.iterrows()])
