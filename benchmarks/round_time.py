"""CPU time of one AL round on MNIST5K with the MC-dropout CNN (CNN_MC_RMNIST), part by part.

  python benchmarks/round_time.py --threads 1 --out results/round_time.json

Measures, on the real embedded MNIST5K digits and the original's initial set of 20 labels:
  - training with the original's 24,576 draws (384 Adam steps of 64) and with reduced draw counts,
  - the test pass (1,000 test digits, k_test samples),
  - pool scoring of the whole pool and of a random pool subset, with K = 20 and K = 100,
  - acquisition (BALD and, optionally, other algorithms) on those log-probabilities, batch size b.
Every number is wall-clock seconds of one call (median of --repeats for the cheap parts).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from sbadbal.data import prepare_dataset
from sbadbal.config import run_from_mapping
from sbadbal.engine.protocols import IterationsProtocol
from sbadbal.engine.seeds import derived_generator
from sbadbal.engine.state import initial_sets
from sbadbal.engine.training import train_posterior
from sbadbal.models.posterior import accuracy_and_nll, build_posterior, predict_log_probs
from sbadbal.models.records import architecture


def _seconds(function, repeats: int = 1):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--train-draws", type=int, nargs="+", default=[24_576, 6144, 3072, 1536])
    parser.add_argument("--ks", type=int, nargs="+", default=[20, 100], help="posterior samples for pool scoring")
    parser.add_argument("--pool-subset", type=int, default=1000, help="also score a random pool subset of this size")
    parser.add_argument("--k-test", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=10, help="acquisition batch size")
    parser.add_argument("--algorithms", nargs="+", default=["BALD"])
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the acquisition calls (median)")
    parser.add_argument("--subset-only", action="store_true", help="score only the pool subset (skip the whole pool)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)

    from sbadbal import acquisition

    torch.set_num_threads(args.threads)
    data = prepare_dataset("MNIST5K")
    experiment = {"dataset": "MNIST5K", "model": "mnist_cnn", "initial_size": 20, "budget": 30}
    spec = run_from_mapping(experiment, algorithm="BALD", batch_size=args.batch_size, seed=args.seed)
    labelled, _ = initial_sets(data, spec)
    pool_P = torch.tensor(sorted(set(range(data.num_train)) - set(labelled)))
    subset_S = pool_P[torch.randperm(len(pool_P), generator=torch.Generator().manual_seed(0))[: args.pool_subset].sort().values]
    numbers: dict = {"threads": args.threads, "torch": torch.__version__, "pool": len(pool_P), "labelled": len(labelled),
                     "train": {}, "score": {}, "acquire": {}}

    posterior = None
    for draws in args.train_draws:
        candidate = build_posterior(architecture("mnist_cnn"), method="mc_dropout", num_classes=10, input_shape=data.input_shape, seeds=[1])
        protocol = IterationsProtocol(iterations=draws)
        seconds, _ = _seconds(lambda: train_posterior(candidate, data, labelled, protocol, seeds=[2]))
        log_probs = predict_log_probs(candidate, data.test_inputs, data.num_test, num_samples=args.k_test,
                                      generator=torch.Generator().manual_seed(3))
        accuracy, _ = accuracy_and_nll(log_probs, data.test_targets)
        numbers["train"][draws] = {"seconds": round(seconds, 3), "test_accuracy_at_20_labels": round(accuracy, 1)}
        print(f"train {draws:6d} draws: {seconds:7.2f} s  (test accuracy {accuracy:.1f}% at 20 labels)", file=sys.stderr)
        if posterior is None or draws == max(args.train_draws):
            posterior = candidate  # score with the best-trained network

    seconds, _ = _seconds(lambda: predict_log_probs(posterior, data.test_inputs, data.num_test, num_samples=args.k_test,
                                                    generator=torch.Generator().manual_seed(3)))
    numbers["test_pass_seconds"] = round(seconds, 3)
    print(f"test pass ({data.num_test} x K={args.k_test}): {seconds:.2f} s", file=sys.stderr)

    for k in args.ks:
        scored = (("subset", subset_S),) if args.subset_only else (("pool", pool_P), ("subset", subset_S))
        for label, points in scored:
            seconds, log_probs_N_K_C = _seconds(lambda: predict_log_probs(
                posterior, lambda p: data.train_inputs(points[p]), len(points), num_samples=k,
                generator=derived_generator(args.seed, 0, "pool-masks")))
            key = f"{label}{len(points)}_K{k}"
            numbers["score"][key] = round(seconds, 3)
            print(f"score {key}: {seconds:7.2f} s", file=sys.stderr)
            for name in args.algorithms:
                seconds, _ = _seconds(lambda: acquisition.acquire(
                    name, log_probs_N_K_C, args.batch_size, generator=torch.Generator().manual_seed(0)), args.repeats)
                numbers["acquire"][f"{name}_b{args.batch_size}_{key}"] = round(seconds, 4)
                print(f"  acquire {name} b={args.batch_size}: {seconds:8.4f} s", file=sys.stderr)

    print(json.dumps(numbers, indent=2))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(numbers, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
