"""Backtest PatchTST against statistical baselines on your own CSV.

Shows the rolling-origin backtest: ``tsattn.backtest`` refits every model at each cutoff and
forecasts the next ``h`` steps, ``tsattn.evaluate`` scores the forecasts (MAE, RMSE, sMAPE,
MASE), and ``plot_backtest`` draws them against the actuals. The models: seasonal naive,
ETS with additive seasonality, Theta, and PatchTST with MLR attention.

The CSV is wide (a time column plus one column per series) or long (``unique_id, ds, y``).
Without ``--csv`` a demo file of three hourly series is written into ``--out`` first.

Run::

    python examples/backtest_csv.py --out backtest_out
    python examples/backtest_csv.py --csv my_data.csv --time-col date --season-length 7 --h 14
    python examples/backtest_csv.py --tiny --out /tmp/backtest

Writes ``backtest.csv`` (forecasts beside actuals), ``metrics.csv`` and ``forecast.png``
into ``--out`` (and ``demo.csv`` when no ``--csv`` is given).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import tsattn
from tsattn.evaluation.plots import plot_backtest

#: settings of ``--tiny``: small enough for a test to run the script in seconds
TINY = dict(demo_days=10, h=12, n_windows=2, input_size=48, max_epochs=1, d_model=8, n_heads=2)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--tiny`` changes the defaults, explicit options still win."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", help="your series (default: write a demo CSV into --out)")
    parser.add_argument("--time-col", default="date", help="time column of the CSV")
    parser.add_argument("--demo-days", type=int, default=60, help="length of the demo CSV")
    parser.add_argument("--h", type=int, default=24, help="forecast horizon (steps)")
    parser.add_argument("--n-windows", type=int, default=3, help="backtest windows")
    parser.add_argument("--season-length", type=int, default=24, help="seasonal period")
    parser.add_argument("--input-size", type=int, default=168, help="PatchTST lookback")
    parser.add_argument("--max-epochs", type=int, default=20, help="PatchTST epochs")
    parser.add_argument("--d-model", type=int, default=16, help="PatchTST width")
    parser.add_argument("--n-heads", type=int, default=4, help="PatchTST attention heads")
    parser.add_argument("--out", default="backtest_out", help="output directory")
    parser.add_argument("--tiny", action="store_true", help="tiny data, model and backtest")
    if parser.parse_known_args(argv)[0].tiny:
        parser.set_defaults(**TINY)
    return parser.parse_args(argv)


def write_demo_csv(path: Path, days: int, seed: int = 0) -> Path:
    """Three hourly series (daily cycle, trend, noise) as a wide CSV with a ``date`` column."""
    rng = np.random.default_rng(seed)
    t = np.arange(24 * days)
    daily = np.sin(2 * np.pi * t / 24)
    wide = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=len(t), freq="h")})
    wide["load"] = 50 + 10 * daily + 0.02 * t + rng.normal(0, 1.5, len(t))
    wide["solar"] = np.clip(8 * daily, 0, None) + rng.normal(0, 0.5, len(t))
    wide["price"] = 30 + 3 * np.roll(daily, 3) + np.cumsum(rng.normal(0, 0.3, len(t)))
    wide.to_csv(path, index=False)
    return path


def build_models(args: argparse.Namespace) -> list[tsattn.models.Forecaster]:
    """The baselines and PatchTST, all forecasting ``args.h`` steps."""
    m = args.season_length
    return [
        tsattn.SeasonalNaive(season_length=m, h=args.h),
        tsattn.ETS(seasonal="add", season_length=m, h=args.h),
        tsattn.Theta(season_length=m, h=args.h),
        tsattn.PatchTST(
            h=args.h,
            input_size=args.input_size,
            attention="mlr",
            d_model=args.d_model,
            n_heads=args.n_heads,
            max_epochs=args.max_epochs,
            progress=False,
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv = Path(args.csv) if args.csv else write_demo_csv(out / "demo.csv", args.demo_days)
    df = tsattn.read_series(csv, time_col=args.time_col)  # wide or long -> unique_id, ds, y
    print(f"{csv}: {df['unique_id'].nunique()} series, {len(df)} rows")

    frame = tsattn.backtest(build_models(args), df, h=args.h, n_windows=args.n_windows)
    frame.to_csv(out / "backtest.csv", index=False)

    scores = ["mae", "rmse", "smape", "mase"]  # MASE: scaled by the seasonal naive in-sample
    metrics = tsattn.evaluate(frame, scores, season_length=args.season_length, train_df=df)
    metrics.to_csv(out / "metrics.csv", index=False)
    print(metrics.round(3).to_string(index=False))

    history = df.groupby("unique_id", sort=False).tail((args.n_windows + 3) * args.h)
    plot_backtest(frame, history=history, path=out / "forecast.png")
    print(f"wrote {out / 'backtest.csv'}, {out / 'metrics.csv'}, {out / 'forecast.png'}")


if __name__ == "__main__":
    main()
