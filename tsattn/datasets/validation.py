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

import os
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from tsattn.datasets.axis import INTEGER_FREQ, axis_values, is_integer_axis, is_integer_freq
from tsattn.datasets.fill import FILL_POLICIES, fill_gaps
from tsattn.datasets.frequency import check_freq, infer_frequency, suggest_freq
from tsattn.datasets.grid import axis_range, id_changes, regular_series
from tsattn.datasets.timestamps import parse_times
from tsattn.datasets.values import _names, parse_numbers

__all__ = [
    "ID_COL", "TARGET_COL", "TIME_COL", "ValidatedFrame", "check_columns", "check_duplicates",
    "check_freq", "check_ids", "check_input", "infer_frequency", "parse_numbers",
    "parse_times", "validate_long_frame",
]  # fmt: skip

ID_COL = "unique_id"
TIME_COL = "ds"
TARGET_COL = "y"


class ValidatedFrame(NamedTuple):
    """A canonical long frame (``unique_id, ds, y``, sorted) and its frequency alias."""

    frame: pd.DataFrame
    freq: str


def check_input(
    value: object, argument: str = "df", *, frame: bool = True, path: bool = False
) -> object:
    """Return ``value`` if it is a DataFrame (``frame``) or a path (``path``); anything else
    (None, a number, an array, a Series...) is one ``ValueError`` with a conversion hint.

    >>> check_input(None, "df")
    Traceback (most recent call last):
    ValueError: df must be a pandas DataFrame, got None
    """
    if frame and isinstance(value, pd.DataFrame):
        return value
    if path and isinstance(value, str | os.PathLike) and not isinstance(value, pd.DataFrame):
        return value
    wanted = " or ".join(
        w for w, ok in (("a pandas DataFrame", frame), ("a file path", path)) if ok
    )
    hint = _conversion_hint(value) if frame else ""
    raise ValueError(
        f"{argument} must be {wanted}, got {_describe(value)}" + (f"; {hint}" if hint else "")
    )


def _describe(value: object) -> str:
    if value is None:
        return "None"
    if isinstance(value, pd.Series):
        return "a pandas Series"
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape}"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _conversion_hint(value: object) -> str:
    """How to turn ``value`` into a frame, when there is a way."""
    if isinstance(value, pd.Series):
        return (
            "convert it, e.g. series.rename('y').to_frame() (with a DatetimeIndex) or "
            "series.rename('y').rename_axis('ds').reset_index()"
        )
    if isinstance(value, np.ndarray):
        return (
            "wrap it with its dates, e.g. pd.DataFrame({'ds': dates, 'y': values}) for one "
            "series, or pd.DataFrame(values, index=dates) with one column per series"
        )
    if isinstance(value, dict):
        return "convert it, e.g. pd.DataFrame(mapping)"
    return ""


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


def check_ids(ids: pd.Series, column: str) -> pd.Series:
    """Series ids as a plain column: present, hashable and distinct as strings."""
    return _checked_ids(ids, column)[0]


def _checked_ids(ids: pd.Series, column: str) -> tuple[pd.Series, int]:
    """:func:`check_ids` and the number of distinct ids."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        ids = ids.astype(object)  # unused categories would otherwise become empty series
    try:
        unique = ids.unique()
    except TypeError as err:  # unhashable: name the first container, else say why
        _check_scalar_ids(ids, column)
        raise ValueError(
            f"column {column!r}: series ids must be hashable values such as strings or "
            f"integers ({err})"
        ) from None
    _check_scalar_ids(pd.Series(unique, dtype=ids.dtype), column)
    if pd.isna(pd.Series(unique, dtype=ids.dtype)).any():  # rows without an id: say where
        missing = ids.isna()
        raise ValueError(
            f"column {column!r}: {int(missing.sum())} row(s) have no series id (NaN/None, "
            f"first at row {int(np.flatnonzero(missing)[0])}); give every row an id"
        )
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
    return ids, len(unique)


def _check_scalar_ids(ids: pd.Series, column: str) -> None:
    """Refuse ids that are containers (tuples, lists...): pandas groups them unreliably."""
    if ids.dtype != object:
        return
    bad = ~ids.map(pd.api.types.is_scalar).astype(bool)
    if bad.any():
        first = ids[bad].iloc[0]
        raise ValueError(
            f"column {column!r}: series ids must be single values such as strings or "
            f"integers, not {type(first).__name__} (first: {first!r}); join the parts "
            "into one id, e.g. "
            f"df[{column!r}] = df[{column!r}].map(lambda t: '_'.join(map(str, t)))"
        )


def validate_long_frame(
    df: pd.DataFrame,
    id_col: str = ID_COL,
    time_col: str = TIME_COL,
    target_col: str = TARGET_COL,
    freq: str | None = None,
    fill: str | None = None,
    dayfirst: bool | None = None,
    extra_cols: Sequence[str] = (),
) -> ValidatedFrame:
    """Check a long frame and return it in canonical form with its frequency.

    Per series, timestamps must increase strictly (out of order or duplicates are errors
    naming the series) and lie on a regular grid of one frequency (``freq``, or inferred
    and common to all series); values must be finite. With ``fill`` ("ffill",
    "interpolate" or "zero") gaps are reindexed to the grid and missing / NaN / inf values
    filled instead of refused. Series keep their order of first appearance. ``dayfirst``
    reads ``12/01/2024`` as 12 January (True) or 1 December (False); by default such
    strings must settle it themselves (some day above 12) or are refused. An integer time
    column is an axis of integer steps: frequency ``"1"``, each series advancing by one.
    ``extra_cols`` (covariates) are kept after ``y``, under their own names, checked and
    filled as ``y`` is.
    """
    check_input(df, "df")
    if fill is not None and fill not in FILL_POLICIES:
        raise ValueError(f"unknown fill {fill!r}; valid: {', '.join(FILL_POLICIES)} or None")
    if freq is not None:
        check_freq(freq)
    required = {id_col: "id_col", time_col: "time_col", target_col: "target_col"}
    check_columns(df, {**required, **{c: "a covariate" for c in extra_cols}})
    _check_extra_names(extra_cols, (ID_COL, TIME_COL, TARGET_COL, id_col, time_col, target_col))
    ids, n_series = _checked_ids(df[id_col].reset_index(drop=True), id_col)
    columns = {
        ID_COL: ids,
        TIME_COL: parse_times(df[time_col].reset_index(drop=True), time_col, dayfirst),
        TARGET_COL: parse_numbers(df[target_col].reset_index(drop=True), target_col, ids),
    }
    for name in extra_cols:
        columns[name] = parse_numbers(df[name].reset_index(drop=True), name, ids)
    frame = pd.DataFrame(columns)
    freq = _axis_frequency(freq, frame[TIME_COL], time_col)
    frame, bounds = _grouped_by_series(frame, n_series)
    shown_regular = False  # every series regular at freq, as the frequency's check showed
    if freq is None:
        freq, shown_regular = _common_frequency(frame, bounds)
    if fill is None:
        _check_finite(frame, target_col)
        for name in extra_cols:
            _check_finite(frame, name, name)
        if not shown_regular:
            _check_regular(frame, freq, bounds)
        return ValidatedFrame(frame, freq)
    return ValidatedFrame(fill_gaps(frame, freq, fill), freq)


def _axis_frequency(freq: str | None, times: pd.Series, column: str) -> str | None:
    """``freq`` as given (``"1"`` for integer steps), after checking that it suits the time
    axis: ``"1"`` (or None) for integer steps, a pandas frequency for timestamps."""
    if freq is None:
        return None
    if is_integer_axis(times):
        if not is_integer_freq(freq):
            raise ValueError(
                f"column {column!r} holds integer time steps, whose frequency is '1'; got "
                f"freq={freq!r}: pass freq=None (or '1'), or give the column as timestamps"
            )
        return INTEGER_FREQ
    if is_integer_freq(freq):
        raise ValueError(
            f"freq={freq!r} is the step of integer time steps, but column {column!r} holds "
            "timestamps; pass a pandas frequency such as 'h', 'D' or 'MS', or None"
        )
    return freq


def check_duplicates(df: pd.DataFrame, id_col: str = ID_COL, time_col: str = TIME_COL) -> None:
    """Raise naming the first series and timestamp that occur on more than one row."""
    duplicated = df.duplicated([id_col, time_col])
    if duplicated.any():
        row = df[duplicated].iloc[0]
        raise ValueError(
            f"series {row[id_col]!r} has duplicate timestamp {row[time_col]} "
            f"({int(duplicated.sum())} duplicate row(s) in all); keep one row per timestamp"
        )


def _grouped_by_series(frame: pd.DataFrame, n_series: int) -> tuple[pd.DataFrame, np.ndarray]:
    """``frame`` sorted by series (order of first appearance; time order kept within each)
    and its series bounds (series ``i`` at rows ``bounds[i]:bounds[i + 1]``), after checking
    that time increases strictly within each series (else the error of :func:`_check_order`,
    which names the first offending row of the frame as given)."""
    new_series = id_changes(frame[ID_COL])  # (rows - 1,)
    if new_series.sum() + 1 != n_series:  # some series' rows are apart: sort them together
        codes, _ = pd.factorize(frame[ID_COL], sort=False)  # (rows,) in first-seen order
        order = np.argsort(codes, kind="stable")
        new_series = np.diff(codes[order]) != 0
    else:
        order = None  # already grouped by series
    times = axis_values(frame[TIME_COL])
    times = times if order is None else times[order]
    if (~new_series & (np.diff(times) <= 0)).any():  # a duplicate or a step back in time
        _check_order(frame)
    if order is not None:
        frame = frame.iloc[order].reset_index(drop=True)
    starts = np.flatnonzero(new_series) + 1
    return frame, np.concatenate([[0], starts, [len(frame)]]).astype(np.int64)


def _check_order(frame: pd.DataFrame) -> None:
    check_duplicates(frame)
    steps = frame.groupby(ID_COL, sort=False)[TIME_COL].diff()
    backwards = steps < (0 if is_integer_axis(frame[TIME_COL]) else pd.Timedelta(0))
    if backwards.any():
        row = frame[backwards].iloc[0]
        raise ValueError(
            f"series {row[ID_COL]!r} is not in time order: {row[TIME_COL]} comes after a "
            "later timestamp. Check the data; if the order is simply unsorted, sort it "
            f"(df.sort_values([id_col, time_col]))"
        )


def _check_extra_names(extra_cols: Sequence[str], taken: tuple[str, ...]) -> None:
    """Covariate names are distinct and none is the id, time or target column."""
    clash = [c for c in extra_cols if c in taken]
    if clash:
        raise ValueError(
            f"column {clash[0]!r} is the series id, time or target column and cannot also be "
            f"a covariate; rename it"
        )
    repeated = [c for i, c in enumerate(extra_cols) if c in extra_cols[:i]]
    if repeated:
        raise ValueError(f"covariate {repeated[0]!r} is listed twice; list each column once")


def _check_finite(frame: pd.DataFrame, column: str, source: str = TARGET_COL) -> None:
    bad = ~np.isfinite(frame[source].to_numpy())
    if bad.any():
        counts = frame.loc[bad, ID_COL].value_counts(sort=False)
        detail = ", ".join(f"{k!r}: {v}" for k, v in list(counts.items())[:5])
        raise ValueError(
            f"column {column!r} has {int(bad.sum())} NaN/inf value(s) (per series: {detail}); "
            f"drop or fill them, or pass fill= ({', '.join(FILL_POLICIES)})"
        )


def _common_frequency(frame: pd.DataFrame, bounds: np.ndarray) -> tuple[str, bool]:
    """The frequency every series shares and whether every series was shown regular at it:
    the first series' (with two timestamps) when every series is regular at it (one
    vectorised check), else inferred series by series."""
    lengths = np.diff(bounds)
    if (lengths >= 2).any():
        first = int(np.argmax(lengths >= 2))
        freq = infer_frequency(frame[TIME_COL].iloc[bounds[first] : bounds[first + 1]])
        if regular_series(frame[TIME_COL], bounds, freq).all():
            return freq, True
    return _frequency_series_by_series(frame), False


def _frequency_series_by_series(frame: pd.DataFrame) -> str:
    found: dict[str, list] = {}
    for uid, times in frame.groupby(ID_COL, sort=False)[TIME_COL]:
        if len(times) >= 2:
            found.setdefault(infer_frequency(times), []).append(uid)
    if len(found) == 1:
        return next(iter(found))
    if not found and is_integer_axis(frame[TIME_COL]):
        return INTEGER_FREQ  # integer steps have one frequency
    if not found:
        raise ValueError("every series has a single timestamp: pass freq= (e.g. freq='D')")
    detail = "; ".join(f"{f!r}: series {_names(pd.Series(u), 3)}" for f, u in found.items())
    raise ValueError(f"the series have different frequencies ({detail}); pass freq=")


def _check_regular(frame: pd.DataFrame, freq: str, bounds: np.ndarray) -> None:
    """Every series lies on its ``freq`` grid: shown for all series at once on a shared grid
    (:func:`~tsattn.datasets.grid.regular_series`), the rest checked one by one."""
    regular = regular_series(frame[TIME_COL], bounds, freq)
    for i in np.flatnonzero(~regular):
        rows = slice(bounds[i], bounds[i + 1])
        _check_one_regular(frame[ID_COL].iat[bounds[i]], frame[TIME_COL].iloc[rows], freq)


def _check_one_regular(uid: object, times: pd.Series, freq: str) -> None:
    grid = axis_range(times.iloc[0], len(times), freq)
    mismatch = np.flatnonzero(grid != pd.Index(times))
    if len(mismatch):
        i = mismatch[0]
        hint = suggest_freq(times)
        other = "" if hint == f"freq={freq!r}" else f", or if it is not {freq!r}, {hint}"
        raise ValueError(
            f"series {uid!r} is not regular at frequency {freq!r}: first offending "
            f"timestamp {times.iloc[i]} (expected {grid[i]}). Pass fill= "
            f"({', '.join(FILL_POLICIES)}) to fill the gaps at {freq!r}{other}"
        )
