"""Consistent MC dropout and ensembles: log_probs_N_K_C semantics."""

import math

import pytest
import torch

from sbadbal.models.bayesian import build_model
from sbadbal.models.records import architecture
from sbadbal.models.posterior import Posterior, accuracy_and_nll, build_posterior, predict_log_probs


def _mc_posterior(seed=0):
    return build_posterior(architecture("mnist_cnn"), method="mc_dropout", num_classes=10, input_shape=(1, 28, 28), seeds=[seed])


def _score(posterior, x, batch_size, generator_seed, device="cpu", k=8):
    return predict_log_probs(posterior, x, len(x), num_samples=k, batch_size=batch_size, device=device,
                             generator=torch.Generator().manual_seed(generator_seed))


def test_masks_are_shared_across_pool_batches(device):
    posterior = _mc_posterior()
    x = torch.randn(50, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    # TF32 convolutions (on by default for cuDNN on Ampere and later) round differently per batch shape at ~1e-3,
    # which would hide the 1e-6 comparison below; full float32 keeps the check as strict as on the CPU.
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
        small = _score(posterior, x, 7, generator_seed=5, device=device)
        large = _score(posterior, x, 64, generator_seed=5, device=device)
    assert small.shape == (50, 8, 10) and small.dtype == torch.float64 and small.device.type == "cpu"
    # Same masks whatever the batching: batch size 7 cuts the pool into 8 batches, 64 into one. Only float
    # summation order may differ between batch shapes; different masks would change values by ~1e-1.
    torch.testing.assert_close(small, large, rtol=1e-6, atol=1e-6)


def test_each_pass_draws_new_masks_and_the_k_samples_differ():
    posterior = _mc_posterior()
    x = torch.randn(20, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    first = _score(posterior, x, 64, generator_seed=5)
    again = _score(posterior, x, 64, generator_seed=5)
    other = _score(posterior, x, 64, generator_seed=6)
    assert torch.equal(first, again)
    assert not torch.allclose(first, other)
    assert not torch.allclose(first[:, 0], first[:, 1])  # K different sub-networks


def test_one_mask_per_sample_is_applied_to_every_input():
    # With a single input repeated, every row must see exactly the same K outputs.
    posterior = _mc_posterior()
    x = torch.randn(1, 1, 28, 28).expand(10, 1, 28, 28).contiguous()
    log_probs = _score(posterior, x, 3, generator_seed=2)
    assert torch.equal(log_probs, log_probs[:1].expand_as(log_probs))


def test_training_mode_draws_fresh_masks_per_row():
    model = build_model(architecture("mlp"), num_classes=3, input_shape=(8,), uncertainty="mc_dropout", seed=0).train()
    x = torch.randn(1, 8).expand(64, 8)
    out = model(x)
    assert out.unique(dim=0).shape[0] > 1


def test_ensemble_stacks_members_as_samples():
    posterior = build_posterior(architecture("mlp"), method="ensemble", num_classes=4, input_shape=(12,), members=3, seeds=[1, 2, 3])
    x = torch.randn(9, 12, generator=torch.Generator().manual_seed(0))
    log_probs = predict_log_probs(posterior, x, 9, num_samples=100, batch_size=4)
    assert log_probs.shape == (9, 3, 4)
    with torch.no_grad():  # batches of 4 against one of 9: equal to float32 precision (see below)
        torch.testing.assert_close(log_probs[:, 1], posterior.members[1](x).double(), rtol=1e-5, atol=1e-6)
    # Members are independently initialised: different predictions.
    assert not torch.allclose(log_probs[:, 0], log_probs[:, 1])
    # Eval mode: dropout off, so a second pass is identical.
    assert torch.equal(log_probs, predict_log_probs(posterior, x, 9, num_samples=1, batch_size=4))


def test_loader_callables_receive_positions():
    posterior = build_posterior(architecture("mlp"), method="ensemble", num_classes=2, input_shape=(5,), members=1, seeds=[0])
    x = torch.randn(11, 5, generator=torch.Generator().manual_seed(0))
    seen = []
    log_probs = predict_log_probs(posterior, lambda p: (seen.append(p.tolist()), x[p])[1], 11, num_samples=1, batch_size=4)
    assert seen == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]
    # The network computes in float32 and BLAS may sum a batch of 4 and of 11 rows in different orders, so the
    # float64 results agree to float32 precision, not to float64's default tolerance.
    torch.testing.assert_close(log_probs, predict_log_probs(posterior, x, 11, num_samples=1), rtol=1e-5, atol=1e-6)


def test_accuracy_and_nll_use_the_mean_predictive():
    probs_N_K_C = torch.tensor([[[0.9, 0.1], [0.5, 0.5]], [[0.2, 0.8], [0.6, 0.4]]], dtype=torch.float64)
    accuracy, nll = accuracy_and_nll(probs_N_K_C.log(), torch.tensor([0, 0]))
    # mean predictives: [0.7, 0.3] (correct), [0.4, 0.6] (wrong)
    assert accuracy == pytest.approx(50.0)
    assert nll == pytest.approx(-(math.log(0.7) + math.log(0.4)) / 2)


def test_posterior_checks():
    member = build_model(architecture("mlp"), num_classes=2, input_shape=(3,), uncertainty="ensemble", seed=0)
    with pytest.raises(ValueError, match="exactly one BayesianModule"):
        Posterior("mc_dropout", [member])
    with pytest.raises(ValueError, match="needs 3 seed"):
        build_posterior(architecture("mlp"), method="ensemble", num_classes=2, input_shape=(3,), members=3, seeds=[1])
