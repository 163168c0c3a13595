"""The timing helper and the sweep: median seconds, peak memory, the load average around timings (issue 13 item 10)."""

import os

import pytest
import torch

from sbadbal.acquisition.registry import ALGORITHMS, function_of
from sbadbal.bench.sweep import sweep_acquisition_timing
from sbadbal.bench.timing import load_average, time_acquisition


def scored_pool(n=40, k=4, c=3):
    return torch.log_softmax(torch.randn(n, k, c, generator=torch.Generator().manual_seed(0)), dim=-1).double()


def test_timings_record_the_load_average_before_and_after():
    # Issue 13 item 10: timings 3.2x slower under load looked like any other table.
    result = time_acquisition(function_of("BALD"), scored_pool(), 3, repeats=1)
    assert result["load_average_before"] >= 0 and result["load_average_after"] >= 0
    functions = {name: ALGORITHMS[name] for name in ("BALD", "PowerBALD")}
    table = sweep_acquisition_timing(scored_pool(), functions=functions, batch_sizes=[2], pool_sizes=[20, 40],
                                     repeats=1, seed=0)
    assert {"load_average_before", "load_average_after"} <= set(table.columns) and table["load_average_after"].notna().all()


def test_load_average_is_none_where_the_platform_has_none(monkeypatch):
    assert load_average() == round(os.getloadavg()[0], 2)
    monkeypatch.delattr(os, "getloadavg")
    assert load_average() is None


def test_time_acquisition_reports_median_and_memory(device):
    log_probs = scored_pool(10, 3, 4).to(device)
    result = time_acquisition(function_of("PBALD"), log_probs, 3, repeats=3, seed=1)
    assert result["algorithm"] == "PowerBALD"
    assert (result["N"], result["K"], result["C"], result["batch_size"]) == (10, 3, 4, 3)
    assert result["median_seconds"] > 0 and result["peak_memory_bytes"] >= 0
    assert torch.device(result["device"]).type == device.type and result["repeats"] == 3
    assert result["memory_method"] in {"cuda_max_allocated", "cpu_rss_peak_delta"}
    with pytest.raises(ValueError, match="repeats"):
        time_acquisition(function_of("BALD"), log_probs, 3, repeats=0)
