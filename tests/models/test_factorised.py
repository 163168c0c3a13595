"""Factorised consistent MC dropout: the same log-probabilities as the K-pass forward, with the same masks."""

import pytest
import torch

from sbadbal import acquisition
from sbadbal.data import prepare_dataset
from sbadbal.config import run_from_mapping
from sbadbal.engine.protocols import IterationsProtocol
from sbadbal.engine.state import initial_sets
from sbadbal.engine.training import train_posterior
from sbadbal.models.bayesian import build_model, reset_consistent_masks
from sbadbal.models.posterior import Posterior, build_posterior, predict_log_probs
from sbadbal.models.records import architecture

SHAPES = {"mnist_cnn": (1, 28, 28), "emnist_cnn": (1, 28, 28), "cifar_cnn": (3, 32, 32), "mlp": (384,)}
SAVINGS = {"mnist_cnn": "factorised", "emnist_cnn": "prefix", "cifar_cnn": "prefix", "mlp": "prefix"}
# Float64 agrees to summation order; float32 log-probs differ by ~1e-6 (summation order of conv2's channels).
TOLERANCES = {torch.float64: 1e-10, torch.float32: 1e-4}
CASES = [(name, k) for name in SHAPES for k in (1, 3, 20)] + [("mnist_cnn", 100), ("mlp", 100)]


def _posterior(name: str, dtype: torch.dtype, num_classes: int = 10) -> Posterior:
    posterior = build_posterior(architecture(name), method="mc_dropout", num_classes=num_classes, input_shape=SHAPES[name], seeds=[3])
    posterior.members[0].to(dtype)
    return posterior


def _pool(name: str, n: int, dtype: torch.dtype) -> torch.Tensor:
    return torch.randn(n, *SHAPES[name], generator=torch.Generator().manual_seed(11), dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name,k", CASES)
def test_factorised_equals_the_k_pass_forward(name, k, dtype, device):
    posterior, x_N = _posterior(name, dtype), _pool(name, 23, dtype)

    def score(factorised: bool, batch_size: int) -> torch.Tensor:
        return predict_log_probs(posterior, x_N, len(x_N), num_samples=k, batch_size=batch_size, device=device,
                                 generator=torch.Generator().manual_seed(5), factorised=factorised)

    # TF32 convolutions would round at ~1e-3 on recent GPUs; full precision keeps the comparison meaningful.
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
        reference = score(False, 23)
        # Batches of 10 and 4 do not divide 23: the masks must still be drawn once and shared by every batch.
        for batch_size in (10, 4):
            torch.testing.assert_close(score(True, batch_size), reference, rtol=0, atol=TOLERANCES[dtype])


@pytest.mark.parametrize("name", SHAPES)
def test_direct_forward_matches_with_the_same_generator(name):
    model = build_model(architecture(name), num_classes=7, input_shape=SHAPES[name], seed=0).double().eval()
    x_B = _pool(name, 5, torch.float64)
    with torch.no_grad():
        reset_consistent_masks(model, torch.Generator().manual_seed(2))
        reference_B_K_C = model.mc_forward(x_B, 6)
        reset_consistent_masks(model, torch.Generator().manual_seed(2))
        factorised_B_K_C = model.factorised_mc_forward(x_B, 6)
        # A second call reuses the pass's masks, exactly like the K-pass forward's later batches.
        again_B_K_C = model.factorised_mc_forward(x_B, 6)
    torch.testing.assert_close(factorised_B_K_C, reference_B_K_C, rtol=0, atol=1e-10)
    assert torch.equal(factorised_B_K_C, again_B_K_C)
    assert model.inference_saving == SAVINGS[name]


def test_micro_batch_size_does_not_change_the_result():
    posterior, x_N = _posterior("mnist_cnn", torch.float64), _pool("mnist_cnn", 17, torch.float64)
    results = [
        predict_log_probs(posterior, x_N, 17, num_samples=9, batch_size=8, generator=torch.Generator().manual_seed(1),
                          cpu_rows_per_forward=rows)
        for rows in (1, 30, 10_000)
    ]
    for other in results[1:]:
        torch.testing.assert_close(other, results[0], rtol=0, atol=1e-12)


def test_factorised_forward_refuses_training_mode():
    model = build_model(architecture("mnist_cnn"), num_classes=10, input_shape=(1, 28, 28), seed=0).train()
    with pytest.raises(RuntimeError, match="eval-mode"):
        model.factorised_mc_forward(torch.zeros(2, 1, 28, 28), 3)


def test_zero_rate_dropout_draws_no_mask_in_either_path():
    # A p = 0 layer is skipped by the K-pass forward without touching the generator; the factorised path must
    # not consume draws for it either, or every later layer's masks would shift.
    model = build_model(architecture("mnist_cnn"), num_classes=10, input_shape=(1, 28, 28), seed=0).double().eval()
    model.net[1].p = 0.0
    x_B = _pool("mnist_cnn", 4, torch.float64)
    with torch.no_grad():
        reset_consistent_masks(model, torch.Generator().manual_seed(2))
        reference = model.mc_forward(x_B, 5)
        reset_consistent_masks(model, torch.Generator().manual_seed(2))
        torch.testing.assert_close(model.factorised_mc_forward(x_B, 5), reference, rtol=0, atol=1e-10)


def test_every_acquisition_function_picks_the_same_batch_on_a_real_mnist5k_round():
    torch.set_num_threads(1)
    prepared = prepare_dataset("MNIST5K")
    experiment = {"dataset": "MNIST5K", "model": "mnist_cnn", "initial_size": 20, "budget": 40}
    spec = run_from_mapping(experiment, algorithm="BALD", batch_size=10, seed=42)
    labelled, _ = initial_sets(prepared, spec)
    posterior = build_posterior(architecture("mnist_cnn"), method="mc_dropout", num_classes=10, input_shape=prepared.input_shape,
                                seeds=[0])
    train_posterior(posterior, prepared, labelled, IterationsProtocol(iterations=1024, batch_size=64, lr=0.001),
                    seeds=[1])
    pool_P = torch.tensor(sorted(set(range(prepared.num_train)) - set(labelled)))[:600]

    def score(factorised: bool) -> torch.Tensor:
        return predict_log_probs(posterior, lambda positions: prepared.train_inputs(pool_P[positions]), len(pool_P),
                                 num_samples=20, batch_size=128, generator=torch.Generator().manual_seed(7),
                                 factorised=factorised)

    reference_P_K_C, factorised_P_K_C = score(False), score(True)
    torch.testing.assert_close(factorised_P_K_C, reference_P_K_C, rtol=0, atol=1e-4)
    for name in acquisition.ALGORITHM_NAMES:
        params = {"num_samples": 2000} if name == "BatchBALD" else {}
        picks = [
            acquisition.acquire(name, log_probs, 10, generator=torch.Generator().manual_seed(3), **params).indices
            for log_probs in (reference_P_K_C, factorised_P_K_C)
        ]
        assert picks[0] == picks[1], name
