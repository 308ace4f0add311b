"""Real single series cut from ../shared/data, for benchmarks of users' own-series forecasting.

Each entry is one univariate series with a frequency, a season length and a horizon, taken from
the benchmark files (single channels, some resampled): 15-minute, hourly, daily and weekly
data, 700 to 1,500 points. No statsmodels or pmdarima bundled data (kept for independent
acceptance checks).

    from series_suite import load_suite
    for case in load_suite(data_dir): ...
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class SeriesCase:
    """One series of the suite: a long frame (unique_id, ds, y) and how to forecast it."""

    name: str
    frame: pd.DataFrame
    freq: str
    season_length: int
    h: int


#: (name, file, column, resample rule or None, aggregation, last points, season, h)
SUITE = [
    ("etth1_ot_hourly", "ETTh1.csv.gz", "OT", None, "mean", 1500, 24, 24),
    ("etth2_hufl_hourly", "ETTh2.csv.gz", "HUFL", None, "mean", 1500, 24, 24),
    ("etth1_ot_daily", "ETTh1.csv.gz", "OT", "D", "mean", 700, 7, 14),
    ("ettm2_lufl_hourly", "ETTm2.csv.gz", "LUFL", "h", "mean", 1500, 24, 24),
    ("weather_temp_hourly", "weather.csv.gz", "T (degC)", "h", "mean", 1500, 24, 24),
    ("ettm1_ot_15min", "ETTm1.csv.gz", "OT", None, "mean", 1500, 96, 48),
    ("exchange_0_daily", "exchange_rate.csv.gz", "0", None, "mean", 1000, 7, 14),
    ("exchange_3_daily", "exchange_rate.csv.gz", "3", None, "mean", 1000, 7, 14),
    ("ili_weighted_weekly", "national_illness.csv.gz", "% WEIGHTED ILI", None, "mean", 700, 52, 8),
    ("ili_patients_weekly", "national_illness.csv.gz", "ILITOTAL", None, "mean", 700, 52, 8),
]


def load_suite(data_dir: str | Path) -> list[SeriesCase]:
    """The suite's series read from ``data_dir`` (the benchmark CSVs)."""
    cache: dict[str, pd.DataFrame] = {}
    cases = []
    for name, file, column, rule, how, last, season, h in SUITE:
        if file not in cache:
            raw = pd.read_csv(Path(data_dir) / file)
            raw["date"] = pd.to_datetime(raw["date"])
            cache[file] = raw.set_index("date")
        series = cache[file][column].astype(float)
        if rule is not None:
            series = getattr(series.resample(rule), how)()
        series = series.iloc[-last:]
        freq = pd.infer_freq(series.index[:50]) or rule
        frame = pd.DataFrame({"unique_id": name, "ds": series.index, "y": series.to_numpy()})
        cases.append(SeriesCase(name, frame, freq, season, h))
    return cases
