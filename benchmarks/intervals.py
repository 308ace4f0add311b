"""Prediction intervals on real series: empirical coverage and scaled quantile loss.

Every model forecasts the 18 series of the real-series benchmark (``series_suite.py``,
``load_real_suite``: 30-minute to yearly; ``--suite small`` for the earlier 10 single channels
of the data dir with fixed model forms) by rolling origin: ``--windows`` cutoffs ``h`` apart at
the end of each series, refit at every cutoff, ``level=[80, 95]``. Per series: coverage of
the 80% and 95% intervals, MSIS and the scaled quantile loss (``sql``: mean pinball loss
over the four interval bounds, divided by the seasonal naive in-sample MAE, like MASE).
Conformal intervals use 19 cutoffs where the series is long enough (n = 19 scores per step is
the smallest n for which split conformal can guarantee 95%: ceil((n + 1) 0.95) <= n; its 95%
radius is the largest score), fewer on short series (:func:`conformal_windows`). On the real
suite every model keeps its defaults (only ``h`` given, the season from the frequency).
Aggregates: the mean over series, and the mean absolute coverage error (|coverage - nominal|).

    python benchmarks/intervals.py --aeon-dir /tmp/aeon_x   # BENCHMARKS.md, results/intervals/
    python benchmarks/intervals.py --quick      # 3 series, 2 windows: a smoke run
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402
from series_suite import SeriesCase, load_real_suite, load_suite  # noqa: E402

import tsattn  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "intervals"
LEVELS = [80, 95]
METRICS = ["coverage", "msis", "sql", "mase"]


def neural_options(case: SeriesCase) -> dict:
    """One small PatchTST set-up for every series: a look-back of four horizons (at least two
    seasons), otherwise the constructor's defaults for users' series (lr 1e-3, a step budget
    that adapts to the data, early stopping on the last h steps); no per-series tuning."""
    lookback = min(max(4 * case.h, 2 * case.season_length), 192)
    return dict(
        input_size=lookback,
        patch_len=min(16, lookback // 4),
        stride=min(8, lookback // 8),
        progress=False,
        device="cpu",
    )


def conformal_windows(case: SeriesCase, windows: int) -> int:
    """19 conformal cutoffs, fewer when that would hold out more than a third of what the
    first backtest window leaves for training; at least 3."""
    available = len(case.frame) - windows * case.h
    return max(3, min(19, available // (3 * case.h)))


def default_models(case: SeriesCase, windows: int) -> list:
    """The real suite's models: every one with its defaults (only ``h``), with intervals."""
    h, quiet = case.h, dict(progress=False, device="cpu")
    return [
        tsattn.SeasonalNaive(h=h),
        tsattn.ETS(h=h),
        tsattn.AutoARIMA(h=h),
        tsattn.PatchTST(h=h, loss="quantile", alias="PatchTST-quantile", **quiet),
        tsattn.PatchTST(
            h=h,
            intervals="conformal",
            conformal_windows=conformal_windows(case, windows),
            alias="PatchTST-conformal",
            **quiet,
        ),
    ]


def models_for(case: SeriesCase) -> list:
    """The small suite's models (fixed forms), every one with intervals."""
    h, m = case.h, case.season_length
    seasonal = "add" if 2 * m < len(case.frame) // 2 and m > 1 else None
    neural = neural_options(case)
    return [
        tsattn.SeasonalNaive(season_length=m, h=h),
        tsattn.ETS(trend="add", damped_trend=True, seasonal=seasonal, season_length=m, h=h),
        # non-seasonal (as the external comparison's statsforecast AutoARIMA): the seasonal
        # stepwise search on m=24 or 96 costs minutes per fit in statsmodels
        tsattn.AutoARIMA(season_length=1, h=h),
        tsattn.PatchTST(h=h, loss="quantile", alias="PatchTST-quantile", **neural),
        tsattn.PatchTST(
            h=h, intervals="conformal", conformal_windows=19, alias="PatchTST-conformal", **neural
        ),
    ]


def score_case(
    case: SeriesCase, windows: int, real: bool = True
) -> tuple[pd.DataFrame, dict[str, float]]:
    """(metrics of every model on one series, seconds per model); a model that cannot run on
    the series (too short for its defaults) is left out of that series' rows, and said so."""
    rows, seconds = [], {}
    for model in default_models(case, windows) if real else models_for(case):
        start = time.perf_counter()
        try:
            frame = tsattn.backtest(model, case.frame, h=case.h, n_windows=windows, level=LEVELS)
        except ValueError as error:
            print(f"  {case.name} {model.name} cannot run: {error}", flush=True)
            continue
        seconds[model.name] = time.perf_counter() - start
        table = tsattn.evaluate(
            frame, metrics=METRICS, train_df=case.frame, season_length=case.season_length
        )
        rows.append(table.set_index("metric")[model.name])
    if not rows:  # nothing could run on this series
        return pd.DataFrame(columns=["model", "series"]), seconds
    metrics = pd.concat(rows, axis=1).T.rename_axis("model").reset_index()
    return metrics.assign(series=case.name), seconds


def summary(per_series: pd.DataFrame) -> pd.DataFrame:
    """Mean over series of each metric, plus the mean absolute coverage error."""
    table = per_series.drop(columns="series").groupby("model", sort=False).mean()
    table["series"] = per_series.groupby("model", sort=False)["series"].nunique()
    for level in LEVELS:
        error = (per_series[f"coverage-{level}"] - level).abs()
        table[f"abs cov-{level} err"] = error.groupby(per_series["model"], sort=False).mean()
    return table


def markdown(table: pd.DataFrame, per_series: pd.DataFrame, seconds: pd.Series, args) -> str:
    setup = (
        "Every model with its defaults (only `h`; the season from the frequency); "
        "PatchTST-conformal with 19 conformal cutoffs, fewer on short series "
        "(`conformal_windows` in the script). `series`: the series a model could run on "
        "(the means are over those)."
        if args.suite == "real"
        else "PatchTST: one fixed small set-up for every series (`neural_options`)."
    )
    lines = [
        f"{per_series['series'].nunique()} series (`benchmarks/series_suite.py`, "
        f"{'`load_real_suite`' if args.suite == 'real' else '`load_suite`'}), "
        f"{args.windows} rolling windows of h each, refit per window, levels 80 and 95. "
        "Coverage in percent (nominal 80 / 95); `sql` = scaled quantile loss over the four "
        "interval bounds (2.5, 10, 90, 97.5%); MSIS at 95%; both scaled by the seasonal naive "
        "in-sample MAE. " + setup,
        "",
        *table_rows(table, seconds),
    ]
    where = RESULTS.relative_to(RESULTS.parents[2])
    lines += ["", f"Per-series figures: `{where}/per_series.csv`."]
    return "\n".join(lines)


def table_rows(table: pd.DataFrame, seconds: pd.Series) -> list[str]:
    """The markdown table of :func:`summary`'s figures and each model's seconds."""
    cols = ["coverage-80", "coverage-95", "abs cov-80 err", "abs cov-95 err"]
    cols += ["msis-95", "sql", "mase"]
    header = "| model | " + " | ".join(cols) + " | series | fit+predict s |"
    rows = [header, "|---|" + "---:|" * (len(cols) + 2)]
    for model, row in table.iterrows():
        shown = [f"{row[c]:.3f}" if c in ("sql", "mase") else f"{row[c]:.1f}" for c in cols]
        count = int(row["series"])
        rows.append(f"| {model} | {' | '.join(shown)} | {count} | {seconds[model]:.0f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("TSATTN_DATA_DIR"),
        required="TSATTN_DATA_DIR" not in os.environ,
        help="the data dir (the benchmark CSVs); default: $TSATTN_DATA_DIR",
    )
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--suite", choices=["real", "small"], default="real")
    parser.add_argument("--aeon-dir", default=None, help="unpacked aeon wheel (default: import)")
    parser.add_argument("--quick", action="store_true", help="3 series, 2 windows")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--notes-file", type=Path, help="markdown placed under the table")
    parser.add_argument(
        "--report-only", action="store_true", help="rebuild the section from per_series.csv"
    )
    args = parser.parse_args()
    if args.report_only:
        per_series = pd.read_csv(RESULTS / "per_series.csv")
        seconds = per_series.groupby("model", sort=False)["seconds"].sum()
        write_report(summary(per_series.drop(columns="seconds")), per_series, seconds, args)
        return
    real = args.suite == "real"
    cases = load_real_suite(args.data_dir, args.aeon_dir) if real else load_suite(args.data_dir)
    if args.quick:
        cases, args.windows, args.no_write = cases[:3], 2, True
    frames = []
    for case in cases:
        metrics, seconds = score_case(case, args.windows, real)
        frames.append(metrics.assign(seconds=metrics["model"].map(seconds)))
        print(metrics.round(3).to_string(index=False), flush=True)
    per_series = pd.concat(frames, ignore_index=True)
    seconds = per_series.groupby("model", sort=False)["seconds"].sum()
    table = summary(per_series.drop(columns="seconds"))
    print(table.round(3).to_string())
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        per_series.to_csv(RESULTS / "per_series.csv", index=False)
        write_report(table, per_series, seconds, args)


def write_report(table: pd.DataFrame, per_series: pd.DataFrame, seconds: pd.Series, args) -> None:
    """The BENCHMARKS.md section (with ``--notes-file`` under the table)."""
    body = markdown(table, per_series, seconds, args)
    if args.notes_file:
        body += "\n\n" + args.notes_file.read_text().strip()
    title = "Prediction intervals on real series: coverage and scaled quantile loss"
    write_section("intervals", title, body)


if __name__ == "__main__":
    main()
