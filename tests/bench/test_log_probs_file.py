"""The timing benchmark's saved log-probabilities are checked when read (issue 20 group 4: a NaN file gave a raw
error that named no file)."""

import pytest
import torch

from sbadbal.bench.sweep import load_log_probs


def saved(tmp_path, tensor):
    path = tmp_path / "log_probs.pt"
    torch.save(tensor, path)
    return path


def test_a_sound_file_loads(tmp_path):
    log_probs = torch.log_softmax(torch.randn(20, 4, 3, dtype=torch.float64), dim=-1)
    assert torch.equal(load_log_probs(saved(tmp_path, log_probs)), log_probs)


@pytest.mark.parametrize("content, problem", [
    (torch.full((20, 4, 3), float("nan")), "240 of its 240 log-probabilities are NaN or infinite"),
    (torch.zeros(20, 3), "expected a float tensor N x K x C of log-probabilities, found (20, 3)"),
    (torch.ones(2, 2, 2), "holds values above 0"),
    ({"not": "a tensor"}, "expected a float tensor N x K x C of log-probabilities, found dict"),
])
def test_a_bad_file_is_named_in_one_line_with_the_fix(tmp_path, content, problem):
    path = saved(tmp_path, content)
    with pytest.raises(ValueError) as caught:
        load_log_probs(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and problem in message and "\n" not in message
    assert "delete it and rerun the workflow to remake it" in message


def test_a_truncated_file_is_named(tmp_path):
    path = saved(tmp_path, torch.zeros(20, 4, 3))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=f"{path}: not a readable tensor file"):
        load_log_probs(path)
