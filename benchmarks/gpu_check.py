"""PatchTST training throughput and peak GPU memory per attention on ETTm1 (bf16 + compile).

The reference ETTm1 model (lookback 336, horizon 96, d_model 128, 16 heads, d_ff 256,
3 layers, dropout 0.2, patch 16 stride 8, batch 128) trains for two epochs of
``--windows`` training windows each per attention: the first epoch compiles
(``torch.compile``) and warms up, the second is timed. ``--windows`` (default 8192 of
ETTm1's 34,129 training windows; 0 = all) keeps the check to a few minutes; it is a
multiple of the batch so every step has one shape (no recompiles). ETTm1 comes from
``--data-dir`` / ``TSATTN_DATA_DIR``; without the file, random data of ETTm1's shape is used
(throughput does not depend on the values) and the summary says so.

Usage (``bash benchmarks/gpu_check.sh`` runs it)::

    python benchmarks/gpu_check.py                  # CUDA: bf16 + compile
    python benchmarks/gpu_check.py --dry-run        # CPU: 1 step per epoch, no compile
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tsattn.attention import list_attention  # noqa: E402
from tsattn.models import TrainingConfig, create_network  # noqa: E402
from tsattn.training.engine import train_network  # noqa: E402

LOOKBACK, HORIZON, CHANNELS, BATCH = 336, 96, 7, 128
ETTM1 = dict(d_model=128, n_heads=16, d_ff=256, n_layers=3, dropout=0.2, patch_len=16, stride=8)
ETTM1_TRAIN_ROWS = 34560  # 12 months of 15-minute steps (the literature split)


@dataclass(frozen=True)
class Row:
    """One attention's result (``error`` set when it failed)."""

    attention: str
    windows_per_s: float = float("nan")
    peak_mib: float = float("nan")
    first_epoch_s: float = float("nan")
    final_loss: float = float("nan")
    error: str = ""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="CPU, a handful of steps")
    parser.add_argument("--windows", type=int, default=8192, help="windows per epoch (0: all)")
    parser.add_argument("--attention", help="comma-separated (default: every registered one)")
    parser.add_argument("--data-dir", default=os.environ.get("TSATTN_DATA_DIR"))
    return parser.parse_args(argv)


def ettm1_train(data_dir: str | None) -> tuple[np.ndarray, str]:
    """ETTm1's standardized training array (T, 7) and where it came from."""
    from tsattn.datasets import benchmark_split, list_datasets

    listing = list_datasets(data_dir).set_index("name")
    if bool(listing.loc["ETTm1", "available"]):
        split = benchmark_split("ETTm1", LOOKBACK, HORIZON, data_dir=data_dir)
        return split.train, f"ETTm1 ({listing.loc['ETTm1', 'path']})"
    rng = np.random.default_rng(0)
    data = rng.standard_normal((ETTM1_TRAIN_ROWS, CHANNELS)).astype(np.float32)
    return data, "random data of ETTm1's shape (ETTm1.csv(.gz) not found; set TSATTN_DATA_DIR)"


def run_attention(name: str, train: np.ndarray, config: TrainingConfig) -> Row:
    """Two epochs of PatchTST with ``name`` attention; the second one is timed."""
    cuda = config.device == "cuda"
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    torch.manual_seed(0)
    network = create_network("patchtst", LOOKBACK, HORIZON, CHANNELS, attention=name, **ETTM1)
    result = train_network(network, train, None, LOOKBACK, HORIZON, config)
    first, timed = result.history[0], result.history[-1]
    windows = (timed.steps - first.steps) * config.batch_size  # (windows of the timed epoch)
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else float("nan")
    return Row(name, windows / timed.seconds, peak, first.seconds, timed.train_loss)


def training_config(args: argparse.Namespace, n_windows: int) -> TrainingConfig:
    """The reference training settings; a dry run takes 2 steps of 8 windows per epoch."""
    cuda = torch.cuda.is_available() and not args.dry_run
    batch = 8 if args.dry_run else BATCH
    windows = 2 * batch if args.dry_run else (args.windows or n_windows)
    windows = max(batch, windows - windows % batch)  # full batches only: one graph shape
    return TrainingConfig(
        max_epochs=2, lr=1e-4, batch_size=batch, windows_per_epoch=windows,
        lr_schedule="constant", device="cuda" if cuda else "cpu", bf16=True, compile=cuda,
        progress=False,
    )  # fmt: skip


def summary(rows: list[Row], config: TrainingConfig, source: str) -> str:
    lines = [
        f"PatchTST on {source}",
        f"device {config.device}, bf16 {config.bf16}, torch.compile {config.compile}, "
        f"batch {config.batch_size}, {config.windows_per_epoch} windows per epoch "
        f"(epoch 1: compile + warm-up, epoch 2: timed)",
        f"{'attention':<14}{'windows/s':>12}{'peak MiB':>11}{'epoch 1 (s)':>13}{'loss':>9}",
    ]
    for r in rows:
        if r.error:
            lines.append(f"{r.attention:<14}FAILED: {r.error}")
        else:
            peak = f"{r.peak_mib:,.0f}" if np.isfinite(r.peak_mib) else "n/a"
            lines.append(
                f"{r.attention:<14}{r.windows_per_s:>12,.0f}{peak:>11}"
                f"{r.first_epoch_s:>13.1f}{r.final_loss:>9.4f}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    train, source = ettm1_train(args.data_dir)
    config = training_config(args, len(train) - LOOKBACK - HORIZON + 1)
    names = args.attention.split(",") if args.attention else list_attention()
    rows = []
    for name in names:
        start = time.perf_counter()
        try:
            rows.append(run_attention(name, train, config))
        except Exception as err:  # report every attention, then fail the run
            rows.append(Row(name, error=f"{type(err).__name__}: {err}"[:300]))
        print(f"  {name}: done in {time.perf_counter() - start:.1f}s", flush=True)
    print(summary(rows, config, source))
    return 1 if any(r.error for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
