"""Acquisition speed: median seconds and peak memory per function, with ratios against reference implementations
measured in the same run, printed as a Markdown table.

References: batchbald_redux 2.0.5 `get_bald_batch` (for BALD) and `get_batchbald_batch` (for BatchBALD), and the
direct O(n^2) form of the original's formula (benchmarks/_lbb_code_direct.py, for LBB-code).

Examples (the issue's target configurations):
    python benchmarks/acquisition.py --N 1000 --K 20 --C 10 --b 20 --M 10000 --functions BatchBALD --reference
    python benchmarks/acquisition.py --N 60000 --K 100 --C 10 --b 20 --functions BALD LBB --reference
    python benchmarks/acquisition.py --N 60000 --K 100 --C 10 --b 100 --functions LBB
    python benchmarks/acquisition.py --N 10000 --K 100 --C 10 --b 20 --functions LBB-code --reference
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

# batchbald_redux always draws tqdm bars; tqdm reads this when it is imported, so set it before any import.
os.environ.setdefault("TQDM_DISABLE", "1")

import torch

from sbadbal.acquisition import ALGORITHM_NAMES, canonical_name, function_of, validate_params
from sbadbal.bench.timing import measure_call, memory_method, time_acquisition
from sbadbal.engine.devices import device_name, resolve_device

REFERENCED = ("BALD", "BatchBALD", "LBB-code")


def synthetic_log_probs(N: int, K: int, C: int, seed: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """MC-dropout-like pool: a per-point mean logit and per-point noise level shared by the K samples, so BALD,
    entropies and pairwise correlations vary across points as in a trained model's pool."""
    generator = torch.Generator().manual_seed(seed)
    log_probs_N_K_C = torch.empty((N, K, C), dtype=torch.float64)
    for start in range(0, N, 4096):
        n = min(4096, N - start)
        mean_logits = torch.randn(n, 1, C, generator=generator, dtype=torch.float64) * 2.0
        noise_scale = torch.rand(n, 1, 1, generator=generator, dtype=torch.float64) * 2.0
        logits = mean_logits + noise_scale * torch.randn(n, K, C, generator=generator, dtype=torch.float64)
        log_probs_N_K_C[start : start + n] = torch.log_softmax(logits, dim=-1)
    return log_probs_N_K_C.to(device=device, dtype=dtype)


def exact_phase_picks(C: int, num_samples: int, batch_size: int) -> int:
    """Number of greedy BatchBALD picks made with an exact joint entropy (step i conditions on C^i configurations)."""
    steps = 0
    while steps < batch_size and C**steps <= num_samples:
        steps += 1
    return steps


def time_reference(name: str, log_probs_N_K_C: torch.Tensor, batch_size: int, num_samples: int, code_chunk_size: int, repeats: int):
    """Median seconds, peak memory and indices of the reference implementation of `name`."""
    device = log_probs_N_K_C.device
    if name == "LBB-code":
        from _lbb_code_direct import lbb_code_scores_direct

        def call():
            return torch.topk(lbb_code_scores_direct(log_probs_N_K_C, code_chunk_size), batch_size).indices.tolist()

        label = "direct O(n^2) seed formula"
    else:
        from batchbald_redux import batchbald

        if name == "BALD":
            def call():
                return batchbald.get_bald_batch(log_probs_N_K_C, batch_size).indices
            label = "batchbald_redux.get_bald_batch"
        else:
            def call():
                return batchbald.get_batchbald_batch(
                    log_probs_N_K_C, batch_size, num_samples, dtype=log_probs_N_K_C.dtype, device=device
                ).indices
            label = "batchbald_redux.get_batchbald_batch"
    measured = [measure_call(call, device) for _ in range(repeats)]
    return label, statistics.median(m[0] for m in measured), max(m[1] for m in measured), measured[-1][2]


def format_mib(num_bytes: int) -> str:
    return f"{num_bytes / 2**20:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--N", type=int, default=1000, help="pool size")
    parser.add_argument("--K", type=int, default=20, help="posterior samples")
    parser.add_argument("--C", type=int, default=10, help="classes")
    parser.add_argument("--b", type=int, default=20, help="acquisition batch size")
    parser.add_argument("--M", type=int, default=100_000, help="BatchBALD num_samples (joint configurations)")
    parser.add_argument("--alpha", type=float, default=5.0, help="power for PowerBALD / PLBB / PLBB-code")
    parser.add_argument("--code-chunk-size", type=int, default=1024, help="code chunk of LBB-code / PLBB-code")
    parser.add_argument("--chunk-size", type=int, default=None, help="memory chunk (pool rows); default: the library's")
    parser.add_argument("--functions", nargs="+", default=list(ALGORITHM_NAMES), help="names or aliases to time")
    parser.add_argument("--reference", action="store_true", help="also time the reference for BALD, BatchBALD, LBB-code")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per function (median reported)")
    parser.add_argument("--reference-repeats", type=int, default=1, help="timed calls per reference")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, or auto")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the synthetic pool and stochastic functions")
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    dtype = getattr(torch, args.dtype)
    functions = [canonical_name(name) for name in args.functions]
    log_probs = synthetic_log_probs(args.N, args.K, args.C, args.seed, device, dtype)
    chunk = {} if args.chunk_size is None else {"chunk_size": args.chunk_size}
    all_params = {"alpha": args.alpha, "num_samples": args.M, "code_chunk_size": args.code_chunk_size, "pair_weight": 2.0}

    rows = []
    for name in functions:
        params = {key: value for key, value in all_params.items() if key in validate_params(name, {})}
        ours = time_acquisition(function_of(name), log_probs, args.b, repeats=args.repeats, seed=args.seed, params=params, **chunk)
        row = dict(ours, reference=None, reference_seconds=None, reference_peak_memory_bytes=None, speedup=None, picks_agree=None)
        if args.reference and name in REFERENCED:
            label, seconds, peak, reference_indices = time_reference(
                name, log_probs, min(args.b, args.N), args.M, args.code_chunk_size, args.reference_repeats
            )
            compared = exact_phase_picks(args.C, args.M, min(args.b, args.N)) if name == "BatchBALD" else len(reference_indices)
            agree = ours["indices"][:compared] == list(reference_indices)[:compared]
            row.update(
                reference=label,
                reference_seconds=seconds,
                reference_peak_memory_bytes=peak,
                speedup=seconds / ours["median_seconds"],
                picks_agree=f"{'yes' if agree else 'NO'} (first {compared})",
            )
        rows.append(row)
        print(f"done {name}: {ours['median_seconds']:.3f} s", file=sys.stderr, flush=True)

    print(f"\nDevice: {device_name(device)}; dtype {args.dtype}; torch {torch.__version__}, {torch.get_num_threads()} CPU threads; "
          f"N={args.N} K={args.K} C={args.C} b={args.b} M={args.M}; memory: {memory_method(device)}\n")
    print("| function | median s | peak MiB | reference | ref. median s | ref. peak MiB | speed-up | picks agree |")
    print("|---|---:|---:|---|---:|---:|---:|---|")
    for row in rows:
        reference_cells = (
            [row["reference"], f"{row['reference_seconds']:.3f}", format_mib(row["reference_peak_memory_bytes"]),
             f"{row['speedup']:.1f}x", row["picks_agree"]]
            if row["reference"] else ["", "", "", "", ""]
        )
        print("| " + " | ".join([row["algorithm"], f"{row['median_seconds']:.4f}", format_mib(row["peak_memory_bytes"]), *reference_cells]) + " |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([{k: v for k, v in row.items() if k != "indices"} for row in rows], handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
