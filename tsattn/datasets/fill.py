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
