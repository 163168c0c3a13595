"""Command line: one AL run or one prepared dataset outside Snakemake, the library's catalogue, and recovery of the
workflow after a crash. Each command's own --help gives its options.

`run --experiment` reads a YAML or JSON file holding one experiment mapping (or a bigger file and `--key` the dotted
path to one); `--set KEY=VALUE` adds or overrides keys (dotted for nested ones; values parsed as YAML). The
experiment is checked by the workflow's configuration model (sbadbal/config/) and the run is the same RunSpec the
workflow runs: a key `suites.<suite>.experiments.<name>` of config.yaml brings the suite's dataset settings and the
file's variants. Without `--prepared`, the dataset is prepared in memory (`--data-dir`, `--download`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# Shown by `--help`; tests/workflow/test_cli_examples.py runs each, in order, in a finished tiny-suite folder.
EXAMPLES = """examples:
  python -m sbadbal list
  python -m sbadbal prepare MNIST5K --out results/data/MNIST5K.pt
  # quick: one BALD run on MNIST5K, 20 -> 60 labels; about 15 s on 2 cores, about 75 % test accuracy
  python -m sbadbal run --set dataset=MNIST5K --set model=mnist_cnn --set initial_size=20 --set budget=60 \\
      --set batch_sizes=[20] --set algorithms=[BALD] --set seeds=[1] --set pool_subset=500 \\
      --set uncertainty.k_acquisition=20 --set uncertainty.k_test=10 \\
      --set training='{iterations: 12288, lr: 0.002, lr_schedule: cosine}' --csv out/quick.csv
  # one run of a suite's experiment, with the suite's dataset settings, on the prepared file
  python -m sbadbal run --experiment config.yaml --key suites.tiny.experiments.tiny_mc \\
      --prepared results/data/MNIST5K.pt --algorithm LBB --seed 2 --csv out/LBB.csv
  # what a suite will cost: fits, scorings, acquisitions, GPU and CPU hours per experiment
  python -m sbadbal estimate --config suite=paper
  # after a crash or a kill: remove the stale lock, then rerun (the suite's own --config options)
  python -m sbadbal recover --cores 2
  python -m sbadbal unlock
"""


def _parse_yaml_value(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


def _pairs(pairs: list[str], flag: str) -> list[tuple[str, Any]]:
    parsed = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag} takes KEY=VALUE, got {pair!r}")
        parsed.append((key, _parse_yaml_value(value)))
    return parsed


def _load_raw(path: str | None, key: str | None, overrides: list[tuple[str, Any]]) -> tuple[Any, list[str]]:
    """The parsed file (or {}) with `--set` overrides applied below `key`, and `key` split into parts."""
    import yaml

    parts = key.split(".") if key else []
    raw: Any = {}
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"experiment file {path!r} does not exist")
        raw = yaml.safe_load(file.read_text()) or {}  # YAML is a superset of JSON
    elif key:
        raise ValueError("--key needs --experiment FILE")
    raw = json.loads(json.dumps(raw))  # a deep copy of plain data
    target = raw
    for part in parts:
        if not isinstance(target, dict) or part not in target:
            choices = sorted(target) if isinstance(target, dict) else []
            raise ValueError(f"--key {key!r}: no entry {part!r} in {path}; found {choices}")
        target = target[part]
    if not isinstance(target, dict):
        raise ValueError(f"the experiment must be a mapping, got {type(target).__name__}")
    for dotted, value in overrides:
        inner = target
        *parents, leaf = dotted.split(".")
        for part in parents:
            inner = inner.setdefault(part, {})
            if not isinstance(inner, dict):
                raise ValueError(f"--set {dotted}: {part!r} is not a mapping")
        inner[leaf] = value
    return raw, parts


def load_experiment(path: str | None, key: str | None, overrides: list[tuple[str, Any]]):
    """(experiment, suite or None, data root) through the configuration model, as the workflow checks them.

    A key `suites.<suite>.experiments.<name>` of a config file validates the whole file, so the suite's dataset
    settings (repeats, options) and the file's variants apply; any other key (or none) is one experiment."""
    from sbadbal.config import experiment_from_mapping, load_config

    raw, parts = _load_raw(path, key, overrides)
    source = Path(path).name if path else "--set"
    base = Path(path).parent if path else None  # plug-in acquisition modules lie beside the config file
    if len(parts) == 4 and parts[0] == "suites" and parts[2] == "experiments":
        config = load_config(raw, source=source, base=base)
        suite = config.suites[parts[1]]
        return suite.experiments[parts[3]], suite, config.data.root
    experiment = raw
    for part in parts:
        experiment = experiment[part]
    variants = raw.get("variants") if isinstance(raw, dict) and parts else None
    return experiment_from_mapping(experiment, variants=variants, source=source, base=base), None, None


def _pick(value: Any, choices: list[Any], plural: str, flag: str) -> Any:
    """An explicit option, or the experiment's only entry of `plural` (batch_sizes, algorithms, seeds)."""
    if value is not None:
        return value
    if len(choices) == 1:
        return choices[0]
    raise ValueError(f"give {flag}; the experiment lists {plural} {choices}")


def _run(args: argparse.Namespace) -> int:
    from sbadbal.engine.loop import run_to_files

    experiment, suite, data_root = load_experiment(args.experiment, args.key, _pairs(args.set, "--set"))
    if args.batch_size is not None and args.batch_size not in experiment.batch_sizes:
        raise ValueError(f"--batch-size {args.batch_size}: the experiment lists batch_sizes {experiment.batch_sizes}; "
                         "give one of them, or list it (in the file, or --set batch_sizes=[...])")
    spec = experiment.run(
        _pick(args.algorithm, experiment.algorithm_names, "algorithms", "--algorithm"),
        int(_pick(args.batch_size, experiment.batch_sizes, "batch_sizes", "--batch-size")),
        int(_pick(args.seed, experiment.seeds, "seeds", "--seed")),
        params=dict(_pairs(args.param, "--param")),
    )
    if args.prepared is not None:
        prepared: Any = args.prepared
    else:
        from sbadbal.data.registry import prepare_dataset

        # The suite's preparation settings (RMNIST5K's repeats, AG News's files), as the workflow prepares it.
        settings = suite.preparation(spec.dataset) if suite is not None else {"options": {}}
        data_dir = args.data_dir or (data_root if suite is not None else None)
        if args.download or (suite is not None and suite.download):
            _retrieve(spec.dataset, data_dir, settings["options"])
        prepared = prepare_dataset(
            spec.dataset, data_dir=data_dir, repeats=settings.get("repeats"),
            noise_std=settings.get("noise_std"), noise_seed=settings.get("noise_seed", 0), **settings["options"],
        )
    csv_path = Path(args.csv)
    sidecar = Path(args.sidecar) if args.sidecar else csv_path.with_suffix(".json")

    from sbadbal.ops.progress import round_reporter, total_rounds

    # A line per round; a bar as well when stderr is a terminal.
    reporter = None if args.quiet else round_reporter(
        total_rounds(initial_size=spec.initial_size, budget=spec.budget, batch_size=spec.batch_size))
    rows = run_to_files(
        prepared, spec, csv_path=csv_path, sidecar_path=sidecar, checkpoint_path=args.checkpoint,
        device=args.device, progress=reporter,
    )
    if reporter is not None:
        reporter.close()
    print(json.dumps({"csv": str(csv_path), "sidecar": str(sidecar), "rounds": len(rows),
                      "final_accuracy": float(rows["test_accuracy"].iloc[-1])}))
    return 0


def _retrieve(dataset: str, data_dir: str | None, options: dict[str, Any]) -> None:
    """Fetch the dataset's raw files into the data folder first (preparation itself reads local files only)."""
    from sbadbal.data.files import resolve_data_dir
    from sbadbal.data.layouts import raw_source
    from sbadbal.data.records import dataset_spec
    from sbadbal.data.retrieve import retrieve

    raw = raw_source(dataset_spec(dataset).base, options)
    if raw is not None:
        retrieve(raw, resolve_data_dir(data_dir), log=lambda line: print(line, file=sys.stderr))


def _prepare(args: argparse.Namespace) -> int:
    from sbadbal.data.registry import prepare_dataset
    from sbadbal.data.store import save_prepared

    options = dict(_pairs(args.option, "--option"))
    if args.download:
        _retrieve(args.name, args.data_dir, options)
    prepared = prepare_dataset(args.name, data_dir=args.data_dir, repeats=args.repeats,
                               noise_std=args.noise_std, noise_seed=args.noise_seed, **options)
    path = save_prepared(prepared, args.out)
    print(json.dumps({"path": str(path), "train": prepared.num_train, "test": prepared.num_test}))
    return 0


def _list(args: argparse.Namespace) -> int:
    from sbadbal.ops.catalog import DEFAULT_CONFIG, print_catalog

    if args.config is not None and not Path(args.config).is_file():
        raise FileNotFoundError(f"list --config {args.config}: no such file; give the workflow's config.yaml")
    print_catalog(args.config or DEFAULT_CONFIG, data_dir=args.data_dir)
    return 0


def _estimate(args: argparse.Namespace) -> int:
    import yaml

    from sbadbal.config import load_config
    from sbadbal.ops.catalog import DEFAULT_CONFIG
    from sbadbal.ops.estimate import format_estimate, suite_estimate

    path = Path(args.configfile or DEFAULT_CONFIG)
    if not path.is_file():
        raise FileNotFoundError(f"config file {str(path)!r} does not exist")
    raw = yaml.safe_load(path.read_text()) or {}
    raw.update(_pairs(args.config, "--config"))  # top-level keys, as snakemake's --config sets them
    config = load_config(raw, source=path.name, base=path.parent)
    print(format_estimate(config.suite, suite_estimate(config.selected_suite())))
    return 0


def _recover(args: argparse.Namespace) -> int:
    """Unlock if stale, then run Snakemake with the forwarded options (sbadbal/ops/recovery.py)."""
    from sbadbal.ops.recovery import main as recovery
    from sbadbal.ops.snakemake_args import snakemake_arguments

    wait = ["--wait-for-jobs"] if args.wait_for_jobs else []
    return recovery(["recover", *wait, *snakemake_arguments(args, args.targets, args.verbatim)])


def _unlock(args: argparse.Namespace) -> int:
    from sbadbal.ops.recovery import main as recovery

    wait = ["--wait-for-jobs"] if args.wait_for_jobs else []
    return recovery(["unlock", *wait, *(["--directory", args.directory] if args.directory else [])])


def _add_run(commands: Any) -> None:
    run = commands.add_parser("run", help="one active-learning run outside Snakemake -> a run CSV and its JSON sidecar",
                              description=__doc__.split("\n\n", 1)[1], epilog=EXAMPLES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--experiment", help="YAML/JSON file with the experiment mapping")
    run.add_argument("--key", help="dotted path to the experiment inside --experiment")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="add/override an experiment key")
    run.add_argument("--prepared", help="a prepared dataset file (python -m sbadbal prepare)")
    run.add_argument("--data-dir", help="raw data folder when preparing in memory")
    run.add_argument("--download", action="store_true", help="fetch missing raw files first when preparing in memory")
    run.add_argument("--algorithm", help="an algorithm, alias or variant (default: the experiment's only one)")
    run.add_argument("--batch-size", type=int, help="one of the experiment's batch_sizes (default: its only one)")
    run.add_argument("--seed", type=int, help="the run's seed (default: the experiment's only one)")
    run.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="an acquisition parameter")
    run.add_argument("--csv", required=True, help="output CSV (written atomically)")
    run.add_argument("--sidecar", help="output JSON sidecar (default: the CSV path with .json)")
    run.add_argument("--checkpoint", help="checkpoint file (default: <csv>.checkpoint.json)")
    run.add_argument("--device", default="auto", help="auto (a GPU when visible), cpu, cuda or cuda:N")
    run.add_argument("--quiet", action="store_true", help="no per-round lines on stderr")
    run.set_defaults(handler=_run)


def _add_prepare(commands: Any) -> None:
    prepare = commands.add_parser("prepare", help="prepare one dataset into one file, as the workflow prepares it")
    prepare.add_argument("name", help="a dataset name (python -m sbadbal list)")
    prepare.add_argument("--out", required=True, help="the prepared file (.pt, written atomically)")
    prepare.add_argument("--data-dir", help="raw data folder (default: $SBADBAL_DATA_DIR or ./data)")
    prepare.add_argument("--download", action="store_true", help="fetch missing raw files into --data-dir first")
    prepare.add_argument("--repeats", type=int, help="copies of each pool point (repeated datasets)")
    prepare.add_argument("--noise-std", type=float, help="Gaussian noise on the copies")
    prepare.add_argument("--noise-seed", type=int, default=0)
    prepare.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="a source option")
    prepare.set_defaults(handler=_prepare)


def _add_list(commands: Any) -> None:
    listing = commands.add_parser("list", help="the catalogue: algorithms, datasets (offline here?), models, suites")
    listing.add_argument("--config", help="the workflow's config.yaml (default: the checkout's)")
    listing.add_argument("--data-dir", help="raw data folder to look in (default: $SBADBAL_DATA_DIR or ./data)")
    listing.set_defaults(handler=_list)


def _add_estimate(commands: Any) -> None:
    estimate = commands.add_parser("estimate", help="what a suite costs: model fits, scorings, acquisitions, GPU and "
                                   "CPU hours, from measured per-unit costs")
    estimate.add_argument("--configfile", help="the workflow's config.yaml (default: the checkout's)")
    estimate.add_argument("--config", nargs="*", default=[], metavar="KEY=VALUE",
                          help="override top-level keys, as snakemake's --config (suite=paper)")
    estimate.set_defaults(handler=_estimate)


def _add_recover(commands: Any) -> None:
    from sbadbal.ops.snakemake_args import add_recover_options

    recover = commands.add_parser(
        "recover", help="after a crash or a kill: remove a stale Snakemake lock, then rerun the workflow",
        description="Remove the Snakemake lock a killed run left (refused, exit 3, while a Snakemake process\n"
        "works in the folder), then run snakemake with the options below. Give the same --config options\n"
        "as the run had. Other Snakemake options go after `--` and are forwarded as written.",
        epilog="examples:\n  python -m sbadbal recover --cores 2 --config suite=tiny\n"
        "  python -m sbadbal recover --cores 2 -- --latency-wait 60",
        formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False,
    )
    recover.add_argument("targets", nargs="*", help="files to make (default: the suite's)")
    recover.add_argument("--wait-for-jobs", action="store_true", help="wait for the jobs a killed Snakemake left "
                         "running instead of stopping them by PID")
    add_recover_options(recover)
    recover.set_defaults(handler=_recover, verbatim=[])


def _add_unlock(commands: Any) -> None:
    unlock = commands.add_parser(
        "unlock", help="only remove a stale Snakemake lock (refused while a run is live); runs nothing",
        description="Remove the Snakemake lock a killed run left in the folder, and nothing else; refused (exit 3) "
        "while a Snakemake process works there.", allow_abbrev=False,
    )
    unlock.add_argument("--directory", "-d", help="the workflow's working folder (default: here)")
    unlock.add_argument("--wait-for-jobs", action="store_true", help="wait for the jobs a killed Snakemake left "
                        "running instead of stopping them by PID")
    unlock.set_defaults(handler=_unlock)


# One builder per command, in the order `--help` lists them.
COMMANDS = (_add_run, _add_prepare, _add_list, _add_estimate, _add_recover, _add_unlock)


class _Parser(argparse.ArgumentParser):
    """A usage mistake in one line (argparse prints the whole usage first), exit code 2 as argparse's."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m sbadbal", description=__doc__.split("\n\n", 1)[0],
                                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     title="commands (python -m sbadbal COMMAND --help for each one's options)")
    for add in COMMANDS:
        add(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    from sbadbal.ops.snakemake_args import split_verbatim
    from sbadbal.runs.writers import WriteError  # a full disk, a run another process writes: one line

    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    (commands,) = (action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    command = commands.choices.get(argv[0]) if argv else None
    if command is None:  # --help, no command or an unknown one: the top-level parser says which
        args = parser.parse_args(argv)
    elif argv[0] == "recover":
        # After `--`, Snakemake's own options, forwarded as written; targets may sit between options
        # (`recover --cores 1 results/x.pt --config suite=tiny`), as for snakemake.
        own, verbatim = split_verbatim(argv[1:])
        args = command.parse_intermixed_args(own)
        args.verbatim = verbatim
    else:
        args = command.parse_args(argv[1:])
    try:
        return args.handler(args)
    except (ValueError, FileNotFoundError, WriteError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
