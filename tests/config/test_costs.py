"""Configuration checked for what it will cost (issue 20 group 4): duplicate keys and seeds, a bound on every count
that sizes work, the scheduling model's memory estimate, colours, source options of the right type and shape,
no alias bombs, the published-numbers file in one line. Each through the library and through a real
`snakemake --dry-run` of the tiny suite in a copy of the workflow: one line naming the file and key, in seconds."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import pytest
import yaml

from sbadbal.config import ConfigError, load_config, load_config_file

from ..workflow.helpers import REPO, TINY, change_config, copy_workflow, snakemake

TINY_AT = "suites.tiny"
EXPERIMENT_AT = f"{TINY_AT}.experiments.tiny_mc"
BENCH_AT = f"{TINY_AT}.benchmarks.tiny_timing"


def tiny(config):
    return config["suites"]["tiny"]


def experiment(config):
    return tiny(config)["experiments"]["tiny_mc"]


def bench(config):
    return tiny(config)["benchmarks"]["tiny_timing"]


def dataset_options(name, **settings):
    def change(config):
        tiny(config).setdefault("datasets", {})[name] = settings
    return change


def second_experiment(name):
    def change(config):
        tiny(config)["experiments"][name] = copy.deepcopy(experiment(config))
    return change


# (id, change to the parsed config.yaml, the message's start after "config.yaml: ")
COSTLY_CONFIGS = [
    ("duplicate-seeds", lambda c: experiment(c).update(seeds=[1, 1, 2]),
     f"{EXPERIMENT_AT}.seeds: seeds lists 1 twice"),
    ("num-samples-1e12", lambda c: c.update(variants={"BB-huge": {"algorithm": "BatchBALD",
                                                                   "params": {"num_samples": 10**12}}}),
     "variants.BB-huge.params: parameter 'num_samples' must be at most 1,000,000"),
    ("k-acquisition-1e5", lambda c: experiment(c)["uncertainty"].update(k_acquisition=100_000),
     f"{EXPERIMENT_AT}.uncertainty.k_acquisition: expected a value <= 10000, got 100000"),
    ("iterations-1e15", lambda c: experiment(c)["training"].update(iterations=10**15),
     f"{EXPERIMENT_AT}.training: training.iterations must be at most 100,000,000"),
    ("repeats-1e6", dataset_options("RMNIST5K", repeats=10**6),
     f"{TINY_AT}.datasets.RMNIST5K.repeats: expected a value <= 100, got 1000000"),
    ("noise-std-1e300", dataset_options("RMNIST5K", noise_std=1e300),
     f"{TINY_AT}.datasets.RMNIST5K.noise_std: expected a value <= 10.0, got 1e+300"),
    ("dpi-1e6", lambda c: c["plots"].update(dpi=10**6), "plots.dpi: expected a value <= 1200, got 1000000"),
    ("not-a-colour", lambda c: c["plots"].update(colours={"BALD": "notacolour"}),
     "plots.colours: BALD: 'notacolour' is not a colour"),
    ("bench-pool-1e9", lambda c: bench(c).update(pool_sizes=[50, 10**9]),
     f"{BENCH_AT}.pool_sizes[1]: expected a value <= 10000000"),
    ("bench-pool-above-the-experiments", lambda c: bench(c).update(pool_sizes=[50, 5000]),
     f"{BENCH_AT}.pool_sizes: pool size 5000 exceeds the pool of MNIST5K"),
    ("bench-batch-above-its-pool", lambda c: bench(c).update(batch_sizes=[2, 500]),
     f"{BENCH_AT}.batch_sizes: batch size 500 is not below the largest pool size 100"),
    ("bench-repeats-1e6", lambda c: bench(c).update(repeats=10**6),
     f"{BENCH_AT}.repeats: expected a value <= 1000"),
    ("pool-rows-0", dataset_options("MNIST5K", options={"pool_rows": 0}),
     f"{TINY_AT}.datasets.MNIST5K.options.pool_rows: expected an integer in 1..10,000,000, got 0"),
    ("pool-rows-many", dataset_options("MNIST5K", options={"pool_rows": "many"}),
     f"{TINY_AT}.datasets.MNIST5K.options.pool_rows: expected an integer in 1..10,000,000, got 'many'"),
    ("option-a-mapping", dataset_options("MNIST5K", options={"split_seed": {"a": [1, 2]}}),
     f"{TINY_AT}.datasets.MNIST5K.options.split_seed: expected a plain value (text, number, true/false), got a dict"),
    ("local-csv-etc-passwd", dataset_options("AGNEWS", options={"local_csv": "/etc/passwd"}),
     f"{TINY_AT}.datasets.AGNEWS.options.local_csv: /etc/passwd is neither a .csv nor a .parquet file"),
    ("experiment-named-claims-csv", second_experiment("claims.csv"),
     f"{TINY_AT}.experiments.claims.csv: experiment name 'claims.csv' would collide with tables/claims.csv"),
    ("scoring-batch-1e9", lambda c: experiment(c).update(scoring_batch_size=10**9),
     f"{EXPERIMENT_AT}.scoring_batch_size: expected a value <= 1000000"),
    ("learning-rate-1e6", lambda c: experiment(c)["training"].update(lr=1e6),
     f"{EXPERIMENT_AT}.training: training.lr must be at most 10.0"),
    ("seed-2-to-the-64", lambda c: experiment(c).update(seeds=[2**64]),
     f"{EXPERIMENT_AT}.seeds[0]: expected a value <= 2147483647"),
]


def shipped():
    return yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.mark.parametrize("change, message", [case[1:] for case in COSTLY_CONFIGS],
                         ids=[case[0] for case in COSTLY_CONFIGS])
def test_a_costly_configuration_is_named_in_words(change, message):
    raw = shipped()
    change(raw)
    with pytest.raises(ConfigError) as caught:
        load_config(raw)
    assert str(caught.value).startswith(f"config.yaml: {message}"), str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.fixture(scope="module")
def workflow_copy(tmp_path_factory) -> Path:
    return copy_workflow(tmp_path_factory.mktemp("costs_workflow"))


def dry_run_refusal(workdir: Path, *args: str) -> str:
    """The first `Error:` line of a failing dry run of the tiny suite, checked to come alone and in seconds."""
    started = time.monotonic()
    result = snakemake(workdir, "--dry-run", *TINY, *args, check=False)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output and 'File "' not in output, output
    assert len(output.splitlines()) < 12, output
    assert elapsed < 60, f"the dry run took {elapsed:.0f} s"
    assert not (workdir / "results").exists()
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert errors, output
    return errors[0]


# Cases whose check path another case already takes through Snakemake: the real dry run of these is a slow test
# (each costs a Snakemake start, ~5 s on a loaded 2-core machine); the library test above runs every case.
SAME_PATH_AS_ANOTHER = {"pool-rows-many", "bench-repeats-1e6", "scoring-batch-1e9", "seed-2-to-the-64",
                        "learning-rate-1e6", "repeats-1e6", "bench-pool-1e9", "option-a-mapping"}


@pytest.mark.parametrize("change, message", [
    pytest.param(*case[1:], id=case[0], marks=[pytest.mark.slow] if case[0] in SAME_PATH_AS_ANOTHER else [])
    for case in COSTLY_CONFIGS])
def test_snakemake_refuses_a_costly_configuration_at_start(workflow_copy, change, message):
    original = (workflow_copy / "config.yaml").read_text()
    try:
        change_config(workflow_copy, change)
        line = dry_run_refusal(workflow_copy)
    finally:
        (workflow_copy / "config.yaml").write_text(original)
    assert line.startswith(f"Error: config.yaml: {message}"), line


# Raw YAML texts, as a user writes them: what a parsed-and-dumped config cannot show.
DUPLICATE_BUDGET = ("\n        budget: 40\n", "\n        budget: 40\n        budget: 400\n")


def with_alias_bomb(text: str) -> str:
    """config.yaml with a billion-value alias bomb inside the tiny suite's MNIST5K options."""
    anchors = "".join(f"          bomb{i}: &b{i} [{', '.join([f'*b{i - 1}' if i else '1'] * 10)}]\n" for i in range(9))
    tiny_suite = "  tiny:\n"
    assert tiny_suite in text
    return text.replace(tiny_suite, tiny_suite + "    datasets:\n      MNIST5K:\n        options:\n" + anchors, 1)


def tiny_text(text: str) -> str:
    """The tiny suite's section of config.yaml's text (where its budget line is)."""
    return text[text.index("  tiny:\n"):]


def edit_tiny(text: str, old: str, new: str) -> str:
    head, tail = text[: text.index("  tiny:\n")], tiny_text(text)
    assert old in tail
    return head + tail.replace(old, new, 1)


def test_a_key_written_twice_is_an_error_in_the_library(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(edit_tiny((REPO / "config.yaml").read_text(), *DUPLICATE_BUDGET))
    with pytest.raises(ConfigError, match=r"config.yaml: line \d+, column 9: key 'budget' is written twice"):
        load_config_file(path)


def test_snakemake_refuses_a_key_written_twice(workflow_copy):
    # The audit: `budget:` twice silently took the last. Snakemake's loader keeps the last, so the raw file is read.
    path = workflow_copy / "config.yaml"
    original = path.read_text()
    try:
        path.write_text(edit_tiny(original, *DUPLICATE_BUDGET))
        line = dry_run_refusal(workflow_copy)
    finally:
        path.write_text(original)
    assert line.startswith("Error: config.yaml: line ") and "key 'budget' is written twice" in line, line


def test_snakemake_refuses_a_key_written_twice_in_a_configfile(workflow_copy, tmp_path):
    extra = tmp_path / "mine.yaml"
    extra.write_text("suite: tiny\nplots:\n  dpi: 100\n  dpi: 200\n")
    line = dry_run_refusal(workflow_copy, "--configfile", str(extra))
    assert line.startswith("Error: mine.yaml: line 4, column 3: key 'dpi' is written twice"), line


def test_snakemake_refuses_an_alias_bomb_before_expanding_it(workflow_copy):
    # The audit: an alias bomb in datasets.*.options passed validation; Snakemake's json.dumps(config) expanded it to a
    # MemoryError after 51 s.
    path = workflow_copy / "config.yaml"
    original = path.read_text()
    try:
        path.write_text(with_alias_bomb(original))
        line = dry_run_refusal(workflow_copy)
    finally:
        path.write_text(original)
    assert line.startswith("Error: config.yaml: suites.tiny.datasets.MNIST5K.options.bomb5: expands to 1,111,111 "
                           "values (the file to 1,234,"), line


def test_a_local_csv_of_the_wrong_shape_is_refused(tmp_path):
    raw = shipped()
    wrong = tmp_path / "passwd.csv"
    wrong.write_text("root:x:0:0:root:/root:/bin/bash\n")
    dataset_options("AGNEWS", options={"local_csv": str(wrong)})(raw)
    with pytest.raises(ConfigError, match=r"options.local_csv: .*passwd.csv: its first row has 1 field\(s\), expected 3"):
        load_config(raw)
    wrong.write_text('"7","title","description"\n')
    with pytest.raises(ConfigError, match=r"first row's class index '7' is not one of 1..4"):
        load_config(raw)
    wrong.write_bytes(b'\xef\xbb\xbf"3","title","description"\n')  # a byte-order mark is fine
    load_config(raw)


def test_a_run_above_the_memory_estimate_is_refused_before_any_job():
    # The scheduling model's estimate (sbadbal/ops/scheduling.py): EMNIST's 112,800-point pool x K 10,000 x 47 classes.
    raw = shipped()
    paper = raw["suites"]["paper"]["experiments"]["kmnist_mc"]
    paper.update(dataset="EMNIST")
    paper["uncertainty"]["k_acquisition"] = 10_000
    with pytest.raises(ConfigError) as caught:
        load_config(raw)
    message = str(caught.value)
    assert message.startswith("config.yaml: suites.paper.experiments.kmnist_mc.uncertainty.k_acquisition: a run of "
                              "this experiment needs at least 1,276 GB"), message
    assert "more than the 256 GB the scheduling model allows one job" in message


REFERENCES = "references/original_repository.yaml"


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("  - id: time_notebook_mnist_mc_b20\n", "  - id: time_notebook_mnist_mc_b20\n\tkind: x\n", 1),
     r"line \d+, column 1: not valid YAML: .*found character '\\t' .*\(YAML indents with spaces, never tabs\)"),
    (lambda t: t.replace("references:\n", "references:\n  - just a string\n", 1),
     r"references\[0\]: expected an entry \(a mapping of id, quantity"),
    (lambda t: t.replace("  - id: time_notebook_mnist_mc_b20\n", "  - quantity: x\n    id_: time_notebook_mnist_mc_b20\n",
                         1).replace("    quantity: first_acquisition_seconds\n", "", 1),
     r"references\[0\]: the entry has no id; add `id: <name>`"),
    (lambda t: t.replace("    precision: null\n", "    precision: null\n    precison: 1\n", 1),
     r"references\[0\] \(time_notebook_mnist_mc_b20\)\.precison: unknown key 'precison'; did you mean 'precision'\?"),
    (lambda t: t.replace("    precision: null\n", "    precision: null\n    precision: 1\n", 1),
     r"line \d+, column 5: key 'precision' is written twice"),
])
def test_snakemake_names_the_references_file_in_one_line(workflow_copy, edit, message):
    # The audit: a tab or non-mapping entries were raw errors, an entry without id blamed config.yaml, an unknown
    # key was accepted.
    path = workflow_copy / REFERENCES
    original = path.read_text()
    try:
        path.write_text(edit(original))
        line = dry_run_refusal(workflow_copy)
    finally:
        path.write_text(original)
    assert line.startswith(f"Error: {path}: "), line
    import re

    assert re.search(message, line), line


def test_the_references_parser_refuses_an_unknown_key(tmp_path):
    from sbadbal.analysis.references import load_references

    path = tmp_path / "references.yaml"
    path.write_text((REPO / REFERENCES).read_text().replace("    precision: null\n", "    precision: null\n    notes: x\n", 1))
    with pytest.raises(ValueError, match="unknown field 'notes'"):
        load_references(path)
    path.write_text((REPO / REFERENCES).read_text().replace("    precision: null\n", "    precision: null\n    precision: 2\n", 1))
    with pytest.raises(ValueError, match="key 'precision' is written twice"):
        load_references(path)
