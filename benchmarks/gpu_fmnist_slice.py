"""A slice of the paper's FMNIST experiment at its setting, on one GPU: seconds per round by part, GPU utilisation,
throughput against jobs per GPU, accuracy at the budget against the original README figure, and the estimate of
`python -m sbadbal estimate` against what was measured.

  python benchmarks/gpu_fmnist_slice.py --data-dir DIR --out benchmarks/results/fmnist_slice_h200.md

The setting is the paper suite's `fmnist_mc` (config.yaml: the whole 59,980-point pool scored at K = 100, the
24,576-draw recipe, b = 10) with the budget cut to `--budget` labels (default 100: 9 rounds from 20). Each
(algorithm, seed) is one `python -m sbadbal run` process, the same run the workflow's `run_al` job makes; for each
value of `--jobs-per-gpu` J the whole set runs J processes at a time on the one visible GPU, as J workflow jobs
sharing a GPU do under SBADBAL_JOBS_PER_GPU=J, and the set's wall time gives the throughput. nvidia-smi is
sampled every `--sample-s` seconds while runs are going. `--set KEY=VALUE` overrides experiment keys as the run
command's --set does (the test runs it on CPU with a tiny setting; numbers from such a run mean nothing).

Device time: at J = 1, four algorithms x 2 seeds of 9 rounds took about 5-8 s a round on an H100
(benchmarks/results/fmnist_round_h100.md), so ~8 minutes for J = 1 alone; choose --jobs-per-gpu and --seeds to fit.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
EXPERIMENT_KEY = "suites.paper.experiments.fmnist_mc"
REFERENCE_ID = "readme_figure_fmnist_b10"
# Our algorithm -> the README figure's curve it is read against (the figure shows the original code's LBB/PLBB).
REFERENCE_CURVE = {"BALD": "BALD", "Random": "Random", "PowerBALD": "PowerBALD", "LBB": "LBB-code", "PLBB": "PLBB-code",
                   "LBB-code": "LBB-code", "PLBB-code": "PLBB-code"}


@dataclass
class GpuSampler:
    """nvidia-smi's utilisation and memory of every visible GPU, sampled in a thread."""

    interval_s: float
    samples: list[tuple[float, int, float, float]] = field(default_factory=list)  # (t, gpu, util %, MiB)
    available: bool = field(default_factory=lambda: shutil.which("nvidia-smi") is not None)

    def __post_init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.is_set():
            result = subprocess.run(["nvidia-smi", "--query-gpu=index,utilization.gpu,memory.used",
                                     "--format=csv,noheader,nounits"], capture_output=True, text=True)
            now = time.monotonic()
            for line in result.stdout.splitlines():
                index, util, memory = (part.strip() for part in line.split(","))
                self.samples.append((now, int(index), float(util), float(memory)))
            self._stop.wait(self.interval_s)

    def __enter__(self):
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self.available:
            self._thread.join()

    def summary(self) -> str:
        if not self.available:
            return "no nvidia-smi on this machine"
        if not self.samples:
            return "no samples"
        utils = [s[2] for s in self.samples]
        return (f"utilisation mean {statistics.mean(utils):.0f} %, median {statistics.median(utils):.0f} %, "
                f"max {max(utils):.0f} %; memory max {max(s[3] for s in self.samples):,.0f} MiB "
                f"({len(self.samples)} samples)")


def run_command(args, prepared: Path, algorithm: str, seed: int, csv: Path) -> list[str]:
    sets = [f"budget={args.budget}", *args.set]
    return [sys.executable, "-m", "sbadbal", "run", "--experiment", str(args.config), "--key", EXPERIMENT_KEY,
            *(item for pair in sets for item in ("--set", pair)), "--prepared", str(prepared), "--algorithm", algorithm,
            "--batch-size", str(args.batch_size), "--seed", str(seed), "--csv", str(csv), "--quiet",
            "--device", args.device]


def run_set(args, prepared: Path, folder: Path, jobs: int) -> tuple[float, dict[tuple[str, int], float]]:
    """Every (algorithm, seed) run, `jobs` processes at a time: the set's wall seconds and each run's."""
    queue = [(algorithm, seed) for algorithm in args.algorithms for seed in args.seeds]
    running: dict[tuple[str, int], tuple[subprocess.Popen, float]] = {}
    walls: dict[tuple[str, int], float] = {}
    started = time.perf_counter()
    while queue or running:
        while queue and len(running) < jobs:
            key = queue.pop(0)
            log = open(folder / f"{key[0]}_seed{key[1]}.log", "w")
            process = subprocess.Popen(run_command(args, prepared, *key, folder / f"{key[0]}_seed{key[1]}.csv"),
                                       stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)})
            log.close()
            running[key] = (process, time.perf_counter())
        for key, (process, start) in list(running.items()):
            if process.poll() is not None:
                if process.returncode != 0:
                    tail = (folder / f"{key[0]}_seed{key[1]}.log").read_text()[-3000:]
                    raise SystemExit(f"run {key} failed with code {process.returncode}:\n{tail}")
                walls[key] = time.perf_counter() - start
                del running[key]
        time.sleep(0.05)
    return time.perf_counter() - started, walls


def round_parts(rows: pd.DataFrame) -> dict[str, float]:
    """Medians over rounds: training after round 0 (whose time includes CUDA start-up), scoring, acquisition."""
    return {"train": float(rows.loc[rows["round"] > 0, "train_seconds"].median()),
            "score": float(rows["score_seconds"].dropna().median()),
            "acquire": float(rows["acquisition_seconds"].dropna().median())}


def reference_values(budget: int) -> dict[str, float]:
    from sbadbal.analysis.references import load_references
    from sbadbal.config import REFERENCE_PATH

    reference = load_references(REPO / REFERENCE_PATH)[REFERENCE_ID]
    return {v.algorithm: v.value for v in reference.values if v.labelled == budget}


def estimated_seconds(args, pool_size: int) -> dict[str, dict[str, float]]:
    """The estimate's parts of one run per algorithm (sbadbal/ops/estimate.py), for the same experiment."""
    from sbadbal.__main__ import _pairs, load_experiment
    from sbadbal.ops.estimate import run_cost

    experiment, _, _ = load_experiment(str(args.config), EXPERIMENT_KEY,
                                       _pairs([f"budget={args.budget}", *args.set], "--set"))
    out = {}
    for algorithm in args.algorithms:
        choice = experiment.choice(algorithm)
        cost = run_cost(experiment, choice.algorithm, {**choice.record.defaults, **choice.params}, args.batch_size,
                        pool_size)
        out[algorithm] = {"measured_parts": cost.train_s + cost.score_s + cost.acquire_s, "whole": cost.seconds}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="raw data folder holding FMNIST (default: $SBADBAL_DATA_DIR, ./data, Debian's)")
    parser.add_argument("--out", required=True, help="the markdown results file")
    parser.add_argument("--work", default="results/gpu_fmnist_slice", help="folder for the prepared file and runs")
    parser.add_argument("--config", default=str(REPO / "config.yaml"))
    parser.add_argument("--algorithms", nargs="+", default=["BALD", "LBB", "PLBB", "Random"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[42, 227])
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--jobs-per-gpu", nargs="+", type=int, default=[1, 2, 4])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--sample-s", type=float, default=0.5)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override an experiment key")
    args = parser.parse_args(argv)
    args.config = Path(args.config).resolve()

    import torch

    from sbadbal.data.registry import prepare_dataset
    from sbadbal.data.store import save_prepared
    from sbadbal.runs.writers import write_atomically

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    prepared_path = work / "FMNIST.pt"
    prepared = prepare_dataset("FMNIST", data_dir=args.data_dir)
    save_prepared(prepared, prepared_path)
    pool_size = prepared.num_train

    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    device_name = torch.cuda.get_device_name(0) if device.startswith("cuda") else f"CPU ({os.cpu_count()} logical)"
    sweeps = []
    parts: dict[str, list[dict[str, float]]] = {}
    accuracy: dict[str, list[float]] = {}
    measured_parts: dict[str, list[float]] = {}
    for jobs in args.jobs_per_gpu:
        folder = work / f"jobs{jobs}"
        folder.mkdir(exist_ok=True)
        with GpuSampler(args.sample_s) as sampler:
            wall, walls = run_set(args, prepared_path, folder, jobs)
        sweeps.append((jobs, wall, len(walls), statistics.median(walls.values()), sampler.summary()))
        if jobs == args.jobs_per_gpu[0]:  # per-round costs and accuracy from the first (least shared) setting
            for algorithm, seed in walls:
                rows = pd.read_csv(folder / f"{algorithm}_seed{seed}.csv")
                parts.setdefault(algorithm, []).append(round_parts(rows))
                measured_parts.setdefault(algorithm, []).append(
                    float(rows[["train_seconds", "score_seconds", "acquisition_seconds"]].fillna(0).to_numpy().sum()))
                accuracy.setdefault(algorithm, []).append(float(rows["test_accuracy"].iloc[-1]))

    references = reference_values(args.budget)
    estimates = estimated_seconds(args, pool_size)
    lines = [f"# A slice of fmnist_mc on {device_name}, {datetime.date.today().isoformat()}", "",
             f"Command: `python benchmarks/gpu_fmnist_slice.py {' '.join(argv if argv is not None else sys.argv[1:])}`", "",
             f"Setting: config.yaml's `{EXPERIMENT_KEY}`, budget {args.budget}, b = {args.batch_size}, seeds "
             f"{args.seeds}, pool {pool_size:,}; overrides {args.set or 'none'}; torch {torch.__version__}.", "",
             f"## Seconds per round by part (median over rounds and seeds, {args.jobs_per_gpu[0]} job(s) per GPU)", "",
             "| algorithm | train s | score s | acquire s | round s (sum) | accuracy at the budget (%) | README figure (%) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for algorithm in args.algorithms:
        medians = {part: statistics.median(p[part] for p in parts[algorithm]) for part in ("train", "score", "acquire")}
        reference = references.get(REFERENCE_CURVE.get(algorithm, algorithm))
        lines.append(f"| {algorithm} | {medians['train']:.2f} | {medians['score']:.2f} | {medians['acquire']:.3f} | "
                     f"{sum(medians.values()):.2f} | {statistics.mean(accuracy[algorithm]):.1f} | "
                     f"{'' if reference is None else f'{reference:.1f}'} |")
    lines += ["", "README figure: `references/original_repository.yaml` " + REFERENCE_ID +
              " (read by eye, +-1 point; its LBB and PLBB are the original code's, LBB-code and PLBB-code)", "",
              "## Throughput against jobs per GPU", "",
              "| jobs per GPU | runs | wall s | runs per hour | median run s | GPU |", "|---:|---:|---:|---:|---:|---|"]
    for jobs, wall, runs, median_run, gpu in sweeps:
        lines.append(f"| {jobs} | {runs} | {wall:.0f} | {3600 * runs / wall:.1f} | {median_run:.0f} | {gpu} |")
    best = max(sweeps, key=lambda sweep: sweep[2] / sweep[1])
    lines += ["", f"Most runs per hour at {best[0]} job(s) per GPU.", "",
              "## The estimate against the measurement", "",
              "| algorithm | measured train + score + acquire s per run | estimated s | estimate / measured |",
              "|---|---:|---:|---:|"]
    for algorithm in args.algorithms:
        measured = statistics.mean(measured_parts[algorithm])
        estimated = estimates[algorithm]["measured_parts"]
        lines.append(f"| {algorithm} | {measured:.3g} | {estimated:.3g} | {estimated / measured:.3g} |")
    text = "\n".join(lines) + "\n"
    write_atomically(args.out, lambda tmp: tmp.write_text(text))
    (work / "summary.json").write_text(json.dumps({"sweeps": sweeps, "accuracy": accuracy}, indent=1))
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
