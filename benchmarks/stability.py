"""Do the claims' verdicts survive a change of CPU kernels? The claims' experiment and benchmark, twice.

  python benchmarks/stability.py --root /tmp/stability --cores 2 --out benchmarks/results/stability_cpu.md

Runs the workflow's `claims` target (the claims' experiments and timing benchmark of `--suite`) in two working
copies of this checkout, one per CPU kernel setting: the default (the best ISA torch and oneDNN find on this
machine) and `ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2`. Same commit, configuration and seeds; only the
float rounding of the kernels differs, which an unstable training recipe amplifies into different trajectories.
Then prints, per comparison, the estimate and verdict of each arm, and per seed the paired differences at the
budget, and says whether any verdict differs. A working copy that already holds a finished arm is reused
(Snakemake finds nothing to do), so `--arm default=DIR` can point at a fresh clone that ran the suite.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
# The comparison decides both arms with this checkout's claims code, whatever PYTHONPATH holds (another checkout's
# `sbadbal` there would decide with its code, or fail to import); each arm's workflow imports its own copy.
sys.path.insert(0, str(REPO))
ARMS = {
    "default": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
}


def working_copy(directory: Path) -> None:
    """The checkout's tracked files (and the git-ignored data/ folder's AG News CSV, when present) in `directory`."""
    if (directory / "Snakefile").exists():
        return
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True, capture_output=True).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    csv = REPO / "data" / "ag_news" / "test.csv"
    if csv.exists():
        (directory / "data" / "ag_news").mkdir(parents=True, exist_ok=True)
        (directory / "data" / "ag_news" / "test.csv").symlink_to(csv.resolve())


def run_arm(directory: Path, environment: dict[str, str], suite: str, cores: int) -> float:
    # The copy's own package, not whatever `sbadbal` is installed: an arm must run the code it was copied with.
    env = {**os.environ, **environment, "PYTHONPATH": str(directory)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(cores), "--config", f"suite={suite}",
                    "--", f"results/{suite}/tables/claims.csv"], cwd=directory, env=env, check=True)
    return time.perf_counter() - start


def per_seed_differences(directory: Path, suite: str) -> pd.DataFrame:
    from sbadbal.analysis.claims import CLAIMS, paired_seed_differences
    from sbadbal.analysis.tables import read_runs_table

    rows = []
    for path in sorted((directory / "results" / suite / "tables").glob("*/runs.csv")):
        runs = read_runs_table(path)
        for claim in CLAIMS:
            for comparison in claim.comparisons:
                if not comparison.statistic.startswith("accuracy"):
                    continue
                for batch_size, group in runs.groupby("batch_size"):
                    differences = paired_seed_differences(group, comparison.algorithm, comparison.baseline)
                    for row in differences.itertuples(index=False):
                        rows.append({"experiment": path.parent.name, "batch_size": batch_size,
                                     "comparison": f"{comparison.algorithm} - {comparison.baseline}",
                                     "seed": row.seed, "difference": row.at_budget})
    return pd.DataFrame(rows)


def claims_of_arm(directory: Path, suite: str) -> pd.DataFrame:
    """The claims table of an arm's files, decided by this checkout's claims code (as the claims rule does)."""
    import yaml

    from sbadbal.analysis.claims import claims_table
    from sbadbal.analysis.tables import read_runs_table
    from sbadbal.config import load_config

    config = load_config({**yaml.safe_load((directory / "config.yaml").read_text()), "suite": suite})
    chosen = config.selected_suite()
    here = Path.cwd()
    try:
        os.chdir(directory)  # local data files (AG News) are looked for relative to the working copy
        experiments, _ = chosen.available_experiments()
    finally:
        os.chdir(here)
    benchmarks = {key: bench for key, bench in chosen.benchmarks.items() if bench.experiment in experiments}
    tables = directory / "results" / suite
    runs = pd.concat([read_runs_table(tables / "tables" / key / "runs.csv").assign(experiment=key)
                      for key in chosen.claims_experiments(experiments)], ignore_index=True)
    bench = chosen.claims_benchmark(benchmarks)
    timings = pd.read_csv(tables / "bench" / bench / "timings.csv") if bench else None
    declared = chosen.claims_declared()
    return claims_table(runs, timings, config.claims.model_dump(), experiments=declared)


def compare(directories: dict[str, Path], suite: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    names = list(directories)
    tables = {name: claims_of_arm(d, suite) for name, d in directories.items()}
    keys = ["claim", "comparison", "experiment", "batch_size"]
    merged = None
    for name in names:
        part = tables[name][keys + ["estimate", "verdict"]].rename(
            columns={"estimate": f"estimate ({name})", "verdict": f"verdict ({name})"})
        merged = part if merged is None else merged.merge(part, on=keys, how="outer")
    merged["same verdict"] = merged[f"verdict ({names[0]})"] == merged[f"verdict ({names[1]})"]
    seeds = None
    for name in names:
        part = per_seed_differences(directories[name], suite).rename(columns={"difference": f"difference ({name})"})
        seeds = part if seeds is None else seeds.merge(part, on=["experiment", "batch_size", "comparison", "seed"],
                                                         how="outer")
    # Per seed only where both arms ran (the claims' experiments; the suite's others ran in one arm at most).
    seeds = seeds.dropna(subset=[f"difference ({name})" for name in names])
    return merged, seeds


def _number(value) -> str:
    return "" if pd.isna(value) else f"{value:.2f}"


def markdown(merged: pd.DataFrame, seeds: pd.DataFrame, names: list[str], seconds: dict[str, float]) -> str:
    flipped = int((~merged["same verdict"]).sum())
    accuracy = merged[merged["comparison"].str.contains("accuracy")]
    moved = float((accuracy[f"estimate ({names[0]})"] - accuracy[f"estimate ({names[1]})"]).abs().max())
    change = seeds[f"difference ({names[1]})"] - seeds[f"difference ({names[0]})"]
    seed_moved, seed_sd = float(change.abs().max()), float(change.std())
    lines = [
        "# Stability: the claims under two CPU kernel settings",
        "",
        f"`python benchmarks/stability.py {' '.join(sys.argv[1:])}` on {datetime.date.today().isoformat()}, "
        f"{platform.machine()}, {os.cpu_count()} cores; arms: "
        + "; ".join(f"{n} ({' '.join(f'{k}={v}' for k, v in ARMS[n].items()) or 'no variables'}; "
                    f"workflow {seconds[n]:.0f} s in this invocation, seconds when the arm had already finished)"
                    for n in names) + ".",
        "",
        f"**{flipped} of {len(merged)} verdicts differ between the arms.**",
        "",
        f"Accuracy estimates move by up to {moved:.2f} points between the arms; the paired differences of single "
        f"seeds by up to {seed_moved:.2f} (standard deviation of the change {seed_sd:.2f}): the kernels still send "
        "single runs along other trajectories, and the verdicts rest on what survives that.",
        "",
        "| claim | comparison | experiment | " + " | ".join(f"estimate ({n}) | verdict ({n})" for n in names)
        + " | same |",
        "|---|---|---|" + "---|---|" * len(names) + "---|",
    ]
    for row in merged.to_dict("records"):
        cells = [str(row["claim"]).split(" ")[0], row["comparison"], str(row["experiment"])]
        for n in names:
            cells += [_number(row[f"estimate ({n})"]), str(row[f"verdict ({n})"])]
        cells.append("yes" if row["same verdict"] else "**no**")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Per seed: paired differences at the budget (accuracy points).", "",
              "| experiment | comparison | seed | " + " | ".join(names) + " | change |",
              "|---|---|---|" + "---|" * len(names) + "---|"]
    for row in seeds.to_dict("records"):
        values = [row[f"difference ({n})"] for n in names]
        change = values[1] - values[0] if not any(pd.isna(v) for v in values) else float("nan")
        lines.append(f"| {row['experiment']} | {row['comparison']} | {row['seed']} | "
                     + " | ".join(_number(v) for v in values) + f" | {_number(change)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, required=True, help="folder for the two working copies")
    parser.add_argument("--suite", default="default")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--arm", action="append", default=[], metavar="NAME=DIR",
                        help="use an existing working copy for an arm (e.g. default=/tmp/fresh-clone)")
    parser.add_argument("--only", choices=list(ARMS), help="run this arm's workflow only (no comparison)")
    parser.add_argument("--out", type=Path, help="also write the table to this markdown file")
    args = parser.parse_args(argv)
    directories = {name: args.root / name for name in ARMS}
    for text in args.arm:
        name, _, path = text.partition("=")
        if name not in ARMS:
            parser.error(f"--arm {text}: the arms are {', '.join(ARMS)}")
        directories[name] = Path(path).resolve()
    seconds = {}
    for name, directory in directories.items():
        if args.only and name != args.only:
            continue
        directory.mkdir(parents=True, exist_ok=True)
        working_copy(directory)
        print(f"stability: arm {name} in {directory}", file=sys.stderr, flush=True)
        seconds[name] = run_arm(directory, ARMS[name], args.suite, args.cores)
    if args.only:
        return 0
    merged, seeds = compare(directories, args.suite)
    table = markdown(merged, seeds, list(directories), seconds)
    print(table)
    if args.out:
        args.out.write_text(table)
    return 0 if bool(merged["same verdict"].all()) else 1


if __name__ == "__main__":
    sys.exit(main())
