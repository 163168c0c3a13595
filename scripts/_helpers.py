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
import logging
import sys
from pathlib import Path

import yaml

# Jobs in a conda env (envs/sbadbal.yaml) or a plain checkout without `pip install -e .` still find the library.
ROOT = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("sbadbal") is None:
    sys.path.insert(0, str(ROOT))


class _Tee:
    """A text stream writing to several line-buffered files (the rule's log and the run's attempts log)."""

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text):
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self):
        for stream in self.streams:
            stream.flush()

    def fileno(self):  # faulthandler and subprocesses write to the rule's log
        return self.streams[0].fileno()

    def isatty(self):
        return False


def _one_line_errors(kind, error, trace):
    """A write that cannot go ahead (a full disk, a file another process writes, an escaping symlink; WriteError
    in sbadbal/runs/writers.py) or a bad GPU setting is one line naming the file and the fix; anything else keeps
    its traceback."""
    from sbadbal.ops.gpu_slots import GpuSettingError
    from sbadbal.runs.writers import WriteError

    if isinstance(error, (WriteError, GpuSettingError)):
        print(f"error: {error}", file=sys.stderr)
        sys.stderr.flush()
    else:
        sys.__excepthook__(kind, error, trace)


def log_to(path: str | None, attempts: str | None = None) -> logging.Logger:
    """Send logging and stderr (warnings, tracebacks, progress) to the rule's log file, and record this job.

    `attempts`: a file beside the run's checkpoint that outlives a killed attempt. Snakemake deletes a job's log
    before the job starts, so the earlier attempts' lines are copied from it into the new log first, and every
    line goes to both; the job removes it once its outputs are written (`attempts_done`).
    """
    from sbadbal.ops.ownership import register_job

    # Recovery finds the jobs a killed Snakemake left running by this record (sbadbal/ops/recovery.py).
    register_job(Path.cwd())
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Appended, never truncated: a rerun by hand of a job keeps its earlier lines.
        stream = open(path, "a", buffering=1)
        if attempts:
            earlier = Path(attempts)
            if earlier.is_file() and earlier.stat().st_size:
                stream.write(f"--- earlier attempt(s) of this job, kept in {earlier} ---\n")
                stream.write(earlier.read_text(errors="replace"))
                stream.write("--- this attempt ---\n")
            earlier.parent.mkdir(parents=True, exist_ok=True)
            stream = _Tee(stream, open(earlier, "a", buffering=1))
        sys.stderr = stream
    sys.excepthook = _one_line_errors
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    return logging.getLogger("sbadbal.workflow")


def attempts_done(attempts: str) -> None:
    """The job's outputs are written: its attempts' lines are all in the rule's log, the spare copy goes."""
    Path(attempts).unlink(missing_ok=True)


def _pairs(words: list[str]) -> dict[str, object]:
    pairs = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise SystemExit(f"expected KEY=VALUE, got {word!r}")
        pairs[key] = value
    return pairs


def mock_snakemake(rule_name: str, argv: list[str] | None = None, workdir: Path | str | None = None):
    """The `snakemake` object that the real workflow gives rule `rule_name`'s job for the wildcards in `argv`."""
    from snakemake.api import SnakemakeApi
    from snakemake.dag import DAG
    from snakemake.iocontainers import Snakemake
    from snakemake.jobs import Job
    from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, ResourceSettings

    argv = sys.argv[1:] if argv is None else argv
    config_words = [argv[i + 1] for i, word in enumerate(argv) if word == "--config" and i + 1 < len(argv)]
    wildcard_words = [w for i, w in enumerate(argv) if w != "--config" and (i == 0 or argv[i - 1] != "--config")]
    overrides = {key: yaml.safe_load(value) for key, value in _pairs(config_words).items()}
    wildcards = _pairs(wildcard_words)
    workdir = Path(workdir or Path.cwd())
    with SnakemakeApi(OutputSettings()) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(cores=1), config_settings=ConfigSettings(config=overrides),
            snakefile=ROOT / "Snakefile", workdir=workdir,
        )
        workflow = workflow_api._workflow
        workflow.dag_settings = DAGSettings()
        rule = workflow.get_rule(rule_name)
        wildcards.setdefault("suite", workflow.config["suite"])
        missing = sorted(set(rule.wildcard_names) - set(wildcards))
        if missing:
            raise SystemExit(f"rule {rule_name} needs the wildcards {', '.join(f'{w}=...' for w in missing)}")
        job = Job(rule, DAG(workflow, rules=[rule]), wildcards_dict=wildcards)
        for path in [*job.output, *job.log]:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return Snakemake(job.input, job.output, job.params, job.wildcards, job.threads, job.resources, job.log,
                         workflow.config, rule.name, None, scriptdir=str(ROOT / "scripts"))
