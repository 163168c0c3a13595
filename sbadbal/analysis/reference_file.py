"""The published-numbers file's shape (references/original_repository.yaml): strict YAML (duplicate keys, tabs: one
line with the line number), a `references` list of mappings, each with an id and only the known keys. The
configuration model checks it when the workflow parses (so it is pandas- and torch-free); the comparison job's
parser (sbadbal/analysis/references.py) reads the file through it and parses the values.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sbadbal.strict_yaml import YamlError, load_yaml_file


class ReferenceFileError(YamlError):
    """A mistake in the published-numbers file: `<file>: <where>: <problem>`."""


def _did_you_mean(value: str, valid: tuple[str, ...]) -> str:
    import difflib

    close = difflib.get_close_matches(value, valid, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


# The keys of one entry of the published-numbers file (sbadbal/analysis/references.py parses the values).
REFERENCE_FIELDS = ("id", "quantity", "source", "reading", "precision", "setting", "values")


def reference_entries(path: Path) -> list[dict[str, Any]]:
    """The entries of the published-numbers file, each a mapping with an id and the known keys; a ReferenceFileError
    naming that file otherwise."""
    if not path.is_file():
        return []
    source = str(path)
    try:
        document = load_yaml_file(path, source=source)
    except YamlError as error:
        raise ReferenceFileError(error.where, error.problem, source) from None
    if not isinstance(document, Mapping) or not isinstance(document.get("references"), list):
        raise ReferenceFileError("references", "expected a mapping with a `references:` list of entries; restore the "
                              "file with git", source)
    entries = document["references"]
    for index, entry in enumerate(entries):
        where = f"references[{index}]"
        if not isinstance(entry, Mapping):
            raise ReferenceFileError(where, f"expected an entry (a mapping of {', '.join(REFERENCE_FIELDS)}), got "
                                  f"{type(entry).__name__}", source)
        if not isinstance(entry.get("id"), str) or not entry["id"]:
            raise ReferenceFileError(where, "the entry has no id; add `id: <name>` (what experiments' `references` name)",
                                  source)
        unknown = [key for key in entry if key not in REFERENCE_FIELDS]
        if unknown:
            raise ReferenceFileError(f"{where} ({entry['id']}).{unknown[0]}", f"unknown key {unknown[0]!r}"
                                  f"{_did_you_mean(str(unknown[0]), REFERENCE_FIELDS)} Valid keys: "
                                  f"{', '.join(REFERENCE_FIELDS)}", source)
    ids = [entry["id"] for entry in entries]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ReferenceFileError("references", f"id {repeated[0]!r} is used by two entries; ids must differ", source)
    return list(entries)
