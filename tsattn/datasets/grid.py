"""Regular time grids for many series at once: future dates and regularity, vectorised.

Per series, pandas answers both questions with ``date_range``: the ``h`` dates after a
series' last timestamp are ``date_range(last, periods=h + 1, freq)[1:]``, and a series is
regular when its timestamps equal ``date_range(first, periods=n, freq)``. Over thousands of
series those calls dominate a backtest. Here one shared grid stands in for all of them:
``date_range`` steps from its start one offset at a time (a fixed step simply multiplies), so
from any timestamp on the grid the next dates are the grid's next entries. A series whose
timestamps lie off that grid (an anchor or a phase the grid does not share, an offset kind
not listed in :data:`GRID_OFFSETS`) is answered by pandas itself, series by series, so the
results are always exactly pandas'.

Timestamps keep their unit (nanoseconds, or microseconds outside pandas' nanosecond range:
:mod:`tsattn.datasets.axis`), and spans are measured in seconds, never as a ``Timedelta``
(which overflows past 292 years). Integer time steps (frequency ``"1"``) are their own grid.

>>> last = pd.DatetimeIndex(["2024-01-01", "2024-03-01"])
>>> future_dates(last, 2, "MS").strftime("%Y-%m").tolist()
['2024-02', '2024-03', '2024-04', '2024-05']
>>> times = pd.DatetimeIndex(["2024-01-01", "2024-02-01", "2024-01-01", "2024-03-01"])
>>> regular_series(times, np.array([0, 2, 4]), "MS").tolist()  # two series of two rows
[True, False]
>>> future_dates(np.array([9, 20]), 2, "1").tolist()  # integer steps
[10, 11, 21, 22]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsattn.datasets.axis import is_integer_freq

#: calendar offsets whose k-th step from a date on them is ``date + k * offset``, so that one
#: shared grid answers for every series on it (other kinds are asked of pandas per series)
GRID_OFFSETS = (
    pd.offsets.Tick, pd.offsets.BusinessDay, pd.offsets.Week,
    pd.offsets.MonthBegin, pd.offsets.MonthEnd, pd.offsets.BusinessMonthBegin,
    pd.offsets.BusinessMonthEnd, pd.offsets.SemiMonthBegin, pd.offsets.SemiMonthEnd,
    pd.offsets.QuarterBegin, pd.offsets.QuarterEnd, pd.offsets.BQuarterBegin,
    pd.offsets.BQuarterEnd, pd.offsets.YearBegin, pd.offsets.YearEnd,
    pd.offsets.BYearBegin, pd.offsets.BYearEnd,
)  # fmt: skip
#: the longest shared grid built; beyond it (series decades apart at a fine step) the dates
#: are asked of pandas once per distinct timestamp instead
MAX_GRID_LENGTH = 2_000_000


def future_dates(last: pd.DatetimeIndex | np.ndarray, h: int, freq: object) -> pd.Index:
    """The ``h`` dates after each of ``last`` at ``freq``, series after series (length
    ``len(last) * h``): for each ``t`` in ``last``, ``date_range(t, periods=h + 1, freq)[1:]``
    in ``last``'s unit; for integer steps (``freq="1"``), ``t + 1 .. t + h``.

    Raises:
        pandas.errors.OutOfBoundsDatetime: some dates go past what the unit can represent.
    """
    if is_integer_freq(freq):
        return _step_future(np.asarray(last, dtype=np.int64), h)
    offset = pd.tseries.frequencies.to_offset(freq)
    last = pd.DatetimeIndex(last)
    if len(last) == 0:
        return last
    if last.tz is None and isinstance(offset, pd.offsets.Tick):
        return _tick_future(last, h, offset)
    dates = np.empty((len(last), h), dtype=np.int64)  # (n_series, h) counts of last.unit
    todo = np.ones(len(last), dtype=bool)
    grid = _shared_grid(last.min(), last.max(), offset, h) if _gridded(offset) else None
    if grid is not None:
        pos = np.minimum(grid.searchsorted(last), len(grid) - 1)  # (n_series,)
        todo = (grid[pos] != last) | (pos + h >= len(grid))
        rows = pos[~todo, None] + np.arange(1, h + 1)  # (n_found, h) grid positions
        dates[~todo] = grid.asi8[rows]
    for stamp in pd.unique(last[todo]):  # off the grid: pandas, once per distinct date
        after = pd.date_range(stamp, periods=h + 1, freq=offset, unit=last.unit)[1:]
        dates[todo & (last == stamp)] = after.asi8
    return _as_index(dates.ravel(), last)


def axis_range(first: object, periods: int, freq: object) -> pd.Index:
    """``periods`` points of the time axis from ``first`` at ``freq`` (``date_range`` in
    ``first``'s unit, or ``first, first + 1, ...`` for integer steps)."""
    if is_integer_freq(freq):
        return pd.Index(int(first) + np.arange(periods, dtype=np.int64))
    return pd.date_range(first, periods=periods, freq=freq, unit=pd.Timestamp(first).unit)


def regular_series(times: pd.Series | pd.Index, bounds: np.ndarray, freq: object) -> np.ndarray:
    """Which series are regular at ``freq``: ``(n_series,)`` bools, True where the series'
    timestamps equal ``date_range(first, periods=n, freq)``. ``times`` holds the series one
    after the other, series ``i`` at rows ``bounds[i]:bounds[i + 1]``.

    False means "not shown regular by the shared grid": check those series one by one with
    pandas (a multiple such as ``"2MS"`` in another phase is regular on its own grid).
    """
    if is_integer_freq(freq):  # integer steps: every step is one
        return _all_within(np.diff(np.asarray(times, dtype=np.int64)) == 1, bounds)
    offset = pd.tseries.frequencies.to_offset(freq)
    times = pd.DatetimeIndex(times)
    n_series = len(bounds) - 1
    first_rows = bounds[:-1]  # (n_series,) row of each series' first timestamp
    if isinstance(offset, pd.offsets.Tick):  # a fixed step: every step must be exactly it
        step = _tick_step(offset, times.unit)
        if step is None:
            return np.zeros(n_series, dtype=bool)
        return _all_within(np.diff(times.asi8) == step, bounds)
    grid = _shared_grid(times.min(), times.max(), offset, 0) if _gridded(offset) else None
    if grid is None:
        return np.zeros(n_series, dtype=bool)
    pos = np.minimum(grid.searchsorted(times), len(grid) - 1)  # (rows,)
    on_grid = grid[pos] == times  # (rows,)
    next_ok = np.diff(pos) == 1  # (rows - 1,) each step one grid step
    return on_grid[first_rows] & _all_within(next_ok & on_grid[1:], bounds)


def series_bounds(ids: pd.Series) -> np.ndarray:
    """Row bounds of the series of a frame whose rows are grouped by series:
    ``(n_series + 1,)``, series ``i`` at rows ``bounds[i]:bounds[i + 1]``."""
    starts = np.flatnonzero(id_changes(ids)) + 1
    return np.concatenate([[0], starts, [len(ids)]]).astype(np.int64)


def id_changes(ids: pd.Series) -> np.ndarray:
    """``(rows - 1,)`` bools: True where row ``r + 1`` holds another id than row ``r`` (ids
    equal as pandas groups them: by value, so ``1`` and ``1.0`` are one id). The ids must
    all be present (validated: no NaN, which differs from itself)."""
    if isinstance(ids.dtype, np.dtype):
        values = ids.to_numpy()
        return np.asarray(values[1:] != values[:-1], dtype=bool)  # one pass, no hashing
    codes, _ = pd.factorize(ids, sort=False)  # extension dtypes (strings, nullable ints)
    return np.diff(codes) != 0


def _all_within(step_ok: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Per series, whether every step inside it is ok: ``step_ok`` (rows - 1,) holds the
    step from row r to row r + 1, and the steps across series bounds are ignored."""
    bad_steps = np.flatnonzero(~step_ok)  # (n_bad,) step r goes from row r to row r + 1
    series = np.searchsorted(bounds, bad_steps, side="right") - 1  # (n_bad,) series of row r
    inside = bad_steps + 1 < bounds[series + 1]  # (n_bad,) row r + 1 in the same series
    ok = np.ones(len(bounds) - 1, dtype=bool)
    ok[series[inside]] = False
    return ok


def _gridded(offset: pd.DateOffset) -> bool:
    return type(offset) in GRID_OFFSETS or isinstance(offset, pd.offsets.Tick)


def _shared_grid(
    start: pd.Timestamp, end: pd.Timestamp, offset: pd.DateOffset, extra: int
) -> pd.DatetimeIndex | None:
    """``date_range(start, end, freq)`` and ``extra`` more steps, in ``start``'s unit, or
    None when that grid would be longer than :data:`MAX_GRID_LENGTH` (or empty)."""
    try:
        mean_step = ((start + 16 * offset) - start) / 16
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        return None
    span = float(seconds_since_1970(end) - seconds_since_1970(start))  # no Timedelta overflow
    if span / mean_step.total_seconds() + extra > MAX_GRID_LENGTH:
        return None
    grid = pd.date_range(start, end, freq=offset, unit=start.unit)
    if len(grid) == 0:
        return None
    if extra:
        more = pd.date_range(grid[-1], periods=extra + 1, freq=offset, unit=start.unit)
        grid = grid.append(more[1:])
    return grid


def seconds_since_1970(stamp: pd.Timestamp) -> int:
    """Whole seconds from 1970 (UTC) to ``stamp``, in any unit (a Python int: no overflow)."""
    return int(stamp.asm8.astype("datetime64[s]").astype(np.int64))


def _tick_step(offset: pd.offsets.Tick, unit: str) -> int | None:
    """A fixed step as a count of ``unit`` (None when it is not a whole number of them)."""
    step = pd.Timedelta(offset)
    whole = step.as_unit(unit)
    return int(whole.asm8.view(np.int64)) if whole == step else None


def _tick_future(last: pd.DatetimeIndex, h: int, offset: pd.offsets.Tick) -> pd.DatetimeIndex:
    """Future dates at a fixed step: ``last + k * step`` for k = 1..h, as pandas makes them."""
    step = _tick_step(offset, last.unit)
    if step is None:
        raise ValueError(
            f"frequency {offset.freqstr!r} is finer than the timestamps' resolution "
            f"({last.unit}); use a coarser frequency"
        )
    if int(last.asi8.max()) + h * step > np.iinfo(np.int64).max:
        raise pd.errors.OutOfBoundsDatetime(
            f"{h} steps of {offset.freqstr} after {last.max()} pass the last date of unit "
            f"{last.unit!r}"
        )
    dates = last.asi8[:, None] + step * np.arange(1, h + 1)  # (n_series, h)
    return _as_index(dates.ravel(), last)


def _step_future(last: np.ndarray, h: int) -> pd.Index:
    """Integer steps ``t + 1 .. t + h`` after each ``t`` of ``last``, series after series."""
    if len(last) and int(last.max()) > np.iinfo(np.int64).max - h:
        raise ValueError(f"{h} steps after {int(last.max())} pass the largest int64 time step")
    return pd.Index((last[:, None] + np.arange(1, h + 1)).ravel())


def _as_index(counts: np.ndarray, like: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Counts of ``like``'s unit since 1970 (UTC) as a DatetimeIndex in ``like``'s unit and
    time zone."""
    index = pd.DatetimeIndex(counts.astype(f"datetime64[{like.unit}]"))
    return index if like.tz is None else index.tz_localize("UTC").tz_convert(like.tz)
