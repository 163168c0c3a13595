"""Checkpoints carry a fingerprint and are checked on load (issue 13 items 1 and 5): a bad one starts afresh; one
edited after it was written fails its checksum and is refused, saying to delete it (issue 20 group 3)."""

import json
import logging
import math

import pytest

from sbadbal.data import prepare_dataset
from sbadbal.data.store import preparation_settings, prepared_checksum
from sbadbal.engine.checkpoint import (
    CHECKPOINT_VERSION,
    CheckpointError,
    Fingerprint,
    checkpoint_checksum,
    load_checkpoint,
    run_fingerprint,
    save_checkpoint,
    sources_sha256,
)
from sbadbal.engine.state import RunState

INITIAL = RunState(labelled=list(range(20)), validation=[90, 91])
NUM_TRAIN, BUDGET = 100, 30


def row(round_index, labelled, acquired, accuracy=50.0):
    timed = bool(acquired)
    return {"round": round_index, "labelled": labelled, "test_accuracy": accuracy, "test_nll": 1.5,
            "train_seconds": 2.0, "score_seconds": 0.3 if timed else math.nan,
            "acquisition_seconds": 0.1 if timed else math.nan, "acquired_indices": " ".join(map(str, acquired)),
            "batch_joint_mi": 0.5 if timed else math.nan, "batch_sum_bald": 0.75 if timed else math.nan,
            "batch_copies": math.nan, "batch_nonpositive_gains": math.nan}


def two_rounds_done():
    """A run with 20 initial labels, batches of 5, budget 30, killed after round 1."""
    rows = [row(0, 20, range(20, 25)), row(1, 25, range(25, 30))]
    return RunState(labelled=list(range(30)), validation=list(INITIAL.validation), rows=rows)


def fingerprint(**changes):
    parts = dict(spec={"algorithm": "BALD", "seed": 1, "training": {"milestones": (25, 40)}}, data_sha256="d" * 64,
                 preparation={"mean": [0.1307], "noise_std": 0.0}, code_sha256="c" * 64)
    return Fingerprint(**{**parts, **changes})


def load(path, current=None):
    return load_checkpoint(path, current or fingerprint(), initial=INITIAL, num_train=NUM_TRAIN, budget=BUDGET)


def saved_then_edited(tmp_path, edit, *, resign=True):
    """A checkpoint edited after saving; `resign`: its checksum recomputed, as a faulty writer would have written it
    (what the consistency checks judge), else left as saved (a hand edit, which the checksum catches)."""
    path = tmp_path / "seed1.csv.checkpoint.json"
    save_checkpoint(path, fingerprint(), two_rounds_done())
    saved = json.loads(path.read_text())
    edit(saved)
    if resign:
        saved["checksum"] = checkpoint_checksum(saved)
    path.write_text(json.dumps(saved))
    return path


def test_a_sound_checkpoint_resumes_as_saved(tmp_path):
    path = tmp_path / "run.checkpoint.json"
    save_checkpoint(path, fingerprint(), two_rounds_done())
    saved = json.loads(path.read_text())
    assert saved["version"] == CHECKPOINT_VERSION and saved["spec"]["algorithm"] == "BALD"
    assert set(saved) == {"version", "spec", "fingerprint", "labelled", "validation", "rows", "checksum"}
    state = load(path)
    assert state.labelled == list(range(30)) and state.validation == [90, 91] and len(state.rows) == 2
    assert load(tmp_path / "absent.json") is None


def test_a_finished_run_at_the_budget_is_accepted(tmp_path):
    def finish(saved):
        saved["rows"].append(row(2, 30, []))

    assert len(load(saved_then_edited(tmp_path, finish)).rows) == 3


def _fake_finished_row(saved):
    # Issue 13 item 5: one fake finished row with accuracy 99.9 was accepted as the whole run.
    saved["rows"] = [row(0, 20, [], accuracy=99.9)]
    saved["labelled"] = list(range(20))


def _duplicate_index(saved):
    saved["rows"][1]["acquired_indices"] = "24 26 27 28 29"
    saved["labelled"] = list(range(25)) + [24, 26, 27, 28, 29]


def _short_labelled(saved):
    saved["labelled"] = saved["labelled"][:27]


def _text_in_a_number(saved):
    saved["rows"][0]["test_accuracy"] = "12.3"


def _rows_misnumbered(saved):
    saved["rows"][1]["round"] = 3


def _outside_the_pool(saved):
    saved["rows"][1]["acquired_indices"] = "25 26 27 28 500"
    saved["labelled"][-1] = 500


def _nan_accuracy(saved):
    saved["rows"][1]["test_accuracy"] = float("nan")


def _labelled_count_off(saved):
    saved["rows"][1]["labelled"] = 26


@pytest.mark.parametrize(
    "edit,reason",
    [
        (_fake_finished_row, "finished run ends at the budget of 30"),
        (_duplicate_index, "index 24 is acquired twice"),
        (_short_labelled, r"labelled \(27 indices\) is not the initial set plus the acquired indices"),
        (_text_in_a_number, "column 'test_accuracy': expected a number, got '12.3'"),
        (_rows_misnumbered, "numbered 0..n-1"),
        (_outside_the_pool, "index 500 lies outside the pool of 100"),
        (_nan_accuracy, "column 'test_accuracy': missing or non-finite"),
        (_labelled_count_off, "does not add up"),
    ],
)
def test_an_inconsistent_checkpoint_warns_and_starts_afresh(tmp_path, caplog, edit, reason):
    path = saved_then_edited(tmp_path, edit)
    with caplog.at_level(logging.WARNING), pytest.warns(UserWarning, match=reason):
        assert load(path) is None
    assert f"checkpoint {path} is unreadable" in caplog.text and "starting this run afresh" in caplog.text


@pytest.mark.parametrize(
    "changed,named",
    [
        (dict(data_sha256="e" * 64), "prepared data (content checksum)"),
        (dict(preparation={"mean": [0.1307], "noise_std": 0.3}), "data preparation settings"),
        (dict(spec={"algorithm": "BALD", "seed": 2, "training": {"milestones": [25, 40]}}), "run spec"),
        (dict(code_sha256="f" * 64), "code (the run's code inputs)"),
        (dict(torch_threads=2), "torch thread count"),
    ],
)
def test_a_checkpoint_made_under_other_conditions_is_discarded_saying_which(tmp_path, caplog, changed, named):
    path = tmp_path / "run.checkpoint.json"
    save_checkpoint(path, fingerprint(), two_rounds_done())
    with caplog.at_level(logging.WARNING), pytest.warns(UserWarning, match="different run configuration"):
        assert load(path, fingerprint(**changed)) is None
    assert named in caplog.text and "starting this run afresh" in caplog.text


@pytest.mark.parametrize("version", [1, 2, 3])
def test_a_checkpoint_of_an_earlier_version_is_discarded(tmp_path, version):
    def earlier(saved):
        saved["version"] = version
        if version == 1:
            del saved["fingerprint"]

    assert CHECKPOINT_VERSION == 4
    with pytest.warns(UserWarning, match=f"checkpoint version {version}"):
        assert load(saved_then_edited(tmp_path, earlier)) is None


def test_the_issues_noise_change_changes_the_data_fingerprint():
    # Issue 13 item 1: RMNIST5K rerun with noise_std 0.3 resumed a checkpoint made without noise.
    clean, noisy = prepare_dataset("RMNIST5K", repeats=2), prepare_dataset("RMNIST5K", repeats=2, noise_std=0.3)
    assert prepared_checksum(clean) != prepared_checksum(noisy)
    assert preparation_settings(clean)["noise_std"] == 0.0 and preparation_settings(noisy)["noise_std"] == 0.3
    assert prepared_checksum(clean) == prepared_checksum(prepare_dataset("RMNIST5K", repeats=2))


def test_the_code_hash_follows_content_not_location(tmp_path):
    def tree(folder, loop_text):
        (folder / "sbadbal").mkdir(parents=True)
        (folder / "sbadbal" / "loop.py").write_text(loop_text)
        (folder / "sbadbal" / "models.py").write_text("MODELS = 1\n")
        return [folder / "sbadbal" / "loop.py", folder / "sbadbal" / "models.py"]

    here, clone, edited = tree(tmp_path / "a", "X = 1\n"), tree(tmp_path / "b", "X = 1\n"), tree(tmp_path / "c", "X = 2\n")
    assert sources_sha256(here) == sources_sha256(clone) != sources_sha256(edited)
    assert sources_sha256(here) != sources_sha256(here[:1])


def test_run_fingerprint_of_a_prepared_dataset(tmp_path):
    import sbadbal.engine.checkpoint
    import sbadbal.runs.writers

    sources = [sbadbal.engine.checkpoint.__file__, sbadbal.runs.writers.__file__]
    clean = run_fingerprint(prepare_dataset("MNIST5K"), {"seed": 1}, sources)
    assert clean.spec == {"seed": 1} and clean.preparation["mean"] == [0.1307] and clean.code_sha256 == sources_sha256(sources)
    path = tmp_path / "run.checkpoint.json"
    save_checkpoint(path, clean, two_rounds_done())
    with pytest.warns(UserWarning, match=r"prepared data \(content checksum\), data preparation settings differ"):
        load_checkpoint(path, run_fingerprint(prepare_dataset("MNIST5K", test_fraction=0.3), {"seed": 1}, sources),
                        initial=INITIAL, num_train=NUM_TRAIN, budget=BUDGET)


def _edited_accuracy(saved):
    saved["rows"][1]["test_accuracy"] = 95.5


def _huge_joint_mi(saved):
    saved["rows"][0]["batch_joint_mi"] = 1e308


def _swapped_index(saved):
    # Two acquired indices swapped between rounds: labelled counts, duplicates and the pool all still check out.
    first, second = saved["rows"][0]["acquired_indices"].split(), saved["rows"][1]["acquired_indices"].split()
    first[0], second[0] = second[0], first[0]
    saved["rows"][0]["acquired_indices"], saved["rows"][1]["acquired_indices"] = " ".join(first), " ".join(second)
    saved["labelled"] = list(range(20)) + [int(i) for i in first] + [int(i) for i in second]


@pytest.mark.parametrize("edit", [_edited_accuracy, _huge_joint_mi, _swapped_index])
def test_a_checkpoint_edited_after_writing_is_refused_with_the_fix(tmp_path, edit):
    # Issue 20 group 3: each of these resumed silently into a different final CSV.
    path = saved_then_edited(tmp_path, edit, resign=False)
    with pytest.raises(CheckpointError) as caught:
        load(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "does not match its checksum" in message
    assert f"delete it to start this run afresh: rm {path}" in message
    # The same contents re-signed pass the checksum; the edits are internally consistent, so they would resume.
    assert load(saved_then_edited(tmp_path, edit)) is not None


def test_a_checkpoint_without_a_checksum_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="does not match its checksum"):
        load(saved_then_edited(tmp_path, lambda saved: saved.pop("checksum"), resign=False))


def test_the_thread_count_is_part_of_the_fingerprint(tmp_path):
    # Issue 20 group 3: a CLI checkpoint made with 2 threads resumed in the 1-thread workflow job.
    path = tmp_path / "run.checkpoint.json"
    save_checkpoint(path, fingerprint(torch_threads=2), two_rounds_done())
    assert json.loads(path.read_text())["fingerprint"]["torch_threads"] == 2
    with pytest.warns(UserWarning, match="torch thread count differ"):
        assert load(path, fingerprint(torch_threads=1)) is None
    assert load(path, fingerprint(torch_threads=2)) is not None


def test_run_fingerprint_reads_the_thread_count():
    import torch

    import sbadbal.engine.checkpoint

    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = run_fingerprint(prepare_dataset("MNIST5K"), {"seed": 1}, [sbadbal.engine.checkpoint.__file__])
        torch.set_num_threads(2)
        two = run_fingerprint(prepare_dataset("MNIST5K"), {"seed": 1}, [sbadbal.engine.checkpoint.__file__])
    finally:
        torch.set_num_threads(previous)
    assert (one.torch_threads, two.torch_threads) == (1, 2)


def test_a_checkpoint_nested_deeply_is_discarded_in_one_line(tmp_path, caplog):
    # Issue 20 group 4: a checkpoint nested 10**5 deep raised a RecursionError traceback.
    path = tmp_path / "run.checkpoint.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with caplog.at_level(logging.WARNING), pytest.warns(UserWarning, match="nested too deeply"):
        assert load(path) is None
    assert "starting this run afresh" in caplog.text
