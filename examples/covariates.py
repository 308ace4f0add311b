"""Forecast with covariates: ETTh1's oil temperature with the loads measured so far.

The six load columns of ETTh1 (HUFL ... LULL) are observed up to now but unknown ahead: they
are *past-only* covariates (``hist_exog_list``). The calendar (hour, day of week, ...) is
known ahead and computed from the dates (``calendar=True``). The script backtests PatchTST
with and without them (``tsattn.backtest`` gives each fit the covariates up to its cutoff
only), prints both MAEs, and plots the last window with a panel per covariate.

Run::

    python examples/covariates.py --data-dir ../shared/data --out covariates_out
    python examples/covariates.py --tiny --data-dir ../shared/data --out /tmp/covariates

Writes ``backtest.csv`` (both models beside the actuals) and ``forecast.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

import tsattn
from tsattn.datasets import load_dataset

LOADS = ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL"]
#: settings of ``--tiny``: small enough for a test to run the script in seconds
TINY = dict(rows=1500, h=24, n_windows=2, max_steps=30)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--tiny`` changes the defaults, explicit options still win."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder with ETTh1.csv(.gz) (or TSATTN_DATA_DIR)")
    parser.add_argument("--rows", type=int, default=8640, help="hours of ETTh1 to use")
    parser.add_argument("--h", type=int, default=24, help="forecast horizon (hours)")
    parser.add_argument("--n-windows", type=int, default=4, help="backtest windows")
    parser.add_argument("--max-steps", default="auto", help="training steps (default: auto)")
    parser.add_argument("--out", default="covariates_out", help="output directory")
    parser.add_argument("--tiny", action="store_true", help="short data and training")
    if parser.parse_known_args(argv)[0].tiny:
        parser.set_defaults(**TINY)
    return parser.parse_args(argv)


def oil_temperature(data_dir: str | None, rows: int) -> pd.DataFrame:
    """``unique_id, ds, y`` (OT) and the six load columns, the first ``rows`` hours."""
    wide = load_dataset("ETTh1", data_dir=data_dir).iloc[:rows]
    frame = pd.DataFrame({"unique_id": "OT", "ds": wide["date"], "y": wide["OT"]})
    return frame.assign(**{column: wide[column].to_numpy() for column in LOADS})


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df = oil_temperature(args.data_dir, args.rows)
    steps = args.max_steps if args.max_steps == "auto" else int(args.max_steps)
    options = {"h": args.h, "max_steps": steps, "progress": False}
    models = [
        tsattn.PatchTST(alias="plain", **options),
        tsattn.PatchTST(alias="with_covariates", hist_exog_list=LOADS, calendar=True, **options),
    ]
    frame = tsattn.backtest(models, df, h=args.h, n_windows=args.n_windows, progress=False)
    frame.to_csv(out / "backtest.csv", index=False)
    for name in ("plain", "with_covariates"):
        print(f"{name}: MAE {(frame[name] - frame['y']).abs().mean():.4f}")
    last = frame[frame["cutoff"] == frame["cutoff"].max()]  # the last window
    seen = df[df["ds"] <= last["cutoff"].iloc[0]]  # what the models saw: up to the cutoff
    tsattn.plot(last, history=seen, covariates=["HUFL"], path=out / "forecast.png")
    print(f"wrote {out / 'backtest.csv'} and {out / 'forecast.png'}")


if __name__ == "__main__":
    main()
