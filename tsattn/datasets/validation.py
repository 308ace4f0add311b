"""Validation of long frames (``unique_id``, ``ds``, ``y``) and frequency inference.

Every problem is a ``ValueError`` naming the column or series and the fix. Used by
:func:`~tsattn.datasets.read_series` and by the forecasters' ``fit`` / ``predict``.

>>> import pandas as pd
>>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=4,
...                    freq="D"), "y": [1.0, 2.0, 3.0, 4.0]})
>>> validate_long_frame(df).freq
'D'
>>> bad = df.drop(index=2)
>>> validate_long_frame(bad, fill="ffill").frame["y"].tolist()
[1.0, 2.0, 2.0, 4.0]
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
import pandas as pd

from tsattn.datasets.fill import FILL_POLICIES, fill_gaps

ID_COL = "unique_id"
TIME_COL = "ds"
TARGET_COL = "y"


class ValidatedFrame(NamedTuple):
    """A canonical long frame (``unique_id, ds, y``, sorted) and its frequency alias."""

    frame: pd.DataFrame
    freq: str


def check_columns(df: pd.DataFrame, required: dict[str, str]) -> None:
    """Raise if any of ``required`` (column -> the argument naming it) is missing."""
    if len(df) == 0:
        raise ValueError("the frame is empty (no rows); pass a frame with at least one series")
    if isinstance(df.columns, pd.MultiIndex):
        raise ValueError(
            f"the frame has multi-level column names ({list(df.columns)[:3]}...); flatten "
            "them first, e.g. df.columns = ['_'.join(map(str, c)) for c in df.columns]"
        )
    missing = [f"{col!r} ({arg}=)" for col, arg in required.items() if col not in df.columns]
    if missing:
        available = ", ".join(repr(str(c)) for c in df.columns)
        raise ValueError(
            f"missing column(s) {', '.join(missing)}; available columns: {available}. "
            "Name the right ones with the arguments shown."
        )
    duplicated = set(df.columns[df.columns.duplicated()])
    repeated = [col for col in required if col in duplicated]
    if repeated:
        raise ValueError(
            f"column(s) {', '.join(repr(c) for c in repeated)} appear more than once in the "
            "frame; rename or drop the duplicates so each name is one column"
        )


def parse_times(values: pd.Series, column: str) -> pd.Series:
    """``values`` parsed as datetimes; unparseable or missing entries are an error, and so
    are numbers (pandas would silently read them as nanoseconds since 1970)."""
    _check_not_numbers(values, column)
    parsed = pd.to_datetime(values, errors="coerce")
    bad = parsed.isna()
    if bad.any():
        first = values[bad].iloc[0]
        raise ValueError(
            f"column {column!r}: {int(bad.sum())} value(s) are missing or not dates "
            f"(first: {first!r}); fix them or name the time column with time_col="
        )
    return parsed


def _check_not_numbers(values: pd.Series, column: str) -> None:
    """Raise if the time column holds numbers (ints, floats; NaN counts as missing)."""
    if values.dtype.kind in "iuf":
        found = values.notna()
    elif values.dtype == object:
        found = values.map(_is_number).astype(bool)
    else:
        return
    if found.any():
        first = values[found].iloc[0]
        first = first.item() if isinstance(first, np.generic) else first  # 1, not np.int64(1)
        raise ValueError(
            f"column {column!r} holds numbers, not timestamps ({int(found.sum())} value(s), "
            f"first: {first!r}); parse them first, e.g. df[{column!r}] = "
            f"pd.to_datetime(df[{column!r}], unit='s') for seconds since 1970, or "
            f"pd.to_datetime(df[{column!r}].astype(str), format='%Y%m%d') for 20240131, "
            "or name the time column with time_col="
        )


def _is_number(value: object) -> bool:
    """A real or complex number that is not a bool and not NaN."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Number):
        return False
    return not (isinstance(value, float | np.floating) and np.isnan(value))


def parse_numbers(values: pd.Series, column: str, ids: pd.Series | None = None) -> pd.Series:
    """``values`` as float64; entries that are present but not numbers are an error."""
    kind = values.dtype.kind
    if kind in "cmM" or isinstance(values.dtype, pd.DatetimeTZDtype):
        raise ValueError(
            f"column {column!r} holds {values.dtype} values, not real numbers; convert it "
            "(e.g. to float) or name the value column with target_col="
        )
    try:
        numbers = pd.to_numeric(values, errors="coerce")
    except (OverflowError, TypeError):  # e.g. an int too large for a float
        numbers = values.map(_to_float)
    if np.iscomplexobj(numbers.to_numpy()):
        complex_values = numbers.map(lambda v: isinstance(v, complex) and v.imag != 0)
        numbers = numbers.where(~complex_values, np.nan).map(_to_float)
    numbers = numbers.astype("float64")
    bad = numbers.isna() & values.notna()
    if bad.any():
        where = "" if ids is None else f" in series {_names(ids[bad])}"
        raise ValueError(
            f"column {column!r}: {int(bad.sum())} non-numeric value(s){where} "
            f"(first: {values[bad].iloc[0]!r}); convert or drop them"
        )
    return numbers


def _to_float(value: object) -> float:
    """One value as a float: NaN when it is not a real number, +-inf for a huge int."""
    if isinstance(value, complex):
        return value.real if value.imag == 0 else np.nan
    try:
        return float(value)
    except OverflowError:
        return np.inf if value > 0 else -np.inf
    except (TypeError, ValueError):
        return np.nan


def check_ids(ids: pd.Series, column: str) -> pd.Series:
    """Series ids as a plain column: present, hashable and distinct as strings."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        ids = ids.astype(object)  # unused categories would otherwise become empty series
    missing = ids.isna()
    if missing.any():
        raise ValueError(
            f"column {column!r}: {int(missing.sum())} row(s) have no series id (NaN/None, "
            f"first at row {int(np.flatnonzero(missing)[0])}); give every row an id"
        )
    try:
        unique = ids.unique()
    except TypeError as err:
        raise ValueError(
            f"column {column!r}: series ids must be hashable values such as strings or "
            f"integers ({err})"
        ) from None
    seen: dict[str, object] = {}  # forecasts name series by str(id)
    for uid in unique:
        name = str(uid)
        if name in seen:
            raise ValueError(
                f"column {column!r}: the ids {seen[name]!r} and {uid!r} are different values "
                f"with the same name {name!r}, which forecasts could not tell apart; make the "
                "ids one type (e.g. df[id_col].astype(str)) or rename one"
            )
        seen[name] = uid
    return ids


def check_freq(freq: object) -> None:
    """Raise unless ``freq`` is a pandas frequency (an alias such as 'h' or an offset)."""
    try:
        pd.tseries.frequencies.to_offset(freq)
    except (TypeError, ValueError):
        raise ValueError(
            f"freq={freq!r} is not a pandas frequency; use an alias such as 'h', 'D', "
            "'W', 'MS' or '15min'"
        ) from None


def infer_frequency(timestamps: pd.Series | pd.DatetimeIndex) -> str:
    """The pandas frequency alias of sorted ``timestamps``.

    Uses ``pandas.infer_freq``; when the timestamps are irregular (gaps), the most common
    step (the smallest of equally common ones) is returned, so that gaps can be reported
    against it. Fewer than two distinct timestamps is an error suggesting ``freq=``.

    >>> infer_frequency(pd.date_range("2024-01-01", periods=5, freq="h"))
    'h'
    """
    index = pd.DatetimeIndex(timestamps)
    if len(index) >= 3:
        freq = pd.infer_freq(index)
        if freq is not None:
            return freq
    steps = pd.Series(index[1:] - index[:-1])
    counts = steps[steps > pd.Timedelta(0)].value_counts()
    if counts.empty:
        raise ValueError(
            f"cannot infer the frequency from {len(index)} distinct timestamp(s); "
            "pass freq= (e.g. freq='h' or 'D')"
        )
    modal = counts[counts == counts.max()].index.min()  # ties: the smallest step
    return pd.tseries.frequencies.to_offset(modal).freqstr


def validate_long_frame(
    df: pd.DataFrame,
    id_col: str = ID_COL,
    time_col: str = TIME_COL,
    target_col: str = TARGET_COL,
    freq: str | None = None,
    fill: str | None = None,
) -> ValidatedFrame:
    """Check a long frame and return it in canonical form with its frequency.

    Per series, timestamps must increase strictly (out of order or duplicates are errors
    naming the series) and lie on a regular grid of one frequency (``freq``, or inferred
    and common to all series); values must be finite. With ``fill`` ("ffill",
    "interpolate" or "zero") gaps are reindexed to the grid and missing / NaN / inf values
    filled instead of refused. Series keep their order of first appearance.
    """
    if fill is not None and fill not in FILL_POLICIES:
        raise ValueError(f"unknown fill {fill!r}; valid: {', '.join(FILL_POLICIES)} or None")
    if freq is not None:
        check_freq(freq)
    check_columns(df, {id_col: "id_col", time_col: "time_col", target_col: "target_col"})
    ids = check_ids(df[id_col].reset_index(drop=True), id_col)
    frame = pd.DataFrame(
        {
            ID_COL: ids,
            TIME_COL: parse_times(df[time_col].reset_index(drop=True), time_col),
            TARGET_COL: parse_numbers(df[target_col].reset_index(drop=True), target_col, ids),
        }
    )
    _check_order(frame)
    order = pd.Categorical(frame[ID_COL], categories=frame[ID_COL].unique())
    frame = frame.iloc[np.argsort(order.codes, kind="stable")].reset_index(drop=True)
    freq = freq or _common_frequency(frame)
    if fill is None:
        _check_finite(frame, target_col)
        _check_regular(frame, freq)
        return ValidatedFrame(frame, freq)
    return ValidatedFrame(fill_gaps(frame, freq, fill), freq)


def _names(ids: pd.Series, limit: int = 5) -> str:
    unique = list(dict.fromkeys(ids))
    text = ", ".join(repr(u) for u in unique[:limit])
    return text + (f" and {len(unique) - limit} more" if len(unique) > limit else "")


def check_duplicates(df: pd.DataFrame, id_col: str = ID_COL, time_col: str = TIME_COL) -> None:
    """Raise naming the first series and timestamp that occur on more than one row."""
    duplicated = df.duplicated([id_col, time_col])
    if duplicated.any():
        row = df[duplicated].iloc[0]
        raise ValueError(
            f"series {row[id_col]!r} has duplicate timestamp {row[time_col]} "
            f"({int(duplicated.sum())} duplicate row(s) in all); keep one row per timestamp"
        )


def _check_order(frame: pd.DataFrame) -> None:
    check_duplicates(frame)
    steps = frame.groupby(ID_COL, sort=False)[TIME_COL].diff()
    backwards = steps < pd.Timedelta(0)
    if backwards.any():
        row = frame[backwards].iloc[0]
        raise ValueError(
            f"series {row[ID_COL]!r} is not in time order: {row[TIME_COL]} comes after a "
            "later timestamp. Check the data; if the order is simply unsorted, sort it "
            f"(df.sort_values([id_col, time_col]))"
        )


def _check_finite(frame: pd.DataFrame, column: str) -> None:
    bad = ~np.isfinite(frame[TARGET_COL].to_numpy())
    if bad.any():
        counts = frame.loc[bad, ID_COL].value_counts(sort=False)
        detail = ", ".join(f"{k!r}: {v}" for k, v in list(counts.items())[:5])
        raise ValueError(
            f"column {column!r} has {int(bad.sum())} NaN/inf value(s) (per series: {detail}); "
            f"drop or fill them, or pass fill= ({', '.join(FILL_POLICIES)})"
        )


def _common_frequency(frame: pd.DataFrame) -> str:
    found: dict[str, list] = {}
    for uid, times in frame.groupby(ID_COL, sort=False)[TIME_COL]:
        if len(times) >= 2:
            found.setdefault(infer_frequency(times), []).append(uid)
    if len(found) == 1:
        return next(iter(found))
    if not found:
        raise ValueError("every series has a single timestamp: pass freq= (e.g. freq='D')")
    detail = "; ".join(f"{f!r}: series {_names(pd.Series(u), 3)}" for f, u in found.items())
    raise ValueError(f"the series have different frequencies ({detail}); pass freq=")


def _check_regular(frame: pd.DataFrame, freq: str) -> None:
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Tick):  # fast path: every step equals the fixed step
        steps = frame.groupby(ID_COL, sort=False)[TIME_COL].diff().dropna()
        if (steps == pd.Timedelta(offset)).all():
            return
    for uid, times in frame.groupby(ID_COL, sort=False)[TIME_COL]:
        grid = pd.date_range(times.iloc[0], periods=len(times), freq=offset)
        mismatch = np.flatnonzero(grid != pd.DatetimeIndex(times))
        if len(mismatch):
            i = mismatch[0]
            raise ValueError(
                f"series {uid!r} is not regular at frequency {freq!r}: first offending "
                f"timestamp {times.iloc[i]} (expected {grid[i]}). Pass fill= "
                f"({', '.join(FILL_POLICIES)}) to fill gaps, or the right freq="
            )
