"""The two kinds of time axis a series may have, and the resolution of its timestamps.

* **Timestamps** (``datetime64``): nanoseconds when every timestamp fits pandas' nanosecond
  range (1677-09-21 to 2262-04-11), else microseconds (:data:`COARSE_UNIT`, years -290307 to
  294246), so that a yearly series from 1659 is as usable as one from 1959.
* **Integer steps** (``int64``, as statsforecast and neuralforecast take them): the time
  axis ``0, 1, 2, ...`` (any start), of frequency :data:`INTEGER_FREQ`: one step per row.

>>> is_integer_freq("1"), is_integer_freq("D")
(True, False)
>>> axis_values(pd.Series([3, 4, 5])).tolist()
[3, 4, 5]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the frequency of an integer time axis: one step (statsforecast's ``freq=1``)
INTEGER_FREQ = "1"
#: the resolution of timestamps outside pandas' nanosecond range
COARSE_UNIT = "us"


def is_integer_freq(freq: object) -> bool:
    """True for the frequency of an integer time axis: ``"1"`` or the int ``1``."""
    if isinstance(freq, bool | np.bool_):
        return False
    if isinstance(freq, int | np.integer):
        return int(freq) == 1
    return isinstance(freq, str) and freq.strip() == INTEGER_FREQ


def is_integer_axis(times: object) -> bool:
    """True when ``times`` (a Series, Index or array) holds integer time steps."""
    dtype = getattr(times, "dtype", None)
    return dtype is not None and dtype.kind in "iu"


def axis_values(times: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """``times`` as int64 counts along the axis: the steps themselves, or each timestamp's
    count of its unit (nanoseconds or microseconds) since 1970, for ordering and steps."""
    if is_integer_axis(times):
        return np.asarray(times, dtype=np.int64)
    return pd.DatetimeIndex(times).asi8


def stamps_index(stamps: list[pd.Timestamp]) -> pd.DatetimeIndex:
    """A DatetimeIndex of ``stamps`` in their own unit and time zone (pandas would cast a
    plain list to nanoseconds, which fails before 1677)."""
    unit = "us" if any(s.unit != "ns" for s in stamps) else "ns"
    index = pd.DatetimeIndex(np.array([s.as_unit(unit).asm8 for s in stamps]))  # UTC
    tz = stamps[0].tz if stamps else None
    return index if tz is None else index.tz_localize("UTC").tz_convert(tz)


def working_unit(stamps: pd.Series | pd.DatetimeIndex) -> pd.Series | pd.DatetimeIndex:
    """``stamps`` in nanoseconds when they all fit, else in :data:`COARSE_UNIT`.

    Raises:
        pandas.errors.OutOfBoundsDatetime, OverflowError: some timestamp lies beyond the
            range of microseconds.
    """
    converter = stamps.dt if isinstance(stamps, pd.Series) else stamps
    if converter.unit == "ns":
        return stamps  # the usual case: no copy
    try:
        return converter.as_unit("ns")
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        return converter.as_unit(COARSE_UNIT)
