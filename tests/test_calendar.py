"""Calendar features (tsattn/datasets/calendar.py): names per frequency, columns, exact sin/cos
values at known timestamps, any timestamp unit and time zone, and public holidays."""

from __future__ import annotations

import builtins

import numpy as np
import pandas as pd
import pytest

from tsattn.datasets.calendar import (
    CALENDAR_FEATURES,
    HOLIDAYS_HINT,
    calendar_columns,
    calendar_features,
    calendar_names,
    holiday_names,
)


# ---------------------------------------------------------------------- names per frequency
@pytest.mark.parametrize(
    ("freq", "expected"),
    [
        ("h", ("hour", "dayofweek", "dayofmonth", "dayofyear")),
        ("15min", ("hour", "dayofweek", "dayofmonth", "dayofyear")),
        ("D", ("dayofweek", "dayofmonth", "dayofyear")),
        ("B", ("dayofweek", "dayofmonth", "dayofyear")),
        ("24h", ("dayofweek", "dayofmonth", "dayofyear")),  # a day of hours: no hour of day
        ("W", ("dayofmonth", "dayofyear")),
        ("7D", ("dayofmonth", "dayofyear")),  # always the same weekday
        ("MS", ("month",)),
        ("ME", ("month",)),
        ("QS", ("month",)),
        ("YS", ()),
        ("12MS", ()),  # always the same month
    ],
)
def test_calendar_true_gives_the_features_that_vary_at_the_frequency(freq, expected):
    assert calendar_names(True, freq) == expected


@pytest.mark.parametrize("off", [None, False, []])
def test_no_calendar(off):
    assert calendar_names(off, "h") == ()
    assert calendar_names(off, "1") == ()  # nothing asked of an integer axis: no error


def test_named_features_come_back_checked_in_the_canonical_order():
    assert calendar_names(["month", "hour"], "D") == ("hour", "month")
    assert calendar_names("dayofweek", "D") == ("dayofweek",)
    assert calendar_names(list(CALENDAR_FEATURES), "MS") == CALENDAR_FEATURES


def test_unknown_feature_gets_a_did_you_mean_and_the_valid_names():
    with pytest.raises(ValueError, match=r"'dayofweak'.*did you mean 'dayofweek'.*month"):
        calendar_names(["hour", "dayofweak"], "h")
    with pytest.raises(ValueError, match="did you mean 'hour'"):
        calendar_columns(["hours"], None)
    with pytest.raises(ValueError, match="listed twice: hour"):
        calendar_names(["hour", "hour"], "h")
    with pytest.raises(ValueError, match="True, False, None or a list"):
        calendar_names(3, "h")


@pytest.mark.parametrize("calendar", [True, ["hour"]])
def test_integer_axis_has_no_calendar(calendar):
    with pytest.raises(ValueError, match=r"integer steps \(freq='1'\), which have no calendar"):
        calendar_names(calendar, "1")


def test_bad_frequency_is_reported():
    with pytest.raises(ValueError, match="not a pandas frequency"):
        calendar_names(True, "fortnightly")


# ---------------------------------------------------------------------- columns and values
def test_columns_are_sin_cos_pairs_in_order_then_holiday():
    assert calendar_columns(["dayofyear", "hour"], None) == (
        "hour_sin", "hour_cos", "dayofyear_sin", "dayofyear_cos",
    )  # fmt: skip
    assert calendar_columns([], None) == ()


def test_exact_values_at_known_timestamps():
    dates = pd.DatetimeIndex(["2024-01-01 06:00", "2024-01-04 18:00", "2024-07-01 00:00"])
    # 2024-01-01 is a Monday (dayofweek 0), 2024-01-04 a Thursday (3); 2024 is a leap year
    out = calendar_features(dates, CALENDAR_FEATURES)
    assert out.shape == (3, 10) and out.dtype == np.float64
    two_pi = 2 * np.pi
    phases = np.array(
        [
            [6 / 24, 0 / 7, 0 / 31, 0 / 366, 0 / 12],
            [18 / 24, 3 / 7, 3 / 31, 3 / 366, 0 / 12],
            [0 / 24, 0 / 7, 0 / 31, 182 / 366, 6 / 12],
        ]
    )
    np.testing.assert_allclose(out[:, 0::2], np.sin(two_pi * phases), atol=1e-12)
    np.testing.assert_allclose(out[:, 1::2], np.cos(two_pi * phases), atol=1e-12)
    np.testing.assert_allclose(out[0, :2], [1.0, 0.0], atol=1e-12)  # 06:00: sin 1, cos 0
    np.testing.assert_allclose(out[1, :2], [-1.0, 0.0], atol=1e-12)  # 18:00: sin -1, cos 0
    np.testing.assert_allclose(out[2, 8:], [0.0, -1.0], atol=1e-12)  # July: half a year


def test_month_lengths_and_leap_years_set_the_phase():
    dates = pd.DatetimeIndex(["2023-02-15", "2023-12-31", "2024-12-31"])
    out = calendar_features(dates, ["dayofmonth", "dayofyear"])
    phases = np.array([[14 / 28, 45 / 365], [30 / 31, 364 / 365], [30 / 31, 365 / 366]])
    angles = 2 * np.pi * phases
    np.testing.assert_allclose(out[:, 0::2], np.sin(angles), atol=1e-12)
    np.testing.assert_allclose(out[:, 1::2], np.cos(angles), atol=1e-12)
    np.testing.assert_allclose(out[0, :2], [0.0, -1.0], atol=1e-12)  # mid-February: half way


def test_no_features_give_an_empty_matrix():
    assert calendar_features(pd.date_range("2024-01-01", periods=4, freq="D"), []).shape == (4, 0)


def test_tz_aware_dates_use_local_wall_time():
    utc = pd.DatetimeIndex(["2024-01-01 11:00", "2024-01-01 23:00"], tz="UTC")
    local = utc.tz_convert("Asia/Tokyo")  # UTC+9: 20:00 on Jan 1, 08:00 on Jan 2 (Tuesday)
    naive = pd.DatetimeIndex(["2024-01-01 20:00", "2024-01-02 08:00"])
    names = ["hour", "dayofweek", "dayofyear"]
    np.testing.assert_array_equal(calendar_features(local, names), calendar_features(naive, names))
    assert not np.allclose(calendar_features(utc, names), calendar_features(local, names))


def test_any_timestamp_unit_gives_the_same_features():
    ns = pd.date_range("2000-01-01", periods=30, freq="17h")
    names = list(CALENDAR_FEATURES)
    np.testing.assert_array_equal(
        calendar_features(ns.as_unit("us"), names), calendar_features(ns, names)
    )
    old = pd.DatetimeIndex(np.array(["1659-07-01", "1659-01-01"], dtype="datetime64[us]"))
    out = calendar_features(old, ["month"])  # outside the nanosecond range
    np.testing.assert_allclose(out, [[0.0, -1.0], [0.0, 1.0]], atol=1e-12)


def test_integer_dates_are_refused():
    with pytest.raises(ValueError, match="need timestamps"):
        calendar_features(pd.Index([1, 2, 3]), ["hour"])


# ---------------------------------------------------------------------- holidays
def test_holidays_of_a_country():
    pytest.importorskip("holidays")
    assert holiday_names("US") == ("holiday",) and holiday_names(None) == ()
    assert calendar_columns(["month"], "US") == ("month_sin", "month_cos", "holiday")
    dates = pd.DatetimeIndex(["2024-12-24", "2024-12-25 15:30", "2024-07-04", "2024-07-05"])
    out = calendar_features(dates, ["month"], "US")
    assert out.shape == (4, 3)
    np.testing.assert_array_equal(out[:, 2], [0.0, 1.0, 1.0, 0.0])
    # microseconds, and years no holiday calendar covers (before the country's, beyond 9999)
    days = ["2024-12-25", "2024-12-24", "1659-12-25", "12024-12-25"]
    coarse = pd.DatetimeIndex(np.array(days, dtype="datetime64[us]"))
    assert calendar_features(coarse, [], "US")[:, 0].tolist() == [1.0, 0.0, 0.0, 0.0]


def test_holidays_use_the_local_date_of_tz_aware_timestamps():
    pytest.importorskip("holidays")
    # 2024-12-25 03:00 UTC is still Christmas Eve in New York, and Christmas in Tokyo
    stamp = pd.DatetimeIndex(["2024-12-25 03:00"], tz="UTC")
    assert calendar_features(stamp.tz_convert("America/New_York"), [], "US")[0, 0] == 0.0
    assert calendar_features(stamp, [], "US")[0, 0] == 1.0


def test_unknown_country_is_named_with_a_suggestion():
    pytest.importorskip("holidays")
    with pytest.raises(ValueError, match=r"unknown holiday country 'XX'.*such as US, GB"):
        holiday_names("XX")
    with pytest.raises(ValueError, match="did you mean 'US'"):
        calendar_features(pd.DatetimeIndex(["2024-01-01"]), [], "us")
    with pytest.raises(ValueError, match="'Germany' \\(did you mean 'DE'"):
        calendar_columns([], "Germany")


def test_missing_holidays_package_says_how_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_holidays(name, *args, **kwargs):
        if name == "holidays":
            raise ImportError("No module named 'holidays'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_holidays)
    with pytest.raises(ImportError, match=r'pip install "tsattn\[holidays\]"'):
        holiday_names("US")
    assert HOLIDAYS_HINT == 'install the holidays extra: pip install "tsattn[holidays]"'
