"""statsforecast's and neuralforecast's point forecasts on the real-series suite, scored by tsattn.

The external half of issue 13's real-series benchmark: the series of
``series_suite.load_real_suite``, the same protocol as ``benchmarks/real_series.py``
(``--windows`` rolling cutoffs ``h`` apart at the end of each series, refit at every cutoff) and
the same scoring (:func:`tsattn.evaluate`: MAE, MASE, sMAPE). Models, with their defaults:

* statsforecast ``AutoETS``, ``AutoARIMA``, ``AutoTheta`` with ``season_length=m`` (the season
  of the series' frequency, the same that tsattn's models take; AutoARIMA non-seasonal beyond
  24 steps, as tsattn's), through ``cross_validation``;
* neuralforecast ``PatchTST`` and ``NHITS``: ``input_size`` has no default there, so ``2 h``
  (the value of neuralforecast's own examples); every other option is its default except
  ``max_steps`` (``--nf-steps``, see below), quiet trainers on the CPU.

Neither library is a tsattn dependency: run this in a throwaway environment, e.g.

    python -m venv /tmp/extenv
    /tmp/extenv/bin/pip install torch==2.13.0
    /tmp/extenv/bin/pip install -e . statsforecast neuralforecast
    /tmp/extenv/bin/python benchmarks/real_series_external.py --aeon-dir /tmp/aeon_x
    /tmp/extenv/bin/python benchmarks/real_series_external.py --quick    # a smoke run

It writes ``results/real_series/external_per_series.csv`` and rewrites the BENCHMARKS.md
section of ``real_series.py`` with both halves.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_series import METRICS, RESULTS, chosen_cases, save_rows, write_report  # noqa: E402
from series_suite import SeriesCase  # noqa: E402

import tsattn  # noqa: E402
from tsattn.models.baselines.statsmodels_models import ARIMA_MAX_SEASON  # noqa: E402

KEYS = ["unique_id", "ds", "cutoff", "y"]
STATS_MODELS = ["AutoETS", "AutoARIMA", "AutoTheta"]
NEURAL_MODELS = ["PatchTST", "NHITS"]


def season_for(name: str, case: SeriesCase) -> int:
    """The frequency's season, except for AutoARIMA beyond :data:`ARIMA_MAX_SEASON` (weekly
    52, 15-minute 96, 30-minute 48): non-seasonal, as tsattn's AutoARIMA searches there."""
    if name == "AutoARIMA" and case.season_length > ARIMA_MAX_SEASON:
        return 1
    return case.season_length


def statsforecast_backtest(name: str, case: SeriesCase, windows: int) -> pd.DataFrame:
    """statsforecast's ``cross_validation`` (refit per window, ``step_size=h``): the cutoffs
    of ``tsattn.backtest(n_windows=windows)``."""
    import statsforecast.models as sf_models
    from statsforecast import StatsForecast

    model = getattr(sf_models, name)(season_length=season_for(name, case))
    sf = StatsForecast(models=[model], freq=case.freq, n_jobs=1)
    frame = sf.cross_validation(
        df=case.frame, h=case.h, n_windows=windows, step_size=case.h, refit=True
    )
    return frame.rename(columns={name: f"sf-{name}"})[KEYS + [f"sf-{name}"]]


def neuralforecast_backtest(
    name: str, case: SeriesCase, windows: int, max_steps: int | None
) -> pd.DataFrame:
    """neuralforecast's ``cross_validation`` (refit per window, ``step_size=h``)."""
    import neuralforecast.models as nf_models
    from neuralforecast import NeuralForecast

    options = dict(enable_progress_bar=False, enable_model_summary=False, logger=False)
    if max_steps is not None:
        options["max_steps"] = max_steps
    model = getattr(nf_models, name)(h=case.h, input_size=2 * case.h, **options)
    nf = NeuralForecast(models=[model], freq=case.freq)
    frame = nf.cross_validation(
        df=case.frame, n_windows=windows, step_size=case.h, refit=True
    ).reset_index(drop=True)
    return frame.rename(columns={name: f"nf-{name}"})[KEYS + [f"nf-{name}"]]


def score_case(case: SeriesCase, windows: int, models: list[str], nf_steps) -> pd.DataFrame:
    """One row per model: its metrics on ``case`` and its wall and CPU seconds."""
    rows = []
    for name in models:
        wall, cpu = time.perf_counter(), time.process_time()
        if name in STATS_MODELS:
            frame = statsforecast_backtest(name, case, windows)
        else:
            frame = neuralforecast_backtest(name, case, windows, nf_steps)
        seconds = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
        column = frame.columns[-1]
        table = tsattn.evaluate(
            frame, metrics=METRICS, train_df=case.frame, season_length=case.season_length
        )
        rows.append({"model": column, **table.set_index("metric")[column], **seconds})
    frame = pd.DataFrame(rows).assign(series=case.name, freq=case.freq, n=len(case.frame))
    return frame.assign(h=case.h)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("TSATTN_DATA_DIR"),
        required="TSATTN_DATA_DIR" not in os.environ,
        help="the data dir (the benchmark CSVs); default: $TSATTN_DATA_DIR",
    )
    parser.add_argument("--aeon-dir", default=None, help="unpacked aeon wheel (default: import)")
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--models", default=",".join(STATS_MODELS + NEURAL_MODELS))
    parser.add_argument("--series", default=None, help="comma-separated names (default: all)")
    parser.add_argument(
        "--nf-steps", type=int, default=None, help="neuralforecast max_steps (default: its own)"
    )
    parser.add_argument("--quick", action="store_true", help="4 series, 2 windows")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--out", default="external_per_series.csv", help="under results/")
    args = parser.parse_args()
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    cases = chosen_cases(args)
    if args.quick:
        args.windows = 2
    frames = []
    for case in cases:
        frames.append(score_case(case, args.windows, args.models.split(","), args.nf_steps))
        print(frames[-1].round(3).to_string(index=False), flush=True)
        if not args.no_write:  # what finished survives an interrupted run
            save_rows(pd.concat(frames, ignore_index=True), RESULTS / args.out)
    if not args.no_write:
        write_report(external_steps=args.nf_steps)


if __name__ == "__main__":
    main()
