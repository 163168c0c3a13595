"""sbadbal.ops.progress: round lines, the time-left estimate, the reporter callback and the terminal bar."""

from __future__ import annotations

import io
import math

import pytest

from sbadbal.ops.progress import (
    RoundReporter,
    format_duration,
    format_round_line,
    round_bar,
    round_reporter,
    seconds_left,
    total_rounds,
)


def row(round_index, *, last=False):
    return {"round": round_index, "labelled": 20 + 10 * round_index, "test_accuracy": 80.123, "train_seconds": 1.25,
            "score_seconds": math.nan if last else 0.4, "acquisition_seconds": math.nan if last else 0.0123,
            "acquired_indices": "" if last else "1 2"}


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize("initial, budget, batch, expected", [(20, 70, 10, 6), (20, 25, 10, 2), (20, 20, 10, 1)])
def test_total_rounds(initial, budget, batch, expected):
    assert total_rounds(initial_size=initial, budget=budget, batch_size=batch) == expected


def test_durations_and_estimate():
    assert [format_duration(s) for s in (0.4, 59, 125, 3720)] == ["0s", "59s", "2m05s", "1h02m"]
    assert seconds_left(30.0, 3, 2) == 20.0 and seconds_left(0.0, 0, 5) is None


def test_round_line():
    assert format_round_line(row(2), total=6, left_seconds=90) == (
        "round 3/6: 40 labels, test accuracy 80.12%, train 1.2s, score 0.4s, acquire 0.012s, about 1m30s left"
    )
    # the last round evaluates only: no score/acquire, nothing left
    assert format_round_line(row(5, last=True), total=6, left_seconds=0) == (
        "round 6/6: 70 labels, test accuracy 80.12%, train 1.2s"
    )


def test_reporter_estimates_from_its_own_rounds():
    clock, lines = FakeClock(), []
    reporter = RoundReporter(6, write=lines.append, clock=clock)
    clock.now += 10  # a resumed run: rounds 0-2 ran before; round 3 took 10 s here
    reporter(row(3))
    clock.now += 20
    reporter(row(4))
    clock.now += 5
    reporter(row(5, last=True))
    assert lines[0].endswith("about 20s left")  # 10 s per round, 2 rounds left
    assert lines[1].endswith("about 15s left")  # 30 s over 2 rounds, 1 left
    assert lines[2].startswith("round 6/6") and "left" not in lines[2]
    reporter.close()


def test_bar_only_on_a_terminal():
    assert round_bar(3, stream=io.StringIO()) is None  # a log file or Slurm output: plain lines only
    stream = io.StringIO()
    bar = round_bar(3, enabled=True, stream=stream)
    reporter = RoundReporter(3, write=lambda line: None, bar=bar)
    reporter(row(0))
    assert bar.n == 1 and "80.1% at 20 labels" in stream.getvalue()
    reporter.close()


def test_default_writer_is_stderr(capsys):
    reporter = round_reporter(2, bar=False)
    reporter(row(0))
    assert capsys.readouterr().err.startswith("round 1/2: 20 labels")
