"""Rule parameters that read as one short line in the Snakemake report.

The report lists every job's parameters as `name=str(value)`: a run's full spec or thirty run keys become a wall of
Python dicts. `shown(value)` returns the same value as a dict or list subclass whose str() is a short summary and
whose repr() is the plain one. Snakemake compares parameters by repr(), so wrapping one reruns nothing; pickling
(how a script job receives its parameters) and deep copies give back plain dicts and lists, so a job never needs
this module.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

LIMIT = 160


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def summary(value: Any, limit: int = LIMIT) -> str:
    """A short text of a parameter: scalars as key=value, a list of scalars joined, a nested collection by its
    size; cut at `limit` characters."""
    if isinstance(value, Mapping):
        parts = []
        for key, item in value.items():
            if _scalar(item):
                parts.append(f"{key}={item}")
            elif isinstance(item, (list, tuple)) and all(_scalar(element) for element in item) and len(item) <= 6:
                parts.append(f"{key}=[{', '.join(map(str, item))}]")
            else:
                parts.append(f"{key}: {len(item)} {'entries' if isinstance(item, Mapping) else 'items'}"
                             if hasattr(item, "__len__") else f"{key}: …")
        text = ", ".join(parts)
    elif isinstance(value, (list, tuple)):
        if all(_scalar(element) for element in value):
            text = ", ".join(map(str, value))
        else:
            text = f"{len(value)} entries" + (f", first: {summary(value[0], limit // 2)}" if value else "")
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ShownDict(dict):
    def __str__(self) -> str:
        return f"({summary(self)})"

    def __reduce__(self):
        return dict, (dict(self),)

    def __deepcopy__(self, memo):
        return ShownDict(copy.deepcopy(dict(self), memo))


class ShownList(list):
    def __str__(self) -> str:
        return f"[{summary(self)}]"

    def __reduce__(self):
        return list, (list(self),)

    def __deepcopy__(self, memo):
        return ShownList(copy.deepcopy(list(self), memo))


def shown(value: Any) -> Any:
    """The value with a short str() for the report (dicts and lists; anything else as it is)."""
    if isinstance(value, Mapping):
        return ShownDict(value)
    if isinstance(value, list):
        return ShownList(value)
    return value


def shown_params(function):
    """An input function for `params:` whose value reads short in the report."""

    def wrapped(wildcards):
        return shown(function(wildcards))

    wrapped.__name__ = function.__name__
    wrapped.__doc__ = function.__doc__
    return wrapped
