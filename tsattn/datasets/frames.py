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

from tsattn.datasets.validation import (
    ID_COL,
    TARGET_COL,
    TIME_COL,
    check_columns,
    check_duplicates,
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
) -> pd.DataFrame:
    """Read a CSV path or a frame, wide or long, into the validated canonical long frame.

    Long input is recognised by ``id_col`` (or a ``unique_id`` column); its values are in
    ``target_col`` (default ``y``). Otherwise the frame is wide: ``value_cols`` (default:
    every column but ``time_col``; ``target_col`` alone selects one) become series named
    after their columns. ``time_col`` may be missing when the index is a DatetimeIndex.
    Unsorted or duplicate timestamps, gaps, NaN/inf and non-numeric values, missing
    columns and an unknown frequency are each a ``ValueError`` saying what to fix; ``fill``
    ("ffill", "interpolate", "zero") fills gaps and NaN/inf instead, and ``freq`` sets the
    frequency instead of inferring it.

    >>> read_series("sales.csv", time_col="date", value_cols=["store_1"])  # doctest: +SKIP
    """
    frame = _time_index_to_column(_as_frame(data), time_col)
    if id_col is None and value_cols is None and ID_COL in frame.columns:
        id_col = ID_COL
    if id_col is None:
        if value_cols is None and target_col is not None:
            value_cols = [target_col]
        frame = to_long(frame, time_col=time_col, value_cols=value_cols)
        id_col, time_col, target_col = ID_COL, TIME_COL, TARGET_COL
    elif value_cols is not None:
        raise ValueError("value_cols selects columns of a wide frame; with id_col use target_col")
    return validate_long_frame(frame, id_col, time_col, target_col or TARGET_COL, freq, fill).frame


def to_long(
    wide: pd.DataFrame, time_col: str = TIME_COL, value_cols: Sequence[str] | None = None
) -> pd.DataFrame:
    """Melt a wide frame into ``unique_id, ds, y`` (series-major; not yet validated).

    >>> w = pd.DataFrame({"ds": pd.date_range("2024", periods=2, freq="D"), "x": [1, 2]})
    >>> to_long(w)["unique_id"].tolist()
    ['x', 'x']
    """
    wide = _time_index_to_column(wide, time_col)
    columns = [c for c in wide.columns if c != time_col] if value_cols is None else value_cols
    check_columns(wide, {time_col: "time_col", **{c: "value_cols" for c in columns}})
    if not columns:
        raise ValueError(f"no value columns besides {time_col!r}; pass value_cols=")
    times = parse_times(wide[time_col], time_col).to_numpy()
    values = np.column_stack([parse_numbers(wide[c], str(c)).to_numpy() for c in columns])
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
    check_columns(long, {id_col: "id_col", time_col: "time_col", target_col: "target_col"})
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

    frame, freq = validate_long_frame(long, id_col, time_col, target_col, freq)
    return PandasDataset.from_long_dataframe(
        frame, item_id=ID_COL, timestamp=TIME_COL, target=TARGET_COL, freq=freq
    )


def _as_frame(data: str | os.PathLike | pd.DataFrame) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (str, os.PathLike)):
        return pd.read_csv(data)
    raise TypeError(f"expected a CSV path or a DataFrame, got {type(data).__name__}")


def _time_index_to_column(frame: pd.DataFrame, time_col: str) -> pd.DataFrame:
    if time_col not in frame.columns and isinstance(frame.index, pd.DatetimeIndex):
        return frame.rename_axis(time_col).reset_index()
    return frame
