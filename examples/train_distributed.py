"""Distributed training: fit PatchTST on ETTh1 with DDP on every GPU (or CPU process).

Every process torchrun starts runs this same script: each loads the data and calls
``fit``; the training engine sees ``WORLD_SIZE > 1``, joins the process group (nccl on GPUs,
gloo on CPUs), wraps the network in ``DistributedDataParallel`` and gives each rank its
share of every batch (``batch_size`` windows per rank and step). Rank 0 alone logs, writes
the per-epoch checkpoints and saves the model. ``--resume`` continues an interrupted run from
``<out>/checkpoints``. ``--tiny`` uses two synthetic series and a tiny model (seconds on CPU).

Run::

    torchrun --nproc_per_node=4 examples/train_distributed.py --out ddp_out
    torchrun --nproc_per_node=2 examples/train_distributed.py --tiny --out /tmp/ddp
    python examples/train_distributed.py --tiny --out /tmp/single     # one process works too
    # two nodes of 8 GPUs (run on each node, with its --node_rank):
    torchrun --nnodes=2 --node_rank=0 --master_addr=10.0.0.1 --master_port=29500 \\
        --nproc_per_node=8 examples/train_distributed.py --out ddp_out

Writes ``patchtst.safetensors`` and ``checkpoints/last.pt`` into ``--out``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd

import tsattn
from tsattn.training.distributed import cleanup, is_main_process

#: settings of ``--tiny``: small enough to run in seconds on a CPU
TINY = dict(h=12, input_size=48, d_model=8, n_heads=2, max_epochs=2, batch_size=16)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--tiny`` changes the defaults, explicit options still win."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--h", type=int, default=96, help="forecast horizon (steps)")
    parser.add_argument("--input-size", type=int, default=336, help="lookback (steps)")
    parser.add_argument("--d-model", type=int, default=16, help="PatchTST width")
    parser.add_argument("--n-heads", type=int, default=4, help="attention heads")
    parser.add_argument("--attention", default="mlr", help="attention variant")
    parser.add_argument("--max-epochs", type=int, default=10, help="training epochs")
    parser.add_argument("--batch-size", type=int, default=128, help="windows per rank and step")
    parser.add_argument("--data-dir", help="directory with ETTh1.csv(.gz)")
    parser.add_argument("--out", default="ddp_out", help="output directory")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    parser.add_argument("--tiny", action="store_true", help="synthetic data, tiny model")
    if parser.parse_known_args(argv)[0].tiny:
        parser.set_defaults(**TINY)
    return parser.parse_args(argv)


def synthetic_frame(n_steps: int = 400) -> pd.DataFrame:
    """Two hourly series with a daily cycle, as a long frame ``unique_id, ds, y``."""
    t = np.arange(n_steps)
    ds = pd.date_range("2024-01-01", periods=n_steps, freq="h")
    return pd.concat(
        pd.DataFrame({"unique_id": uid, "ds": ds, "y": level + np.sin(2 * np.pi * t / 24)})
        for uid, level in (("north", 10.0), ("south", 5.0))
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if is_main_process() else logging.WARNING)
    out = Path(args.out)
    if args.tiny:
        df = synthetic_frame()
    else:
        df = tsattn.load_dataset("ETTh1", data_dir=args.data_dir)  # wide: date + 7 columns
    model = tsattn.PatchTST(
        h=args.h,
        input_size=args.input_size,
        attention=args.attention,
        d_model=args.d_model,
        n_heads=args.n_heads,
        max_epochs=args.max_epochs,
        batch_size=args.batch_size,
        checkpoint_dir=str(out / "checkpoints"),
        progress=not args.tiny,
    )
    model.fit(df, val_size=args.h, resume=args.resume)  # identical weights on every rank
    if is_main_process():
        path = model.save(out / "patchtst.safetensors")
        epochs = len(model.train_result_.history)
        print(f"trained {epochs} epochs (best {model.train_result_.best_epoch}); saved {path}")
    cleanup()


if __name__ == "__main__":
    main()
