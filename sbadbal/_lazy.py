"""Lazy package exports (PEP 562): a package's names are imported from their submodule on first use.

`sbadbal.acquisition` and `sbadbal.data` use it so that their torch-free records (`acquisition.specs`,
`data.registry`) can be imported, by the workflow, without importing torch through the package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict) -> tuple[Callable, Callable]:
    """(__getattr__, __dir__) for a package whose `exports` map each public name to its submodule."""

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f".{exports[name]}", package), name)

    def __dir__():
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
