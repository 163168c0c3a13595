"""Configuration mistakes in words: one `ConfigError` per mistake, `<file>: <key path>: <what is wrong and the fix>`,
with "did you mean" suggestions and pydantic's errors translated (`first_error`)."""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError


class ConfigError(ValueError):
    """One configuration mistake: `<source>: <path>: <message>`."""

    def __init__(self, path: str, message: str, source: str = "config.yaml"):
        self.path, self.message, self.source = path, message, source
        super().__init__(f"{source}: {path}: {message}" if path else f"{source}: {message}")

    def with_source(self, source: str) -> "ConfigError":
        return ConfigError(self.path, self.message, source)


class FileConfigError(ConfigError):
    """A mistake in a file other than the one being validated (the published-numbers file a suite names): it keeps
    its own file's name when the config's checks pass it on."""

    def with_source(self, source: str) -> "ConfigError":
        return self


def did_you_mean(value: Any, valid: list[str] | tuple[str, ...]) -> str:
    """'; did you mean 'X'?' for the closest valid name (case-insensitive), '' when none is close."""
    if not isinstance(value, str):
        return ""
    lowered = {name.lower(): name for name in valid}
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
    return f"; did you mean {lowered[close[0]]!r}?" if close else ""


def unknown_name(kind: str, value: Any, valid: list[str] | tuple[str, ...]) -> str:
    return f"unknown {kind} {value!r}{did_you_mean(value, valid)} Valid: {', '.join(valid)}"


_EXPECTED = {
    "int_type": "expected an integer", "int_parsing": "expected an integer", "int_from_float": "expected an integer",
    "float_type": "expected a number", "float_parsing": "expected a number", "bool_type": "expected true or false",
    "bool_parsing": "expected true or false", "string_type": "expected text", "list_type": "expected a list",
    "dict_type": "expected a mapping (key: value)", "model_type": "expected a mapping (key: value)",
    "model_attributes_type": "expected a mapping (key: value)",
}


def _model_at(root: type, loc: tuple) -> Any:
    """The type that validates the value at `loc` below `root` (a model class, dict or list type)."""
    current: Any = root
    for part in loc:
        while get_origin(current) is Annotated:
            current = get_args(current)[0]
        if get_origin(current) is Union or type(current).__name__ == "UnionType":
            current = next(a for a in get_args(current) if a is not type(None))
        if isinstance(current, type) and issubclass(current, BaseModel):
            if part not in current.model_fields:
                return None
            current = current.model_fields[part].annotation
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]
        else:
            return None
    while get_origin(current) is Annotated:
        current = get_args(current)[0]
    return current


def _dotted(path: str, loc: tuple) -> str:
    where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    return f"{path}.{where}" if path and where else path or where


def _missing_key(root: type, loc: tuple) -> str:
    """`key:` with its description, as the fix of a missing key."""
    field_info = None
    parent = _model_at(root, loc[:-1])
    if isinstance(parent, type) and issubclass(parent, BaseModel):
        field_info = parent.model_fields.get(loc[-1])
    hint = f" ({field_info.description})" if field_info is not None and field_info.description else ""
    return f"{loc[-1]}:{hint}"


def _all_missing(errors: list[dict], root: type, path: str, source: str) -> ConfigError:
    """Every missing key of one mapping in one line, so that a user learns them all at once."""
    locs = [tuple(e["loc"]) for e in errors if e["type"] == "missing"]
    parent = locs[0][:-1]
    if all(loc[:-1] == parent for loc in locs):
        return ConfigError(_dotted(path, parent), "required keys are missing; add "
                           + "; ".join(_missing_key(root, loc) for loc in locs), source)
    return ConfigError(path, "required keys are missing; add "
                       + "; ".join(f"{_dotted('', loc)} ({_missing_key(root, loc)})" for loc in locs), source)


def first_error(error: ValidationError, root: type, path: str, source: str) -> ConfigError:
    """The first pydantic error as a ConfigError: key path in dots, the expectation in words, the value given. When
    the first is a missing key, every missing key of the same validation, in one line."""
    errors = error.errors(include_url=False)
    first = errors[0]
    loc = tuple(first["loc"])
    kind, value, ctx = first["type"], first.get("input"), first.get("ctx") or {}
    if kind == "missing" and sum(e["type"] == "missing" for e in errors) > 1:
        return _all_missing(errors, root, path, source)
    where = _dotted(path, loc)
    if kind == "extra_forbidden":
        parent = _model_at(root, loc[:-1])
        valid = list(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        message = f"unknown key {loc[-1]!r}{did_you_mean(str(loc[-1]), valid)} Valid keys: {', '.join(valid)}"
    elif kind == "missing":
        message = f"required key is missing; add {_missing_key(root, loc)}"
    elif kind == "literal_error":
        valid = [v.strip().strip("'") for v in str(ctx.get("expected", "")).replace(" or ", ", ").split(",")]
        message = f"expected one of {', '.join(valid)}, got {value!r}{did_you_mean(value, valid)}"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": ">= {ge}", "greater_than": "> {gt}", "less_than_equal": "<= {le}",
                 "less_than": "< {lt}"}[kind].format(**{k: ctx.get(k) for k in ("ge", "gt", "le", "lt")})
        message = f"expected a value {bound}, got {value!r}"
    elif kind == "too_short":
        message = f"expected at least {ctx.get('min_length', 1)} entry, got {value!r}"
    elif kind == "value_error":
        message = str(ctx.get("error", first["msg"]))
    elif kind in _EXPECTED:
        message = f"{_EXPECTED[kind]}, got {value!r}"
    else:
        message = f"{first['msg']}, got {value!r}"
    return ConfigError(where, message, source)
