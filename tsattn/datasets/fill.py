"""Explicit fill policies: reindex each series to its regular grid and fill the holes.

- ``"ffill"``: carry the last value forward (a leading NaN takes the first value after it).
- ``"interpolate"``: linear interpolation in time order (ends take the nearest value).
- ``"zero"``: missing values become 0.

NaN and inf values already present are filled the same way. Timestamps that are not on the
grid (e.g. 10:07 in an hourly series) are an error, never silently dropped, and so is a grid
that would be mostly made up (more than :data:`MAX_FILL_RATIO` times the observations: a
monthly series filled at a daily ``freq``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsattn.datasets.axis import is_integer_freq
from tsattn.datasets.frequency import suggest_freq
from tsattn.datasets.grid import seconds_since_1970

FILL_POLICIES = ("ffill", "interpolate", "zero")


def _fill(values: pd.Series, policy: str) -> pd.Series:
    if policy == "ffill":
        return values.ffill().bfill()
    if policy == "interpolate":
        return values.interpolate(method="linear", limit_direction="both")
    return values.fillna(0.0)


def fill_gaps(frame: pd.DataFrame, freq: str, policy: str) -> pd.DataFrame:
    """Reindex every series of a canonical long frame to ``freq`` and fill by ``policy``
    (the target and every covariate column after it)."""
    id_col, time_col, *value_cols = frame.columns
    parts = []
    for uid, series in frame.groupby(id_col, sort=False):
        times = pd.Index(series[time_col])
        _check_grid_size(uid, times, freq)
        grid = _grid(times, freq)
        off_grid = ~times.isin(grid)
        if off_grid.any():
            raise ValueError(
                f"series {uid!r}: timestamp {times[off_grid][0]} is not on the {freq!r} grid "
                f"starting at {times[0]}; fix the timestamps{_other_freq(times, freq)}"
            )
        columns = {id_col: uid, time_col: grid}
        for column in value_cols:
            columns[column] = _filled_column(uid, series[column], times, grid, policy)
        parts.append(pd.DataFrame(columns))
    return pd.concat(parts, ignore_index=True)


def _filled_column(
    uid: object, values: pd.Series, times: pd.Index, grid: pd.Index, policy: str
) -> np.ndarray:
    """One value column of one series on its full grid, holes filled by ``policy``."""
    values = values.replace([np.inf, -np.inf], np.nan).set_axis(times)
    values = _fill(values.reindex(grid), policy)
    if values.isna().any():  # a series with no finite value at all
        raise ValueError(f"series {uid!r} has no finite value of {values.name!r} to fill from")
    return values.to_numpy()


#: a filled series may have at most this many times its observations: more, and most of
#: its values would be invented (a wrong, too fine ``freq``, or stray timestamps)
MAX_FILL_RATIO = 2


def _grid(times: pd.Index, freq: str) -> pd.Index:
    """Every point of the ``freq`` grid from the first to the last of ``times``."""
    if is_integer_freq(freq):
        return pd.Index(np.arange(times[0], times[-1] + 1, dtype=np.int64))
    return pd.date_range(times[0], times[-1], freq=freq, unit=times.unit)


def _check_grid_size(uid: object, times: pd.Index, freq: str) -> None:
    """Refuse to fill a series whose grid would be far larger than its data, before
    allocating that grid."""
    if len(times) < 2:
        return
    n_grid = _grid_length(times[0], times[-1], freq)
    limit = MAX_FILL_RATIO * len(times)
    if n_grid > limit:
        raise ValueError(
            f"series {uid!r}: filling {len(times)} observations from {times[0]} to "
            f"{times[-1]} at frequency {freq!r} would create {n_grid} rows, more than "
            f"{MAX_FILL_RATIO} times the observations, so most values would be made up; "
            f"check the timestamps{_other_freq(times, freq)}"
        )


def _other_freq(times: pd.Index, freq: str) -> str:
    """' or pass ...' naming the frequency the timestamps suggest, if it is not ``freq``."""
    hint = suggest_freq(times)
    return "" if hint == f"freq={freq!r}" else f" or pass the right {hint}"


def _grid_length(start: object, end: object, freq: str) -> int:
    """Points from ``start`` to ``end`` at ``freq``, counted without building them when the
    step is fixed (in seconds: a ``Timedelta`` overflows past 292 years)."""
    if is_integer_freq(freq):
        return int(end) - int(start) + 1
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Tick):
        span = seconds_since_1970(end) - seconds_since_1970(start)
        return int(span / pd.Timedelta(offset).total_seconds()) + 1
    return len(pd.date_range(start, end, freq=offset, unit=start.unit))  # pandas bounds this
