"""Rule parameters with a short text for the report and the same repr, pickles and copies (sbadbal.ops.shown)."""

from __future__ import annotations

import copy
import pickle

from sbadbal.ops.shown import LIMIT, shown, summary

RUN_KEYS = [{"batch_size": 20, "algorithm": name, "seed": seed} for name in ("BALD", "LBB") for seed in range(15)]
SETTINGS = {"initial_size": 20, "budget": 60, "fractions": [0.25, 1.0], "run": {"model": {"a": 1}, "k": 100}}


def test_str_is_short_and_repr_is_unchanged():
    keys, settings = shown(RUN_KEYS), shown(SETTINGS)
    assert repr(keys) == repr(RUN_KEYS) and repr(settings) == repr(SETTINGS)  # what Snakemake compares
    assert str(keys) == "[30 entries, first: batch_size=20, algorithm=BALD, seed=0]"
    assert str(settings) == "(initial_size=20, budget=60, fractions=[0.25, 1.0], run: 2 entries)"
    assert f"run_keys={keys}" == "run_keys=[30 entries, first: batch_size=20, algorithm=BALD, seed=0]"
    assert len(summary({f"key{i}": i for i in range(200)})) == LIMIT


def test_pickles_and_copies_are_plain():
    for value in (RUN_KEYS, SETTINGS):
        restored = pickle.loads(pickle.dumps(shown(value)))
        assert type(restored) is type(value) and restored == value  # a job needs no sbadbal to unpickle
        copied = copy.deepcopy(shown(value))
        assert copied == value and str(copied) == str(shown(value))
    assert shown("text") == "text" and shown(3) == 3
