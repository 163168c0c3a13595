"""YAML files read strictly: a key written twice in one mapping is an error (PyYAML keeps the last silently), a
syntax error is one line with the file and line, and a document that expands to more values than any config needs
(a YAML alias bomb) is refused before anything walks it expanded (Snakemake's own `json.dumps(config)` would).

Used for config.yaml and every --configfile (the workflow reads the raw files itself: Snakemake has loaded them
with a plain loader by then; sbadbal/config/ turns a YamlError into its YamlError) and for the published-numbers
file, which the comparison job reads too: hence a module of its own, free of the configuration model, pandas and
torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml



class YamlError(ValueError):
    """A YAML file that cannot be a configuration: `<source>: <where>: <problem>` (where: a line or a key path)."""

    def __init__(self, where: str, problem: str, source: str):
        self.where, self.problem, self.source = where, problem, source
        super().__init__(f"{source}: {where}: {problem}" if where else f"{source}: {problem}")

# A configuration is a few thousand values; an alias bomb is billions once expanded. Counted with each shared node
# once per reference, so the count is the size of the expanded document.
MAX_EXPANDED_VALUES = 200_000


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key written twice."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, f"unhashable key {key!r}", key_node.start_mark) from None
        if key in seen:
            first = seen[key].start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is written twice in one mapping (first on line {first}); PyYAML would keep "
                "the last silently: delete one", key_node.start_mark)
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def expanded_size(value: Any, memo: dict[int, int] | None = None) -> int:
    """How many values `value` holds once every shared (aliased) node is written out; linear in distinct nodes."""
    memo = {} if memo is None else memo
    if not isinstance(value, (dict, list)):
        return 1
    if id(value) in memo:
        return memo[id(value)]
    memo[id(value)] = 1  # a cycle (a recursive alias) counts once instead of recursing forever
    children = value.values() if isinstance(value, dict) else value
    size = 1 + sum(expanded_size(child, memo) for child in children)
    memo[id(value)] = size
    return size


def _largest_path(value: Any, limit: int) -> tuple[str, int]:
    """The deepest key path under which the expanded document still exceeds `limit` values, and its size there."""
    path: list[str] = []
    memo: dict[int, int] = {}
    current = value
    while isinstance(current, (dict, list)):
        items = current.items() if isinstance(current, dict) else enumerate(current)
        over = next(((k, v) for k, v in items if expanded_size(v, memo) > limit), None)
        if over is None:
            break
        key, current = over
        path.append(f"[{key}]" if isinstance(key, int) else str(key))
    return ".".join(path).replace(".[", "["), expanded_size(current, memo)


def load_yaml_text(text: str, source: str) -> Any:
    """Parse YAML text strictly; YamlError naming `source` (and the line) on a duplicate key, a syntax error or a
    document too large once expanded."""
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(str(part) for part in (error.context, error.problem) if part)
        if "'\\t'" in problem:
            problem += " (YAML indents with spaces, never tabs)"
        duplicate = isinstance(error, yaml.constructor.ConstructorError) and "written twice" in problem
        raise YamlError(where, problem if duplicate else f"not valid YAML: {problem}", source) from None
    except yaml.YAMLError as error:
        raise YamlError("", f"not valid YAML: {str(error).splitlines()[0]}", source) from None
    except RecursionError:
        raise YamlError("", "nested too deeply to be a configuration; write it out flat", source) from None
    check_expanded_size(document, source)
    return document


def check_expanded_size(document: Any, source: str) -> None:
    """YamlError naming the key under which `document` expands to more than MAX_EXPANDED_VALUES values."""
    try:
        size = expanded_size(document)
    except RecursionError:
        raise YamlError("", "nested too deeply to be a configuration; write it out flat", source) from None
    if size > MAX_EXPANDED_VALUES:
        where, there = _largest_path(document, MAX_EXPANDED_VALUES)
        raise YamlError(where, f"expands to {there:,} values (the file to {size:,}; a configuration holds fewer than "
                          f"{MAX_EXPANDED_VALUES:,}): YAML aliases (*name) repeating a large node; write the values "
                          "out", source)


def load_yaml_file(path: str | Path, source: str | None = None) -> Any:
    """load_yaml_text of a file (`source`, the name in messages, defaults to the path as given)."""
    path = Path(path)
    source = str(path) if source is None else source
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise YamlError("", "file not found", source) from None
    except (OSError, UnicodeDecodeError) as error:
        raise YamlError("", f"cannot be read ({type(error).__name__}: {error})", source) from None
    return load_yaml_text(text, source)
