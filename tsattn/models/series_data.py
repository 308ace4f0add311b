"""Validated series as forecasters hold them, and the forecast frames built from them.

:class:`SeriesData` is what every forecaster's hooks receive: one array of values per
series, with its last timestamp and frequency. :func:`forecast_frame` turns an
``(n_series, h)`` array of forecasts back into the long output frame, dated after each
series' end. Neither knows about models, so the base class, the conformal intervals and
persistence all import this module and none of them imports another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

#: inputs beyond this magnitude overflow the models' arithmetic (float32 tops out at 3.4e38)
HUGE_VALUE = 1e30


@dataclass
class SeriesData:
    """Validated series, one entry per ``unique_id``, in first-appearance order, with their
    covariates when the model uses some (see :mod:`tsattn.models.covariates`)."""

    ids: list[str]
    values: list[np.ndarray]  # each (n_i,) float64, original scale
    last_ds: list[pd.Timestamp] | list[int]  # ints on an axis of integer time steps
    freqs: list[str]  # pandas frequencies, or "1" for integer time steps
    futr: list[np.ndarray] | None = None  # each (n_i, F) future-known covariates (history)
    hist: list[np.ndarray] | None = None  # each (n_i, P) past-only covariates
    static: np.ndarray | None = None  # (n_series, S) static covariates
    future: list[np.ndarray] | None = None  # each (>= h, F) future-known values after the end

    @property
    def n_series(self) -> int:
        return len(self.ids)

    @property
    def min_length(self) -> int:
        return min(len(v) for v in self.values)

    def truncated(self, steps: int) -> SeriesData:
        """The series without their last ``steps`` observations (covariates cut alike; the
        future-known values of the cut steps become ``future``). Dates are kept as they are:
        the copies serve arrays (validation forecasts), never frames."""
        if steps == 0:
            return self
        cut = [slice(0, len(v) - steps) for v in self.values]
        future = None if self.futr is None else [f[len(f) - steps :] for f in self.futr]
        return replace(
            self,
            values=[v[c] for v, c in zip(self.values, cut)],
            futr=None if self.futr is None else [f[c] for f, c in zip(self.futr, cut)],
            hist=None if self.hist is None else [p[c] for p, c in zip(self.hist, cut)],
            future=future,
        )

    @property
    def has_covariates(self) -> bool:
        return self.futr is not None or self.hist is not None or self.static is not None

    @classmethod
    def from_long(cls, frame: pd.DataFrame, freq: str | None = None) -> SeriesData:
        """Split a validated canonical long frame (``unique_id, ds, y``) into series."""
        from tsattn.datasets import infer_frequency
        from tsattn.datasets.axis import is_integer_axis
        from tsattn.datasets.grid import series_bounds

        bounds = series_bounds(frame["unique_id"])  # (n_series + 1,) rows of each series
        first_rows, last_rows = bounds[:-1], bounds[1:] - 1
        ids = [str(uid) for uid in frame["unique_id"].iloc[first_rows]]  # boxed, as groupby
        values = np.split(frame["y"].to_numpy(dtype=np.float64), bounds[1:-1])
        last = frame["ds"].iloc[last_rows]
        last_ds = [int(t) for t in last] if is_integer_axis(last) else list(last)
        if freq is None:
            freq = infer_frequency(frame["ds"].iloc[: bounds[1]])
        return cls(ids, values, last_ds, [freq] * len(ids))


def series_dates(data: SeriesData, i: int, n: int, after: bool = False) -> pd.Index:
    """The last ``n`` dates of series ``i`` (``after``: the ``n`` dates after its end)."""
    from tsattn.datasets.axis import is_integer_freq, stamps_index
    from tsattn.datasets.grid import future_dates

    freq, last = data.freqs[i], data.last_ds[i]
    if is_integer_freq(freq):
        start = last + 1 if after else last - n + 1
        return pd.Index(np.arange(start, start + n, dtype=np.int64))
    if after:
        return future_dates(stamps_index([last]), n, freq)
    stamp = stamps_index([last])[0]
    return pd.date_range(end=stamp, periods=n, freq=freq, unit=stamps_index([last]).unit)


def input_range_problem(data: SeriesData) -> str:
    """Why the series' magnitude overflows the models' arithmetic, or "" when it does not."""
    peak = max(float(np.abs(v).max()) for v in data.values)
    if peak <= HUGE_VALUE:
        return ""
    return (
        f"the inputs reach |y| = {peak:.3g}, beyond what the arithmetic can carry; rescale "
        f"the series (e.g. divide by a power of ten) before fitting"
    )


def forecast_frame(data: SeriesData, values: np.ndarray, name: str) -> pd.DataFrame:
    """``unique_id, ds, <name>``: each series' ``h`` forecasts (``values``, (n_series, h))
    dated after its last date (or numbered after its last integer step)."""
    n_series, h = values.shape
    dates = []
    for freq in dict.fromkeys(data.freqs):  # the dates of each frequency at once
        rows = np.flatnonzero(np.asarray(data.freqs) == freq)
        dates.append((rows, _future_dates(data, rows, h, freq)))
    ds = dates[0][1] if len(dates) == 1 else _in_series_order(dates, n_series, h)
    ids = np.repeat(np.asarray(data.ids, dtype=object), h)  # (n_series * h,)
    return pd.DataFrame({"unique_id": ids, "ds": ds, name: values.ravel()})


def _future_dates(data: SeriesData, rows: np.ndarray, h: int, freq: str) -> pd.Index:
    """The ``h`` dates after the end of each series ``rows`` of ``data``: in the unit of
    their timestamps, or in microseconds where nanoseconds end (2262); past what
    microseconds hold, a ``ValueError`` naming the first series."""
    from tsattn.datasets.axis import COARSE_UNIT, is_integer_freq, stamps_index
    from tsattn.datasets.grid import future_dates

    if is_integer_freq(freq):
        return future_dates(np.array([data.last_ds[i] for i in rows], np.int64), h, freq)
    last = stamps_index([data.last_ds[i] for i in rows])
    try:
        return future_dates(last, h, freq)
    except pd.errors.OutOfBoundsDatetime:
        pass
    try:
        return future_dates(last.as_unit(COARSE_UNIT), h, freq)
    except pd.errors.OutOfBoundsDatetime:
        for j, (i, stamp) in enumerate(zip(rows, last)):
            try:
                future_dates(last[j : j + 1].as_unit(COARSE_UNIT), h, freq)
            except pd.errors.OutOfBoundsDatetime:
                raise ValueError(
                    f"the {h} forecast dates of series {data.ids[i]!r} after {stamp} go "
                    f"past the last date tsattn can represent (year 294246); forecast "
                    f"fewer steps"
                ) from None
        raise


def _in_series_order(dates: list, n_series: int, h: int) -> pd.Index:
    """Future dates computed per frequency (``(rows, dates)`` pairs) put back in series
    order, ``h`` per series."""
    unit = "ns" if all(d.unit == "ns" for _, d in dates) else "us"
    order = np.concatenate([rows for rows, _ in dates])  # (n_series,) series of each block
    blocks = [d.as_unit(unit).asi8.reshape(-1, h) for _, d in dates]
    stacked = np.concatenate(blocks)  # (n_series, h)
    ds = np.empty_like(stacked)
    ds[order] = stacked
    index = pd.DatetimeIndex(ds.ravel().astype(f"datetime64[{unit}]"))  # UTC wall time
    tz = dates[0][1].tz
    return index if tz is None else index.tz_localize("UTC").tz_convert(tz)


def to_json(obj: Any) -> str:
    """JSON for params/state, with a clear error for what cannot be saved."""
    try:
        return json.dumps(obj, default=_json_default)
    except TypeError as err:
        raise ValueError(f"cannot save this model: {err}") from None


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer | np.floating):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    raise TypeError(f"{type(obj).__name__} {obj!r} is not JSON-serialisable")
