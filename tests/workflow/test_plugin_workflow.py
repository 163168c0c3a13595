"""A user's own acquisition function from config.yaml, through the real workflow: the README's example plug-in
("Margin", the smallest top-2 margin) in a module beside config.yaml runs in the tiny suite, is tabled and plotted
under its name, and its file is the code of its runs only."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter

import pandas as pd

import yaml

from .helpers import REPO, TINY, change_config, edited, planned_jobs, snakemake, tiny_suite

README = (REPO / "README.md").read_text()
# The README's example, as it stands there: the module and the variant that names it.
MODULE = re.search(r"```python\n(# my_acquisitions\.py\n.*?)```", README, re.S).group(1)
VARIANTS = yaml.safe_load(re.search(r"```yaml\n(variants:\n.*?)```", README, re.S).group(1))["variants"]


def add_margin(config):
    config["variants"].update(VARIANTS)
    config["suites"]["tiny"]["experiments"]["tiny_mc"]["algorithms"].append("Margin")
    config["suites"]["tiny"]["benchmarks"]["tiny_timing"]["algorithms"].append("Margin")


def test_a_plugin_runs_is_tabled_and_plotted_and_its_file_reruns_only_its_runs(tiny_run, tmp_path):
    workdir = tmp_path / "plugin"
    shutil.copytree(tiny_run, workdir, symlinks=True, ignore=shutil.ignore_patterns("report.html"))
    assert VARIANTS == {"Margin": {"algorithm": "my_acquisitions:margin"}}
    (workdir / "my_acquisitions.py").write_text(MODULE)
    change_config(workdir, add_margin)
    experiment = tiny_suite()["experiments"]["tiny_mc"]
    new_runs = len(experiment["batch_sizes"]) * len(experiment["seeds"])
    # Its own runs and what reads them; nothing that existed reruns.
    figures_and_tables = dict(aggregate=1, plot_curves=1, plot_diagnostics=1, plot_accuracy_time=1, bench_acquisition=1,
                              plot_bench=1, claims=1, compare_bench_references=1, table_page=3, bench_table_page=2,
                              claims_page=1, all=1)
    assert planned_jobs(workdir, *TINY) == Counter(run_al=new_runs, **figures_and_tables)
    snakemake(workdir, "--cores", "2", *TINY)

    base = workdir / "results" / "tiny"
    for seed in experiment["seeds"]:
        run = base / "runs" / "tiny_mc" / "b10" / "Margin" / f"seed{seed}"
        rows = pd.read_csv(run.with_suffix(".csv"))
        assert rows["labelled"].iloc[-1] == experiment["budget"]
        acquired = [int(i) for text in rows["acquired_indices"].dropna() for i in str(text).split()]
        assert len(acquired) == experiment["budget"] - experiment["initial_size"] == len(set(acquired))
        config = json.loads(run.with_suffix(".json").read_text())["config"]
        assert config["name"] == "Margin" and config["algorithm"] == "my_acquisitions:margin"
        assert config["acquisition"]["file"] == "my_acquisitions.py"
    for table in ("runs.csv", "final_accuracy.csv", "acquisition_time.csv", "batch_diagnostics.csv"):
        assert "Margin" in set(pd.read_csv(base / "tables" / "tiny_mc" / table)["algorithm"]), table
    assert "Margin" in (base / "tables" / "tiny_mc" / "final_accuracy.md").read_text()
    assert "Margin" in set(pd.read_csv(base / "bench" / "tiny_timing" / "timings.csv")["algorithm"])
    # In the figure under its name, in a colour of its own (the first neutral colour: no record's).
    svg = (base / "figures" / "tiny_mc" / "accuracy_b10.svg").read_text()
    assert "Margin" in svg and "#8c564b" in svg
    assert planned_jobs(workdir, *TINY) == Counter()

    # Its module is the code of its runs (and of the timing sweep that times it), not of any other run.
    with edited(workdir / "my_acquisitions.py", lambda text: text + "\n# an edit\n"):
        jobs = planned_jobs(workdir, *TINY)
        dry_run = snakemake(workdir, "--dry-run", *TINY)
    assert jobs == Counter(run_al=new_runs, **figures_and_tables)
    outputs = "\n".join(line for line in (dry_run.stdout + dry_run.stderr).splitlines() if "output:" in line)
    assert set(re.findall(r"runs/tiny_mc/b\d+/([\w-]+)/seed\d+\.csv", outputs)) == {"Margin"}
