"""What computing round 0 once per seed saves: one seed's runs of an experiment, each computing its own round 0
against round 0 computed once and read by every run (sbadbal/engine/initial.py, docs/design.md#round-0).

  python benchmarks/round_zero.py --out benchmarks/results/round_zero_cpu.md

Both arms run in this one process, one torch thread (after one untimed warm-up fit), on the same prepared dataset (the suite's settings from
config.yaml), alternating arm by arm per algorithm so that a change of machine load touches both; process
start-up and file I/O of the workflow are not in either. Also checks that both arms give the same rows apart from
the timing columns (exit status 1 otherwise).
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TIMING = ["train_seconds", "score_seconds", "acquisition_seconds"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", default="default")
    parser.add_argument("--experiment", default="rmnist5k_mc")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, help="also write the table to this markdown file")
    args = parser.parse_args(argv)

    import torch

    from sbadbal.config import load_config_file
    from sbadbal.data import prepare_dataset
    from sbadbal.engine.initial import compute_round_zero
    from sbadbal.engine.loop import run_active_learning

    torch.set_num_threads(1)
    suite = load_config_file(REPO / "config.yaml").suites[args.suite]
    experiment = suite.experiments[args.experiment]
    settings = suite.preparation(experiment.dataset)
    prepared = prepare_dataset(experiment.dataset, **preparation_kwargs(settings))
    device = torch.device("cpu")
    batch_size = experiment.batch_sizes[0]
    specs = [experiment.run(name, batch_size, args.seed) for name in experiment.algorithm_names]

    compute_round_zero(prepared, specs[0], device)  # warm-up: first-call costs (lazy imports, allocator) untimed
    start = time.perf_counter()
    shared = compute_round_zero(prepared, specs[0], device)
    round_zero_seconds = time.perf_counter() - start
    rows, identical = [], True
    for spec in specs:
        start = time.perf_counter()
        alone = run_active_learning(prepared, spec, device=device)
        alone_seconds = time.perf_counter() - start
        start = time.perf_counter()
        reading = run_active_learning(prepared, spec, device=device, round_zero=shared)
        reading_seconds = time.perf_counter() - start
        same = alone.drop(columns=TIMING).equals(reading.drop(columns=TIMING))
        identical &= same
        rows.append((spec.name, alone_seconds, reading_seconds, same))
        print(f"{spec.name}: {alone_seconds:.1f} s computing round 0, {reading_seconds:.1f} s reading it, "
              f"same rows: {same}", flush=True)

    total_alone = sum(row[1] for row in rows)
    total_shared = round_zero_seconds + sum(row[2] for row in rows)
    lines = [
        "# Round 0 once per seed",
        "",
        f"`python benchmarks/round_zero.py{' '.join([''] + (argv if argv is not None else sys.argv[1:]))}` on "
        f"{datetime.date.today().isoformat()}, {platform.machine()} {cpu_name()}, 1 torch "
        f"thread; {args.suite}/{args.experiment}, b = {batch_size}, seed {args.seed}, "
        f"{len(specs)} algorithms.",
        "",
        "| algorithm | seconds, computing its own round 0 | seconds, reading the shared round 0 | same rows |",
        "|---|---|---|---|",
        *(f"| {name} | {alone:.1f} | {reading:.1f} | {'yes' if same else 'NO'} |" for name, alone, reading, same in rows),
        f"| round 0, once | | {round_zero_seconds:.1f} | |",
        f"| **seed total** | **{total_alone:.1f}** | **{total_shared:.1f}** | |",
        "",
        f"Round 0 once per seed: the seed's runs take {total_shared / total_alone:.2f}x the time "
        f"({100 * (1 - total_shared / total_alone):.0f} % less), with "
        f"{'identical' if identical else 'DIFFERENT'} rows apart from the timing columns.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0 if identical else 1


def cpu_name() -> str:
    try:
        return next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "CPU"


def preparation_kwargs(settings: dict) -> dict:
    """prepare_dataset's keyword arguments from a suite's preparation settings (as prepare_data passes them)."""
    kwargs = {key: settings[key] for key in ("repeats", "noise_std", "noise_seed") if key in settings}
    kwargs.update(settings.get("options", {}))
    return kwargs


if __name__ == "__main__":
    sys.exit(main())
