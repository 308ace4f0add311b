"""Rolling-origin validation of an AutoForecaster's candidates, through :func:`tsattn.backtest`.

Each candidate is backtested on its own over the last ``n_windows`` windows of ``h`` steps
of every series (fitted once, at the first window's cutoff, then forecasting the later
windows from their histories: ``refit=False``), in the order given, cheapest first. A
candidate that raises is dropped (with a warning under ``on_error="warn"``); once the time
budget is spent, the remaining candidates are skipped. Every candidate gets a row of the
leaderboard, whatever happened to it.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tsattn.auto.covariates import FrameCovariates, covariate_frame, static_frame
from tsattn.evaluation import backtest
from tsattn.models.base import Forecaster
from tsattn.models.series_data import SeriesData, series_dates


class AutoWarning(UserWarning):
    """A candidate of an AutoForecaster failed or was skipped, and is left out."""


@dataclass
class Validation:
    """The validation forecasts of the candidates that ran, and a row per candidate."""

    names: list[str] = field(default_factory=list)  # (M,) candidates that ran
    forecasts: list[np.ndarray] = field(default_factory=list)  # M arrays (N,)
    actual: np.ndarray | None = None  # (N,)
    series: np.ndarray | None = None  # (N,) series index of each point
    scale: np.ndarray | None = None  # (N,) MASE scale of each point's series (set by the fit)
    rows: list[dict] = field(default_factory=list)  # one per candidate, in order

    @property
    def matrix(self) -> np.ndarray:
        """(N, M) validation forecasts."""
        return np.stack(self.forecasts, axis=1)


def series_frame(data: SeriesData, covariates: FrameCovariates | None = None) -> pd.DataFrame:
    """The canonical long frame (``unique_id, ds, y``) of validated series: each series'
    dates are the ``len(values)`` steps of its frequency that end at its last date; then the
    user's future-known and past-only ``covariates`` columns of ``data`` (those it holds)."""
    parts = [
        pd.DataFrame({"unique_id": uid, "ds": series_dates(data, i, len(values)), "y": values})
        for i, (uid, values) in enumerate(zip(data.ids, data.values))
    ]
    frame = pd.concat(parts, ignore_index=True)
    return frame if covariates is None else covariate_frame(frame, data, covariates)


def season_of(data: SeriesData) -> int:
    """The season, in steps, of the data's frequency (1: none)."""
    from tsattn.datasets.frequency import season_length

    return season_length(data.freqs[0]) if data.freqs else 1


def series_scales(data: SeriesData, held_out: int, season: int) -> np.ndarray:
    """(n_series,) each series' MASE scale from all but its last ``held_out`` points: the
    mean absolute ``season``-step difference; where that is (numerically) 0, the 1-step one;
    then the mean absolute value; then 1 (a series of zeros)."""
    scales = []
    for values in data.values:
        part = values[: max(len(values) - held_out, 1)]
        level = float(np.mean(np.abs(part)))
        steps = [season, 1] if len(part) > season > 1 else [1]
        found = [_mean_difference(part, lag) for lag in steps if len(part) > lag]
        found = [s for s in found if s > 1e-9 * level]
        scales.append(found[0] if found else level if level > 0 else 1.0)
    return np.asarray(scales)


def _mean_difference(values: np.ndarray, lag: int) -> float:
    return float(np.mean(np.abs(values[lag:] - values[:-lag])))


def usable_windows(data: SeriesData, h: int, n_windows: int) -> int:
    """``n_windows``, or fewer where the shortest series leaves less than a naive forecast's
    training data (h + 1 points) before the first window; at least 1."""
    fit = (data.min_length - h - 1) // h  # windows of h that leave h + 1 points to train on
    return max(1, min(n_windows, fit))


def validate(
    candidates: list[Forecaster],
    data: SeriesData,
    h: int,
    n_windows: int,
    deadline: float,
    on_error: str,
    progress: bool = False,
    covariates: FrameCovariates | None = None,
) -> Validation:
    """Backtest each candidate (see the module docstring); ``deadline``: a
    ``time.perf_counter()`` value after which no further candidate starts; ``covariates``:
    the columns of ``data`` the candidates may read (the AutoForecaster's declaration)."""
    frame = series_frame(data, covariates)
    static = None if covariates is None else static_frame(data, covariates)
    result = Validation()
    first_cutoff = data.min_length - n_windows * h  # training points of the first window
    for model in candidates:
        row = {"model": model.name, "status": "ok", "validation_s": 0.0}
        result.rows.append(row)
        if result.names and time.perf_counter() > deadline:
            row["status"] = "skipped: time_limit spent"
            continue
        if model.min_train_length(0) > first_cutoff:
            _drop(row, f"needs {model.min_train_length(0)} points before the first window")
            continue
        start = time.perf_counter()
        try:
            forecast = _backtest(model, frame, h, n_windows, progress, static)
        except Exception as err:  # noqa: BLE001 - reported, raised or dropped
            if on_error == "raise":
                raise
            _drop(row, f"failed: {type(err).__name__}: {err}")
            continue
        finally:
            row["validation_s"] = time.perf_counter() - start
        _add(result, model.name, forecast, data)
    return result


def _backtest(
    model: Forecaster,
    frame: pd.DataFrame,
    h: int,
    n_windows: int,
    progress: bool,
    static_df: pd.DataFrame | None,
):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' convergence chatter and the like
        forecast = backtest(
            model,
            frame,
            h=h,
            n_windows=n_windows,
            refit=False,
            progress=progress,
            static_df=static_df,
        )
    values = forecast[model.name].to_numpy(np.float64)
    if not np.isfinite(values).all():
        raise ValueError("its validation forecasts are not finite")
    return forecast


def _add(result: Validation, name: str, forecast: pd.DataFrame, data: SeriesData) -> None:
    """Record one candidate's validation forecasts (the rows of every backtest come in the
    same order: window, series, time)."""
    if result.actual is None:
        index = {uid: i for i, uid in enumerate(data.ids)}
        result.actual = forecast["y"].to_numpy(np.float64)
        result.series = forecast["unique_id"].astype(str).map(index).to_numpy(np.int64)
    result.names.append(name)
    result.forecasts.append(forecast[name].to_numpy(np.float64))


def _drop(row: dict, why: str) -> None:
    row["status"] = why
    warnings.warn(f"candidate {row['model']} is left out: {why}", AutoWarning, stacklevel=4)
