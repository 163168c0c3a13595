"""A suite's smoke-scaled twin: the same experiments on the same code paths at a cost of seconds per run.

`smoke_config(config, "paper")` returns config.yaml's mapping with one more suite, `paper_smoke`, selected: every
experiment and benchmark of the paper suite under one scaling rule (`SmokeScale`), so that a new paper experiment is
covered without anyone writing it twice. What the rule keeps decides which code a run takes; what it shrinks only
decides how long the run takes:

kept    dataset and its preparation settings (repeats, noise, source options), model, uncertainty method and
        ensemble size, training protocol and its optimiser settings (learning rate, schedule, momentum, weight
        decay, gamma), the algorithms and their variants, references, claims, `download`, `shared_initial_set`;
shrunk  seeds: the first `seeds`;
        initial_size: at most `initial_size`;
        batch_sizes: the smallest becomes at most `batch_size`, the others in proportion (rounded up), so that an
          experiment with two batch sizes keeps two;
        budget: the smoke initial size plus `acquisitions` batches of the largest smoke batch size (a smaller batch
          size acquires more often);
        iterations protocol: `iterations` at most one optimiser step (`batch_size` draws);
        epochs protocol: one epoch per milestone plus one, the n milestones at epochs 1..n, so that every
          learning-rate decay happens and the last epoch trains at the final rate; validation_size at most
          `validation_size` (a held-out split stays held out);
        mc_dropout: k_acquisition at most `k_acquisition`, k_test at most `k_test` (ensembles keep their members);
        pool_subset (where set) at most `pool_subset`, and at least the largest smoke batch;
        scoring_batch_size at most `scoring_batch_size`, so that a pool of tens of points is scored in several
          batches, as the paper's pools are (the consistent dropout masks must carry across them);
        num_samples (BatchBALD's joint label configurations): at most max(K, C^(b-2)) for the experiment's
          smallest smoke batch b, its K posterior samples and its dataset's C classes, so that a batch's picks
          before the last are on the exact joint and the last on the importance-sampled one (reached when b >= 3
          and C^(b-1) > K);
        code_chunk_size (LBB-code's pool chunks): at most `code_chunk_size`, so that the pool spans several chunks;
        benchmarks: batch sizes by the batch rule, pool sizes in proportion with the largest at most
          `bench_pool_size` (each above the smallest batch size), one repeat.
`SmokeScale.algorithms` (off by default) keeps only some algorithms, for a cheaper run on the same experiment-level
code paths: the default test run uses it, the full twin runs as a slow test.

`smoke_data_points` says how many base training points each dataset of a smoke suite needs, for a test that writes
small files in the sources' real formats. Torch-free, like the rest of the configuration model.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sbadbal.acquisition.records import resolve_name
from sbadbal.config.experiment import Experiment
from sbadbal.config.suite import Benchmark, Suite
from sbadbal.data.records import SPECS as DATASET_SPECS
from sbadbal.engine.protocols import EpochsProtocol, IterationsProtocol, protocol_to_config


@dataclass(frozen=True)
class SmokeScale:
    """The bounds of the smoke rule (see the module's docstring for what each one shrinks)."""

    seeds: int = 1
    initial_size: int = 4
    batch_size: int = 4
    acquisitions: int = 1
    validation_size: int = 4
    k_acquisition: int = 8
    k_test: int = 2
    pool_subset: int = 32
    scoring_batch_size: int = 16
    code_chunk_size: int = 16
    bench_pool_size: int = 48
    # None: every algorithm, as the rule says. A tuple of registry names: only the listed algorithms whose base is one
    # of them (an entry keeps its first algorithm at least), for a cheaper run that takes the same experiment-level
    # code paths; the acquisition functions themselves are then proven by the full twin and their own tests.
    algorithms: tuple[str, ...] | None = None


def smoke_batch_sizes(batch_sizes: list[int], cap: int) -> list[int]:
    """The smallest batch size becomes at most `cap`, the others in proportion (rounded up), distinct ones distinct."""
    smallest = min(batch_sizes)
    scaled = [min(b, math.ceil(b * cap / smallest)) for b in batch_sizes]
    return list(dict.fromkeys(scaled))


def smoke_training(protocol: IterationsProtocol | EpochsProtocol, scale: SmokeScale) -> dict[str, Any]:
    """One optimiser step (iterations), or one epoch per milestone plus one with every decay (epochs)."""
    config = protocol_to_config(protocol)
    if isinstance(protocol, IterationsProtocol):
        config["iterations"] = min(protocol.iterations, protocol.batch_size)
        return config
    milestones = list(range(1, len(protocol.milestones) + 1))
    config.update(epochs=min(protocol.epochs, len(milestones) + 1), milestones=milestones,
                  validation_size=min(protocol.validation_size, scale.validation_size))
    return config


def posterior_samples(uncertainty: Mapping[str, Any]) -> int:
    """K: the dropout masks that score the pool, or the ensemble's members."""
    return uncertainty["k_acquisition"] if uncertainty["method"] == "mc_dropout" else uncertainty["members"]


def smoke_uncertainty(experiment: Experiment, scale: SmokeScale) -> dict[str, Any]:
    uncertainty = experiment.uncertainty.to_config()
    if uncertainty["method"] == "mc_dropout":
        uncertainty.update(k_acquisition=min(uncertainty["k_acquisition"], scale.k_acquisition),
                           k_test=min(uncertainty["k_test"], scale.k_test))
    return uncertainty


def smoke_algorithm_params(owner: Experiment | Benchmark, smallest_batch: int, samples: int, classes: int,
                           scale: SmokeScale) -> dict[str, dict[str, Any]]:
    """The owner's algorithm_params, keyed by display name, with num_samples and code_chunk_size capped for every
    listed algorithm or variant that has them (plug-ins keep theirs: their parameters mean what their author says)."""
    joint_cap = max(samples, classes ** max(smallest_batch - 2, 0))
    caps = {"num_samples": joint_cap, "code_chunk_size": scale.code_chunk_size}
    params = {resolve_name(key) or key: dict(values) for key, values in owner.algorithm_params.items()}
    for name, choice in owner._choices.items():
        capped = {key: min(value, caps[key]) for key, value in choice.params.items() if key in caps}
        if capped and choice.plugin is None:
            params[name] = {**params.get(name, {}), **capped}
    return params


def kept_algorithms(owner: Experiment | Benchmark, scale: SmokeScale) -> list[str]:
    """The owner's `algorithms` entries the scale keeps (all of them unless `scale.algorithms` names some)."""
    if scale.algorithms is None:
        return list(owner.algorithms)
    bases = {name: choice.algorithm for name, choice in owner._choices.items()}
    listed = list(owner._choices)
    kept = [entry for entry, name in zip(owner.algorithms, listed) if bases[name] in scale.algorithms]
    return kept or list(owner.algorithms[:1])


def _only_kept(params: dict[str, dict[str, Any]], owner: Experiment | Benchmark, kept: list[str]) -> dict:
    names = {name for entry, name in zip(owner.algorithms, owner._choices) if entry in kept}
    return {key: value for key, value in params.items() if key in names}


def smoke_experiment(raw: Mapping[str, Any], experiment: Experiment, scale: SmokeScale) -> dict[str, Any]:
    scaled = copy.deepcopy(dict(raw))
    kept = kept_algorithms(experiment, scale)
    batch_sizes = smoke_batch_sizes(experiment.batch_sizes, scale.batch_size)
    initial_size = min(experiment.initial_size, scale.initial_size)
    uncertainty = smoke_uncertainty(experiment, scale)
    scaled.update(
        seeds=experiment.seeds[: scale.seeds],
        initial_size=initial_size,
        batch_sizes=batch_sizes,
        budget=initial_size + scale.acquisitions * max(batch_sizes),
        training=smoke_training(experiment.training, scale),
        uncertainty=uncertainty,
        scoring_batch_size=min(experiment.scoring_batch_size, scale.scoring_batch_size),
        algorithms=kept,
    )
    if experiment.pool_subset is not None:
        scaled["pool_subset"] = max(min(experiment.pool_subset, scale.pool_subset), max(batch_sizes))
    params = smoke_algorithm_params(experiment, min(batch_sizes), posterior_samples(uncertainty),
                                    DATASET_SPECS[experiment.dataset].num_classes, scale)
    scaled.pop("algorithm_params", None)
    if _only_kept(params, experiment, kept):
        scaled["algorithm_params"] = _only_kept(params, experiment, kept)
    return scaled


def smoke_benchmark(raw: Mapping[str, Any], bench: Benchmark, experiment: Mapping[str, Any], dataset: str,
                    scale: SmokeScale) -> dict[str, Any]:
    """`experiment`: the smoke-scaled experiment the benchmark's model is trained as."""
    scaled = copy.deepcopy(dict(raw))
    batch_sizes = smoke_batch_sizes(bench.batch_sizes, scale.batch_size)
    largest = max(bench.pool_sizes)
    cap = min(largest, scale.bench_pool_size)
    pool_sizes = sorted({max(math.ceil(p * cap / largest), min(batch_sizes) + 1) for p in bench.pool_sizes})
    kept = kept_algorithms(bench, scale)
    scaled.update(batch_sizes=batch_sizes, pool_sizes=pool_sizes, repeats=1, algorithms=kept)
    params = smoke_algorithm_params(bench, min(batch_sizes), posterior_samples(experiment["uncertainty"]),
                                    DATASET_SPECS[dataset].num_classes, scale)
    scaled.pop("algorithm_params", None)
    if _only_kept(params, bench, kept):
        scaled["algorithm_params"] = _only_kept(params, bench, kept)
    return scaled


def smoke_suite(raw: Mapping[str, Any], suite: Suite, scale: SmokeScale = SmokeScale()) -> dict[str, Any]:
    """The smoke twin of one suite: `raw` is its mapping in config.yaml, `suite` the same suite as the configuration
    model checked it (for the defaults the mapping leaves out, and the algorithms' resolved parameters)."""
    scaled = copy.deepcopy(dict(raw))
    experiments = {key: smoke_experiment(raw["experiments"][key], experiment, scale)
                   for key, experiment in suite.experiments.items()}
    scaled["experiments"] = experiments
    if suite.benchmarks:
        scaled["benchmarks"] = {
            key: smoke_benchmark(raw["benchmarks"][key], bench, experiments[bench.experiment],
                                 suite.experiments[bench.experiment].dataset, scale)
            for key, bench in suite.benchmarks.items()
        }
    description = str(raw.get("description", "")).strip()
    scaled["description"] = f"Smoke-scaled (sbadbal/config/smoke.py): {description}".strip()
    return scaled


def smoke_config(raw: Mapping[str, Any], suite: str, scale: SmokeScale = SmokeScale(),
                 name: str | None = None) -> dict[str, Any]:
    """config.yaml's mapping with the smoke twin of `suite` added as `name` (default `<suite>_smoke`) and selected.
    The input is checked first (one ConfigError on a mistake), so the rule reads checked values."""
    from sbadbal.config.model import load_config

    config = load_config(raw)
    name = name or f"{suite}_smoke"
    if suite not in config.suites:
        from sbadbal.config.errors import ConfigError

        raise ConfigError("suite", f"suite {suite!r} is not defined; valid suites: {', '.join(config.suites)}")
    scaled = copy.deepcopy(dict(raw))
    scaled["suites"] = {**scaled["suites"], name: smoke_suite(raw["suites"][suite], config.suites[suite], scale)}
    scaled["suite"] = name
    return scaled


def smoke_data_points(suite: Suite) -> dict[str, int]:
    """Base training points (before repeats) each dataset of a (smoke) suite needs: its largest experiment's budget
    and validation split with one more batch to choose from, a benchmark's whole scored pool, and one point per
    class at least (a class-balanced initial set draws from any class)."""
    needed: dict[str, int] = {}
    for experiment in suite.experiments.values():
        spare = max(experiment.batch_sizes)
        points = experiment.budget + experiment.validation_size + spare
        needed[experiment.dataset] = max(needed.get(experiment.dataset, 0), points)
    for bench in suite.benchmarks.values():
        experiment = suite.experiments[bench.experiment]
        points = experiment.initial_size + experiment.validation_size + max(bench.pool_sizes)
        needed[experiment.dataset] = max(needed[experiment.dataset], points)
    base_points = {}
    for dataset, points in needed.items():
        spec = DATASET_SPECS[dataset]
        repeats = suite.dataset_settings(dataset).repeats or spec.repeats
        base_points[dataset] = max(math.ceil(points / repeats), spec.num_classes)
    return base_points
