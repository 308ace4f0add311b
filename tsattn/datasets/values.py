"""Parse a value column into float64; entries present but not numbers are an error.

>>> parse_numbers(pd.Series(["1", 2, None]), "y").tolist()
[1.0, 2.0, nan]
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def parse_numbers(
    values: pd.Series, column: str, ids: pd.Series | None = None, times: pd.Series | None = None
) -> pd.Series:
    """``values`` as float64; entries that are present but not numbers are an error that
    names the first such value and its row (the index label; with ``times``, its time too).

    >>> parse_numbers(pd.Series([1.5, "hot", 2.0]), "temp")
    Traceback (most recent call last):
    ...
    ValueError: column 'temp': 1 non-numeric value(s) (first: 'hot' at row 1); convert or drop them
    """
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
        row = values.index[bad.to_numpy()][0]
        when = "" if times is None else f", {times.name} {times[row]}"
        raise ValueError(
            f"column {column!r}: {int(bad.sum())} non-numeric value(s){where} "
            f"(first: {values[bad].iloc[0]!r} at row {row}{when}); convert or drop them"
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


def _names(ids: pd.Series, limit: int = 5) -> str:
    """The first ``limit`` distinct ids, quoted, and how many more there are."""
    unique = list(dict.fromkeys(ids))
    text = ", ".join(repr(u) for u in unique[:limit])
    return text + (f" and {len(unique) - limit} more" if len(unique) > limit else "")
