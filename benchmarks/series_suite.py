"""Real single series cut from the data dir, for benchmarks of users' own-series forecasting.

Each entry is one univariate series with a frequency, a season length and a horizon, taken from
the benchmark files (single channels, some resampled): 15-minute, hourly, daily and weekly
data, 700 to 1,500 points. No statsmodels or pmdarima bundled data (kept for independent
acceptance checks).

    from series_suite import load_suite
    for case in load_suite(data_dir): ...

A larger suite for the real-series accuracy benchmark (``load_real_suite``): 18 series at eight
frequencies (30-minute to yearly), 53 to 3,000 points: the benchmark files resampled to weekly,
monthly and quarterly as well, plus three series bundled inside the ``aeon`` package (a
half-hourly solar generation record and the two longest yearly series of the M1 competition).
The aeon files are read from an installed ``aeon`` or from a folder holding its unpacked wheel
(``pip download aeon==1.6.0 --no-deps`` and unzip), given as ``aeon_dir``.
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
    return _load_cases(SUITE, data_dir)


#: the real-series benchmark's series from the benchmark files, in :data:`SUITE`'s format
REAL_SUITE = [
    ("ettm1_ot_15min", "ETTm1.csv.gz", "OT", None, "mean", 2000, 96, 48),
    ("ettm2_hufl_15min", "ETTm2.csv.gz", "HUFL", None, "mean", 1500, 96, 48),
    ("etth1_ot_hourly", "ETTh1.csv.gz", "OT", None, "mean", 1500, 24, 24),
    ("etth2_hufl_hourly", "ETTh2.csv.gz", "HUFL", None, "mean", 1500, 24, 24),
    ("weather_temp_hourly", "weather.csv.gz", "T (degC)", "h", "mean", 1500, 24, 24),
    ("etth1_ot_daily", "ETTh1.csv.gz", "OT", "D", "mean", 700, 7, 14),
    ("weather_pressure_daily", "weather.csv.gz", "p (mbar)", "D", "mean", 366, 7, 14),
    ("exchange_0_daily", "exchange_rate.csv.gz", "0", None, "mean", 3000, 7, 14),
    ("ili_weighted_weekly", "national_illness.csv.gz", "% WEIGHTED ILI", None, "mean", 700, 52, 8),
    ("ili_patients_weekly", "national_illness.csv.gz", "ILITOTAL", None, "mean", 700, 52, 8),
    ("exchange_2_weekly", "exchange_rate.csv.gz", "2", "W", "mean", 1000, 52, 8),
    ("exchange_1_monthly", "exchange_rate.csv.gz", "1", "MS", "mean", 300, 12, 12),
    ("ili_age0_4_monthly", "national_illness.csv.gz", "AGE 0-4", "MS", "mean", 300, 12, 12),
    ("exchange_6_quarterly", "exchange_rate.csv.gz", "6", "QS", "mean", 100, 4, 4),
    ("ili_quarterly", "national_illness.csv.gz", "% WEIGHTED ILI", "QS", "mean", 100, 4, 4),
]  # fmt: skip
#: series bundled in aeon: (name, file under aeon/datasets/data, what to read, season, h)
AEON_SUITE = [
    ("aeon_solar_30min", "solar/solar.csv", "solar_gen", 48, 24),
    ("m1_yearly_t13", "m1_yearly_dataset/m1_yearly_dataset.tsf", "T13", 1, 6),
    ("m1_yearly_t45", "m1_yearly_dataset/m1_yearly_dataset.tsf", "T45", 1, 6),
]


def load_real_suite(data_dir: str | Path, aeon_dir: str | Path | None = None) -> list[SeriesCase]:
    """The real-series benchmark's 18 series: :data:`REAL_SUITE` from ``data_dir`` and
    :data:`AEON_SUITE` from aeon's bundled data (``aeon_dir``: a folder holding the unpacked
    ``aeon`` package; default the installed one)."""
    data = _aeon_data_dir(aeon_dir)
    cases = _load_cases(REAL_SUITE, data_dir)
    for name, file, key, season, h in AEON_SUITE:
        series = _read_aeon_series(data / file, key)
        freq = pd.infer_freq(series.index)
        frame = pd.DataFrame({"unique_id": name, "ds": series.index, "y": series.to_numpy()})
        cases.append(SeriesCase(name, frame, freq, season, h))
    return cases


def _load_cases(spec: list[tuple], data_dir: str | Path) -> list[SeriesCase]:
    """One :class:`SeriesCase` per row of ``spec`` (:data:`SUITE`'s format)."""
    cache: dict[str, pd.DataFrame] = {}
    cases = []
    for name, file, column, rule, how, last, season, h in spec:
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


def _aeon_data_dir(aeon_dir: str | Path | None) -> Path:
    """aeon's ``datasets/data`` folder: under ``aeon_dir`` or in the installed package."""
    if aeon_dir is None:
        try:
            import aeon
        except ImportError:
            raise FileNotFoundError(
                "the real-series suite reads three series bundled in aeon: pip install aeon, "
                "or unzip its wheel (pip download aeon==1.6.0 --no-deps) and pass its folder "
                "as aeon_dir (--aeon-dir)"
            ) from None
        return Path(aeon.__file__).parent / "datasets" / "data"
    return Path(aeon_dir) / "aeon" / "datasets" / "data"


def _read_aeon_series(path: Path, key: str) -> pd.Series:
    """One series of an aeon file: a column of a CSV whose first column holds the dates, or
    the series named ``key`` of a yearly ``.tsf`` file (name:start:values)."""
    if path.suffix == ".csv":
        raw = pd.read_csv(path)
        index = pd.to_datetime(raw.iloc[:, 0]).dt.tz_localize(None)
        return pd.Series(raw[key].astype(float).to_numpy(), index=index)
    for line in path.read_text().splitlines():
        if line.startswith(f"{key}:"):
            _, start, values = line.split(":")
            y = [float(v) for v in values.split(",")]
            first = pd.Timestamp(start.split(" ")[0])
            return pd.Series(y, index=pd.date_range(first, periods=len(y), freq="YS"))
    raise KeyError(f"no series {key!r} in {path}")
