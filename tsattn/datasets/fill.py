"""Explicit fill policies: reindex each series to its regular grid and fill the holes.

- ``"ffill"``: carry the last value forward (a leading NaN takes the first value after it).
- ``"interpolate"``: linear interpolation in time order (ends take the nearest value).
- ``"zero"``: missing values become 0.

NaN and inf values already present are filled the same way. Timestamps that are not on the
grid (e.g. 10:07 in an hourly series) are an error, never silently dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FILL_POLICIES = ("ffill", "interpolate", "zero")


def _fill(values: pd.Series, policy: str) -> pd.Series:
    if policy == "ffill":
        return values.ffill().bfill()
    if policy == "interpolate":
        return values.interpolate(method="linear", limit_direction="both")
    return values.fillna(0.0)


def fill_gaps(frame: pd.DataFrame, freq: str, policy: str) -> pd.DataFrame:
    """Reindex every series of a canonical long frame to ``freq`` and fill by ``policy``."""
    id_col, time_col, target_col = frame.columns
    parts = []
    for uid, series in frame.groupby(id_col, sort=False):
        times = pd.DatetimeIndex(series[time_col])
        _check_grid_size(uid, times, freq)
        grid = pd.date_range(times[0], times[-1], freq=freq)
        off_grid = ~times.isin(grid)
        if off_grid.any():
            raise ValueError(
                f"series {uid!r}: timestamp {times[off_grid][0]} is not on the {freq!r} grid "
                f"starting at {times[0]}; fix the timestamps or pass the right freq="
            )
        values = series[target_col].replace([np.inf, -np.inf], np.nan).set_axis(times)
        values = _fill(values.reindex(grid), policy)
        if values.isna().any():  # a series with no finite value at all
            raise ValueError(f"series {uid!r} has no finite value to fill from")
        parts.append(pd.DataFrame({id_col: uid, time_col: grid, target_col: values.to_numpy()}))
    return pd.concat(parts, ignore_index=True)


#: a filled series may have at most this many times its observations (or MIN_GRID rows)
MAX_FILL_RATIO, MIN_GRID = 100, 1_000_000


def _check_grid_size(uid: object, times: pd.DatetimeIndex, freq: str) -> None:
    """Refuse to fill a series whose grid would be absurdly larger than its data (a wrong
    or too fine ``freq``, or stray timestamps), before allocating that grid."""
    offset = pd.tseries.frequencies.to_offset(freq)
    if not isinstance(offset, pd.offsets.Tick) or len(times) < 2:
        return  # calendar frequencies: the grid is bounded by pandas' date range
    n_grid = (times[-1] - times[0]) // pd.Timedelta(offset) + 1
    limit = max(MAX_FILL_RATIO * len(times), MIN_GRID)
    if n_grid > limit:
        raise ValueError(
            f"series {uid!r}: filling {len(times)} observations from {times[0]} to "
            f"{times[-1]} at frequency {freq!r} would create {n_grid} rows (more than "
            f"{limit}); check the timestamps or pass the right freq="
        )
