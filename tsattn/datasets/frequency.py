"""Frequency of a series: checked when given, inferred (calendar-aware) when not.

Irregular timestamps (gaps) are inferred from the majority of their steps, so a monthly
series with a missing month is ``"MS"`` rather than the fixed step ``"31D"``.

>>> months = pd.date_range("2024-01-01", periods=12, freq="MS").delete(5)  # June missing
>>> infer_frequency(months)
'MS'
>>> infer_frequency(pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-04"]))
'D'
"""

from __future__ import annotations

import warnings

import pandas as pd

#: calendar families tried on irregular timestamps; "{mon}" / "{day}" anchor on the first one
CALENDAR_CANDIDATES = (
    "B", "W-{day}", "MS", "ME", "BMS", "BME",
    "QS-{mon}", "QE-{mon}", "YS-{mon}", "YE-{mon}",
)  # fmt: skip


def check_freq(freq: object) -> None:
    """Raise unless ``freq`` is a pandas frequency (an alias such as 'h' or an offset)."""
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except (TypeError, ValueError):
        raise ValueError(
            f"freq={freq!r} is not a pandas frequency; use an alias such as 'h', 'D', "
            "'W', 'MS' or '15min'"
        ) from None
    if offset.n <= 0:  # '0h' divides by zero in pandas, '-1D' dates forecasts backwards
        raise ValueError(
            f"freq={freq!r} is not a step forward in time; use a positive one such as 'h', "
            "'D' or '15min'"
        )


def infer_frequency(timestamps: pd.Series | pd.DatetimeIndex) -> str:
    """The pandas frequency alias of sorted ``timestamps``.

    Uses ``pandas.infer_freq``; when the timestamps are irregular (gaps), the frequency
    that explains most steps: a calendar one (business days, weeks, month / quarter /
    year starts and ends) when every timestamp lies on it, else the most common fixed step
    (the smallest of equally common ones), so that gaps can be reported against it. Fewer
    than two distinct timestamps is an error suggesting ``freq=``.

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
    calendar, explained = calendar_frequency(index)
    top = int(counts.max())  # business days win no tie: plain days are the simpler reading
    if calendar is not None and (explained > top or (explained == top and calendar != "B")):
        return calendar
    return pd.tseries.frequencies.to_offset(modal).freqstr


def calendar_frequency(index: pd.DatetimeIndex) -> tuple[str | None, int]:
    """The calendar alias every timestamp lies on that explains most (and over half) of
    the steps, with that number of steps; ``(None, 0)`` when there is none."""
    if len(index) < 2:
        return None, 0
    best, best_count = None, 0
    for alias in _candidates(index[0]):
        offset = pd.tseries.frequencies.to_offset(alias)
        count = _steps_explained(index, offset)
        if count > best_count:
            best, best_count = alias, count
    if best is None or 2 * best_count <= len(index) - 1:
        return None, 0
    return _canonical(best, index[0]), best_count


def _steps_explained(index: pd.DatetimeIndex, offset: pd.DateOffset) -> int:
    """How many steps of ``index`` are one ``offset``; 0 if a timestamp is off it."""
    with warnings.catch_warnings():  # some offsets are applied element by element
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        try:
            if not (index + offset - offset == index).all():
                return 0  # a timestamp off this calendar
            return int(((index[:-1] + offset) == index[1:]).sum())
        except (OverflowError, pd.errors.OutOfBoundsDatetime):
            return 0


def suggest_freq(timestamps: pd.Series | pd.DatetimeIndex) -> str:
    """A ``freq=`` hint for error messages: the frequency inferred from ``timestamps``
    (calendar-aware), else common examples."""
    try:
        return f"freq={infer_frequency(timestamps)!r}"
    except ValueError:
        return "freq= (e.g. 'h', 'D', 'W', 'MS' or '15min')"


def _candidates(first: pd.Timestamp) -> list[str]:
    day, month = first.day_name()[:3].upper(), first.month_name()[:3].upper()
    return [c.format(day=day, mon=month) for c in CALENDAR_CANDIDATES]


def _canonical(alias: str, start: pd.Timestamp) -> str:
    """The name ``pandas.infer_freq`` gives ``alias`` on a regular series from ``start``
    (e.g. quarters from April are 'QS-OCT'), so that series with and without gaps agree."""
    try:
        grid = pd.date_range(start, periods=12, freq=alias)
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        return alias
    return pd.infer_freq(grid) or alias
