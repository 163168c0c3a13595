"""A workflow script run by hand (`python scripts/<name>.py KEY=VALUE ... [--config KEY=VALUE]`): the `snakemake`
object built from the real workflow's job, as PyPSA-Eur's helper of that name does, so the same inputs, outputs,
params and log as the workflow would give it, and nothing about a rule is written twice.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def _pairs(words: list[str]) -> dict[str, object]:
    pairs = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise SystemExit(f"expected KEY=VALUE, got {word!r}")
        pairs[key] = value
    return pairs


def mock_snakemake(rule_name: str, argv: list[str] | None = None, workdir: Path | str | None = None, *,
                   root: Path | str):
    """The `snakemake` object that the real workflow (its Snakefile in `root`) gives rule `rule_name`'s job for
    the wildcards in `argv`."""
    root = Path(root)
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
            snakefile=root / "Snakefile", workdir=workdir,
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
                         workflow.config, rule.name, None, scriptdir=str(root / "scripts"))
