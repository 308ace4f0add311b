"""Users' own series: read, validate and convert between wide, long and gluonts forms.

The canonical frame is long: ``unique_id``, ``ds``, ``y`` (:data:`ID_COL`, :data:`TIME_COL`,
:data:`TARGET_COL`), sorted by series (order of first appearance) then time. A wide frame
has a time column (or a DatetimeIndex) and one column per series.

>>> import pandas as pd
>>> wide = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=3, freq="D"),
...                      "a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]})
>>> long = read_series(wide, time_col="date")
>>> long.shape, list(long.columns)
((6, 3), ['unique_id', 'ds', 'y'])
>>> list(to_wide(long).columns)
['ds', 'a', 'b']
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tsattn.datasets.loaders import read_csv_file
from tsattn.datasets.validation import (
    ID_COL,
    TARGET_COL,
    TIME_COL,
    check_columns,
    check_duplicates,
    check_input,
    parse_numbers,
    parse_times,
    validate_long_frame,
)

if TYPE_CHECKING:
    from gluonts.dataset.pandas import PandasDataset


def read_series(
    data: str | os.PathLike | pd.DataFrame,
    *,
    time_col: str = TIME_COL,
    value_cols: Sequence[str] | None = None,
    id_col: str | None = None,
    target_col: str | None = None,
    freq: str | None = None,
    fill: str | None = None,
    dayfirst: bool | None = None,
    covariate_cols: Sequence[str] = (),
) -> pd.DataFrame:
    """Read a CSV path or a frame, wide or long, into the validated canonical long frame.

    Long input is recognised by ``id_col`` (or a ``unique_id`` column); its values are in
    ``target_col`` (default ``y``). Otherwise the frame is wide: ``value_cols`` (default:
    every column but ``time_col``; ``target_col`` alone selects one) become series named
    after their columns. ``time_col`` may be missing when the index is a DatetimeIndex.
    Unsorted or duplicate timestamps, gaps, NaN/inf and non-numeric values, missing
    columns and an unknown frequency are each a ``ValueError`` saying what to fix; ``fill``
    ("ffill", "interpolate", "zero") fills gaps and NaN/inf instead, and ``freq`` sets the
    frequency instead of inferring it. ``dayfirst`` reads ``12/01/2024`` as 12 January
    (True) or 1 December (False); strings that could be either are otherwise refused.
    A non-id column that repeats values like an id (the frame looks long) is an error
    naming ``id_col=``.

    ``covariate_cols`` are kept after ``y`` under their own names (checked and filled as
    ``y``): in a long frame each row's values; in a wide frame they are columns shared by
    every series (the value columns are then the others).

    >>> read_series("sales.csv", time_col="date", value_cols=["store_1"])  # doctest: +SKIP
    """
    _check_options(time_col, value_cols, id_col, target_col, dayfirst)
    frame = _time_index_to_column(_as_frame(data), time_col)
    if id_col is None and value_cols is None and ID_COL in frame.columns:
        id_col = ID_COL
    covariate_cols = list(covariate_cols)
    if id_col is None:
        if value_cols is None and target_col is not None:
            value_cols = [target_col]
        if value_cols is None and covariate_cols:
            value_cols = [c for c in frame.columns if c != time_col and c not in covariate_cols]
        frame = _wide_to_long(frame, time_col, value_cols, dayfirst, covariate_cols)
        id_col, time_col, target_col = ID_COL, TIME_COL, TARGET_COL
    elif value_cols is not None:
        raise ValueError("value_cols selects columns of a wide frame; with id_col use target_col")
    target_col = target_col or TARGET_COL
    checked = validate_long_frame(
        frame, id_col, time_col, target_col, freq, fill, dayfirst, covariate_cols
    )
    return checked.frame


def _wide_to_long(
    wide: pd.DataFrame,
    time_col: str,
    value_cols: Sequence[str] | None,
    dayfirst: bool | None,
    covariate_cols: list[str],
) -> pd.DataFrame:
    """:func:`to_long` of the value columns, each covariate column repeated for every
    series (a wide frame's covariates are shared by its series)."""
    check_columns(wide, {c: "a covariate" for c in covariate_cols})
    long = to_long(wide, time_col=time_col, value_cols=value_cols, dayfirst=dayfirst)
    n_series = len(long) // max(len(wide), 1)
    for column in covariate_cols:
        long[column] = np.tile(wide[column].to_numpy(), n_series)  # (n_series * T,)
    return long


def to_long(
    wide: pd.DataFrame,
    time_col: str = TIME_COL,
    value_cols: Sequence[str] | None = None,
    dayfirst: bool | None = None,
) -> pd.DataFrame:
    """Melt a wide frame into ``unique_id, ds, y`` (series-major; not yet validated).

    A value column that looks like the series id of a long frame is an error naming
    ``id_col=`` (see :func:`check_not_long`).

    >>> w = pd.DataFrame({"ds": pd.date_range("2024", periods=2, freq="D"), "x": [1, 2]})
    >>> to_long(w)["unique_id"].tolist()
    ['x', 'x']
    """
    wide = _time_index_to_column(check_input(wide, "wide"), time_col)
    columns = [c for c in wide.columns if c != time_col] if value_cols is None else value_cols
    check_columns(wide, {time_col: "time_col", **{c: "value_cols" for c in columns}})
    if not columns:
        raise ValueError(f"no value columns besides {time_col!r}; pass value_cols=")
    check_not_long(wide, time_col, columns)
    times = parse_times(wide[time_col], time_col, dayfirst).to_numpy()
    times = wide[time_col]
    values = np.column_stack(
        [parse_numbers(wide[c], str(c), times=times).to_numpy() for c in columns]
    )
    return pd.DataFrame(
        {
            ID_COL: np.repeat(np.asarray(columns, dtype=object), len(wide)),
            TIME_COL: np.tile(times, len(columns)),
            TARGET_COL: values.T.ravel(),  # (C, T) flattened: one series after the other
        }
    )


def to_wide(
    long: pd.DataFrame,
    id_col: str = ID_COL,
    time_col: str = TIME_COL,
    target_col: str = TARGET_COL,
) -> pd.DataFrame:
    """Pivot a long frame into ``time_col`` plus one column per series (first-seen order).

    Timestamps missing from a series become NaN.
    """
    check_columns(
        check_input(long, "long"),
        {id_col: "id_col", time_col: "time_col", target_col: "target_col"},
    )
    check_duplicates(long, id_col, time_col)
    wide = long.pivot(index=time_col, columns=id_col, values=target_col)
    wide = wide.reindex(columns=long[id_col].unique()).sort_index()
    wide.columns.name = None
    return wide.reset_index()


def to_gluonts(
    long: pd.DataFrame,
    id_col: str = ID_COL,
    time_col: str = TIME_COL,
    target_col: str = TARGET_COL,
    freq: str | None = None,
) -> PandasDataset:
    """Validate a long frame and wrap it as a gluonts ``PandasDataset`` (one item per series).

    >>> ds = to_gluonts(read_series(wide, time_col="date"))  # doctest: +SKIP
    """
    from gluonts.dataset.pandas import PandasDataset

    check_input(long, "long")
    frame, freq = validate_long_frame(long, id_col, time_col, target_col, freq)
    return PandasDataset.from_long_dataframe(
        frame, item_id=ID_COL, timestamp=TIME_COL, target=TARGET_COL, freq=freq
    )


def check_not_long(wide: pd.DataFrame, time_col: str, columns: Sequence[str]) -> None:
    """Raise if a value column of a "wide" frame looks like a series id: the frame is long.

    Candidates: a column of mostly non-numeric values that repeat (a few strings among
    numbers are stray values, which :func:`parse_numbers` reports with their row), or (when
    timestamps repeat, as
    they do in a long frame) a column that makes (time, column) unique. The candidate with
    the fewest distinct values is named.
    """
    repeated_times = wide[time_col].duplicated().any()
    candidates = []
    for column in columns:
        values = wide[column]
        if not repeated_times and pd.api.types.is_numeric_dtype(values):
            continue  # numbers on distinct timestamps: an ordinary wide column
        n_distinct = values.nunique(dropna=False)
        if n_distinct == len(values):
            continue  # ids repeat in a long frame
        non_numeric = pd.to_numeric(values, errors="coerce").isna() & values.notna()
        mostly_text = 2 * non_numeric.sum() > values.notna().sum()  # else stray strings
        unique_pairs = repeated_times and not wide.duplicated([time_col, column]).any()
        if mostly_text or unique_pairs:
            candidates.append((n_distinct, column))
    if candidates:
        n_distinct, column = min(candidates, key=lambda c: c[0])
        raise ValueError(
            f"column {column!r} looks like a series id column ({n_distinct} distinct "
            f"value(s) repeated over {len(wide)} rows), so the frame looks long, not wide; "
            f"pass id_col={column!r} (and target_col= naming the value column)"
        )


def _check_options(time_col, value_cols, id_col, target_col, dayfirst) -> None:
    """Column names are single hashable labels, ``value_cols`` a list of them, ``dayfirst`` a
    bool or None: anything else is a ``ValueError`` before the frame is read."""
    for name, value in (("time_col", time_col), ("id_col", id_col), ("target_col", target_col)):
        if name != "time_col" and value is None:
            continue
        if not _is_label(value):
            raise ValueError(f"{name} must be a column name such as 'ds', got {_short(value)}")
    if value_cols is not None and (
        not pd.api.types.is_list_like(value_cols)
        or isinstance(value_cols, dict | set)
        or not all(_is_label(c) for c in value_cols)
    ):
        raise ValueError(
            f"value_cols must be a list of column names such as ['a', 'b'], got "
            f"{_short(value_cols)}"
        )
    if dayfirst is not None and not isinstance(dayfirst, bool | np.bool_):
        raise ValueError(f"dayfirst must be True, False or None, got {_short(dayfirst)}")


def _is_label(value: object) -> bool:
    """A usable column name: a non-empty string or another scalar (never a bool, None, NaN
    or a container)."""
    if isinstance(value, str):
        return bool(value)
    return (
        pd.api.types.is_scalar(value)
        and value is not None
        and not isinstance(value, bool | np.bool_ | bytes)
        and not pd.isna(value)
    )


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _as_frame(data: str | os.PathLike | pd.DataFrame) -> pd.DataFrame:
    """``data`` itself, or the CSV file it names; anything else is a ``ValueError``."""
    if isinstance(check_input(data, "data", path=True), pd.DataFrame):
        return data
    try:
        return read_csv_file(data)
    except FileNotFoundError as err:  # one error type for every bad input
        raise ValueError(str(err)) from None


def _time_index_to_column(frame: pd.DataFrame, time_col: str) -> pd.DataFrame:
    if time_col not in frame.columns and isinstance(frame.index, pd.DatetimeIndex):
        return frame.rename_axis(time_col).reset_index()
    return frame
