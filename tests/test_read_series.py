"""Users' own series: read_series, validation errors, fill policies and conversions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsattn.datasets import (
    ID_COL,
    TARGET_COL,
    TIME_COL,
    infer_frequency,
    read_series,
    to_gluonts,
    to_long,
    to_wide,
    validate_long_frame,
)

DAYS = pd.date_range("2024-01-01", periods=6, freq="D")


def wide() -> pd.DataFrame:
    return pd.DataFrame({"date": DAYS, "a": np.arange(6.0), "b": np.arange(6.0) * 10})


def long(ids=("a", "b"), n: int = 6) -> pd.DataFrame:
    return to_long(wide().iloc[:n], time_col="date", value_cols=list(ids))


# ---- accepted inputs -------------------------------------------------------------------


def test_wide_frame_becomes_canonical_long():
    out = read_series(wide(), time_col="date")
    assert list(out.columns) == [ID_COL, TIME_COL, TARGET_COL] == ["unique_id", "ds", "y"]
    assert out[ID_COL].tolist() == ["a"] * 6 + ["b"] * 6
    assert out[TIME_COL].tolist() == list(DAYS) * 2
    assert out[TARGET_COL].dtype == np.float64


def test_value_cols_and_datetime_index_and_csv_path(tmp_path):
    assert read_series(wide(), time_col="date", value_cols=["b"])[ID_COL].unique().tolist() == ["b"]
    assert len(read_series(wide().set_index("date"))) == 12
    path = tmp_path / "series.csv"
    wide().to_csv(path, index=False)
    pd.testing.assert_frame_equal(
        read_series(path, time_col="date"), read_series(wide(), time_col="date")
    )


def test_long_frame_with_own_column_names_interleaved_by_time():
    frame = long().rename(columns={ID_COL: "store", TIME_COL: "when", TARGET_COL: "sales"})
    frame = frame.sort_values(["when", "store"])  # rows of the two series interleaved
    out = read_series(frame, id_col="store", time_col="when", target_col="sales")
    pd.testing.assert_frame_equal(out, long())


def test_target_col_selects_one_wide_column():
    out = read_series(wide(), time_col="date", target_col="b")
    assert out[ID_COL].unique().tolist() == ["b"] and out[TARGET_COL].iloc[1] == 10.0


def test_canonical_frame_is_recognised_without_arguments():
    pd.testing.assert_frame_equal(read_series(long()), long())


def test_validate_long_frame_returns_frame_and_freq():
    result = validate_long_frame(long())
    assert result.freq == "D"
    frame, freq = result
    assert len(frame) == 12 and freq == "D"


@pytest.mark.parametrize(
    "index, expected",
    [
        (pd.date_range("2024-01-01", periods=5, freq="h"), "h"),
        (pd.date_range("2024-01-01", periods=5, freq="MS"), "MS"),
        (pd.date_range("2024-01-01", periods=2, freq="15min"), "15min"),
        (pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05"]), "D"),
    ],
)
def test_infer_frequency(index, expected):
    assert infer_frequency(index) == expected


def test_explicit_freq_is_used():
    frame = long().iloc[::2]  # every other day
    assert validate_long_frame(frame).freq == "2D"
    with pytest.raises(ValueError, match="not regular at frequency 'D'"):
        validate_long_frame(frame, freq="D")


# ---- bad frames: one error each, naming the problem and the fix ---------------------------


def with_row(frame: pd.DataFrame, row: int, **values) -> pd.DataFrame:
    frame = frame.copy()
    for column, value in values.items():
        frame[column] = frame[column].astype(object) if isinstance(value, str) else frame[column]
        frame.loc[row, column] = value
    return frame


def swap_rows(frame: pd.DataFrame, i: int, j: int) -> pd.DataFrame:
    order = list(range(len(frame)))
    order[i], order[j] = j, i
    return frame.iloc[order].reset_index(drop=True)


@pytest.mark.parametrize(
    "make, patterns",
    [
        (lambda: swap_rows(long(), 8, 9), ["series 'b'", "not in time order", "sort"]),
        (
            lambda: with_row(long(), 9, ds=DAYS[2]),
            ["series 'b'", "duplicate timestamp 2024-01-03"],
        ),
        (
            lambda: long().drop(index=[3, 4]),
            ["series 'a'", "first offending timestamp 2024-01-06", "fill="],
        ),
        (lambda: with_row(long(), 7, y=np.nan), ["column 'y'", "1 NaN/inf", "'b': 1", "fill="]),
        (lambda: with_row(long(), 0, y=np.inf), ["NaN/inf", "'a': 1"]),
        (lambda: with_row(long(), 2, y="n/a"), ["column 'y'", "non-numeric", "series 'a'", "n/a"]),
        (lambda: with_row(long(), 2, ds="someday"), ["column 'ds'", "not dates", "someday"]),
        (lambda: long().iloc[:0], ["empty"]),
        (lambda: long().iloc[[0, 6]], ["single timestamp", "freq="]),
        (
            lambda: pd.concat([long(("a",)), long(("b",)).iloc[::2]]),
            ["different frequencies", "'D'", "'2D'", "freq="],
        ),
    ],
    ids=[
        "unsorted",
        "duplicate",
        "gap",
        "nan",
        "inf",
        "non-numeric",
        "bad-date",
        "empty",
        "no-freq",
        "mixed-freq",
    ],
)
def test_bad_long_frames(make, patterns):
    with pytest.raises(ValueError) as err:
        read_series(make())
    for pattern in patterns:
        assert pattern in str(err.value)


def test_missing_columns_are_listed_with_the_available_ones():
    with pytest.raises(ValueError) as err:
        read_series(long(), id_col="store", target_col="sales")
    message = str(err.value)
    assert "'store' (id_col=)" in message and "'sales' (target_col=)" in message
    assert "available columns: 'unique_id', 'ds', 'y'" in message
    with pytest.raises(ValueError, match=r"missing column\(s\) 'ds' \(time_col=\).*'date'"):
        read_series(wide())
    with pytest.raises(ValueError, match=r"'c' \(value_cols=\)"):
        read_series(wide(), time_col="date", value_cols=["a", "c"])


def test_non_numeric_wide_column_is_named():
    frame = with_row(wide(), 1, b="oops")
    with pytest.raises(
        ValueError, match=r"column 'b': 1 non-numeric value\(s\) \(first: 'oops' at row 1, date "
    ):
        read_series(frame, time_col="date")


@pytest.mark.parametrize(
    "ds, first, count",
    [
        (np.arange(6) * 86400.0, "first: 0.0", 6),  # integer columns are time steps
        (pd.Series(list(DAYS[:5]) + [7], dtype=object), "first: 7", 1),
        (pd.Series(list(DAYS[:5]) + [1.5], dtype=object), "first: 1.5", 1),
    ],
    ids=["float", "object-int", "object-float"],
)
def test_numbers_in_the_time_column_are_refused(ds, first, count):
    frame = long(("a",)).assign(ds=ds)
    with pytest.raises(ValueError) as err:
        read_series(frame)
    message = str(err.value)
    assert "column 'ds' holds numbers, not timestamps" in message
    assert f"({count} value(s), {first})" in message
    assert "pd.to_datetime(df['ds'], unit='s')" in message
    with pytest.raises(ValueError, match="holds numbers"):  # fit/predict validate the same way
        validate_long_frame(frame)


def test_numbers_in_a_wide_time_column_and_in_a_csv_are_refused(tmp_path):
    frame = wide().assign(date=[20240101.0 + i for i in range(6)])  # ints: time steps
    with pytest.raises(ValueError, match="column 'date' holds numbers.*first: 20240101"):
        read_series(frame, time_col="date")
    path = tmp_path / "series.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match="column 'date' holds numbers"):
        read_series(path, time_col="date")
    days = frame["date"].astype(int).astype(str)
    parsed = frame.assign(date=pd.to_datetime(days, format="%Y%m%d"))
    assert read_series(parsed, time_col="date")[TIME_COL].tolist() == list(DAYS) * 2


def test_missing_times_in_an_object_column_are_still_missing_not_numbers():
    frame = long(("a",)).assign(ds=pd.Series(list(DAYS[:5]) + [np.nan], dtype=object))
    with pytest.raises(ValueError, match="missing or not dates"):
        read_series(frame)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown fill 'mean'"):
        read_series(long(), fill="mean")
    with pytest.raises(ValueError, match="with id_col use target_col"):
        read_series(long(), id_col=ID_COL, value_cols=["y"])
    with pytest.raises(ValueError, match="must be a pandas DataFrame or a file path"):
        read_series([1, 2, 3])


# ---- fill policies --------------------------------------------------------------------


@pytest.mark.parametrize(
    "fill, expected",
    [
        ("ffill", [0.0, 1.0, 1.0, 1.0, 4.0, 5.0]),
        ("interpolate", [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]),
        ("zero", [0.0, 1.0, 0.0, 0.0, 4.0, 5.0]),
    ],
)
def test_fill_reindexes_gaps_and_fills_nan(fill, expected):
    frame = with_row(long().drop(index=2), 3, y=np.nan)  # a gap on day 3, NaN on day 4
    out = read_series(frame, fill=fill)
    series_a = out[out[ID_COL] == "a"]
    assert series_a[TIME_COL].tolist() == list(DAYS)
    assert series_a[TARGET_COL].tolist() == expected
    assert len(out) == 12


def test_fill_refuses_timestamps_off_the_grid():
    frame = with_row(long(), 3, ds=pd.Timestamp("2024-01-04 07:00"))
    with pytest.raises(ValueError, match="2024-01-04 07:00:00 is not on the 'D' grid"):
        read_series(frame, fill="ffill")


# ---- conversions ----------------------------------------------------------------------


def test_to_wide_and_back():
    back = to_wide(long())
    assert list(back.columns) == ["ds", "a", "b"]
    pd.testing.assert_frame_equal(to_long(back), long())


def test_to_wide_refuses_duplicates():
    with pytest.raises(ValueError, match="duplicate timestamp"):
        to_wide(with_row(long(), 1, ds=DAYS[0]))


def test_to_gluonts():
    dataset = to_gluonts(long())
    entries = list(dataset)
    assert len(entries) == 2
    assert entries[1]["item_id"] == "b"
    np.testing.assert_allclose(entries[1]["target"], np.arange(6.0) * 10)
    assert entries[0]["start"] == pd.Period("2024-01-01", freq="D")
