"""Frequency of a series: checked when given, inferred (calendar-aware) when not.

Irregular timestamps (gaps) are inferred from the majority of their steps, so a monthly
series with a missing month is ``"MS"`` rather than the fixed step ``"31D"``.

>>> months = pd.date_range("2024-01-01", periods=12, freq="MS").delete(5)  # June missing
>>> infer_frequency(months)
'MS'
>>> infer_frequency(pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-04"]))
'D'

:func:`season_length` is the library's one rule from a frequency to a seasonal period (the
convention of R's ``frequency()`` and statsforecast), used by every model whose
``season_length`` is left as None:

>>> [season_length(f) for f in ("h", "D", "B", "W", "MS", "QS", "YE", "15min", "s")]
[24, 7, 5, 52, 12, 4, 1, 96, 60]

Integer time steps (:mod:`tsattn.datasets.axis`) have the frequency ``"1"`` and no season:

>>> infer_frequency(pd.Series([5, 6, 7])), season_length("1")
('1', 1)
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from tsattn.datasets.axis import INTEGER_FREQ, is_integer_axis, is_integer_freq

#: calendar families tried on irregular timestamps; "{mon}" / "{day}" anchor on the first one
CALENDAR_CANDIDATES = (
    "B", "W-{day}", "MS", "ME", "BMS", "BME",
    "QS-{mon}", "QE-{mon}", "YS-{mon}", "YE-{mon}",
)  # fmt: skip


#: the longest season :func:`season_length` gives sub-daily data (a day of minutes)
MAX_SEASON_LENGTH = 1440
#: the calendar cycle of each pandas offset class, in steps of one unit of that offset
CALENDAR_SEASONS = {
    "Day": 7,  # days in a week
    "BusinessDay": 5, "CustomBusinessDay": 5,  # business days in a week
    "Week": 52,  # weeks in a year
    "MonthBegin": 12, "MonthEnd": 12, "BusinessMonthBegin": 12, "BusinessMonthEnd": 12,
    "SemiMonthBegin": 24, "SemiMonthEnd": 24,
    "QuarterBegin": 4, "QuarterEnd": 4, "BQuarterBegin": 4, "BQuarterEnd": 4,
    "YearBegin": 1, "YearEnd": 1, "BYearBegin": 1, "BYearEnd": 1,
}  # fmt: skip
#: the cycles tried, longest first, for steps shorter than a day: a day, an hour, a minute
SUBDAILY_CYCLES = (pd.Timedelta(days=1), pd.Timedelta(hours=1), pd.Timedelta(minutes=1))


def season_length(freq: object) -> int:
    """The seasonal period, in steps, of data at pandas frequency ``freq``.

    The rule (R's ``frequency()`` / statsforecast's convention):

    * hourly: 24 (a day), daily: 7 (a week), business daily: 5, weekly: 52, semi-monthly: 24,
      monthly: 12, quarterly: 4, yearly: 1 (no season);
    * other steps shorter than a day (minutes, seconds, ...): the number of steps in a day,
      or in an hour when a day holds more than :data:`MAX_SEASON_LENGTH` (1440) steps, or in
      a minute (so ``"15min"`` -> 96, ``"min"`` -> 1440, ``"s"`` -> 60, ``"30s"`` -> 120);
    * a multiple of a unit divides the cycle when it can (``"2h"`` -> 12, ``"2W"`` -> 26,
      ``"2QS"`` -> 2) and gives 1 when it cannot (``"5h"``, ``"3D"``, ``"7min"``), as does
      any frequency not listed (e.g. business hours) and any cycle of fewer than 2 steps;
    * integer time steps (``"1"``): 1, no season (give models ``season_length`` instead).

    >>> season_length("h"), season_length("2h"), season_length("10min"), season_length("3D")
    (24, 12, 144, 1)
    """
    check_freq(freq)
    if is_integer_freq(freq):
        return 1
    offset = pd.tseries.frequencies.to_offset(freq)
    kind = type(offset).__name__
    if kind in CALENDAR_SEASONS:
        cycle, n = CALENDAR_SEASONS[kind], offset.n
        period = cycle // n if cycle % n == 0 else 1
    elif isinstance(offset, pd.offsets.Tick):
        period = _subdaily_season(pd.Timedelta(offset))
    else:
        period = 1
    return period if period >= 2 else 1


def longest_cycle(freq: object) -> int:
    """The longest cycle a look-back should cover, in steps: a week for steps shorter than a
    day that divide it (``"h"`` -> 168, ``"30min"`` -> 336), else :func:`season_length`.

    >>> longest_cycle("h"), longest_cycle("30min"), longest_cycle("D"), longest_cycle("MS")
    (168, 336, 7, 12)
    """
    season = season_length(freq)
    if is_integer_freq(freq) or season == 1:
        return season
    offset = pd.tseries.frequencies.to_offset(freq)
    week = pd.Timedelta(days=7)
    if isinstance(offset, pd.offsets.Tick) and pd.Timedelta(offset) < pd.Timedelta(days=1):
        step = pd.Timedelta(offset)
        if week % step == pd.Timedelta(0):
            return int(week // step)
    return season


def _subdaily_season(step: pd.Timedelta) -> int:
    """Steps in the longest cycle (day, hour, minute) that ``step`` divides, at most
    :data:`MAX_SEASON_LENGTH`; 1 when there is none."""
    for cycle in SUBDAILY_CYCLES:
        if step < cycle and cycle % step == pd.Timedelta(0):
            steps = int(cycle // step)
            if steps <= MAX_SEASON_LENGTH:
                return steps
    return 1


def check_freq(freq: object) -> None:
    """Raise unless ``freq`` is a pandas frequency (an alias such as 'h' or an offset) or
    ``"1"``, the step of integer time steps."""
    if is_integer_freq(freq):
        return
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except (TypeError, ValueError):
        raise ValueError(
            f"freq={freq!r} is not a pandas frequency; use an alias such as 'h', 'D', "
            "'W', 'MS' or '15min' (or '1' for integer time steps)"
        ) from None
    if offset.n <= 0:  # '0h' divides by zero in pandas, '-1D' dates forecasts backwards
        raise ValueError(
            f"freq={freq!r} is not a step forward in time; use a positive one such as 'h', "
            "'D' or '15min'"
        )


def infer_frequency(timestamps: pd.Series | pd.DatetimeIndex) -> str:
    """The pandas frequency alias of sorted ``timestamps`` (``"1"`` for integer steps, see
    :func:`integer_frequency`).

    Uses ``pandas.infer_freq``; when the timestamps are irregular (gaps), the frequency
    that explains most steps: a calendar one (business days, weeks, month / quarter /
    year starts and ends) when every timestamp lies on it, else the most common fixed step
    (the smallest of equally common ones), so that gaps can be reported against it. Fewer
    than two distinct timestamps is an error suggesting ``freq=``.

    >>> infer_frequency(pd.date_range("2024-01-01", periods=5, freq="h"))
    'h'
    """
    if is_integer_axis(timestamps):
        return integer_frequency(np.asarray(timestamps, dtype=np.int64))
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


def integer_frequency(steps: np.ndarray) -> str:
    """``"1"`` for sorted integer time steps that mostly advance by one (gaps are reported
    by the regularity check); another usual step is a ``ValueError`` saying how to renumber.

    >>> integer_frequency(np.array([0, 1, 2, 4]))
    '1'
    """
    diffs = np.diff(steps)
    diffs = diffs[diffs > 0]
    if len(diffs) == 0:
        return INTEGER_FREQ  # one step per row: nothing to infer
    values, counts = np.unique(diffs, return_counts=True)
    modal = int(values[counts == counts.max()].min())  # ties: the smallest step
    if modal == 1:
        return INTEGER_FREQ
    raise ValueError(
        f"the integer time steps advance by {modal}, not 1: integer time axes step by one; "
        f"renumber them (e.g. df['ds'] = df['ds'] // {modal}), or if they encode dates "
        "(seconds since 1970, 20240131), convert them to timestamps first"
    )


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
