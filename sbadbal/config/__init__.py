"""The configuration model: config.yaml as typed records, checked once (model.py: the file and its small sections;
experiment.py, suite.py: experiments, benchmarks, suites; claims.py: the claims table's rules; checks.py: what one
field cannot check; errors.py: one ConfigError per mistake, in words; schema.py: the JSON schema). Torch-free; imported by the workflow when it
parses and by the command line, never by a job.
"""

from sbadbal._lazy import lazy_exports

# Exported name -> the submodule that defines it (read by sbadbal/ops/codegraph.py too).
_EXPORTS = {
    "REFERENCE_FILE": "checks",
    "REFERENCE_PATH": "checks",
    "ClaimRules": "claims",
    "Config": "model",
    "ConfigError": "errors",
    "Experiment": "experiment",
    "Suite": "suite",
    "check_config_files": "model",
    "experiment_from_mapping": "model",
    "json_schema": "schema",
    "load_config": "model",
    "load_config_file": "model",
    "run_from_mapping": "experiment",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
