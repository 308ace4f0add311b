"""Quickstart: fit PatchTST with MLR attention on a DataFrame, forecast, save and reload.

Shows the Forecaster API on the canonical long frame (``unique_id, ds, y``): hold out the
last ``h`` steps of each series, ``tsattn.PatchTST(..., attention="mlr").fit(train)``, then
``predict()`` (original scale, dated after each series' end), compare with the held-out
actuals, ``save`` the model and check that ``tsattn.load`` gives the same forecast.

The data are three columns of ETTh1 (hourly electricity transformer load), found in
``--data-dir``, ``$TSATTN_DATA_DIR`` or the user cache (downloaded there when missing);
``--tiny`` uses two synthetic series instead and runs in seconds on a CPU.

Run::

    python examples/quickstart.py --out quickstart_out
    python examples/quickstart.py --tiny --out /tmp/quickstart
    python examples/quickstart.py --columns OT,HUFL --h 24 --max-epochs 20

Writes ``forecast.csv`` and ``patchtst_mlr.safetensors`` into ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import tsattn

#: settings of ``--tiny``: small enough for a test to run the script in seconds
TINY = dict(h=12, input_size=48, d_model=8, n_heads=2, max_epochs=1, windows_per_epoch=256)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--tiny`` changes the defaults, explicit options still win."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--h", type=int, default=96, help="forecast horizon (steps)")
    parser.add_argument("--input-size", type=int, default=336, help="lookback (steps)")
    parser.add_argument("--columns", default="HUFL,MUFL,OT", help="ETTh1 columns to forecast")
    parser.add_argument("--rows", type=int, default=4380, help="last ETTh1 rows (6 months)")
    parser.add_argument("--d-model", type=int, default=16, help="PatchTST width")
    parser.add_argument("--n-heads", type=int, default=4, help="attention heads")
    parser.add_argument("--max-epochs", type=int, default=5, help="training epochs")
    parser.add_argument(
        "--windows-per-epoch", type=int, default=1024, help="training windows sampled per epoch"
    )
    parser.add_argument("--data-dir", help="directory with ETTh1.csv(.gz)")
    parser.add_argument("--out", default="quickstart_out", help="output directory")
    parser.add_argument("--tiny", action="store_true", help="synthetic data, tiny model")
    if parser.parse_known_args(argv)[0].tiny:
        parser.set_defaults(**TINY)
    return parser.parse_args(argv)


def synthetic_frame(n_steps: int = 400, seed: int = 0) -> pd.DataFrame:
    """Two hourly series with a daily cycle, as a long frame ``unique_id, ds, y``."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_steps)
    ds = pd.date_range("2024-01-01", periods=n_steps, freq="h")
    frames = []
    for uid, level in (("north", 10.0), ("south", 5.0)):
        y = level + np.sin(2 * np.pi * t / 24) + 0.1 * rng.standard_normal(n_steps)
        frames.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


def etth1_frame(columns: list[str], rows: int, data_dir: str | None) -> pd.DataFrame:
    """The last ``rows`` hours of some ETTh1 columns, converted from wide to long."""
    wide = tsattn.load_dataset("ETTh1", data_dir=data_dir)
    return tsattn.read_series(wide[["date", *columns]].tail(rows), time_col="date")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    columns = args.columns.split(",")
    df = synthetic_frame() if args.tiny else etth1_frame(columns, args.rows, args.data_dir)
    by_series = df.groupby("unique_id", sort=False)
    train, actual = by_series.head(-args.h), by_series.tail(args.h)

    model = tsattn.PatchTST(
        h=args.h,
        input_size=args.input_size,
        attention="mlr",
        d_model=args.d_model,
        n_heads=args.n_heads,
        max_epochs=args.max_epochs,
        windows_per_epoch=args.windows_per_epoch,
        progress=not args.tiny,
    )
    forecast = model.fit(train).predict()  # unique_id, ds, PatchTST: original scale, dated
    print(forecast.head(), "\n")

    path = model.save(out / "patchtst_mlr.safetensors")
    reloaded = tsattn.load(path).predict()
    pd.testing.assert_frame_equal(forecast, reloaded)
    print(f"saved to {path}; the reloaded model gives the same forecast")

    scored = actual.merge(forecast, on=["unique_id", "ds"])
    scored["naive"] = scored["unique_id"].map(train.groupby("unique_id")["y"].last())
    errors = scored[[model.name, "naive"]].sub(scored["y"], axis=0).abs()
    mae = errors.groupby(scored["unique_id"], sort=False).mean()
    print(f"\nMAE on the held-out last {args.h} steps:\n{mae.round(3)}")
    forecast.to_csv(out / "forecast.csv", index=False)
    print(f"wrote {out / 'forecast.csv'}")


if __name__ == "__main__":
    main()
