"""The configuration model: config.yaml as typed records, the one place where configuration is checked.

    config = load_config(yaml.safe_load(open("config.yaml")), source="config.yaml")
    suite = config.selected_suite()
    for spec in suite.experiments["rmnist5k_mc"].runs():   # RunSpec: what one run computes
        ...

Two layers, one entry point (`load_config`, or `experiment_from_mapping` for one experiment):
- pydantic models check structure, types and ranges and fill defaults (each field's description is its
  documentation; `python -m sbadbal.config.schema` writes the JSON schema under schemas/): this module holds
  the file's root and its small sections (data, plots, tables, variants); experiment.py and suite.py the
  experiments, benchmarks and suites; claims.py the claims table's rules;
- checks.py checks what one field cannot.
Every mistake raises one `ConfigError` (errors.py) whose message starts `<file>: <key path>: <what is wrong and
the fix>`.

Torch-free: the workflow imports it when it parses (docs/design.md#configuration).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, PrivateAttr, Strict, ValidationError, field_validator

from sbadbal.acquisition import records as algorithm_records
from sbadbal.config.checks import Plugins, check_config, check_experiment, resolve_variants
from sbadbal.config.claims import ClaimRules
from sbadbal.config.errors import ConfigError, did_you_mean, first_error
from sbadbal.config.experiment import Experiment
from sbadbal.config.fields import StrictModel, Text
from sbadbal.config.suite import Suite
from sbadbal.strict_yaml import YamlError, check_expanded_size, load_yaml_file


class Data(StrictModel):
    """Where raw data lives."""

    root: Text = Field("data", description="folder holding the raw files in the layouts README lists (a shared "
                      "dataset folder works as it is); the retrieve rules write missing ones there")


def _up_to(upper: float) -> Any:
    return Annotated[float, Strict(), Field(gt=0, le=upper)]


# A hex colour (#rgb, #rgba, #rrggbb, #rrggbbaa), a grey level in [0, 1] as text, or a name matplotlib knows.
_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


def is_colour(value: str) -> bool:
    """Whether matplotlib draws `value` as a colour (matplotlib imported here only: the model stays cheap)."""
    if _HEX_COLOUR.fullmatch(value):
        return True
    try:
        from matplotlib.colors import is_color_like
    except ImportError:  # the workflow's parse without matplotlib: hex colours only
        return False
    return bool(is_color_like(value))


class Plots(StrictModel):
    """Figure options; they reach the plotting rules only (editing them reruns figures, never training). Sizes are
    bounded: a 10**6 dpi figure is terapixels."""

    width_in: _up_to(100) = Field(6.4, description="figure width in inches (at most 100)")
    height_in: _up_to(100) = Field(4.4, description="figure height in inches (at most 100)")
    font_size: _up_to(200) = Field(10, description="points (at most 200)")
    line_width: _up_to(100) = Field(1.8, description="points (at most 100)")
    band_alpha: Annotated[float, Strict(), Field(ge=0, le=1)] = 0.25
    dpi: Annotated[int, Strict(), Field(ge=10, le=1200)] = Field(150, description="raster figures' dots per inch "
                                                                 "(10 to 1,200)")
    colours: dict[Text, Text] = Field(default_factory=dict, description="matplotlib colour per algorithm name")

    @field_validator("colours")
    @classmethod
    def _colours_are_colours(cls, colours: dict[str, str]) -> dict[str, str]:
        for name, colour in colours.items():
            if not is_colour(colour):
                raise ValueError(f"{name}: {colour!r} is not a colour; use a matplotlib colour such as '#1f77b4', "
                                 "'tab:blue' or 'black'")
        return colours


class Tables(StrictModel):
    """Table options; they reach the aggregation rule only."""

    label_fractions: list[Annotated[float, Strict(), Field(gt=0, le=1)]] = Field(
        default_factory=lambda: [0.25, 0.5, 0.75, 1.0], min_length=1,
        description="fractions of the way from the initial set to the budget at which tables report accuracy",
    )


class Variant(StrictModel):
    """A registry algorithm (or a plug-in) under fixed parameters and its own name (in run paths, tables and
    figures)."""

    algorithm: Text = Field(description="a registry algorithm name or alias, or a plug-in acquisition function: "
                            "module:function (a module beside the config file) or path/to/file.py:function")
    params: dict[Text, Any] = Field(default_factory=dict, description="its parameters (over the algorithm's defaults)")
    description: Text = Field("", description="one line: what the variant is for")


class Config(StrictModel):
    """config.yaml."""

    suite: Text = Field("default", description="the entry of `suites` that the workflow runs")
    data: Data = Field(default_factory=Data)
    plots: Plots = Field(default_factory=Plots)
    tables: Tables = Field(default_factory=Tables)
    variants: dict[Text, Variant] = Field(default_factory=dict, description="named algorithm variants")
    claims: ClaimRules = Field(default_factory=ClaimRules, description="decision rules of the claims table")
    suites: dict[Text, Suite] = Field(min_length=1, description="suites by name")

    _plugin_names: tuple[str, ...] = PrivateAttr(default=())

    def selected_suite(self) -> Suite:
        if self.suite not in self.suites:
            raise ConfigError("suite", f"suite {self.suite!r} is not defined; valid suites: {', '.join(self.suites)}"
                              f"{did_you_mean(self.suite, list(self.suites))}")
        return self.suites[self.suite]

    @property
    def algorithm_names(self) -> tuple[str, ...]:
        """Every name a run path may hold: the registry's algorithms, the variants and the plug-ins listed by
        reference (under their function's name)."""
        return (*algorithm_records.ALGORITHM_NAMES, *self.variants, *self._plugin_names)


# ----------------------------------------------------------------------------------------- loading


def load_config(raw: Any, source: str = "config.yaml", base: str | Path | None = None) -> Config:
    """Validate a parsed config.yaml; ConfigError (first line: file, key path, fix) on the first mistake. `base`:
    the folder that plug-in acquisition modules are relative to (the config file's; default the current one)."""
    if not isinstance(raw, Mapping):
        raise ConfigError("", f"expected a mapping of settings, got {type(raw).__name__}", source)
    try:
        check_expanded_size(raw, source)  # an alias bomb merged in by --config or a caller, before pydantic walks it
    except YamlError as error:
        raise ConfigError(error.where, error.problem, source) from None
    try:
        config = Config.model_validate(dict(raw))
        check_config(config, None if base is None else Path(base))
    except ValidationError as error:
        raise first_error(error, Config, "", source) from None
    except ConfigError as error:
        raise error.with_source(source) from None
    return config


def load_config_file(path: str | Path) -> Config:
    """load_config of a YAML file, read strictly (a key written twice is an error, sbadbal/strict_yaml.py)."""
    return load_config(read_config_file(path), source=Path(path).name, base=Path(path).parent)


def read_config_file(path: str | Path) -> Any:
    """A config file's YAML read strictly; a ConfigError naming the file (and line) otherwise."""
    try:
        return load_yaml_file(path, source=Path(path).name)
    except YamlError as error:
        raise ConfigError(error.where, error.problem, error.source) from None


def check_config_files(paths: Iterable[str | Path]) -> None:
    """The raw config files as written, before Snakemake's merge of them is validated: Snakemake reads them with a
    loader that keeps the last of a key written twice, so duplicates are caught here (and YAML alias bombs, before
    Snakemake's own handling of the config expands them)."""
    for path in paths:
        read_config_file(path)


def experiment_from_mapping(raw: Mapping[str, Any], variants: Mapping[str, Any] | None = None,
                            source: str = "experiment", base: str | Path | None = None) -> Experiment:
    """One experiment mapping (the CLI's --experiment without a suite), checked as the workflow checks it."""
    try:
        experiment = Experiment.model_validate(dict(raw))
        plugins = Plugins(None if base is None else Path(base))
        resolved = resolve_variants(
            {k: Variant.model_validate(v) if isinstance(v, Mapping) else v for k, v in (variants or {}).items()},
            plugins)
        check_experiment("", experiment, resolved, None, plugins)
    except ValidationError as error:
        raise first_error(error, Experiment, "", source) from None
    except ConfigError as error:
        raise error.with_source(source) from None
    return experiment
