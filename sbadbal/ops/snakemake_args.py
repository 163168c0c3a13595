"""The Snakemake options that `python -m sbadbal recover` accepts and forwards, and the parts of a Snakemake command
line that the end-of-suite summary repeats (sbadbal/ops/summary.py).

`recover` parses its own arguments, so that `--help` shows its help and a typo is an error instead of a Snakemake
run with surprises. It names the options a rerun after a crash needs; any other Snakemake option goes after `--`
and is forwarded as written (`recover --cores 2 -- --latency-wait 60`).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SnakemakeOption:
    """One Snakemake option as `recover` takes it: its flags (the first is the one forwarded), argparse's nargs
    (None: one value, "+": one or more, "?": an optional value, 0: a flag) and its help."""

    flags: tuple[str, ...]
    help: str
    nargs: Any = None
    metavar: str | None = None
    const: str | None = None
    selects_workflow: bool = False  # which workflow, folder and configuration: repeated in the report command

    @property
    def dest(self) -> str:
        return "snakemake_" + self.flags[0].lstrip("-").replace("-", "_")

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        if self.nargs == 0:
            parser.add_argument(*self.flags, dest=self.dest, action="store_true", help=self.help)
        else:
            parser.add_argument(*self.flags, dest=self.dest, nargs=self.nargs, metavar=self.metavar,
                                const=self.const, help=self.help)

    def forwarded(self, value: Any) -> list[str]:
        """The Snakemake arguments for the parsed `value` (nothing when the option was not given)."""
        if value is None or value is False:
            return []
        if value is True:
            return [self.flags[0]]
        return [self.flags[0], *(value if isinstance(value, list) else [value])]


RECOVER_OPTIONS: tuple[SnakemakeOption, ...] = (
    SnakemakeOption(("--cores", "-c"), "cores to use (no value: all)", nargs="?", metavar="N", const="all"),
    SnakemakeOption(("--jobs", "-j"), "jobs at a time (cluster executors)", metavar="N"),
    SnakemakeOption(("--config", "-C"), "config overrides, as for snakemake (e.g. suite=tiny)", nargs="+",
                    metavar="KEY=VALUE", selects_workflow=True),
    SnakemakeOption(("--configfile", "--configfiles"), "config files, as for snakemake", nargs="+", metavar="FILE",
                    selects_workflow=True),
    SnakemakeOption(("--directory", "-d"), "the workflow's working folder (default: here)", metavar="DIR",
                    selects_workflow=True),
    SnakemakeOption(("--snakefile", "-s"), "the Snakefile (default: ./Snakefile)", metavar="FILE",
                    selects_workflow=True),
    SnakemakeOption(("--profile",), "a Snakemake profile", metavar="PROFILE"),
    SnakemakeOption(("--workflow-profile",), "a workflow profile (e.g. profiles/slurm)", metavar="PROFILE"),
    SnakemakeOption(("--executor", "-e"), "a Snakemake executor (e.g. slurm)", metavar="NAME"),
    SnakemakeOption(("--resources", "--res"), "resource limits (e.g. gpu=1)", nargs="+", metavar="NAME=INT"),
    SnakemakeOption(("--keep-going", "-k"), "let independent jobs finish when one fails", nargs=0),
    SnakemakeOption(("--rerun-incomplete", "--ri"), "redo outputs a killed job left incomplete", nargs=0),
    SnakemakeOption(("--dry-run", "-n"), "only show what the rerun would do", nargs=0),
)


def add_recover_options(parser: argparse.ArgumentParser) -> None:
    for option in RECOVER_OPTIONS:
        option.add_to(parser)


def split_verbatim(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """(arguments to parse, arguments after the first `--`, forwarded as written)."""
    argv = list(argv)
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1:]
    return argv, []


def snakemake_arguments(parsed: argparse.Namespace, targets: Sequence[str], verbatim: Sequence[str]) -> list[str]:
    """Snakemake's command line for a parsed `recover`: the targets, the verbatim arguments, then the named
    options (last, so that a multi-value option such as --config cannot take a target as a value)."""
    named = [token for option in RECOVER_OPTIONS for token in option.forwarded(getattr(parsed, option.dest, None))]
    return [*targets, *verbatim, *named]


def _flag_of(token: str) -> str:
    """'--config' of '--config=suite=tiny', '-c' of '-c2'."""
    if token.startswith("--"):
        return token.split("=", 1)[0]
    return token[:2]


def _known(token: str) -> bool:
    return any(_flag_of(token) in option.flags for option in RECOVER_OPTIONS)


def recover_arguments(snakemake_argv: Sequence[str]) -> list[str]:
    """`recover`'s arguments for rerunning a Snakemake command line: as written when `recover` knows every option
    in it, else all of it after `--`."""
    argv = list(snakemake_argv)
    options = [token for token in argv if token.startswith("-") and len(token) > 1]
    return argv if all(_known(token) for token in options) else ["--", *argv]


def workflow_arguments(snakemake_argv: Sequence[str]) -> list[str]:
    """The options of a Snakemake command line that say which workflow, folder and configuration it ran (--config,
    --configfile, --directory, --snakefile), with their values; the rest (cores, targets, executor) left out."""
    selecting = {flag: option for option in RECOVER_OPTIONS if option.selects_workflow for flag in option.flags}
    argv, kept, index = list(snakemake_argv), [], 0
    while index < len(argv):
        token = argv[index]
        option = selecting.get(_flag_of(token)) if token.startswith("-") else None
        index += 1
        if option is None:
            continue
        kept.append(token)
        if ("=" in token and token.startswith("--")) or (not token.startswith("--") and len(token) > 2):
            continue  # --directory=DIR or -dDIR: the value is in the token
        if option.nargs == "+":
            while index < len(argv) and not argv[index].startswith("-"):
                if option.flags[0] != "--config" or "=" in argv[index]:  # a target after --config is no value
                    kept.append(argv[index])
                index += 1
        elif index < len(argv):
            kept.append(argv[index])
            index += 1
    return kept

