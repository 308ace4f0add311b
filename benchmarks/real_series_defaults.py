"""One network's defaults on the real-series suite, against its figures in ``per_series.csv``.

The same protocol as ``real_series.py`` (4 rolling windows of ``h`` at the end of each series,
refit per window, MASE with the series' season), for one tsattn network with its defaults as
they are now, beside the per-series MASE that ``real_series.py`` recorded for it earlier: a
check that a change of defaults moves no series the wrong way.

    OMP_NUM_THREADS=1 python benchmarks/real_series_defaults.py NLinear --aeon-dir /tmp/aeon_x
    OMP_NUM_THREADS=1 python benchmarks/real_series_defaults.py PatchTST \\
        --series aeon_solar_30min,ili_quarterly --recorded-as PatchTST-softmax
    OMP_NUM_THREADS=1 python benchmarks/real_series_defaults.py NLinear --option loss='"mae"'
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_series  # noqa: E402
from series_suite import load_real_suite  # noqa: E402

import tsattn  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "real_series"


def run(model: str, cases, windows: int, options: dict) -> pd.Series:
    """Per-series MASE of ``model`` (a tsattn class name) with its defaults and ``options``."""
    mase = {}
    for case in cases:
        forecaster = getattr(tsattn, model)(h=case.h, progress=False, device="cpu", **options)
        frame = tsattn.backtest(
            forecaster, case.frame, h=case.h, n_windows=windows, on_error="warn", progress=False
        )
        mase[case.name] = real_series.scores(frame, forecaster.name, case)["mase"]
        print(f"  {case.name}: MASE {mase[case.name]:.3f}", flush=True)
    return pd.Series(mase, name="now")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a tsattn network class: NLinear, DLinear, PatchTST ...")
    parser.add_argument("--data-dir", default=os.environ.get("TSATTN_DATA_DIR"))
    parser.add_argument("--aeon-dir", default=None)
    parser.add_argument("--series", default=None, help="comma-separated (default: all)")
    parser.add_argument("--recorded-as", default=None, help="its name in per_series.csv")
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument(
        "--option", action="append", default=[], help="name=value (JSON value): not a default"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    cases = load_real_suite(args.data_dir, args.aeon_dir)
    if args.series:
        cases = [c for c in cases if c.name in args.series.split(",")]
    recorded = pd.read_csv(RESULTS / "per_series.csv")
    recorded = recorded[recorded["model"] == (args.recorded_as or args.model)]
    options = {k: json.loads(v) for k, v in (o.split("=", 1) for o in args.option)}
    table = run(args.model, cases, args.windows, options).to_frame()
    table["recorded"] = recorded.set_index("series")["mase"].reindex(table.index)
    table["ratio"] = table["now"] / table["recorded"]
    suffix = "".join(f"_{k}-{v}" for k, v in options.items())
    out = RESULTS / f"defaults_{args.model}{suffix}.csv"
    table.rename_axis("series").to_csv(out)
    print(table.round(3).to_string())
    print(
        f"{args.model} {options or ''}: mean MASE now {table['now'].mean():.3f}, recorded "
        f"{table['recorded'].mean():.3f}; worse on {(table['ratio'] > 1.0001).sum()} of "
        f"{len(table)} series; written to {out}"
    )


if __name__ == "__main__":
    main()
