"""The run sidecar's facts of the process: torch threads and the data checksum (issue 13 item 14)."""

import torch

from sbadbal.data.store import load_prepared, prepared_checksum, save_prepared
from sbadbal.runs.sidecar import environment_facts

from ..engine.helpers import blobs


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
