"""PatchTST's window centring for users' series: last value (the user default) vs window mean.

The same protocol as ``real_series.py`` (18 series, 4 rolling windows of h, refit per window,
defaults only) for PatchTST twice: ``revin_subtract_last=True`` (users' default) and ``False``
(the reference's window mean). Prints MASE per series and the count of series each wins; writes
``results/real_series/revin_centering.csv``.

    OMP_NUM_THREADS=1 python benchmarks/revin_centering.py --aeon-dir /tmp/aeon_x
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_series import RESULTS, chosen_cases, scores  # noqa: E402

import tsattn  # noqa: E402

VARIANTS = {"last value": True, "window mean": False}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("TSATTN_DATA_DIR"),
        required="TSATTN_DATA_DIR" not in os.environ,
        help="the data dir (the benchmark CSVs); default: $TSATTN_DATA_DIR",
    )
    parser.add_argument("--aeon-dir", default=None, help="unpacked aeon wheel (default: import)")
    parser.add_argument("--series", default=None, help="comma-separated names (default: all)")
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--out", default="revin_centering.csv")
    args = parser.parse_args()
    args.quick = False
    rows = []
    for case in chosen_cases(args):
        for name, last in VARIANTS.items():
            model = tsattn.PatchTST(
                h=case.h, revin_subtract_last=last, alias=name, progress=False, device="cpu"
            )
            frame = tsattn.backtest(model, case.frame, h=case.h, n_windows=args.windows)
            rows.append({"series": case.name, "variant": name, **scores(frame, name, case)})
        print(pd.DataFrame(rows[-2:]).round(3).to_string(index=False), flush=True)
    table = pd.DataFrame(rows).pivot(index="series", columns="variant", values="mase")
    wins = (table["last value"] < table["window mean"]).sum()
    print(table.round(3).to_string())
    print(f"last value better on {wins} of {len(table)} series")
    table.to_csv(RESULTS / args.out)


if __name__ == "__main__":
    main()
