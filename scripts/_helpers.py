"""Shared by the workflow scripts: log redirection and running a script outside Snakemake.

Snakemake puts this folder on sys.path for every `script:`, so `from _helpers import ...` works there and when
a script is run by hand (`python scripts/<name>.py ...`).

Outside Snakemake, `mock_snakemake` builds the script's `snakemake` object from the real workflow's job (as
PyPSA-Eur's helper of that name does): the same inputs, outputs, params and log as the workflow would give it,
so nothing about a rule is written twice. Wildcards come from the command line as KEY=VALUE; `--config
KEY=VALUE` overrides config.yaml as Snakemake's own option does; the suite defaults to config.yaml's:

    python scripts/run_al.py experiment=tiny_mc batch_size=10 alg=BALD seed=1 --config suite=tiny
"""

from __future__ import annotations

import importlib.util
import sys
from functools import partial
from pathlib import Path

# Jobs in a conda env (envs/sbadbal.yaml) or a plain checkout without `pip install -e .` still find the library.
ROOT = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("sbadbal") is None:
    sys.path.insert(0, str(ROOT))

from sbadbal.ops.joblog import attempts_done, log_to  # noqa: E402,F401 (what the scripts import from here)
from sbadbal.ops.standalone import mock_snakemake as _mock_snakemake  # noqa: E402

# This checkout's workflow: the Snakefile beside this folder.
mock_snakemake = partial(_mock_snakemake, root=ROOT)
