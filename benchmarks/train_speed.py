"""Training throughput of tsattn's PatchTST against neuralforecast's, and per attention.

One training step (forward, MSE loss, backward, Adam step) on random data at the ETTh1
reference configuration: lookback 336, horizon 96, d_model 16, 4 heads, 3 layers, d_ff 128,
dropout 0.3, patch 16 stride 8, RevIN, residual attention, BatchNorm; a batch of 128 windows x
7 channels = 896 univariate sequences. tsattn takes the batch as (128, 336, 7);
neuralforecast's PatchTST (univariate by construction) as 896 series of (336, 1), its torch
module called directly (no Lightning loop), so both time the same network work.

Candidates are interleaved in rounds (order rotated each round, after warm-up) and the median
step time over rounds is reported. Throughput = channel-windows (sequences) per second.

neuralforecast is never a tsattn dependency: it is imported lazily, and the row is skipped
(with the install hint) when it is missing.

Usage::

    python benchmarks/train_speed.py             # CPU, 7 rounds, writes BENCHMARKS.md
    python benchmarks/train_speed.py --quick --no-write
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_section  # noqa: E402

from tsattn.attention import list_attention  # noqa: E402
from tsattn.models import create_network  # noqa: E402

LOOKBACK, HORIZON, CHANNELS, BATCH = 336, 96, 7, 128
REFERENCE = {"d_model": 16, "n_heads": 4, "n_layers": 3, "d_ff": 128, "dropout": 0.3}

Step = Callable[[], None]


def make_step(model: nn.Module, forward: Callable[[], torch.Tensor], target: torch.Tensor) -> Step:
    """A closure running one forward + MSE + backward + Adam step."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    model.train()

    def step() -> None:
        loss = nn.functional.mse_loss(forward(), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def tsattn_step(attention: str = "softmax", residual_attention: bool = True) -> Step:
    torch.manual_seed(0)
    options = {**REFERENCE, "attention": attention, "residual_attention": residual_attention}
    net = create_network("patchtst", LOOKBACK, HORIZON, CHANNELS, **options)
    x = torch.randn(BATCH, LOOKBACK, CHANNELS)  # (B, L, C)
    y = torch.randn(BATCH, HORIZON, CHANNELS)  # (B, H, C)
    return make_step(net, lambda: net(x), y)


def neuralforecast_step() -> Step | None:
    """neuralforecast's PatchTST at the same configuration, or None when not installed."""
    try:
        import logging

        logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
        logging.getLogger("lightning").setLevel(logging.ERROR)
        from neuralforecast.models import PatchTST as NFPatchTST
    except ImportError:
        print("neuralforecast is not installed (pip install neuralforecast): row skipped")
        return None
    torch.manual_seed(0)
    model = NFPatchTST(
        h=HORIZON, input_size=LOOKBACK, encoder_layers=3, n_heads=4, hidden_size=16,
        linear_hidden_size=128, dropout=0.3, fc_dropout=0.3, head_dropout=0.0, patch_len=16,
        stride=8, revin=True, revin_affine=False, revin_subtract_last=False, res_attention=True,
        batch_normalization=False, learn_pos_embed=True,
    )  # fmt: skip
    sequences = BATCH * CHANNELS
    batch = {"insample_y": torch.randn(sequences, LOOKBACK, 1)}  # (B*C, L, 1)
    y = torch.randn(sequences, HORIZON, 1)  # (B*C, H, 1)
    return make_step(model, lambda: model(batch), y)


def time_interleaved(steps: dict[str, Step], rounds: int, per_round: int) -> dict[str, float]:
    """Median seconds per step of each candidate, rounds interleaved and rotated."""
    for step in steps.values():
        for _ in range(2):
            step()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            for _ in range(per_round):
                steps[name]()
            times[name].append((time.perf_counter() - start) / per_round)
    return {name: statistics.median(t) for name, t in times.items()}


def library_table(medians: dict[str, float]) -> str:
    sequences = BATCH * CHANNELS
    rows = [
        "| implementation | step (ms) | channel-windows / s | vs neuralforecast |",
        "|---|---|---|---|",
    ]
    base = medians.get("neuralforecast")
    for name, seconds in medians.items():
        ratio = f"{base / seconds:.2f}x" if base else "n/a"
        rows.append(f"| {name} | {seconds * 1e3:.1f} | {sequences / seconds:,.0f} | {ratio} |")
    return "\n".join(rows)


def attention_table(medians: dict[str, float]) -> str:
    base = medians["softmax"]
    rows = ["| attention | step (ms) | step time vs softmax |", "|---|---|---|"]
    for name, seconds in medians.items():
        rows.append(f"| {name} | {seconds * 1e3:.1f} | {seconds / base:.2f}x |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds (default 7)")
    parser.add_argument("--steps", type=int, default=3, help="steps per round and candidate")
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--no-write", action="store_true", help="print only, skip BENCHMARKS.md")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 7)
    if args.threads:
        torch.set_num_threads(args.threads)

    library_steps = {"tsattn": tsattn_step()}
    nf = neuralforecast_step()
    if nf is not None:
        library_steps["neuralforecast"] = nf
    libraries = time_interleaved(library_steps, rounds, args.steps)
    attentions = time_interleaved(
        {name: tsattn_step(name) for name in list_attention()}, rounds, args.steps
    )
    fast_paths = time_interleaved(
        {name: tsattn_step(name, residual_attention=False) for name in list_attention()},
        rounds,
        args.steps,
    )
    body = (
        f"PatchTST training step (forward + MSE + backward + Adam) at the ETTh1 reference "
        f"configuration, batch {BATCH} windows x {CHANNELS} channels = {BATCH * CHANNELS} "
        f"sequences of {LOOKBACK} steps, horizon {HORIZON}; random data; median of {rounds} "
        f"interleaved rounds of {args.steps} steps; torch threads: {torch.get_num_threads()}.\n\n"
        f"{library_table(libraries)}\n\nPer attention (tsattn PatchTST, default options), "
        f"reference residual attention (explicit scores, `MultiHeadAttention.attend`):\n\n"
        f"{attention_table(attentions)}\n\nPer attention without residual attention (each "
        f"scorer's fastest exact path, SDPA where separable):\n\n{attention_table(fast_paths)}"
        f"\n\nTargets: >= 1.5x neuralforecast's throughput; MLR step time <= 1.1x softmax's."
    )
    print(body)
    if not args.no_write:
        write_section("train_speed", "PatchTST training throughput (CPU)", body)


if __name__ == "__main__":
    main()
