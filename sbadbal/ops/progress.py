"""Progress, which never changes a number: one log line per round of an active-learning run and, on a terminal,
progress bars (over the rounds, and over the greedy steps of the slow acquisition functions).

    reporter = round_reporter(total_rounds(initial_size=20, budget=70, batch_size=10), write=logger.info)
    run_active_learning(..., progress=reporter)   # reporter(row) after every round
    reporter.close()

A line reads
    round 3/6: 40 labels, test accuracy 81.20%, train 1.2s, score 0.4s, acquire 0.012s, about 9s left
The estimate is the mean wall time of the rounds this process has run times the rounds left, so a resumed run
estimates from its own rounds only. Pure apart from the clock and the writer, both of which are arguments.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def total_rounds(*, initial_size: int, budget: int, batch_size: int) -> int:
    """Rounds of a run: one evaluation per label count from initial_size to budget, in steps of batch_size."""
    return math.ceil(max(budget - initial_size, 0) / batch_size) + 1


def format_duration(seconds: float) -> str:
    """3s, 2m05s, 1h02m: short enough for a log line."""
    seconds = max(int(round(seconds)), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def seconds_left(elapsed_seconds: float, rounds_timed: int, rounds_left: int) -> float | None:
    """Mean seconds per timed round times the rounds left; None before any round was timed."""
    if rounds_timed < 1:
        return None
    return elapsed_seconds / rounds_timed * rounds_left


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(value)


# The row's timing columns in the line's order, with their label and precision (acquisition can take ~1 ms).
TIMING_FIELDS = (("train_seconds", "train", 1), ("score_seconds", "score", 1), ("acquisition_seconds", "acquire", 3))


def format_round_line(row: Mapping[str, Any], *, total: int, left_seconds: float | None) -> str:
    """One round of a run as a log line (row: a run table row, round counted from 0)."""
    timings = ", ".join(
        f"{label} {row[field]:.{digits}f}s" for field, label, digits in TIMING_FIELDS if _is_number(row.get(field))
    )
    line = (f"round {int(row['round']) + 1}/{total}: {int(row['labelled'])} labels, "
            f"test accuracy {float(row['test_accuracy']):.2f}%")
    line += f", {timings}" if timings else ""
    rounds_left = total - (int(row["round"]) + 1)
    if rounds_left > 0 and left_seconds is not None:
        line += f", about {format_duration(left_seconds)} left"
    return line


class RoundReporter:
    """The `progress(row)` callback of run_active_learning: writes format_round_line for every round and moves
    a progress bar when one is given. Rounds that ran before this process (a resumed run) are not timed."""

    def __init__(self, total: int, *, write: Callable[[str], None], bar: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.write = write
        self.bar = bar
        self.clock = clock
        self.started = clock()
        self.rounds_timed = 0

    def __call__(self, row: Mapping[str, Any]) -> None:
        self.rounds_timed += 1
        rounds_left = self.total - (int(row["round"]) + 1)
        left = seconds_left(self.clock() - self.started, self.rounds_timed, rounds_left)
        self.write(format_round_line(row, total=self.total, left_seconds=left))
        if self.bar is not None:
            self.bar.n = int(row["round"]) + 1  # absolute: a resumed run starts part-way
            self.bar.set_postfix_str(f"{float(row['test_accuracy']):.1f}% at {int(row['labelled'])} labels")
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def progress_bar(iterable: Iterable[T], *, total: int | None = None, desc: str = "",
                 enabled: bool | None = None) -> Iterable[T]:
    """A tqdm bar over `iterable` when stderr is a terminal (or when enabled=True); the bare iterable otherwise."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)


def round_bar(total: int, *, enabled: bool | None = None, desc: str = "AL rounds", stream=None):
    """A tqdm bar over the rounds on stderr when it is a terminal (or when enabled=True); None otherwise, so that
    logs and Slurm job files get the plain lines only."""
    stream = stream or sys.stderr
    if enabled is None:
        enabled = stream.isatty()
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, file=stream, unit="round")


def round_reporter(total: int, *, write: Callable[[str], None] | None = None, bar: bool | None = None,
                   clock: Callable[[], float] = time.monotonic) -> RoundReporter:
    """A RoundReporter writing with `write` (default: print to stderr), with a bar when `bar` (None: when stderr is
    a terminal). With a bar, lines go through tqdm.write so that they do not tear it."""
    rounds_bar = round_bar(total, enabled=bar)
    if write is None:
        write = _bar_safe_print if rounds_bar is not None else (lambda line: print(line, file=sys.stderr, flush=True))
    return RoundReporter(total, write=write, bar=rounds_bar, clock=clock)


def _bar_safe_print(line: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(line, file=sys.stderr)
