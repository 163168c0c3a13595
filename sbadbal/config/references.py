"""The published-numbers file (references/original_repository.yaml) as the configuration model checks it: strict YAML
(duplicate keys, tabs: one line with the line number), a `references` list of mappings, each with an id and only the
known keys. Its values are parsed by sbadbal/analysis/references.py, which reads its keys from here. Pandas- and
torch-free: the workflow checks the file when it parses.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sbadbal.config.errors import ConfigError, FileConfigError, did_you_mean


# The keys of one entry of the published-numbers file (sbadbal/analysis/references.py parses the values).
REFERENCE_FIELDS = ("id", "quantity", "source", "reading", "precision", "setting", "values")


def reference_entries(path: Path) -> list[dict[str, Any]]:
    """The entries of the published-numbers file, each a mapping with an id and the known keys (read with yaml alone:
    the workflow parses without pandas or torch); a FileConfigError naming that file otherwise."""
    from sbadbal.config.yamlfile import load_yaml_file

    if not path.is_file():
        return []
    source = str(path)
    try:
        document = load_yaml_file(path, source=source)
    except ConfigError as error:
        raise FileConfigError(error.path, error.message, source) from None
    if not isinstance(document, Mapping) or not isinstance(document.get("references"), list):
        raise FileConfigError("references", "expected a mapping with a `references:` list of entries; restore the "
                              "file with git", source)
    entries = document["references"]
    for index, entry in enumerate(entries):
        where = f"references[{index}]"
        if not isinstance(entry, Mapping):
            raise FileConfigError(where, f"expected an entry (a mapping of {', '.join(REFERENCE_FIELDS)}), got "
                                  f"{type(entry).__name__}", source)
        if not isinstance(entry.get("id"), str) or not entry["id"]:
            raise FileConfigError(where, "the entry has no id; add `id: <name>` (what experiments' `references` name)",
                                  source)
        unknown = [key for key in entry if key not in REFERENCE_FIELDS]
        if unknown:
            raise FileConfigError(f"{where} ({entry['id']}).{unknown[0]}", f"unknown key {unknown[0]!r}"
                                  f"{did_you_mean(str(unknown[0]), REFERENCE_FIELDS)} Valid keys: "
                                  f"{', '.join(REFERENCE_FIELDS)}", source)
    ids = [entry["id"] for entry in entries]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise FileConfigError("references", f"id {repeated[0]!r} is used by two entries; ids must differ", source)
    return list(entries)
