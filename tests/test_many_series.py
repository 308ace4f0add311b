"""Frames built for all series at once equal the per-series frames pandas gives, one by one.

Ragged series (different starts, lengths and last dates) at several frequencies, tz-aware
ones and a multiple whose phase differs from series to series: the vectorised future dates,
regularity checks, forecast frames and backtest windows must match a per-series reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsattn import backtest
from tsattn.datasets import read_series
from tsattn.datasets.grid import future_dates, regular_series
from tsattn.models.baselines import Naive, SeasonalNaive

FREQS = ["h", "15min", "D", "B", "W-WED", "MS", "ME", "QS-OCT", "YE", "2MS", "SMS"]


def ragged_frame(freq: str, n_series: int = 7, seed: int = 0, tz: str | None = None):
    """Long frame of series on ``freq`` starting at different grid points (different lengths
    and last dates); ``2MS`` series start in different months, so in different phases."""
    rng = np.random.default_rng(seed)
    grid = pd.date_range("2001-03-01", periods=60, freq=freq, tz=tz)
    parts = []
    for i in range(n_series):
        start, length = int(rng.integers(0, 20)), int(rng.integers(8, 40))
        first = grid[start] + pd.DateOffset(months=int(freq == "2MS" and i % 2))
        ds = pd.date_range(first, periods=length, freq=freq)
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": rng.normal(size=length)}))
    return pd.concat(parts, ignore_index=True)


def per_series_future(last: pd.DatetimeIndex, h: int, freq) -> pd.DatetimeIndex:
    dates = [pd.date_range(t, periods=h + 1, freq=freq)[1:] for t in last]
    return dates[0].append(dates[1:])


@pytest.mark.parametrize("freq", FREQS)
def test_future_dates_equal_date_range_per_series(freq):
    last = pd.DatetimeIndex(ragged_frame(freq).groupby("unique_id")["ds"].last())
    got = future_dates(last, 5, freq)
    assert got.equals(per_series_future(last, 5, freq).as_unit("ns"))


DST_LAST = {  # last timestamps just before the spring and autumn clock changes in Berlin
    "h": ["2024-03-30 22:00", "2024-10-26 23:00", "2024-03-31 01:00"],
    "D": ["2024-03-30", "2024-10-26", "2024-03-29"],
    "MS": ["2024-03-01", "2024-10-01", "2024-02-01"],
}


@pytest.mark.parametrize("freq", list(DST_LAST))
def test_future_dates_keep_the_time_zone_across_daylight_saving(freq):
    last = pd.DatetimeIndex(DST_LAST[freq], tz="Europe/Berlin")
    got = future_dates(last, 48, freq)
    assert str(got.tz) == "Europe/Berlin"
    assert got.equals(per_series_future(last, 48, freq).as_unit("ns"))


def test_future_dates_off_the_shared_grid_are_pandas_own():
    """Timestamps off the offset (pandas rolls them forward) and an offset kind without a
    shared grid give exactly pandas' dates."""
    last = pd.DatetimeIndex(["2024-01-15", "2024-02-01", "2024-01-15"])
    assert future_dates(last, 3, "MS").equals(per_series_future(last, 3, "MS").as_unit("ns"))
    offset = pd.offsets.CustomBusinessDay(holidays=["2024-01-03"])
    assert future_dates(last, 4, offset).equals(per_series_future(last, 4, offset))


def test_future_dates_past_the_last_representable_date_raise():
    with pytest.raises(pd.errors.OutOfBoundsDatetime):
        future_dates(pd.DatetimeIndex(["2262-04-01"]), 30, "D")


def per_series_regular(frame: pd.DataFrame, freq: str) -> list[bool]:
    return [
        bool((pd.date_range(t.iloc[0], periods=len(t), freq=freq) == pd.DatetimeIndex(t)).all())
        for _, t in frame.groupby("unique_id", sort=False)["ds"]
    ]


@pytest.mark.parametrize("freq", FREQS)
def test_regular_series_never_claims_an_irregular_series(freq):
    frame = ragged_frame(freq, seed=1)
    gap = frame.index[frame["unique_id"] == "s3"][4]
    frame = frame.drop(index=gap).reset_index(drop=True)  # s3 loses a timestamp
    bounds = np.concatenate([[0], np.cumsum(frame.groupby("unique_id", sort=False).size())])
    got = regular_series(pd.DatetimeIndex(frame["ds"]), bounds, freq)
    expected = per_series_regular(frame, freq)
    assert not got[3] and not expected[3]
    assert (got <= np.array(expected)).all()  # False only means "check it one by one"
    if freq != "2MS":  # one phase: the shared grid shows every regular series
        assert got.tolist() == expected


@pytest.mark.parametrize("freq", [f for f in FREQS if f != "SMS"])  # pandas infers no SMS
def test_validation_and_the_forecast_frame_match_the_per_series_reference(freq):
    frame = ragged_frame(freq, seed=2)
    assert read_series(frame).equals(frame)
    forecast = Naive(h=4).fit(frame).predict()
    groups = frame.groupby("unique_id", sort=False)
    expected = pd.DataFrame(
        {
            "unique_id": np.repeat(list(groups.groups), 4),
            "ds": per_series_future(pd.DatetimeIndex(groups["ds"].last()), 4, freq),
            "Naive": np.repeat(groups["y"].last().to_numpy(), 4),
        }
    )
    pd.testing.assert_frame_equal(forecast, expected)


def test_a_gap_in_a_many_series_frame_names_the_same_series_as_before():
    frame = ragged_frame("MS", seed=3)
    gap = frame.index[frame["unique_id"] == "s4"][5]
    with pytest.raises(ValueError, match="series 's4' is not regular at frequency 'MS'"):
        read_series(frame.drop(index=gap))


def per_series_backtest(frame: pd.DataFrame, h: int, n_windows: int) -> pd.DataFrame:
    """The backtest of Naive, window by window and series by series."""
    rows = []
    for w in range(n_windows):
        for uid, group in frame.groupby("unique_id", sort=False):
            cut = len(group) - 1 - h * (n_windows - w)
            future = group.iloc[cut + 1 : cut + 1 + h]
            rows.append(
                pd.DataFrame(
                    {
                        "unique_id": uid,
                        "ds": future["ds"].to_numpy(),
                        "cutoff": group["ds"].iloc[cut],
                        "y": future["y"].to_numpy(),
                        "Naive": group["y"].iloc[cut],
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("freq", ["h", "B", "MS", "2MS"])
def test_backtest_windows_match_the_per_series_reference(freq):
    frame = ragged_frame(freq, seed=4)
    got = backtest(Naive(), frame, h=3, n_windows=2)
    pd.testing.assert_frame_equal(got, per_series_backtest(frame, h=3, n_windows=2))


def test_sliding_backtest_with_tz_aware_ragged_series_matches_one_by_one_fits():
    frame = ragged_frame("h", seed=5, tz="America/New_York")
    got = backtest(SeasonalNaive(season_length=3), frame, h=2, n_windows=2, window="sliding",
                   train_length=6)  # fmt: skip
    for (uid, cutoff), rows in got.groupby(["unique_id", "cutoff"], sort=False):
        series = frame[frame["unique_id"] == uid]
        train = series[series["ds"] <= cutoff].tail(6)
        alone = SeasonalNaive(season_length=3).fit(train).predict(h=2)
        assert rows["ds"].tolist() == alone["ds"].tolist()
        assert rows["SeasonalNaive"].tolist() == alone["SeasonalNaive"].tolist()
