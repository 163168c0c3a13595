"""The default suite's training recipe is one the training-noise benchmark measured as stable.

benchmarks/results/training_noise_cpu.md is the evidence config.yaml's comments cite: a change of the default
suite's recipe or test masks without re-measuring fails here, not silently in the claims.
"""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TABLE = REPO / "benchmarks" / "results" / "training_noise_cpu.md"
MAX_SD_AT_60_LABELS = 1.0  # accuracy points per fit (docs: README, "Findings that survive a change of machine")


def recipe_name(training: dict) -> str:
    # The benchmark's own naming (benchmarks/training_noise.py: recipe_name).
    schedule = ", cosine" if training.get("lr_schedule", "constant") == "cosine" else ""
    return f"{training['iterations']} draws, lr {training['lr']:g}{schedule}"


def measured_rows() -> list[dict]:
    rows = []
    for line in TABLE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 9 and re.fullmatch(r"\d+", cells[2]):
            rows.append({"recipe": cells[0], "dataset": cells[1], "labels": int(cells[2]), "k_test": int(cells[3]),
                         "fits": int(cells[5]), "sd": float(cells[7])})
    return rows


# The suites meant for results on a CPU: the default and the LBB-objectives look trimmed from it (tiny's handful of
# iterations is a workflow test, the paper suite keeps the original recipe).
CPU_RESULT_SUITES = ("default", "lbb_objectives")


def test_every_cpu_result_experiment_on_mnist_digits_trains_with_a_measured_stable_recipe():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    rows = measured_rows()
    assert rows, f"{TABLE} has no rows"
    checked = 0
    experiments = [(f"{suite}.{key}", experiment) for suite in CPU_RESULT_SUITES
                   for key, experiment in config["suites"][suite]["experiments"].items()]
    for key, experiment in experiments:
        if experiment["dataset"] not in {"MNIST5K", "RMNIST5K"}:
            continue  # the benchmark fits the MNIST CNN; AG News's MLP head is not measured there
        name, k_test = recipe_name(experiment["training"]), experiment["uncertainty"]["k_test"]
        matching = [r for r in rows if (r["recipe"], r["dataset"], r["labels"], r["k_test"])
                    == (name, experiment["dataset"], 60, k_test)]
        assert matching, f"{key}: recipe {name!r} with k_test {k_test} is not in {TABLE.name}; run the benchmark"
        assert matching[0]["fits"] >= 8
        assert matching[0]["sd"] <= MAX_SD_AT_60_LABELS, (key, matching[0])
        checked += 1
    assert checked >= 2


def test_the_claims_experiment_tests_on_every_digit_outside_its_pool():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    suite = config["suites"]["default"]
    claims_experiment = suite["experiments"][suite["claims"]["experiments"][0]]
    assert claims_experiment["dataset"] == "RMNIST5K"
    assert suite["datasets"]["RMNIST5K"]["options"]["pool_rows"] == 300
    assert "| RMNIST5K | 60 | 20 | 4,700 |" in TABLE.read_text()
