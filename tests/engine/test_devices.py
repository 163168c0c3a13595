"""Environment facts recorded with results: load average around timings, torch threads and data checksum (issue 13 items 10, 14)."""

import os

import torch

from sbadbal.bench.timing import time_acquisition
from sbadbal.data.store import save_prepared, load_prepared, prepared_checksum
from sbadbal.bench.sweep import sweep_acquisition_timing
from sbadbal.engine.devices import environment_facts, load_average

from .helpers import blobs


def scored_pool(n=40, k=4, c=3):
    return torch.log_softmax(torch.randn(n, k, c, generator=torch.Generator().manual_seed(0)), dim=-1).double()


def test_timings_record_the_load_average_before_and_after():
    # Issue 13 item 10: timings 3.2x slower under load looked like any other table.
    result = time_acquisition("BALD", scored_pool(), 3, repeats=1)
    assert result["load_average_before"] >= 0 and result["load_average_after"] >= 0
    table = sweep_acquisition_timing(scored_pool(), algorithms=["BALD", "PowerBALD"], batch_sizes=[2], pool_sizes=[20, 40],
                                     repeats=1, seed=0)
    assert {"load_average_before", "load_average_after"} <= set(table.columns) and table["load_average_after"].notna().all()


def test_load_average_is_none_where_the_platform_has_none(monkeypatch):
    assert load_average() == round(os.getloadavg()[0], 2)
    monkeypatch.delattr(os, "getloadavg")
    assert load_average() is None


def test_environment_facts_hold_torch_threads_and_the_data_checksum(tmp_path):
    # Issue 13 item 14: results differ in the 8th digit between 1 and 2 threads; item 2: the sidecar names the data.
    loaded = load_prepared(save_prepared(blobs(), tmp_path / "blobs.pt"))
    facts = environment_facts(loaded)
    assert facts == {"torch_threads": torch.get_num_threads(), "prepared_sha256": prepared_checksum(loaded)}
    assert len(facts["prepared_sha256"]) == 64 and prepared_checksum(blobs()) == facts["prepared_sha256"]
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert environment_facts() == {"torch_threads": 1}
    finally:
        torch.set_num_threads(previous)
