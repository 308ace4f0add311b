"""Checks that need a CUDA device (``pytest -m gpu``; skipped with a reason elsewhere).

``bash benchmarks/gpu_check.sh`` runs these on a GPU machine, then times PatchTST per
attention.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from tsattn.attention import create_attention
from tsattn.models import TrainingConfig, create_network
from tsattn.training.checkpoint import capture_rng, restore_rng
from tsattn.training.engine import train_network

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]
INPUT, HORIZON = 64, 16


def _data() -> tuple[np.ndarray, np.ndarray]:
    """Train (300, 3) and validation (111, 3) arrays: 221 and exactly 32 windows."""
    t = np.arange(400)[:, None]
    data = np.sin(t / 6.0 + np.arange(3)).astype(np.float32)  # (T, C)
    return data[:300], data[300 - INPUT : 300 - INPUT + 32 + INPUT + HORIZON - 1]


def _patchtst(dropout: float = 0.1) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_network(
        "patchtst", INPUT, HORIZON, 3, d_model=16, n_heads=4, d_ff=32, n_layers=2,
        dropout=dropout, patch_len=8, stride=8,
    )  # fmt: skip


def test_patchtst_trains_on_cuda_with_bf16_and_compile():
    network = _patchtst()
    config = TrainingConfig(  # every batch of 32 windows: one train and one eval graph
        max_epochs=2, lr=1e-3, batch_size=32, windows_per_epoch=64, device="cuda", bf16=True,
        compile=True, progress=False,
    )  # fmt: skip
    result = train_network(network, *_data(), INPUT, HORIZON, config)
    losses = [v for e in result.history for v in (e.train_loss, e.val_loss)]
    assert np.isfinite(losses).all()
    assert all(p.is_cuda for p in network.parameters())
    assert result.history[-1].train_loss < result.history[0].train_loss


def _reference_attention(attn, x: torch.Tensor) -> torch.Tensor:
    """softmax(scores) V through the output projection, in float64 from the reference
    ``scores`` path: (B, T, D) -> (B, T, D)."""
    ref = copy.deepcopy(attn).double()
    x = x.double()
    b, t, d = x.shape
    weights = torch.softmax(ref.scores(x), dim=-1)  # (B, H, T, T)
    v = ref.value(x).view(b, t, ref.n_heads, -1).transpose(1, 2)  # (B, H, T, d)
    return ref.out((weights @ v).transpose(1, 2).reshape(b, t, d)).float()


@pytest.mark.parametrize("options", [{}, {"ranks": [4, 2, 2]}, {"block_sizes": [42, 8, 2]}])
def test_mlr_fast_path_equals_the_reference_path_on_cuda(options):
    torch.manual_seed(0)
    attn = create_attention("mlr", 32, 4, 42, **options).cuda().eval()
    x = torch.randn(3, 42, 32, device="cuda")
    with torch.no_grad():
        fast = attn(x)  # the fused SDPA path on augmented q/k
        expected = _reference_attention(attn, x)
    torch.testing.assert_close(fast, expected, rtol=1e-4, atol=1e-4)


def test_cuda_rng_state_round_trips_through_a_checkpoint():
    device = torch.device("cuda")
    state = capture_rng(device)
    first = torch.rand(8, device=device)
    restore_rng(state, device)
    torch.testing.assert_close(torch.rand(8, device=device), first, rtol=0, atol=0)
