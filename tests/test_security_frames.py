"""Dates, frequencies, ids and inputs that used to corrupt data silently (issue 12, part 4
and the non-frame inputs of part 6): each is now read right or refused with a ValueError
naming the column and the fix."""

from __future__ import annotations

import datetime as dt
import gzip

import numpy as np
import pandas as pd
import pytest

from tsattn import Naive, backtest
from tsattn.datasets import (
    infer_frequency,
    read_series,
    to_gluonts,
    to_long,
    to_wide,
    validate_long_frame,
)
from tsattn.datasets.timestamps import parse_times
from tsattn.datasets.validation import check_input


def frame(ds, ids="a", y=None) -> pd.DataFrame:
    y = np.arange(len(ds), dtype=float) if y is None else y
    return pd.DataFrame({"unique_id": ids, "ds": ds, "y": y})


# ---- day-first date strings ----------------------------------------------------------

DAY_FIRST = [f"{d:02d}/01/2024" for d in range(1, 13)]  # 1..12 January, day first


def test_ambiguous_day_first_strings_are_refused_naming_dayfirst():
    # was: read month first without a word, 12 days became 12 month starts
    with pytest.raises(ValueError) as err:
        read_series(frame(DAY_FIRST))
    message = str(err.value)
    assert "column 'ds'" in message and "'02/01/2024'" in message
    assert "dayfirst=True" in message and "format='%d/%m/%Y'" in message
    with pytest.raises(ValueError, match="dayfirst"):  # fit / predict validate the same way
        validate_long_frame(frame(DAY_FIRST))
    with pytest.raises(ValueError, match="dayfirst"):
        Naive(h=1).fit(frame(DAY_FIRST))


def test_dayfirst_argument_settles_the_order():
    days = pd.date_range("2024-01-01", periods=12, freq="D")
    assert read_series(frame(DAY_FIRST), dayfirst=True)["ds"].tolist() == list(days)
    months = pd.date_range("2024-01-01", periods=12, freq="MS")
    assert read_series(frame(DAY_FIRST), dayfirst=False)["ds"].tolist() == list(months)
    wide = pd.DataFrame({"date": DAY_FIRST, "a": np.arange(12.0)})
    assert read_series(wide, time_col="date", dayfirst=True)["ds"].tolist() == list(days)


def test_a_day_above_twelve_settles_the_order_and_mixed_orders_are_refused():
    # was: the format was guessed from the first value and 13/01/2024 became "not a date"
    days = [f"{d:02d}/01/2024" for d in range(1, 15)]
    out = read_series(frame(days))
    assert out["ds"].tolist() == list(pd.date_range("2024-01-01", periods=14, freq="D"))
    month_first = [f"01/{d:02d}/2024" for d in range(1, 15)]
    assert read_series(frame(month_first))["ds"].iloc[-1] == pd.Timestamp("2024-01-14")
    with pytest.raises(ValueError, match="mixes day-first .* and month-first"):
        read_series(frame(["13/01/2024", "01/14/2024"]))


def test_a_date_that_contradicts_dayfirst_is_refused():
    # was: pandas silently read "01/13/2024" month first despite dayfirst=True
    with pytest.raises(ValueError, match="'01/13/2024' cannot be read with dayfirst=True"):
        read_series(frame(["01/12/2024", "01/13/2024"]), dayfirst=True)
    with pytest.raises(ValueError, match="'13/01/2024' cannot be read with dayfirst=False"):
        read_series(frame(["12/01/2024", "13/01/2024"]), dayfirst=False)


def test_unambiguous_strings_still_parse():
    iso = [f"2024-01-{d:02d}" for d in range(1, 13)]
    assert read_series(frame(iso))["ds"].iloc[-1] == pd.Timestamp("2024-01-12")
    same = pd.Series(["01/01/2024", "02/02/2024", "03/03/2024"])  # the same either way
    assert parse_times(same, "ds").dt.month.tolist() == [1, 2, 3]


# ---- calendar frequencies ------------------------------------------------------------


@pytest.mark.parametrize("freq", ["MS", "ME", "QS-OCT", "QE-DEC", "YS-JAN", "YE-DEC", "B"])
def test_calendar_frequency_with_a_gap_is_inferred(freq):
    # was: the modal step ("31D", "92D", "365D", "1D") that fill= then failed on
    full = pd.date_range("2001-01-01", periods=40, freq=freq)
    gappy = full.delete([5, 6, 20])
    assert infer_frequency(gappy) == pd.infer_freq(full)
    out = read_series(frame(gappy), fill="ffill")
    assert out["ds"].tolist() == list(full)


def test_monthly_series_with_a_gap_names_ms_and_fill_works():
    months = pd.date_range("1900-01-01", periods=733, freq="MS").delete(100)
    with pytest.raises(ValueError) as err:
        read_series(frame(months))
    assert "not regular at frequency 'MS'" in str(err.value) and "fill=" in str(err.value)
    assert len(read_series(frame(months), fill="interpolate")) == 733
    with pytest.raises(ValueError, match="or if it is not 'W', freq='MS'"):
        read_series(frame(months.delete(range(100, 700))), freq="W")


def test_weekly_with_a_gap_agrees_with_a_regular_weekly_series():
    weeks = pd.date_range("2024-01-07", periods=10, freq="W")
    both = pd.concat([frame(weeks, "a"), frame(weeks.delete(4), "b")])
    assert validate_long_frame(both, fill="zero").freq == "W-SUN"


def test_daily_with_a_gap_stays_daily():
    days = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05"])
    assert infer_frequency(days) == "D"  # all business days, but 'D' reads them as simply
    assert infer_frequency(pd.date_range("2024-01-01", periods=30, freq="D").delete(9)) == "D"


# ---- fill that would invent most of the data ---------------------------------------


def test_fill_refuses_to_multiply_the_rows():
    # was: 732 monthly rows became 22,281 daily rows, following the error's own advice
    months = pd.date_range("1900-01-01", periods=733, freq="MS").delete(100)
    with pytest.raises(ValueError) as err:
        read_series(frame(months), freq="D", fill="ffill")
    message = str(err.value)
    assert "series 'a'" in message and "732 observations" in message
    assert "most values would be made up" in message and "freq='MS'" in message


def test_fill_of_a_few_gaps_is_still_allowed():
    days = pd.date_range("2024-01-01", periods=20, freq="D")
    assert len(read_series(frame(days[::2].append(days[-1:])), freq="D", fill="zero")) == 20


# ---- long frames whose id column is not unique_id ----------------------------------

DAYS = pd.date_range("2024-01-01", periods=6, freq="D")


@pytest.mark.parametrize(
    "ids", [["a"] * 6 + ["b"] * 6, [1] * 6 + [2] * 6, ["a"] * 12], ids=["str", "int", "one"]
)
def test_long_frame_with_another_id_column_names_id_col(ids):
    # was: taken as wide; "convert or drop" the id column, or a duplicate-timestamp error
    ds = list(DAYS) * 2 if len(set(ids)) > 1 else pd.date_range("2024-01-01", periods=12)
    df = pd.DataFrame({"id": ids, "ds": ds, "y": np.arange(12.0)})
    for call in (lambda: read_series(df), lambda: Naive(h=1).fit(df)):
        with pytest.raises(ValueError) as err:
            call()
        assert "column 'id' looks like a series id column" in str(err.value)
        assert "id_col='id'" in str(err.value)
    assert len(read_series(df, id_col="id")) == 12


def test_wide_frames_with_repeated_values_are_still_wide():
    wide = pd.DataFrame({"ds": DAYS, "flat": 0.0, "b": [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]})
    assert read_series(wide)["unique_id"].unique().tolist() == ["flat", "b"]


# ---- tuple ids -----------------------------------------------------------------------


@pytest.mark.parametrize("fill", [None, "ffill"])
def test_container_ids_are_refused(fill):
    # was: accepted; with fill= one series split in pieces ("arrays must be the same length")
    df = frame(DAYS, ids=[("a", 1)] * 6).drop(index=2)
    with pytest.raises(ValueError) as err:
        read_series(df, fill=fill, freq="D")
    message = str(err.value)
    assert "column 'unique_id'" in message and "not tuple" in message
    assert "('a', 1)" in message and "'_'.join" in message
    with pytest.raises(ValueError, match="not list"):
        read_series(frame(DAYS, ids=pd.Series([["a"]] * 6)))


# ---- dates outside pandas' nanosecond range ------------------------------------------


@pytest.mark.parametrize(
    "ds",
    [
        pd.date_range("2300-01-01", periods=6, freq="D", unit="s"),
        [dt.datetime(3000, 1, d) for d in range(1, 7)],
        [f"3000-01-0{d}" for d in range(1, 7)],
        pd.date_range("1500-01-01", periods=6, freq="D", unit="s"),
    ],
    ids=["datetime64-s", "datetime", "str", "before-1677"],
)
def test_dates_outside_the_nanosecond_range_read_in_microseconds(ds):
    # was: datetime64[s] passed fit and failed at predict ("forecast fewer steps"); others
    # said "missing or not dates"; then (issue 22) they are read in microseconds
    out = read_series(frame(ds))
    assert out["ds"].dtype == "datetime64[us]"
    assert out["ds"].tolist() == list(pd.to_datetime(pd.Series(ds).astype("datetime64[us]")))
    forecast = Naive(h=1).fit(frame(ds)).predict()
    assert forecast["ds"].iloc[0] - out["ds"].iloc[-1] == pd.Timedelta(days=1)


def test_second_resolution_dates_in_range_become_nanoseconds():
    out = read_series(frame(pd.date_range("2024-01-01", periods=6, freq="D", unit="s")))
    assert out["ds"].dtype == "datetime64[ns]"


# ---- non-frame inputs ----------------------------------------------------------------

NOT_FRAMES = {
    "none": (None, "got None"),
    "number": (3, "got an int"),
    "array": (np.arange(6.0), "pd.DataFrame({'ds': dates, 'y': values})"),
    "series": (pd.Series(np.arange(6.0), index=DAYS), "series.rename('y').to_frame()"),
    "dict": ({"ds": DAYS}, "pd.DataFrame(mapping)"),
}


@pytest.mark.parametrize("value, hint", NOT_FRAMES.values(), ids=NOT_FRAMES.keys())
def test_non_frame_inputs_are_one_value_error(value, hint):
    # was: TypeError / AttributeError from wherever the value first got used
    with pytest.raises(ValueError, match="df must be a pandas DataFrame") as err:
        check_input(value, "df")
    assert hint in str(err.value)
    calls = [
        lambda: read_series(value),
        lambda: validate_long_frame(value),
        lambda: to_long(value),
        lambda: to_wide(value),
        lambda: to_gluonts(value),
        lambda: backtest(Naive(h=1), value, h=1),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="must be a pandas DataFrame"):
            call()


def test_series_hint_works():
    series = pd.Series(np.arange(6.0), index=DAYS)
    assert len(read_series(series.rename("y").to_frame())) == 6
    assert len(read_series(series.rename("y").rename_axis("ds").reset_index())) == 6


def test_paths_only_where_asked():
    with pytest.raises(ValueError, match="path must be a file path, got a DataFrame"):
        check_input(frame(DAYS), "path", frame=False, path=True)
    assert check_input("model.safetensors", "path", frame=False, path=True)


@pytest.mark.parametrize(
    "content, name",
    [(None, "missing.csv"), (b"", "empty.csv"), (b"\x1f\x8b\x08garbage", "bad.csv.gz")],
    ids=["missing", "empty", "corrupt-gzip"],
)
def test_unreadable_csv_is_a_value_error_naming_the_file(tmp_path, content, name):
    # was: FileNotFoundError, EmptyDataError, BadGzipFile from inside pandas
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=f"{name}.*(no such file|is empty|not decompress)"):
        read_series(path)


def test_gzipped_csv_still_reads(tmp_path):
    path = tmp_path / "ok.csv.gz"
    with gzip.open(path, "wt") as fh:
        frame(DAYS).to_csv(fh, index=False)
    assert len(read_series(path)) == 6
