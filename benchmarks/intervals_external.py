"""Prediction intervals of other libraries on the same real series, scored like tsattn's.

The external half of issue 14's interval benchmark: statsforecast's AutoETS (and AutoARIMA)
with their native ``level=`` intervals, and gluonts' DeepAR with quantiles of its sample
paths (through :class:`tsattn.GluonTSForecaster`). Same series (``series_suite.py``: the real
suite by default, ``--suite small`` for the earlier 10 channels), same
protocol as ``benchmarks/intervals.py`` (``--windows`` rolling cutoffs ``h`` apart at the end
of each series, refit at every cutoff, levels 80 and 95) and the same scoring
(:func:`tsattn.evaluate`: coverage, MSIS, scaled quantile loss, MASE), so the figures sit
beside those of ``intervals.py``.

statsforecast is not a tsattn dependency: run this in a throwaway environment, e.g.

    python -m venv /tmp/extenv
    /tmp/extenv/bin/pip install torch==2.13.0
    /tmp/extenv/bin/pip install -e ".[gluonts]" statsforecast
    OMP_NUM_THREADS=1 /tmp/extenv/bin/python benchmarks/intervals_external.py --aeon-dir /tmp/aeon_x
    /tmp/extenv/bin/python benchmarks/intervals_external.py --quick   # 3 series, 2 windows
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402
from intervals import LEVELS, METRICS, summary, table_rows  # noqa: E402
from series_suite import SeriesCase, load_real_suite, load_suite  # noqa: E402

import tsattn  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "intervals"
KEYS = ["unique_id", "ds", "cutoff", "y"]

#: DeepAR's training budget (small: 40 fits on 2 CPU cores); gluonts' defaults otherwise
#: (2 LSTM layers of 40, context = h, 100 sample paths)
DEEPAR_EPOCHS = 5
DEEPAR_BATCHES = 25


def statsforecast_backtest(
    name: str, case: SeriesCase, windows: int, seasonal_arima: bool = True
) -> pd.DataFrame:
    """statsforecast's own ``cross_validation`` (refit per window, ``step_size=h``): the same
    cutoffs as ``tsattn.backtest(n_windows=windows)``; its columns ``AutoETS``,
    ``AutoETS-lo-80``, ... already follow tsattn's naming."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS

    if name == "AutoETS":
        model = AutoETS(season_length=case.season_length)
    else:  # as tsattn.AutoARIMA in the same run: seasonal on the real suite (its default)
        model = AutoARIMA(season_length=case.season_length if seasonal_arima else 1)
    sf = StatsForecast(models=[model], freq=case.freq, n_jobs=1)
    frame = sf.cross_validation(
        df=case.frame, h=case.h, n_windows=windows, step_size=case.h, level=LEVELS, refit=True
    )
    if "unique_id" not in frame.columns:  # statsforecast < 2 returns it as the index
        frame = frame.reset_index()
    names = {c: f"sf-{c}" for c in frame.columns if c.startswith(name)}
    return frame.rename(columns=names)[KEYS + list(names.values())]


def deepar(case: SeriesCase) -> tsattn.GluonTSForecaster:
    return tsattn.GluonTSForecaster(
        estimator="deepar",
        h=case.h,
        max_epochs=DEEPAR_EPOCHS,
        estimator_kwargs={"num_batches_per_epoch": DEEPAR_BATCHES},
        seed=0,
        alias="gluonts-DeepAR",
    )


def forecasts(name: str, case: SeriesCase, windows: int, real: bool) -> pd.DataFrame:
    """The rolling-origin forecasts of one model with its interval columns."""
    if name == "DeepAR":
        frame = tsattn.backtest(deepar(case), case.frame, h=case.h, n_windows=windows, level=LEVELS)
        return frame
    return statsforecast_backtest(name, case, windows, seasonal_arima=real)


def score_case(case: SeriesCase, windows: int, models: list[str], real: bool = True):
    """(metrics of every model on one series, seconds per model); a model that fails on the
    series is left out of its rows, and said so."""
    rows, seconds = [], {}
    for name in models:
        start = time.perf_counter()
        try:
            frame = forecasts(name, case, windows, real)
        except Exception as error:  # noqa: BLE001 - another library's failure on one series
            print(f"  {case.name} {name} failed: {type(error).__name__}: {error}", flush=True)
            continue
        column = [
            c for c in frame.columns if c not in KEYS and "-lo-" not in c and "-hi-" not in c
        ][0]
        seconds[column] = time.perf_counter() - start
        table = tsattn.evaluate(
            frame, metrics=METRICS, train_df=case.frame, season_length=case.season_length
        )
        rows.append(table.set_index("metric")[column])
    if not rows:  # nothing could run on this series
        return pd.DataFrame(columns=["model", "series"]), seconds
    metrics = pd.concat(rows, axis=1).T.rename_axis("model").reset_index()
    return metrics.assign(series=case.name), seconds


def markdown(table: pd.DataFrame, per_series: pd.DataFrame, seconds: pd.Series, args) -> str:
    versions = ", ".join(
        f"{p} {version(p)}" for p in ("statsforecast", "gluonts", "lightning", "torch")
    )
    lines = [
        "The external half of the interval benchmark above: the same "
        f"{per_series['series'].nunique()} series (`benchmarks/series_suite.py`), the same "
        f"{args.windows} rolling windows of h each, refit per window, levels 80 and 95, scored "
        "by the same `tsattn.evaluate` (coverage in percent; `sql` over the interval bounds; "
        "MSIS at 95%; both scaled by the seasonal naive in-sample MAE). Run in a throwaway "
        f"virtual environment (not a tsattn dependency): {versions}.",
        "",
        "- `sf-AutoETS`: statsforecast's `AutoETS(season_length=m)` (its own model selection), "
        + (
            (
                "`sf-AutoARIMA`: its seasonal `AutoARIMA(season_length=m)` (as tsattn's default); "
                if args.suite == "real"
                else "`sf-AutoARIMA`: its non-seasonal `AutoARIMA(season_length=1)` (as tsattn's "
                "AutoARIMA in that run); "
            )
            if "AutoARIMA" in args.models
            else "(sf-AutoARIMA not run: `--models` left it out); "
        )
        + "through `cross_validation(h, n_windows, step_size=h, "
        "level=[80, 95], refit=True)`, native intervals.",
        f"- `gluonts-DeepAR`: gluonts' DeepAR through `tsattn.GluonTSForecaster`, "
        f"{DEEPAR_EPOCHS} epochs of {DEEPAR_BATCHES} batches (a small CPU budget), seed 0, "
        "otherwise gluonts' defaults; intervals are quantiles of its 100 sample paths.",
        "",
        *table_rows(table, seconds),
    ]
    where = RESULTS.relative_to(RESULTS.parents[2])
    lines += ["", f"Per-series figures: `{where}/external_per_series.csv`."]
    if args.notes_file:
        lines += ["", args.notes_file.read_text().strip()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("TSATTN_DATA_DIR"),
        required="TSATTN_DATA_DIR" not in os.environ,
        help="the data dir (the benchmark CSVs); default: $TSATTN_DATA_DIR",
    )
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument(
        "--models",
        default="AutoETS,AutoARIMA,DeepAR",
        help="comma-separated: AutoETS, AutoARIMA, DeepAR",
    )
    parser.add_argument("--suite", choices=["real", "small"], default="real")
    parser.add_argument("--aeon-dir", default=None, help="unpacked aeon wheel (default: import)")
    parser.add_argument("--quick", action="store_true", help="3 series, 2 windows, print only")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--notes-file", type=Path, help="markdown placed under the table")
    args = parser.parse_args()
    models = args.models.split(",")
    real = args.suite == "real"
    cases = load_real_suite(args.data_dir, args.aeon_dir) if real else load_suite(args.data_dir)
    if args.quick:
        cases, args.windows, args.no_write = cases[:3], 2, True
    frames, timing = [], []
    for case in cases:
        metrics, seconds = score_case(case, args.windows, models, real)
        frames.append(metrics)
        timing.append(pd.Series(seconds))
        print(metrics.round(3).to_string(index=False), flush=True)
        print({k: round(v, 1) for k, v in seconds.items()}, flush=True)
    per_series = pd.concat(frames, ignore_index=True)
    seconds = pd.concat(timing, axis=1).sum(axis=1)
    table = summary(per_series)
    print(table.round(3).to_string())
    print(seconds.round(1).to_string())
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        per_series.to_csv(RESULTS / "external_per_series.csv", index=False)
        title = "Prediction intervals of statsforecast and gluonts on the same series"
        write_section("intervals_external", title, markdown(table, per_series, seconds, args))


if __name__ == "__main__":
    main()
