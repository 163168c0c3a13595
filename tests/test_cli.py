"""The command line without traps (issue 19, item 5): every command listed with its purpose, recover and unlock parse
their own arguments (help is help, a typo is an error, nothing is unlocked unless asked), and bad input is one line
with a non-zero exit. The examples themselves run in tests/workflow/test_cli_examples.py."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sbadbal.ops.recovery as recovery
from sbadbal.__main__ import COMMANDS, build_parser, main

REPO = Path(__file__).resolve().parents[1]
TINY_KEY = ("--experiment", str(REPO / "config.yaml"), "--key", "suites.tiny.experiments.tiny_mc")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sbadbal", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)


def stale_lock(folder: Path) -> list[Path]:
    """Lock files as Snakemake writes them (.snakemake/locks/<n>.{input,output}.lock), with no Snakemake running."""
    locks = folder / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    paths = [locks / "0.input.lock", locks / "0.output.lock"]
    for path in paths:
        path.write_text(str(folder / "results" / "x.csv") + "\n")
    return paths


def test_help_lists_every_command_with_its_purpose():
    parser = build_parser()
    (commands,) = (action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    text = parser.format_help()
    listed = dict(re.findall(r"^    (\w+) +(\S.*)$", text, flags=re.M))
    assert list(listed) == list(commands.choices) and len(listed) == len(COMMANDS)
    assert {"run", "prepare", "list", "recover", "unlock"} <= set(listed)
    assert all(len(purpose) > 20 for purpose in listed.values())
    assert "examples:" in text


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="live-run detection reads /proc (Linux)")
def test_unlock_and_recover_help_and_typos_leave_the_lock(tmp_path):
    locks = stale_lock(tmp_path)
    for args in (["unlock", "--help"], ["unlock", "-h"], ["recover", "--help"]):
        shown = cli(*args, cwd=tmp_path)
        assert shown.returncode == 0 and shown.stdout.startswith(f"usage: python -m sbadbal {args[0]}")
        assert all(path.is_file() for path in locks), f"{' '.join(args)} removed the lock"
    # recover's own help, not Snakemake's thousand lines.
    assert len(cli("recover", "--help", cwd=tmp_path).stdout.splitlines()) < 60
    for args in (["unlock", "--bogus"], ["unlock", "results"], ["recover", "--bogus"], ["recover", "--cores", "1",
                                                                                          "--bogus"]):
        refused = cli(*args, cwd=tmp_path)
        assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1, refused.stderr
        assert "unrecognized arguments" in refused.stderr and refused.stdout == ""
        assert all(path.is_file() for path in locks), f"{' '.join(args)} removed the lock"
    asked = cli("unlock", cwd=tmp_path)
    assert asked.returncode == 0 and "removed the stale Snakemake lock" in asked.stderr
    assert not any(path.exists() for path in locks)


def forwarded(monkeypatch, *args: str) -> list[str]:
    """What `recover` hands to the recovery function (which unlocks and runs snakemake with it)."""
    calls = []
    monkeypatch.setattr(recovery, "main", lambda argv: calls.append(list(argv)) or 0)
    assert main(["recover", *args]) == 0
    (call,) = calls
    assert call[0] == "recover"
    return call[1:]


def test_recover_forwards_its_snakemake_options_and_only_what_follows_double_dash(monkeypatch):
    # Targets between options, as for snakemake; targets first, so --config cannot take one as a value.
    assert forwarded(monkeypatch, "--cores", "1", "results/x.pt", "--config", "suite=tiny") == \
        ["results/x.pt", "--cores", "1", "--config", "suite=tiny"]
    assert forwarded(monkeypatch, "-c", "--ri", "-k", "-d", "work", "-C", "suite=tiny", "data={root: /d}") == \
        ["--cores", "all", "--config", "suite=tiny", "data={root: /d}", "--directory", "work", "--keep-going",
         "--rerun-incomplete"]
    assert forwarded(monkeypatch, "--cores", "2", "--", "--latency-wait", "60", "--cores", "3") == \
        ["--latency-wait", "60", "--cores", "3", "--cores", "2"]
    assert forwarded(monkeypatch) == []


def test_unlock_forwards_only_the_folder(monkeypatch):
    calls = []
    monkeypatch.setattr(recovery, "main", lambda argv: calls.append(list(argv)) or 0)
    assert main(["unlock"]) == 0 and main(["unlock", "-d", "work"]) == 0
    assert calls == [["unlock"], ["unlock", "--directory", "work"]]


def one_error_line(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and captured.out == "", captured.err
    return lines[0]


def test_run_set_names_every_missing_key_at_once(capsys, tmp_path):
    line = one_error_line(capsys, ["run", "--set", "dataset=MNIST5K", "--set", "budget=40",
                                   "--csv", str(tmp_path / "x.csv")])
    assert line.startswith("error: --set: required keys are missing; add model: (")
    for key in ("model", "initial_size", "batch_sizes", "algorithms", "seeds"):
        assert f"; add {key}: (" in line or f"; {key}: (" in line
    assert "budget:" not in line and "dataset:" not in line
    assert not (tmp_path / "x.csv").exists()


def test_a_batch_size_the_experiment_does_not_list_is_an_error(capsys, tmp_path):
    line = one_error_line(capsys, ["run", *TINY_KEY, "--algorithm", "BALD", "--seed", "1", "--batch-size", "7",
                                   "--csv", str(tmp_path / "x.csv")])
    assert line == ("error: --batch-size 7: the experiment lists batch_sizes [10]; give one of them, or list it "
                    "(in the file, or --set batch_sizes=[...])")
    assert not (tmp_path / "x.csv").exists()


def test_missing_config_files_are_errors(capsys, tmp_path):
    missing = tmp_path / "nonexistent.yaml"
    assert one_error_line(capsys, ["list", "--config", str(missing)]) == \
        f"error: list --config {missing}: no such file; give the workflow's config.yaml"
    assert one_error_line(capsys, ["run", "--experiment", str(missing), "--csv", str(tmp_path / "x.csv")]) == \
        f"error: experiment file {str(missing)!r} does not exist"


@pytest.mark.parametrize("argv", [["bogus"], [], ["run"], ["list", "--bogus"]])
def test_usage_mistakes_are_one_line_with_exit_code_2(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert len(captured.err.splitlines()) == 1 and "(see python -m sbadbal" in captured.err
