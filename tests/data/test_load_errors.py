"""Load errors never advise `weights_only=False` (issue 20, item 5): that would run whatever a crafted file holds."""

from __future__ import annotations

import os

import pytest
import torch

from sbadbal.data.store import load_prepared


class _RunsACommand:
    def __reduce__(self):
        return (os.system, ("echo this should never run",))


def test_a_crafted_pickle_fails_without_torchs_weights_only_advice(tmp_path):
    crafted = tmp_path / "MNIST5K.pt"
    torch.save({"format": "anything", "payload": _RunsACommand()}, crafted)
    with pytest.raises(ValueError) as error:
        load_prepared(crafted)
    message = str(error.value)
    # Before: the message repeated torch's "Re-running `torch.load` with `weights_only` set to `False` ...".
    assert "weights_only" not in message and "\n" not in message
    assert message.startswith(f"{crafted} is corrupt or truncated, not a prepared dataset (UnpicklingError: ")
    assert "unsupported GLOBAL" in message and "remake it" in message
