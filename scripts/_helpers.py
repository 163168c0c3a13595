"""Shared by the workflow scripts: log redirection and the standalone (no Snakemake) entry point.

Snakemake puts this folder on sys.path for every `script:`, so `from _helpers import ...` works there and
when a script is run by hand from this folder or with `python scripts/<name>.py`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import sys
from pathlib import Path
from types import SimpleNamespace

# Jobs in a conda env (envs/sbadbal.yaml) or a plain checkout without `pip install -e .` still find the library.
if importlib.util.find_spec("sbadbal") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def log_to(path: str | None) -> logging.Logger:
    """Send logging and stderr (warnings, tracebacks, progress) to the rule's log file."""
    if path:
        stream = open(path, "w", buffering=1)
        sys.stderr = stream
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    return logging.getLogger("sbadbal.workflow")


def standalone_job(description: str, inputs: list[str], outputs: list[str], params: list[str],
                   wildcards: list[str] = (), lists: tuple[str, ...] = ()) -> SimpleNamespace:
    """A stand-in for the `snakemake` object from the command line: paths as options, params as JSON.

    Names in `lists` take one or more paths. Wildcards come as plain strings, as Snakemake gives them.

    Example: python scripts/plot_curves.py --runs runs.csv --pdf a.pdf --png a.png --plots '{"dpi": 100}'
    """
    parser = argparse.ArgumentParser(description=description)
    for name in [*inputs, *outputs]:
        parser.add_argument(f"--{name}", required=True, nargs="+" if name in lists else None)
    for name in params:
        parser.add_argument(f"--{name}", required=True, type=json.loads, help="JSON")
    for name in wildcards:
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--log", default=None, help="log file (default: stderr)")
    args = vars(parser.parse_args())
    pick = lambda names: SimpleNamespace(**{name: args[name] for name in names})  # noqa: E731
    return SimpleNamespace(
        input=pick(inputs),
        output=pick(outputs),
        params=pick(params),
        wildcards=pick(wildcards),
        log=[args["log"]],
        threads=1,
    )
