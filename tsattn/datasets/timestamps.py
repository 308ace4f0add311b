"""Parse a time column into timestamps or integer steps without guessing.

Timestamps come out in nanoseconds, or in microseconds when some date lies outside pandas'
nanosecond range (1677-09-21 to 2262-04-11): see :mod:`tsattn.datasets.axis`. An integer
column is an axis of integer time steps and stays ``int64``.

Refused, each with a ``ValueError`` naming the column and the fix: other numbers (floats:
pandas would read them as nanoseconds since 1970), missing or unparseable entries,
timestamps with a time zone mixed with timestamps without one, and strings such as
``12/01/2024`` that read differently day first and month first, unless ``dayfirst`` says
which.

>>> parse_times(pd.Series(["13/01/2024", "14/01/2024"]), "ds").dt.day.tolist()  # day first
[13, 14]
>>> parse_times(pd.Series(["12/01/2024"]), "ds", dayfirst=True).iloc[0]
Timestamp('2024-01-12 00:00:00')
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd

from tsattn.datasets.axis import COARSE_UNIT, working_unit

#: day/month/year or month/day/year at the start of a string: 12/01/2024, 1.2.24, 12-01-2024
_NUMERIC_DATE = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?!\d)"


def parse_times(values: pd.Series, column: str, dayfirst: bool | None = None) -> pd.Series:
    """``values`` parsed as timestamps (``datetime64``, nanoseconds when they fit, else
    microseconds), or as ``int64`` steps when the column holds integers.

    ``dayfirst`` (None: decide from the data, refusing strings that read both ways) says
    whether ``12/01/2024`` is the 12th of January (True) or December 1st (False).
    """
    if _holds_integers(values):
        return _parse_steps(values, column)
    _check_not_numbers(values, column)
    dayfirst = _day_month_order(values, column, dayfirst)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = values  # already timestamps: nothing to parse (NaT is refused below)
    else:
        parsed = _to_datetime(values, column, bool(dayfirst))
    bad = parsed.isna()
    if bad.any():
        parsed = _outside_nanoseconds(values, parsed, column, dayfirst)
    try:
        return working_unit(parsed)
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        _raise_out_of_range(column, _first_beyond_microseconds(parsed))


def _holds_integers(values: pd.Series) -> bool:
    """Integer dtypes (nullable ones too) and object columns of Python ints only."""
    if pd.api.types.is_integer_dtype(values.dtype):  # not bool, which is not integer here
        return True
    return values.dtype == object and pd.api.types.infer_dtype(values, skipna=False) == "integer"


def _parse_steps(values: pd.Series, column: str) -> pd.Series:
    """An integer column as ``int64`` time steps (missing entries refused)."""
    missing = values.isna()
    if missing.any():
        raise ValueError(
            f"column {column!r}: {int(missing.sum())} time step(s) are missing (first at row "
            f"{int(np.flatnonzero(missing)[0])}); fix them or drop those rows"
        )
    try:
        steps = values.astype(np.int64)
    except (OverflowError, TypeError, ValueError):
        raise ValueError(
            f"column {column!r}: integer time steps must fit in 64 bits (up to "
            f"{np.iinfo(np.int64).max}); renumber them from 0"
        ) from None
    if values.dtype.kind == "u" and (values.to_numpy() > np.iinfo(np.int64).max).any():
        raise ValueError(f"column {column!r}: integer time steps must fit in 64 bits (int64)")
    return steps


def _to_datetime(values: pd.Series, column: str, dayfirst: bool) -> pd.Series:
    """Strings or objects parsed by pandas (unparseable ones NaT); timestamps with several
    UTC offsets (a time zone across daylight saving) become UTC, and a mix of timestamps
    with and without a time zone is a ``ValueError`` naming the rows."""
    with warnings.catch_warnings():  # pandas warns before it mixes time zones in objects
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format"
        try:
            parsed = pd.to_datetime(values, errors="coerce", dayfirst=dayfirst)
        except (TypeError, ValueError):  # objects mixing naive and aware datetimes
            parsed = None
        if parsed is None or parsed.dtype == object or parsed.isna().any():
            _check_one_time_zone(values, column)
        if parsed is None or parsed.dtype == object:  # one zone, several UTC offsets
            parsed = pd.to_datetime(values, errors="coerce", dayfirst=dayfirst, utc=True)
    return parsed


def _check_one_time_zone(values: pd.Series, column: str) -> None:
    """Raise naming the rows when some timestamps carry a time zone and others do not."""
    try:
        distinct = pd.Series(pd.unique(values.to_numpy()), dtype=object)
    except TypeError:  # unhashable entries: they fail as "not dates" later
        return
    zoned = distinct.map(_has_time_zone)  # True, False, or None (not a date), per value
    aware = values.isin(distinct[zoned == True]).to_numpy()  # noqa: E712
    naive = values.isin(distinct[zoned == False]).to_numpy()  # noqa: E712
    if aware.any() and naive.any():
        raise ValueError(
            f"column {column!r} mixes timestamps with a time zone ({_rows(values, aware)}) "
            f"and without one ({_rows(values, naive)}); give them all the same zone (e.g. "
            "add the UTC offset to the others) or none"
        )


def _has_time_zone(value: object) -> bool | None:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return None if stamp is pd.NaT else stamp.tzinfo is not None


def _rows(values: pd.Series, mask: np.ndarray, limit: int = 3) -> str:
    """'rows 1, 4 (2 in all), e.g. '2024-01-02 00:00+01:00'' for the rows of ``mask``."""
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r) for r in rows[:limit]) + (", ..." if len(rows) > limit else "")
    return f"row(s) {shown} ({len(rows)} in all), e.g. {values.iloc[rows[0]]!r}"


def _outside_nanoseconds(values, parsed, column: str, dayfirst: bool | None) -> pd.Series:
    """The timestamps of a column whose only unparsed entries are dates outside pandas'
    nanosecond range, parsed in microseconds; any other missing or unparseable entry is a
    ``ValueError`` naming the first."""
    bad = parsed.isna()
    outside = values[bad].map(_out_of_range).astype(bool)
    if not outside.all():
        first = values[bad][~outside].iloc[0]
        raise ValueError(
            f"column {column!r}: {int((~outside).sum())} value(s) are missing or not dates "
            f"(first: {first!r}); fix them or name the time column with time_col="
        )
    first = values[bad].iloc[0]
    if dayfirst and not _numeric_dates(values).empty:
        raise ValueError(
            f"column {column!r}: dates outside 1677-2262 such as {first!r} are read in ISO "
            "form only (YYYY-MM-DD) when dayfirst=True; write them as YYYY-MM-DD"
        )
    try:
        return values.astype(f"datetime64[{COARSE_UNIT}]")
    except (TypeError, ValueError, OverflowError):
        raise ValueError(
            f"column {column!r}: the date {first!r} lies outside 1677-2262, where only ISO "
            "dates are read (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS); write the dates that way"
        ) from None


def _out_of_range(value: object) -> bool:
    """True for a date that exists but lies outside pandas' nanosecond range."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        return False
    if stamp is pd.NaT:
        return False
    return not pd.Timestamp.min <= stamp.tz_localize(None) <= pd.Timestamp.max


def _first_beyond_microseconds(parsed: pd.Series) -> object:
    """The first timestamp of ``parsed`` that microseconds cannot hold."""
    for stamp in parsed:
        try:
            stamp.as_unit(COARSE_UNIT)
        except (OverflowError, pd.errors.OutOfBoundsDatetime):
            return stamp
    return parsed.iloc[0]


def _raise_out_of_range(column: str, first: object) -> None:
    raise ValueError(
        f"column {column!r}: the date {first!s} is outside the range tsattn handles (years "
        "-290307 to 294246, in microseconds); shift or drop such dates, or fix the year"
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
    """Raise if the time column holds numbers other than integers (floats, or numbers mixed
    with other values; NaN counts as missing): integer columns are time steps."""
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
            f"first: {first!r}); integer time steps must be an integer column (e.g. "
            f"df[{column!r}].astype('int64')), and timestamps parsed first, e.g. df[{column!r}] = "
            f"pd.to_datetime(df[{column!r}], unit='s') for seconds since 1970, or "
            f"pd.to_datetime(df[{column!r}].astype(str), format='%Y%m%d') for 20240131, "
            "or name the time column with time_col="
        )


def _is_number(value: object) -> bool:
    """A real or complex number that is not a bool and not NaN."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Number):
        return False
    return not (isinstance(value, float | np.floating) and np.isnan(value))
