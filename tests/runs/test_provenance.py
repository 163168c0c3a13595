"""Provenance checked, not only written (issue 20 group 3): a run CSV is read only when its sidecar vouches for it
(this very run, the CSV's checksum); the runs table that claims and comparisons read is checked as run files are."""

import json
import math

import pandas as pd
import pytest

from sbadbal.analysis.tables import read_runs, read_runs_table
from sbadbal.runs.checks import RunFileError
from sbadbal.runs.schema import RUN_COLUMNS
from sbadbal.runs.sidecar import csv_sha256, run_sidecar, sidecar_path_of
from sbadbal.runs.writers import write_csv_atomic, write_json_atomic

from .test_checks import run_rows

RUN = {"suite": "tiny", "experiment": "tiny_mc", "batch_size": 5, "algorithm": "BALD", "seed": 1}
CONTEXT = {"suite": "tiny", "experiment": "tiny_mc"}
KEY = {"batch_size": 5, "algorithm": "BALD", "seed": 1}


def finished_run(tmp_path, run=RUN):
    """A run CSV and its sidecar as run_to_files writes them."""
    csv = write_csv_atomic(pd.DataFrame(run_rows(), columns=list(RUN_COLUMNS)), tmp_path / "seed1.csv")
    write_json_atomic(run_sidecar({"seed": run["seed"]}, "cpu", run=run, csv_bytes=csv.read_bytes()),
                      sidecar_path_of(csv))
    return csv, sidecar_path_of(csv)


def read(csv, sidecar):
    return read_runs([csv], [KEY], sidecars=[sidecar], run=CONTEXT)


def refusal(csv, sidecar):
    with pytest.raises(RunFileError) as caught:
        read(csv, sidecar)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{csv}: ")
    assert f"; delete {csv} {sidecar} and rerun the run to remake it" in message
    return message


def test_the_remake_command_of_a_workflow_run_forces_its_rule():
    from sbadbal.runs.checks import remake_hint

    path = "results/tiny/runs/tiny_mc/b10/BALD/seed1.csv"
    assert remake_hint(path, path[:-3] + "json") == (
        f"; remake the run: `snakemake --cores 1 --force {path} --config suite=tiny`")


def test_a_vouched_run_is_read(tmp_path):
    csv, sidecar = finished_run(tmp_path)
    assert read(csv, sidecar)["test_accuracy"].tolist() == [61.5, 70.25, 72.0]
    assert json.loads(sidecar.read_text())["csv_sha256"] == csv_sha256(csv.read_bytes())


def test_a_run_of_another_seed_under_this_path_is_refused(tmp_path):
    # The audit: a CLI run of seed 2 saved as the workflow's seed1.csv became seed 1 in tables and claims.
    csv, sidecar = finished_run(tmp_path, {**RUN, "seed": 2})
    assert "of another run: seed 2, where this path holds seed 1" in refusal(csv, sidecar)


@pytest.mark.parametrize("key, value", [("algorithm", "PowerBALD"), ("experiment", None), ("batch_size", 10),
                                        ("suite", "default")])
def test_a_run_of_another_algorithm_or_experiment_is_refused(tmp_path, key, value):
    csv, sidecar = finished_run(tmp_path, {**RUN, key: value})
    assert f"of another run: {key} {value!r}" in refusal(csv, sidecar)


def test_a_csv_edited_by_hand_is_refused(tmp_path):
    # The audit: accuracy 9.6 -> 55.5 by hand changed tables and claims.
    csv, sidecar = finished_run(tmp_path)
    csv.write_text(csv.read_text().replace("70.25", "75.25"))
    assert "does not match the checksum in its sidecar" in refusal(csv, sidecar)


def test_a_missing_or_truncated_sidecar_is_refused(tmp_path):
    csv, sidecar = finished_run(tmp_path)
    text = sidecar.read_text()
    sidecar.write_text(text[: len(text) // 2])
    assert "is not valid JSON (truncated or damaged" in refusal(csv, sidecar)
    sidecar.write_text(json.dumps({"config": {}}))
    assert "does not say which run wrote the CSV" in refusal(csv, sidecar)
    sidecar.unlink()
    assert f"its sidecar {sidecar} is missing" in refusal(csv, sidecar)


def write_table(tmp_path, edit=None):
    rows = [{**KEY, **row} for row in run_rows()] + [{**KEY, "seed": 2, **row} for row in run_rows()]
    frame = pd.DataFrame(rows, columns=["batch_size", "algorithm", "seed", *RUN_COLUMNS])
    path = write_csv_atomic(frame, tmp_path / "runs.csv")
    if edit is not None:
        lines = path.read_text().splitlines()
        header = lines[0].split(",")
        line, column, value = edit
        cells = lines[line - 1].split(",")
        cells[header.index(column)] = value
        lines[line - 1] = ",".join(cells)
        path.write_text("\n".join(lines) + "\n")
    return path


def test_a_sound_runs_table_reads_as_before(tmp_path):
    table = read_runs_table(write_table(tmp_path))
    assert table["seed"].tolist() == [1, 1, 1, 2, 2, 2] and table["acquired_indices"].iloc[2] == ""
    assert table["round"].dtype == "int64" and math.isnan(table["score_seconds"].iloc[2])


@pytest.mark.parametrize("value, problem", [
    ("", "missing or non-finite value"),
    ("1e9", "accuracy must lie in [0, 100]"),
    ("nan", "missing or non-finite value"),
    ("abc", "text 'abc' in a numeric column"),
])
def test_a_bad_accuracy_in_the_runs_table_names_file_line_and_column(tmp_path, value, problem):
    # The audit: a blank or 1e9 accuracy in tables/runs.csv gave a claims estimate of -5e8 points; text a traceback.
    path = write_table(tmp_path, (6, "test_accuracy", value))
    with pytest.raises(RunFileError) as caught:
        read_runs_table(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line 6") and "column 'test_accuracy'" in message and problem in message
    assert "\n" not in message and "rerun the workflow" in message


def test_text_in_a_key_column_of_the_runs_table_is_named(tmp_path):
    path = write_table(tmp_path, (3, "seed", "one"))
    with pytest.raises(RunFileError, match=r"line 3, column 'seed': text 'one' in a numeric column"):
        read_runs_table(path)
