"""Every `python -m sbadbal` example of `--help` and of the README runs as written (issue 19, item 5), in order, in
the folder of a finished tiny suite (so that `recover` finds nothing to redo), and the quick example ends at a
sensible accuracy at a cost that cannot grow back to scoring the whole pool at K = 100."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sbadbal.__main__ import build_parser

from .helpers import REPO, change_config, snakemake_env

PROMPT = re.compile(r"^\s*python -m sbadbal(?=\s|$)")


def commands_in(lines: list[str]) -> list[str]:
    """The `python -m sbadbal ...` command lines among `lines`, continuation lines (a trailing backslash) joined."""
    commands, current = [], None
    for line in lines:
        if current is None and PROMPT.match(line):
            current = line.strip()
        elif current is not None:
            current += " " + line.strip()
        else:
            continue
        if current.endswith("\\"):
            current = current[:-1].rstrip()
        else:
            commands.append(current)
            current = None
    return commands


def help_examples() -> list[str]:
    return commands_in(build_parser().format_help().split("examples:", 1)[1].splitlines())


def readme_examples() -> list[str]:
    """Command lines in the README's code blocks, and inline code spans that are whole commands."""
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"^```(?:bash|sh|console)?\n(.*?)^```", text, flags=re.M | re.S)
    in_blocks = [command for block in blocks for command in commands_in(block.splitlines())]
    inline = [" ".join(span.split()) for span in re.findall(r"`(python -m sbadbal(?:\s[^`]*)?)`", text)]
    return in_blocks + inline


def test_the_examples_are_found():
    assert len(help_examples()) >= 6 and any("run --set" in command for command in help_examples())
    assert {"python -m sbadbal list", "python -m sbadbal unlock"} <= set(readme_examples())
    assert any(command.startswith("python -m sbadbal recover") for command in readme_examples())


@pytest.fixture
def finished_suite(tiny_run, tmp_path) -> Path:
    """A copy of the finished tiny suite whose config.yaml selects it, as a user's folder after `snakemake`."""
    workdir = tmp_path / "workflow"
    shutil.copytree(tiny_run, workdir, symlinks=True)
    change_config(workdir, lambda config: config.update(suite="tiny"))
    return workdir


def run_example(command: str, workdir: Path, bin_dir: Path) -> subprocess.CompletedProcess:
    """The command through a shell as written, with `python` this interpreter; one torch thread, as the workflow
    tests run, since two threads on a machine whose cores are busy cost several times more (README)."""
    env = snakemake_env({"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "OMP_NUM_THREADS": "1"})
    return subprocess.run(["bash", "-c", command], cwd=workdir, env=env, capture_output=True, text=True, timeout=600)


def test_every_cli_example_runs_as_written(finished_suite, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # A wrapper, not a symlink: a virtual environment's interpreter finds its packages from its own path.
    wrapper = bin_dir / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    seconds = {}
    for command in dict.fromkeys(help_examples() + readme_examples()):
        started = time.perf_counter()
        result = run_example(command, finished_suite, bin_dir)
        seconds[command] = time.perf_counter() - started
        assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        if " recover" in command:
            assert "Nothing to be done" in result.stderr, result.stderr[-2000:]
    print({command[:60]: round(value, 1) for command, value in seconds.items()})

    # The quick example: a sensible accuracy on MNIST5K after 40 acquired labels (chance is 10 %; the former
    # example ended near 15 %), at a cost that stays small: a pool subset scored with at most 20 masks.
    spec = json.loads((finished_suite / "out" / "quick.json").read_text())["config"]
    with (finished_suite / "out" / "quick.csv").open() as handle:
        last = list(csv.DictReader(handle))[-1]
    assert int(last["labelled"]) == spec["budget"] == 60 and float(last["test_accuracy"]) > 60.0, last
    assert spec["pool_subset"] == 500 and spec["uncertainty"]["k_acquisition"] == 20, spec
    print(f"quick example: {float(last['test_accuracy']):.1f} % at 60 labels in "
          f"{seconds[next(c for c in seconds if 'out/quick.csv' in c)]:.0f} s, load average {os.getloadavg()}")
