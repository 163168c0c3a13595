"""Where one `run_al` job's wall time goes: start-up, imports, data loading, and each part of every round.

  python benchmarks/job_split.py                                   # this checkout, K = 10 and K = 100
  python benchmarks/job_split.py --compare-with /tmp/base          # also a checkout of an earlier commit
                                                                   # (git archive <commit> | tar -x -C /tmp/base)

Each job runs in a fresh Python process, in the order `scripts/run_al.py` runs it under Snakemake: Snakemake's
script preamble (`import snakemake.script`, when installed), `import torch`, the library imports, then
`run_to_files` on a prepared file (default: the default suite's `mnist5k_mc` experiment from config.yaml, BALD,
batch 10, seed 42, 1 torch thread as the rule gives it). The library's private round steps are wrapped with timers
from outside (nothing in the library changes): training, the test pass, pool scoring, acquisition, checkpoint and
result writing; "rest of run_to_files" is what the wrappers do not cover (pool bookkeeping, the DataFrame).
"Interpreter start and exit" is the process's wall time seen from outside minus what it timed inside.
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
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PHASES = (
    ("import snakemake.script", "snakemake preamble import"),
    ("import torch", "import torch"),
    ("import sbadbal (loop, data, acquisition, gpu_slots)", "import sbadbal"),
    ("load the prepared file", "load_prepared"),
    ("train (all rounds)", "train"),
    ("test pass (all rounds)", "test pass"),
    ("pool scoring (all rounds)", "score"),
    ("acquisition (all rounds)", "acquire"),
    ("checkpoint writes", "checkpoint"),
    ("sidecar + CSV writes", "write results"),
    ("rest of run_to_files", "rest"),
    ("interpreter start and exit", "interpreter"),
)


def job(settings: dict) -> dict:
    """One run_al job, timed part by part (runs in the child process)."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    try:
        import snakemake.script  # noqa: F401  (Snakemake's script preamble imports it in every job)
    except ImportError:
        pass
    seconds["snakemake preamble import"] = time.perf_counter() - start
    mark = time.perf_counter()
    import torch

    seconds["import torch"] = time.perf_counter() - mark
    mark = time.perf_counter()
    import sbadbal.data
    import sbadbal.engine.loop as loop
    from sbadbal import acquisition
    from sbadbal.ops.gpu_slots import pin_job_to_free_gpu  # noqa: F401

    seconds["import sbadbal"] = time.perf_counter() - mark
    torch.set_num_threads(settings["threads"])

    def timed(owner, name: str, phase: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            mark = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[phase] = seconds.get(phase, 0.0) + time.perf_counter() - mark

        setattr(owner, name, wrapper)

    timed(sbadbal.data, "load_prepared", "load_prepared")
    timed(loop, "_fresh_trained_posterior", "train")
    timed(loop, "_test_metrics", "test pass")
    timed(loop, "_score_pool", "score")
    timed(acquisition, "acquire", "acquire")
    timed(loop, "_save_checkpoint", "checkpoint")
    timed(loop, "write_json_atomic", "write results")
    timed(loop, "write_csv_atomic", "write results")
    with tempfile.TemporaryDirectory() as out:
        mark = time.perf_counter()
        rows = loop.run_to_files(
            settings["prepared"], settings["experiment"], algorithm=settings["algorithm"],
            batch_size=settings["batch_size"], seed=settings["seed"], algorithm_params=settings["algorithm_params"],
            csv_path=Path(out, "run.csv"), sidecar_path=Path(out, "run.json"), device="cpu",
        )
        run_seconds = time.perf_counter() - mark
    covered = sum(seconds.get(p, 0.0) for p in ("load_prepared", "train", "test pass", "score", "acquire",
                                                 "checkpoint", "write results"))
    seconds["rest"] = run_seconds - covered
    seconds["inside"] = time.perf_counter() - start
    return {"seconds": seconds, "rounds": len(rows), "final_accuracy": float(rows["test_accuracy"].iloc[-1])}


def run_job(code_root: Path, settings: dict) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code_root), PYTHONDONTWRITEBYTECODE="1")
    mark = time.perf_counter()
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--job", json.dumps(settings)],
                          env=env, check=True, capture_output=True, text=True, cwd=code_root)
    wall = time.perf_counter() - mark
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["seconds"]["interpreter"] = wall - result["seconds"]["inside"]
    result["wall"] = wall
    return result


def _experiment(name: str) -> dict:
    import yaml

    from sbadbal.engine.loop import EXPERIMENT_KEYS

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    experiment = config["suites"]["default"]["experiments"][name]
    return {key: experiment[key] for key in EXPERIMENT_KEYS if key in experiment}


def _loadavg() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", default="mnist5k_mc", help="an experiment of the default suite")
    parser.add_argument("--algorithm", default="BALD")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the run_al rule gives 1)")
    parser.add_argument("--ks", type=int, nargs="+", default=[10, 100], help="k_acquisition values to run")
    parser.add_argument("--compare-with", type=Path, help="another checkout's root (e.g. the commit before)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "scoring_job_split_cpu.md")
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job:
        print(json.dumps(job(json.loads(args.job))))
        return 0

    import torch

    from sbadbal.data import prepare_dataset, save_prepared

    experiment = _experiment(args.experiment)
    load_before = _loadavg()
    columns = []
    with tempfile.TemporaryDirectory(prefix="sbadbal-job-split-") as workdir:
        prepared_path = Path(workdir, "prepared.pt")
        save_prepared(prepare_dataset(experiment["dataset"]), prepared_path)
        roots = [("before", args.compare_with)] if args.compare_with else []
        roots.append(("this checkout", REPO))
        for k in args.ks:
            uncertainty = dict(experiment["uncertainty"], k_acquisition=k)
            settings = {"prepared": str(prepared_path), "experiment": dict(experiment, uncertainty=uncertainty),
                        "algorithm": args.algorithm, "batch_size": 10, "seed": args.seed,
                        "algorithm_params": {}, "threads": args.threads}
            for label, root in roots:
                result = run_job(root, settings)
                columns.append((f"{label}, K = {k}", result))
                print(f"{label} K={k}: {result['wall']:.2f} s, {result['rounds']} rounds, "
                      f"final accuracy {result['final_accuracy']:.2f}%", flush=True)
    header = "| part of the job | " + " | ".join(name for name, _ in columns) + " |"
    lines = [
        f"## One run_al job, part by part: {args.experiment}, {args.algorithm}, b = 10, seed {args.seed}",
        "",
        f"Command: `python benchmarks/job_split.py {' '.join(argv if argv is not None else sys.argv[1:])}`".replace(
            " `", " `").rstrip(),
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.node()}, {os.cpu_count()} logical CPUs; torch {torch.__version__}, {args.threads} "
        "thread(s)",
        f"- load average (1, 5, 15 min): {load_before} before, {_loadavg()} after",
        "",
        "Seconds of wall time.",
        "",
        header,
        "|---" + "|---:" * len(columns) + "|",
    ]
    for title, key in PHASES:
        lines.append(f"| {title} | " + " | ".join(f"{r['seconds'].get(key, 0.0):.2f}" for _, r in columns) + " |")
    lines.append("| **whole job** | " + " | ".join(f"**{r['wall']:.2f}**" for _, r in columns) + " |")
    lines.append("| final test accuracy (%) | " + " | ".join(f"{r['final_accuracy']:.2f}" for _, r in columns) + " |")
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
