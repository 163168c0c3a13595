"""Seed-to-seed spread of one fit's test accuracy, per training recipe, on a fixed labelled set.

  python benchmarks/training_noise.py --jobs 2 --out benchmarks/results/training_noise_cpu.md

An active-learning comparison differences two runs whose models are refitted every round: whatever a fit's test
accuracy varies by between training seeds (initialisation, data order, dropout) is noise in every difference the
claims test. This prints, for each recipe, dataset and labelled-set size, the mean and standard deviation over
`--seeds` training seeds of the test accuracy of one fit (the MC-dropout CNN; each fit evaluated with each of
`--k-test` dropout masks, since a test prediction from few masks is itself noisy), with the median seconds per fit (1 torch thread per fit, `--jobs` fits at a time). The labelled set is fixed: the
class-balanced set the suite's seed 42 draws for its initial round (20 labels), and for larger sizes the same
draw at that size, so only training varies.

A recipe is `draws:lr[:schedule]` (schedule `constant`, as the original code, or `cosine`, annealed to 0).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

DEFAULT_RECIPES = ["3072:0.003", "12288:0.001", "24576:0.001", "12288:0.002:cosine"]
DATASETS = {
    # name -> (prepare_dataset keyword arguments): the default suite's settings (config.yaml). pool_rows moves the
    # pool digits it leaves out to the test split: 3,800 test digits for MNIST5K, 4,700 for RMNIST5K.
    "MNIST5K": {"pool_rows": 1200},
    "RMNIST5K": {"repeats": 3, "noise_std": 0.1, "pool_rows": 300},
}
_DATA_CACHE: dict = {}


def parse_recipe(text: str) -> dict:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError(f"recipe {text!r}: expected draws:lr[:schedule], e.g. 24576:0.001")
    return {"iterations": int(parts[0]), "lr": float(parts[1]), "lr_schedule": parts[2] if len(parts) == 3 else "constant"}


def recipe_name(recipe: dict) -> str:
    return f"{recipe['iterations']} draws, lr {recipe['lr']:g}" + (", cosine" if recipe["lr_schedule"] == "cosine" else "")


def _dataset(name: str):
    from sbadbal.data import prepare_dataset

    if name not in _DATA_CACHE:
        _DATA_CACHE[name] = prepare_dataset(name, **DATASETS[name])
    return _DATA_CACHE[name]


def one_fit(task: tuple) -> dict:
    """Train one network from scratch on the fixed labelled set and return its test accuracy and seconds."""
    dataset_name, labels, recipe, seed, k_tests, channels_last = task
    import torch

    from sbadbal.engine.protocols import IterationsProtocol
    from sbadbal.engine.seeds import derive_seed, derived_generator
    from sbadbal.engine.state import balanced_initial_indices
    from sbadbal.engine.training import train_posterior
    from sbadbal.models.posterior import accuracy_and_nll, build_posterior, predict_log_probs
    from sbadbal.models.records import architecture

    torch.set_num_threads(1)
    data = _dataset(dataset_name)
    labelled = balanced_initial_indices(data.train_targets, data.num_classes, labels, derived_generator(42, 0, "initial-set"))
    posterior = build_posterior(architecture("mnist_cnn"), method="mc_dropout", num_classes=data.num_classes,
                                input_shape=data.input_shape, seeds=[derive_seed(seed, 0, "init/0")])
    start = time.perf_counter()
    train_posterior(posterior, data, labelled, IterationsProtocol(batch_size=64, **recipe),
                    seeds=[derive_seed(seed, 0, "train/0")], channels_last=channels_last)
    seconds = time.perf_counter() - start
    results = []
    for k_test in k_tests:
        log_probs = predict_log_probs(posterior, data.test_inputs, data.num_test, num_samples=k_test,
                                      generator=derived_generator(seed, 0, "test-masks"))
        accuracy, _ = accuracy_and_nll(log_probs, data.test_targets)
        results.append({"dataset": dataset_name, "labels": labels, "recipe": recipe_name(recipe), "seed": seed,
                        "k_test": k_test, "accuracy": accuracy, "seconds": seconds, "num_test": data.num_test})
    return results


def summarise(results: list[dict], recipes: list[dict]) -> list[dict]:
    rows = []
    keys = sorted({(r["dataset"], r["labels"], r["k_test"]) for r in results},
                  key=lambda key: (list(DATASETS).index(key[0]), key[1], key[2]))
    for recipe in map(recipe_name, recipes):
        for dataset, labels, k_test in keys:
            fits = [r for r in results if (r["recipe"], r["dataset"], r["labels"], r["k_test"]) == (recipe, dataset, labels, k_test)]
            if fits:
                accuracies = [r["accuracy"] for r in fits]
                rows.append({
                    "recipe": recipe, "dataset": dataset, "labels": labels, "k_test": k_test, "fits": len(fits),
                    "test_points": fits[0]["num_test"],
                    "mean": statistics.fmean(accuracies), "sd": statistics.stdev(accuracies) if len(fits) > 1 else float("nan"),
                    "seconds": statistics.median(r["seconds"] for r in fits),
                })
    return rows


def markdown(rows: list[dict], args: argparse.Namespace, wall: float) -> str:
    lines = [
        "# Training noise: one fit's test accuracy over training seeds, on a fixed labelled set",
        "",
        f"`python benchmarks/training_noise.py {' '.join(sys.argv[1:])}` on {datetime.date.today().isoformat()}, "
        f"{platform.machine()} {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end, "
        f"{args.jobs} fit(s) at a time, 1 torch thread each, {wall:.0f} s wall. Seeds: {args.seeds} training seeds; "
        f"MC-dropout CNN, test accuracy from k_test dropout masks; channels-last {'on' if not args.nchw else 'off'}. "
        "Accuracy in percent; sd per fit: standard deviation over training seeds of one fit's test accuracy.",
        "",
        "| recipe | dataset | labels | k_test | test points | fits | accuracy mean | sd per fit | seconds per fit |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['recipe']} | {r['dataset']} | {r['labels']} | {r['k_test']} | {r['test_points']:,} | {r['fits']} | "
                     f"{r['mean']:.2f} | {r['sd']:.2f} | {r['seconds']:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", type=parse_recipe, default=[parse_recipe(r) for r in DEFAULT_RECIPES])
    parser.add_argument("--labels", nargs="+", type=int, default=[20, 60])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--k-test", type=int, nargs="+", default=[5, 20], help="dropout masks of the test prediction")
    parser.add_argument("--jobs", type=int, default=2, help="fits at a time (processes of 1 thread)")
    parser.add_argument("--nchw", action="store_true", help="train in NCHW memory instead of channels-last")
    parser.add_argument("--out", type=Path, help="also write the table to this markdown file")
    args = parser.parse_args(argv)
    for name in list(DATASETS):
        if name not in args.datasets:
            del DATASETS[name]
    tasks = [(d, n, recipe, seed, args.k_test, not args.nchw)
             for recipe in args.recipes for d in DATASETS for n in args.labels for seed in range(1, args.seeds + 1)]
    start = time.perf_counter()
    results = []
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        for fit in pool.map(one_fit, tasks):
            results += fit
            print(f"{fit[0]['recipe']:>32} {fit[0]['dataset']:>8} {fit[0]['labels']:3d} labels seed {fit[0]['seed']}: "
                  + ", ".join(f"{r['accuracy']:.2f} % (k_test {r['k_test']})" for r in fit)
                  + f" in {fit[0]['seconds']:.1f} s", file=sys.stderr, flush=True)
    table = markdown(summarise(results, args.recipes), args, time.perf_counter() - start)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
