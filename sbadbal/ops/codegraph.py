"""The code of a job: which library files it runs, read off import statements (static, torch-free).

`code_inputs(entry, *modules)` is the one computation: the files that a rule's script imports, directly or through
other sbadbal modules, plus the modules its records name (a run's acquisition function and architecture, a dataset's
source), each with its own imports. The workflow lists them as the rule's code inputs, so a code edit reruns
exactly the jobs whose code it is: an edit of analysis/plots.py reruns figures only, engine/training.py every AL run,
acquisition/lbb.py the LBB and PLBB runs. A run's checkpoint fingerprints the same files (`run_code_inputs`).

Imports are read wherever they stand (inside functions too), so a new helper module is never missed. Packages
whose `__init__` is lazy declare `_EXPORTS` (name -> submodule); an import of a name from such a package follows
only the submodule that defines it. Modules under sbadbal/ops/ never change a number (this module, scheduling,
GPU slots, progress, provenance, recovery, the catalog): they are followed but never a code input.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

PACKAGE = "sbadbal"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
# What never changes a number, relative to the package: not a code input of any job.
NOT_CODE = ("ops/",)
# The engine's entry: what a run executes besides its rule's script (the CLI's runs, a checkpoint's default).
ENGINE_ENTRY = "engine/loop.py"


def _module_file(root: Path, dotted: str) -> Path | None:
    """sbadbal.a.b -> <root>/a/b.py or <root>/a/b/__init__.py (None outside the package or when absent)."""
    parts = dotted.split(".")
    if parts[0] != PACKAGE:
        return None
    base = root.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if parts[1:] and candidate.is_file():
            return candidate
    return root / "__init__.py" if not parts[1:] else None


def _dotted_of(root: Path, path: Path) -> str:
    relative = path.relative_to(root).with_suffix("")
    parts = [PACKAGE, *relative.parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@lru_cache(maxsize=None)
def _exports(init_file: Path) -> dict[str, str]:
    """The `_EXPORTS = {...}` literal of a lazy package's __init__.py (empty when there is none)."""
    for node in ast.parse(init_file.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_EXPORTS" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


def _imported_modules(path: Path, root: Path) -> set[str]:
    """Dotted sbadbal modules that `path` imports (names imported from a package count as its submodules)."""
    package = _dotted_of(root, path) if path.is_relative_to(root) else ""
    if path.is_relative_to(root) and path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from pkg import submodule`
    return {name for name in found if name == PACKAGE or name.startswith(PACKAGE + ".")}


def _files_of_import(root: Path, dotted: str) -> list[Path]:
    """The files an import of `dotted` runs: its parents' __init__ files and the module itself.

    `pkg.name` where pkg is a lazy package exporting `name` runs pkg/__init__.py and the exporting submodule.
    """
    parts = dotted.split(".")
    files = [f for i in range(1, len(parts)) if (f := _module_file(root, ".".join(parts[:i]))) is not None]
    own = _module_file(root, dotted)
    if own is not None:
        files.append(own)
    elif len(parts) > 1:
        parent = _module_file(root, ".".join(parts[:-1]))
        if parent is not None and parent.name == "__init__.py" and parts[-1] in _exports(parent):
            exported = _module_file(root, ".".join(parts[:-1]) + "." + _exports(parent)[parts[-1]])
            if exported is not None:
                files.append(exported)
    return files


def import_closure(*paths: str | Path, root: Path = PACKAGE_ROOT) -> tuple[str, ...]:
    """Every sbadbal file that running `paths` (scripts or library files) can execute, relative to the package.

    A lazy package's __init__ runs, but its submodules are followed only when something imports them.
    """
    return _closure(tuple(str(Path(p).resolve()) for p in paths), Path(root).resolve())


@lru_cache(maxsize=None)  # the workflow asks once per job: a paper suite has thousands
def _closure(paths: tuple[str, ...], root: Path) -> tuple[str, ...]:
    seen: set[Path] = set()
    pending = [Path(p).resolve() for p in paths]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for dotted in _imported_modules(path, root):
            pending.extend(f.resolve() for f in _files_of_import(root, dotted))
    inside = [p.relative_to(root).as_posix() for p in seen if p.is_relative_to(root)]
    return tuple(sorted(name for name in inside if not name.startswith(NOT_CODE)))


def module_file(dotted: str, root: Path = PACKAGE_ROOT) -> Path:
    """The file of a dotted sbadbal module a record names (`sbadbal.acquisition.lbb` -> <root>/acquisition/lbb.py)."""
    found = _module_file(Path(root), dotted)
    if found is None or not dotted.startswith(PACKAGE + "."):
        raise ValueError(f"{dotted!r} is not a module of the {PACKAGE} package under {root}")
    return found


def code_inputs(entry: str | Path, *modules: str, root: str | Path = PACKAGE_ROOT,
                plugins: Iterable[str | Path] = ()) -> list[Path]:
    """The code of a job: the library files that `entry` (a script or library file) and the dotted `modules` its
    records name run, as paths under `root` (relative when `root` is: the workflow's `sbadbal/...` inputs), then
    the `plugins` (a user's acquisition modules outside the package, sbadbal/acquisition/plugins.py), with the
    library files they import."""
    plugins = [Path(plugin) for plugin in plugins]
    files = [Path(entry), *(module_file(module, Path(root)) for module in modules), *plugins]
    return [*(Path(root) / relative for relative in import_closure(*files, root=Path(root))),
            *sorted(dict.fromkeys(plugins))]


def acquisition_code(record: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(dotted package modules, plug-in files) of an acquisition record's plain values (AlgorithmRecord.to_config)."""
    return ([], [record["file"]]) if record.get("file") else ([record["module"]], [])


def run_code_inputs(spec: Any, *, entry: str | Path | None = None, root: str | Path = PACKAGE_ROOT) -> list[Path]:
    """A run's code: `entry` (the run rule's script; default the engine's loop) and the acquisition and architecture
    modules its spec (sbadbal.engine.spec.RunSpec) names (a plug-in's file for a plug-in)."""
    modules, plugins = acquisition_code(spec.acquisition)
    return code_inputs(entry if entry is not None else Path(root) / ENGINE_ENTRY, *modules,
                       spec.architecture["module"], root=root, plugins=plugins)
