"""Data-parallel training: 2 CPU processes (gloo) launched by torchrun against one process.

Run as a script, this file is the torchrun worker: every rank trains the same tiny PatchTST
(LayerNorm, no dropout: BatchNorm statistics and dropout masks are per rank by design) on
the same data with ``batch_size=B`` and saves its weights and history. One process with
batch ``2B`` draws the same window order, so step ``k`` sees the same windows: the weights
must agree to float rounding (gradients averaged over ranks vs one mean over 2B windows).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tsattn.models import TrainingConfig, create_network
from tsattn.training.distributed import DistContext, init_distributed
from tsattn.training.engine import train_network
from tsattn.training.windows import WindowSampler

ROOT = Path(__file__).resolve().parents[1]
B, WORLD, INPUT, HORIZON, EPOCHS = 8, 2, 32, 8, 3
#: one process with batch 2B vs 2 ranks with B: same windows per step; rounding differs only
TOLERANCE = 1e-5
ZERO_GRADIENT = "encoder.layers.0.attention.scorer.key.bias"


def _data() -> tuple[np.ndarray, np.ndarray]:
    """Train (199, 2) and validation (72, 2) arrays: 160 (even: no padding) + 33 windows."""
    t = np.arange(240)[:, None]
    series = (np.sin(t / 5.0 + np.arange(2)) + 0.01 * t).astype(np.float32)  # (T, C)
    return series[:199], series[168:]


def _train(batch_size: int, checkpoint_dir: str | None = None, resume: bool = False):
    torch.manual_seed(0)
    network = create_network(
        "patchtst", INPUT, HORIZON, 2, d_model=8, n_heads=2, d_ff=16, n_layers=1,
        dropout=0.0, patch_len=8, stride=4, norm="layer",
    )  # fmt: skip
    config = TrainingConfig(
        max_epochs=EPOCHS, lr=1e-3, batch_size=batch_size, lr_schedule="onecycle",
        patience=5, device="cpu", progress=False, checkpoint_dir=checkpoint_dir,
    )  # fmt: skip
    train, val = _data()
    return network, train_network(network, train, val, INPUT, HORIZON, config, resume=resume)


def _worker(out_dir: str) -> None:
    """One torchrun rank: train with batch B per rank, save weights and history; then
    resume the finished run (rank 0 reads the checkpoint and broadcasts it)."""
    import torch.distributed as dist

    from tsattn.training.distributed import cleanup

    checkpoints = str(Path(out_dir) / "checkpoints")
    network, result = _train(B, checkpoints)
    resumed, again = _train(B, checkpoints, resume=True)
    summary = {
        "resumed_history": [e.val_loss for e in again.history],
        "resumed_weights": resumed.state_dict(),
        "weights": network.state_dict(),
        "val": [e.val_loss for e in result.history],
        "train": [e.train_loss for e in result.history],
        "steps": [e.steps for e in result.history],
        "world_size": dist.get_world_size(),
    }
    torch.save(summary, Path(out_dir) / f"rank{dist.get_rank()}.pt")
    dist.barrier()  # both ranks done before teardown (an abort once seen on a loaded machine)
    cleanup()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ranks(tmp_path_factory) -> list[dict]:
    """Run the torchrun job once; each rank's saved summary."""
    out = tmp_path_factory.mktemp("ddp")
    command = [
        sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={WORLD}",
        "--master_addr=127.0.0.1", f"--master_port={_free_port()}", __file__, str(out),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return [torch.load(out / f"rank{r}.pt", weights_only=True) for r in range(WORLD)] + [
        torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    ]


def test_two_ranks_complete_and_hold_identical_weights(ranks):
    rank0, rank1, _ = ranks
    assert rank0["world_size"] == rank1["world_size"] == WORLD
    assert len(rank0["val"]) == EPOCHS and rank0["val"] == rank1["val"]
    assert rank0["train"] == rank1["train"]  # all-reduced: every rank logs the same loss
    for name, tensor in rank0["weights"].items():
        assert torch.equal(tensor, rank1["weights"][name]), name


def test_two_ranks_match_one_process_with_the_global_batch(ranks):
    network, result = _train(B * WORLD)
    assert ranks[0]["steps"] == [e.steps for e in result.history]  # same steps per epoch
    diffs = {
        name: (tensor - ranks[0]["weights"][name]).abs().max().item()
        for name, tensor in network.state_dict().items()
    }
    # softmax is shift-invariant per query, so the key bias' exact gradient is 0: Adam turns
    # its rounding noise (~1e-10) into steps of order lr; every other weight agrees (~3e-8)
    assert diffs.pop(ZERO_GRADIENT) < 30 * 1e-3
    assert max(diffs.values()) < TOLERANCE, diffs
    np.testing.assert_allclose(ranks[0]["val"], [e.val_loss for e in result.history], rtol=1e-5)


def test_rank0_checkpoints_every_rank_rng_and_all_ranks_resume(ranks):
    for rank in ranks[:2]:  # resuming the finished run trains no more, on every rank
        assert rank["resumed_history"] == rank["val"]
        for name, tensor in rank["weights"].items():
            assert torch.equal(rank["resumed_weights"][name], tensor), name
    checkpoint = ranks[2]
    assert checkpoint["epoch"] == EPOCHS and checkpoint["world_size"] == WORLD
    assert len(checkpoint["rng"]) == WORLD
    assert not torch.equal(checkpoint["rng"][0]["torch"], checkpoint["rng"][1]["torch"])


@pytest.mark.parametrize("n_windows", [40, 37, 3])
def test_sampler_shards_each_global_batch_over_the_ranks(n_windows):
    single = WindowSampler(50, n_windows, batch_size=8).epoch_batches()
    shards = [WindowSampler(50, n_windows, 4, r, world_size=2).epoch_batches() for r in (0, 1)]
    assert len(shards[0]) == len(shards[1]) == len(single)  # the same number of steps
    for k, batch in enumerate(single):
        first, second = shards[0][k], shards[1][k]
        assert len(first) == len(second)  # equal shards: the mean of means is the mean
        union = set(first.tolist()) | set(second.tolist())
        assert set(batch.tolist()) <= union  # every window of the step, plus at most
        assert len(union) <= len(batch) + n_windows % 2  # one repeated (padding)
        if n_windows % 2 == 0:
            assert not set(first.tolist()) & set(second.tolist())  # disjoint shards


def test_single_process_context_without_torchrun(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    ctx = init_distributed("cpu")
    assert ctx == DistContext(torch.device("cpu")) and ctx.is_main and not ctx.is_distributed


if __name__ == "__main__":
    _worker(sys.argv[1])
