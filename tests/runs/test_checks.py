"""Run CSVs are checked against the run schema before any table is made (issue 13 items 3 and 8)."""

import math

import pandas as pd
import pytest

from sbadbal.analysis.tables import read_runs
from sbadbal.runs.checks import RunFileError, read_run_csv, run_rows_problem
from sbadbal.runs.schema import RUN_COLUMNS
from sbadbal.runs.writers import write_csv_atomic


NO_DIAGNOSTICS = {"batch_joint_mi": math.nan, "batch_sum_bald": math.nan, "batch_copies": math.nan,
                  "batch_nonpositive_gains": math.nan}


def run_rows():
    """A finished run as the loop writes it: 20 labels, two acquisitions of 5, the last round acquires nothing.
    Diagnostics where they apply: joint MI and sum of BALD for every batch, no copies (no repeats), gains for LBB."""
    diagnostics = [{"batch_joint_mi": 1.25, "batch_sum_bald": 1.5, "batch_copies": math.nan, "batch_nonpositive_gains": 1},
                   {"batch_joint_mi": 0.25, "batch_sum_bald": 0.25, "batch_copies": math.nan, "batch_nonpositive_gains": 0},
                   NO_DIAGNOSTICS]
    return [{**row, **extra} for row, extra in zip(_base_rows(), diagnostics)]


def _base_rows():
    return [
        {"round": 0, "labelled": 20, "test_accuracy": 61.5, "test_nll": 1.2, "train_seconds": 3.0,
         "score_seconds": 0.5, "acquisition_seconds": 0.1, "acquired_indices": "4 9 17 3 100"},
        {"round": 1, "labelled": 25, "test_accuracy": 70.25, "test_nll": 0.9, "train_seconds": 3.1,
         "score_seconds": 0.5, "acquisition_seconds": 0.1, "acquired_indices": "5"},
        {"round": 2, "labelled": 26, "test_accuracy": 72.0, "test_nll": 0.8, "train_seconds": 3.2,
         "score_seconds": math.nan, "acquisition_seconds": math.nan, "acquired_indices": ""},
    ]


def write_run(tmp_path, rows, name="seed0.csv"):
    return write_csv_atomic(pd.DataFrame(rows, columns=list(RUN_COLUMNS)), tmp_path / name)


def edited(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def test_a_sound_file_reads_like_read_runs(tmp_path):
    path = write_run(tmp_path, run_rows())
    frame = read_run_csv(path, expected_budget=26, expected_initial_size=20)
    assert list(frame.columns) == list(RUN_COLUMNS) and frame["round"].tolist() == [0, 1, 2]
    assert frame["acquired_indices"].tolist() == ["4 9 17 3 100", "5", ""]  # '5' stays text, not 5.0
    assert math.isnan(frame["score_seconds"].iloc[-1])
    expected = read_runs([path], [{"batch_size": 5, "algorithm": "random", "seed": 0}])[list(RUN_COLUMNS)]
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)


def test_blank_accuracy_names_file_row_and_column(tmp_path):
    # Issue 13 item 3: a blank test_accuracy gave "9.90 +- 0.00" from one seed while `seeds` said 2.
    path = edited(write_run(tmp_path, run_rows()), "70.25", "")
    with pytest.raises(RunFileError, match=r"line 3 \(row 1\), column 'test_accuracy': missing") as error:
        read_run_csv(path)
    assert str(path) in str(error.value)


def test_impossible_accuracy_is_refused(tmp_path):
    # Issue 13 item 3: an accuracy of 1e9 gave a mean of 5e8.
    path = edited(write_run(tmp_path, run_rows()), "70.25", "1e9")
    with pytest.raises(RunFileError, match=r"row 1\), column 'test_accuracy': accuracy must lie in \[0, 100\]"):
        read_run_csv(path)


def test_header_only_file_is_an_error(tmp_path):
    # Issue 13 item 3: a header-only CSV was averaged away.
    path = tmp_path / "seed1.csv"
    path.write_text(",".join(RUN_COLUMNS) + "\n")
    with pytest.raises(RunFileError, match=r"seed1\.csv: header only"):
        read_run_csv(path)


def test_text_in_a_numeric_column_names_file_and_column(tmp_path):
    # Issue 13 item 8: pandas said only "Could not convert '12.3' to numeric".
    path = edited(write_run(tmp_path, run_rows()), "70.25", "12.3x")
    with pytest.raises(RunFileError, match=r"seed0\.csv: line 3, column 'test_accuracy': text '12\.3x' in a numeric column"):
        read_run_csv(path)


@pytest.mark.parametrize(
    "row,column,value,message",
    [
        (1, "labelled", 24, "does not add up"),
        (1, "round", 2, "numbered 0..n-1"),
        (1, "acquired_indices", "9", "index 9 is acquired twice"),
        (0, "test_nll", -0.5, "must be >= 0"),
        (0, "test_nll", math.inf, "non-finite"),
        (0, "train_seconds", math.nan, "missing or non-finite"),
        (1, "score_seconds", math.nan, "allowed on the last row only"),
        (1, "acquired_indices", "", "empty before the last row"),
        (2, "acquired_indices", "7", "finished run acquires nothing"),
    ],
)
def test_each_schema_break_is_named(tmp_path, row, column, value, message):
    rows = run_rows()
    rows[row][column] = value
    with pytest.raises(RunFileError, match=rf"row {row}\), column '{column}': .*{message}"):
        read_run_csv(write_run(tmp_path, rows))


def test_budget_and_initial_size_when_known(tmp_path):
    path = write_run(tmp_path, run_rows())
    with pytest.raises(RunFileError, match="budget of 30"):
        read_run_csv(path, expected_budget=30)
    with pytest.raises(RunFileError, match="initial 10 labels"):
        read_run_csv(path, expected_initial_size=10)


def test_wrong_columns_are_named(tmp_path):
    frame = pd.DataFrame(run_rows()).drop(columns=["test_nll"])
    frame.to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(RunFileError, match=r"missing \['test_nll'\]"):
        read_run_csv(tmp_path / "x.csv")


def test_rows_checker_accepts_an_unfinished_run_when_asked():
    rows = run_rows()[:2]
    assert run_rows_problem(rows, finished=None) is None
    assert run_rows_problem(rows, finished=True)[1:] == ("acquired_indices", "the last row of a finished run acquires nothing")
    assert run_rows_problem(rows, finished=None, budget=26) is None
    assert "budget is 25" in run_rows_problem(rows, finished=None, budget=25)[2]
    assert run_rows_problem([], finished=None)[2].startswith("no rows")


@pytest.mark.parametrize("column, value, message", [
    ("batch_copies", "-1", "expected a count"),
    ("batch_nonpositive_gains", "1.5", "expected a count"),
    ("batch_sum_bald", "-0.5", "must be >= 0"),
    ("batch_joint_mi", "inf", "expected a finite number or a blank"),
])
def test_impossible_diagnostics_are_named(tmp_path, column, value, message):
    rows = run_rows()
    path = write_run(tmp_path, rows)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[0, column] = value
    frame.to_csv(path, index=False)
    with pytest.raises(RunFileError, match=rf"row 0\), column '{column}': {message}"):
        read_run_csv(path)
