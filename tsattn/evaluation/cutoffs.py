"""Where the windows of a rolling-origin backtest start: cutoff positions per series.

A cutoff is the position (0-based) of the last training observation of a window; the window
forecasts positions ``cutoff + 1 .. cutoff + h``. Only windows whose h future values are all
observed are made. ``ds`` holds timestamps or integer time steps; an int ``start`` is a
position on either.

>>> import pandas as pd
>>> ds = pd.date_range("2024-01-01", periods=10, freq="D")
>>> cutoff_positions(ds, h=2, n_windows=3, start=None, step=2).tolist()
[3, 5, 7]
>>> cutoff_positions(ds, h=2, n_windows=None, start=0.5, step=1).tolist()
[4, 5, 6, 7]
>>> cutoff_positions(ds, h=2, n_windows=None, start="2024-01-06", step=3).tolist()
[5]
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

Start = int | float | str | pd.Timestamp | dt.datetime | np.datetime64


def cutoff_positions(
    ds: pd.Index, h: int, n_windows: int | None, start: Start | None, step: int, uid=""
) -> np.ndarray:
    """Cutoff positions of one series with timestamps ``ds`` (see :func:`tsattn.backtest`)."""
    n = len(ds)
    last = n - 1 - h  # the latest cutoff that still has h future values
    if start is None:
        count = 1 if n_windows is None else n_windows
        first = last - step * (count - 1)
        if first < 0:
            raise ValueError(
                f"series {uid!r} has {n} observations, but n_windows={count} windows of "
                f"h={h} every step={step} need at least {h + step * (count - 1) + 1}; "
                f"use fewer windows, a smaller step or h, or longer series"
            )
        return np.arange(first, last + 1, step)
    first = start_position(ds, start, uid)
    if first > last:
        raise ValueError(
            f"start={start!r} puts the first cutoff of series {uid!r} at position {first} "
            f"of {n}: no complete window of h={h} fits after it (the last possible cutoff is "
            f"position {last}, {ds[last] if last >= 0 else 'none'}); choose an earlier start"
        )
    return np.arange(first, last + 1, step)


def start_position(ds: pd.Index, start: Start, uid="") -> int:
    """Position of the first cutoff given by ``start``.

    An int is a 0-based position (negative counts from the end, as in Python indexing);
    a float in (0, 1) is the fraction of the series in the first training window (the
    first cutoff is position ``int(start * n) - 1``); anything else is a timestamp, and the
    cutoff is the last observation at or before it.
    """
    n = len(ds)
    if isinstance(start, bool):
        raise ValueError(f"start must be an int, a float in (0, 1) or a timestamp, got {start!r}")
    if isinstance(start, int | np.integer):
        position = int(start) + n if start < 0 else int(start)
        if not 0 <= position < n:
            raise ValueError(f"start={start} is outside series {uid!r} (positions 0..{n - 1})")
        return position
    if isinstance(start, float | np.floating):
        if not 0 < start < 1 or int(start * n) < 1:
            raise ValueError(
                f"a float start is the fraction of the series used for the first training "
                f"window and must be in (0, 1) and leave at least one observation; got {start}"
            )
        return int(start * n) - 1
    return _timestamp_position(ds, start, uid)


def _timestamp_position(ds: pd.Index, start: Start, uid: str) -> int:
    if ds.dtype.kind in "iu":
        raise ValueError(
            f"series {uid!r} has integer time steps: start must be an int position (e.g. "
            f"start={len(ds) // 2}) or a float fraction in (0, 1), got {start!r}"
        )
    try:
        stamp = pd.Timestamp(start)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if stamp is pd.NaT:
        raise ValueError(f"start must be an int, a float in (0, 1) or a timestamp, got {start!r}")
    try:
        position = int(ds.searchsorted(stamp, side="right")) - 1
    except TypeError:  # tz-aware start and naive timestamps, or the other way round
        raise ValueError(
            f"start={stamp} and the timestamps of series {uid!r} (time zone {ds.tz}) must both "
            "have a time zone or both have none; convert start (Timestamp.tz_localize/tz_convert)"
        ) from None
    if position < 0:
        raise ValueError(f"start={stamp} is before the first timestamp {ds[0]} of series {uid!r}")
    return position
