"""`python -m sbadbal.data prepare NAME OUT [...]`: prepare one dataset into one file, outside Snakemake.

Options that are not common to every dataset go as KEY=VALUE (`--option max_rows=200`); values are parsed as
int, float or left as strings.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import DATASET_NAMES, prepare_dataset, save_prepared
from .registry import SPECS


def _parse_value(value: str):
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def _parse_options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--option takes KEY=VALUE, got {pair!r}")
        options[key] = _parse_value(value)
    return options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sbadbal.data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the registered datasets")
    prep = commands.add_parser("prepare", help="prepare one dataset into one file")
    prep.add_argument("name", choices=DATASET_NAMES)
    prep.add_argument("out")
    prep.add_argument("--data-dir", default=None)
    prep.add_argument("--download", action="store_true")
    prep.add_argument("--repeats", type=int, default=None)
    prep.add_argument("--noise-std", type=float, default=None)
    prep.add_argument("--noise-seed", type=int, default=0)
    prep.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    if args.command == "list":
        for spec in SPECS.values():
            print(f"{spec.name:10s} classes={spec.num_classes:<4d} shape={spec.input_shape} source={spec.source}")
        return 0
    try:
        prepared = prepare_dataset(
            args.name,
            data_dir=args.data_dir,
            download=args.download,
            repeats=args.repeats,
            noise_std=args.noise_std,
            noise_seed=args.noise_seed,
            **_parse_options(args.option),
        )
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    path = save_prepared(prepared, args.out)
    summary = {"path": str(path), "train": prepared.num_train, "test": prepared.num_test, "sha256": prepared.metadata["sha256"]}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
