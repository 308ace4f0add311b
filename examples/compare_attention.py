"""Compare attention variants inside PatchTST on ETTh1 with the literature benchmark runner.

Shows ``tsattn.run_benchmark``: each variant (``patchtst:softmax``, ``patchtst:mlr``,
``patchtst:btt`` ...) trains on the standardized train split with early stopping on val and is
scored on every test window, as in the PatchTST paper; the printed table sets each MSE/MAE
beside the published PatchTST/42 numbers. Results go to ``results.csv``/``results.json`` in
``--out`` (a rerun skips the cells already there) and ``plot_benchmark`` draws MSE by horizon.

ETTh1 is looked up in ``--data-dir``, then ``$TSATTN_DATA_DIR``, then the user cache
(downloaded there when missing). ``--tiny`` trains a small model for one epoch on a sample of
256 windows at one horizon: seconds on a CPU, a smoke test whose numbers mean little.

Run::

    python examples/compare_attention.py --out compare_out              # all variants
    python examples/compare_attention.py --variants softmax,mlr --horizons 96,192 --quick
    python examples/compare_attention.py --tiny --out /tmp/compare --data-dir <the data dir>

Writes ``results.csv``, ``results.json`` and ``attention_mse.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import tsattn
from tsattn.evaluation.plots import plot_benchmark

#: spec options of ``--tiny``: a small network on a sample of the training windows
TINY_OPTIONS = ":windows_per_epoch=256:d_model=8:n_heads=2:d_ff=16:n_layers=1"
TINY = dict(variants="softmax,mlr", horizons="96", input_size=96, max_epochs=1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--tiny`` changes the defaults, explicit options still win."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variants",
        default=",".join(tsattn.list_attention()),
        help="comma-separated attention names (default: every registered variant)",
    )
    parser.add_argument("--horizons", default="96", help="comma-separated horizons")
    parser.add_argument("--input-size", type=int, default=336, help="lookback (steps)")
    parser.add_argument("--max-epochs", type=int, default=20, help="cap on training epochs")
    parser.add_argument("--quick", action="store_true", help="3 epochs x 4096 windows, lr 1e-3")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda ...")
    parser.add_argument("--data-dir", help="directory with ETTh1.csv(.gz)")
    parser.add_argument("--out", default="compare_out", help="output directory")
    parser.add_argument("--tiny", action="store_true", help="tiny model, 1 epoch, 1 horizon")
    if parser.parse_known_args(argv)[0].tiny:
        parser.set_defaults(**TINY)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    options = TINY_OPTIONS if args.tiny else ""
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    specs = [f"patchtst:{variant}{options}" for variant in variants]
    results = tsattn.run_benchmark(
        "ETTh1",
        specs,
        horizons=[int(h) for h in args.horizons.split(",")],
        input_size=args.input_size,
        out_dir=args.out,
        data_dir=args.data_dir,
        quick=args.quick,
        max_epochs=args.max_epochs,
        device=args.device,
        progress=not args.tiny,
    )
    # run_benchmark returns exactly this run's cells; label them by attention name
    labels = results.assign(model=results["model"].str.replace(options, "", regex=False))
    path = Path(args.out) / "attention_mse.png"
    plot_benchmark(labels, metric="mse", path=path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
