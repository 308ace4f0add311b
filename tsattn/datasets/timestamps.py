"""Parse a time column into ``datetime64[ns]`` without guessing.

Refused, each with a ``ValueError`` naming the column and the fix: numbers (pandas would
read them as nanoseconds since 1970), missing or unparseable entries, dates outside what
pandas holds in nanoseconds (1677-09-21 to 2262-04-11), and strings such as ``12/01/2024``
that read differently day first and month first, unless ``dayfirst`` says which.

>>> parse_times(pd.Series(["13/01/2024", "14/01/2024"]), "ds").dt.day.tolist()  # day first
[13, 14]
>>> parse_times(pd.Series(["12/01/2024"]), "ds", dayfirst=True).iloc[0]
Timestamp('2024-01-12 00:00:00')
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

#: day/month/year or month/day/year at the start of a string: 12/01/2024, 1.2.24, 12-01-2024
_NUMERIC_DATE = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?!\d)"


def parse_times(values: pd.Series, column: str, dayfirst: bool | None = None) -> pd.Series:
    """``values`` parsed as ``datetime64[ns]``; every entry must be a date pandas can hold.

    ``dayfirst`` (None: decide from the data, refusing strings that read both ways) says
    whether ``12/01/2024`` is the 12th of January (True) or December 1st (False).
    """
    _check_not_numbers(values, column)
    dayfirst = _day_month_order(values, column, dayfirst)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = values  # already timestamps: nothing to parse (NaT is refused below)
    else:
        parsed = pd.to_datetime(values, errors="coerce", dayfirst=bool(dayfirst))
    bad = parsed.isna()
    if bad.any():
        first = values[bad].iloc[0]
        if _out_of_range(first):
            _raise_out_of_range(column, first)
        raise ValueError(
            f"column {column!r}: {int(bad.sum())} value(s) are missing or not dates "
            f"(first: {first!r}); fix them or name the time column with time_col="
        )
    return _as_nanoseconds(parsed, column)


def _as_nanoseconds(parsed: pd.Series, column: str) -> pd.Series:
    """``parsed`` in nanoseconds, the unit every later date computation relies on."""
    if parsed.dt.unit == "ns":
        return parsed
    try:
        return parsed.dt.as_unit("ns")
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        outside = (parsed < pd.Timestamp.min) | (parsed > pd.Timestamp.max)
        _raise_out_of_range(column, parsed[outside].iloc[0])


def _out_of_range(value: object) -> bool:
    """True for a date that exists but lies outside pandas' nanosecond range."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        return False
    return stamp is not pd.NaT and not pd.Timestamp.min <= stamp <= pd.Timestamp.max


def _raise_out_of_range(column: str, first: object) -> None:
    raise ValueError(
        f"column {column!r}: the date {first!s} is outside the range pandas can hold "
        f"({pd.Timestamp.min.date()} to {pd.Timestamp.max.date()}); shift or drop such "
        "dates, or fix the year"
    )


def _day_month_order(values: pd.Series, column: str, dayfirst: bool | None) -> bool | None:
    """``dayfirst`` as given, else as the strings prove it; ambiguous strings are an error.

    A first field above 12 proves day first, a second field above 12 month first; a
    string that contradicts ``dayfirst`` (or another string) is refused, and so, when
    ``dayfirst`` is None and nothing settles the order, is one that reads both ways.
    """
    if dayfirst is not None and not isinstance(dayfirst, bool | np.bool_):
        raise ValueError(f"dayfirst must be True, False or None, got {dayfirst!r}")
    fields = _numeric_dates(values)
    if fields.empty:
        return dayfirst if dayfirst is None else bool(dayfirst)
    day_first = fields.index[fields["first"] > 12]  # only day/month/year reads these
    month_first = fields.index[fields["second"] > 12]
    if len(day_first) and len(month_first):
        raise ValueError(
            f"column {column!r} mixes day-first ({day_first[0]!r}) and month-first "
            f"({month_first[0]!r}) dates; make them one format, e.g. parse each part "
            "with pd.to_datetime(..., format=)"
        )
    if dayfirst is not None:
        contradicting = month_first if dayfirst else day_first
        if len(contradicting):
            raise ValueError(
                f"column {column!r}: {contradicting[0]!r} cannot be read with "
                f"dayfirst={bool(dayfirst)}; check the dates or pass dayfirst={not dayfirst}"
            )
        return bool(dayfirst)
    if len(day_first) or len(month_first):
        return bool(len(day_first))
    differ = fields.index[fields["first"] != fields["second"]]
    if len(differ):
        raise ValueError(
            f"column {column!r}: dates such as {differ[0]!r} read differently day first and "
            "month first, and no value settles which; pass dayfirst=True (day/month/year) "
            "or dayfirst=False (month/day/year) to read_series, or parse the column first, "
            f"e.g. df[{column!r}] = pd.to_datetime(df[{column!r}], format='%d/%m/%Y')"
        )
    return None


def _numeric_dates(values: pd.Series) -> pd.DataFrame:
    """The first two fields (ints, columns ``first``, ``second``) of the distinct strings
    of ``values`` shaped like 12/01/2024, indexed by the string."""
    if values.dtype != object and not pd.api.types.is_string_dtype(values.dtype):
        return pd.DataFrame(columns=["first", "second"])
    try:
        distinct = pd.unique(values.to_numpy())
    except TypeError:  # unhashable entries: they fail as "not dates" later
        distinct = values.to_numpy()
    strings = pd.Series([v for v in distinct if isinstance(v, str)], dtype=object)
    fields = strings.str.extract(_NUMERIC_DATE).dropna().astype(int)
    fields.columns = ["first", "second", "year"]
    return fields.set_axis(strings[fields.index])


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
