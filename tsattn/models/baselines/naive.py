"""Naive and seasonal naive forecasts: the baselines every model has to beat.

>>> import numpy as np, pandas as pd
>>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=6,
...                    freq="D"), "y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
>>> Naive().fit(df).predict(h=2)["Naive"].tolist()
[6.0, 6.0]
>>> SeasonalNaive(season_length=3).fit(df).predict(h=4)["SeasonalNaive"].tolist()
[4.0, 5.0, 6.0, 4.0]

The same on windows of a multichannel array (the benchmark runner's entry):

>>> x = np.arange(12.0).reshape(1, 6, 2)  # (B, L, C): channel 0 is 0, 2, ..., 10
>>> Naive(h=2).predict_windows(x)[0, :, 0].tolist()
[10.0, 10.0]
>>> SeasonalNaive(season_length=3, h=4).predict_windows(x)[0, :, 0].tolist()
[6.0, 8.0, 10.0, 6.0]

Intervals (``predict(level=..., quantiles=...)``) are statsforecast's closed forms: a Normal
around the point forecast whose scale is the root mean square ``sigma`` of the in-sample
residuals (one-step differences for Naive, one-season differences for SeasonalNaive, computed
at fit and saved with the model), times ``sqrt(k)`` at step k for Naive (a random walk) and
``sqrt(floor((k - 1) / m) + 1)`` for SeasonalNaive:

>>> Naive().fit(df).predict(h=2, level=[80])["Naive-hi-80"].round(3).tolist()  # sigma = 1
[7.282, 7.812]
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from tsattn.checks import check_keywords, state_ids, state_vector
from tsattn.models.base import Forecaster, check_window_array, register_model
from tsattn.models.baselines._local import (
    check_season_length,
    normal_quantiles,
    positive_int,
    resolve_season,
)
from tsattn.models.series_data import SeriesData


def residual_sigma(values: np.ndarray, lag: int) -> float | None:
    """Root mean square of ``values[t] - values[t - lag]`` (statsforecast's sigma of the naive
    residuals); None when the series has no residual (``len(values) <= lag``)."""
    residuals = values[lag:] - values[:-lag]
    return float(np.sqrt(np.mean(residuals**2))) if len(residuals) else None


class ResidualIntervals(Forecaster):
    """Normal intervals with the residual sigma of each series, kept per series id."""

    supports_quantiles: ClassVar[bool] = True

    def _lag(self) -> int:
        raise NotImplementedError

    def _step_scale(self, h: int) -> np.ndarray:
        """(h,) factor of sigma at steps 1..h."""
        raise NotImplementedError

    def _store_sigmas(self, data: SeriesData) -> None:
        lag = self._lag()
        sigmas = {uid: residual_sigma(v, lag) for uid, v in zip(data.ids, data.values)}
        self._sigmas = {uid: s for uid, s in sigmas.items() if s is not None}

    def _sigma(self, uid: str, values: np.ndarray) -> float:
        """The sigma stored at fit; for a series not fitted on, that of its history."""
        sigma = getattr(self, "_sigmas", {}).get(uid)
        sigma = residual_sigma(values, self._lag()) if sigma is None else sigma
        if sigma is None:
            raise ValueError(
                f"{self.name} needs more than {self._lag()} observations of series {uid!r} "
                f"for intervals (the residual sigma), got {len(values)}"
            )
        return sigma

    def _predict_quantiles(self, data: SeriesData, h: int, probs: np.ndarray) -> np.ndarray:
        point = self._predict(data, h)  # (S, h)
        sigma = np.array([self._sigma(uid, v) for uid, v in zip(data.ids, data.values)])
        return normal_quantiles(point, sigma[:, None] * self._step_scale(h), probs)

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        sigmas = getattr(self, "_sigmas", {})
        values = np.array(list(sigmas.values()), dtype=np.float64)
        return {"sigma_ids": list(sigmas)}, {"sigma": torch.from_numpy(values)}

    def _set_state(self, meta: dict[str, Any], tensors: dict[str, Any]) -> None:
        """Restore the residual sigmas: one finite, non-negative value per series id (a file
        saved before intervals existed has none: they are then computed from the history)."""
        if "sigma_ids" not in meta and "sigma" not in tensors:
            self._sigmas = {}
            return
        ids = state_ids(meta, "sigma_ids")
        sigma = state_vector(tensors, "sigma", len(ids))
        if (sigma < 0).any():
            raise ValueError("saved tensor 'sigma' holds a negative residual sigma")
        self._sigmas = dict(zip(ids, sigma.tolist()))


@register_model("naive")
class Naive(ResidualIntervals):
    """Repeats each series' last observed value. Nothing is learned, so ``predict(df=...)``
    (and ``predict_windows``) works on any series, seen in training or not.

    Args:
        h: default horizon (any ``h`` can be asked of ``predict``).
        **kwargs: the shared options of :class:`~tsattn.models.Forecaster` (``alias``, ...).
    """

    supports_windows = True

    def __init__(self, h: int = 1, **kwargs: Any):
        check_keywords(type(self), kwargs)
        super().__init__(h, **kwargs)

    def _fit(self, data: SeriesData, val_size: int | None) -> None:
        self._store_sigmas(data)

    def _lag(self) -> int:
        return 1

    def _step_scale(self, h: int) -> np.ndarray:
        return np.sqrt(np.arange(1, h + 1))

    def _predict(self, data: SeriesData, h: int) -> np.ndarray:
        return np.stack([np.full(h, values[-1]) for values in data.values])

    def fit_arrays(self, train: np.ndarray, val: np.ndarray | None = None) -> Naive:
        """Nothing to learn: checks ``train`` (T, C) and returns the model."""
        check_window_array("train", train, 2)
        return self

    def predict_windows(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Each window's last value repeated: (B, L, C) -> (B, h, C)."""
        x = check_window_array("x", x, 3)
        return np.repeat(x[:, -1:], self.h, axis=1)  # (B, h, C)

    def min_train_length(self, val_size: int = 0) -> int:
        return 1


@register_model("seasonal_naive")
class SeasonalNaive(ResidualIntervals):
    """Repeats each series' last observed season of ``season_length`` steps.

    Args:
        season_length: the seasonal period in steps (e.g. 24 for a daily cycle of hourly
            data); None: from the frequency of the data at fit
            (:func:`tsattn.datasets.frequency.season_length`: hourly 24, daily 7, monthly
            12, ...). ``predict_windows`` has no frequency: it needs the period given (or a
            fit on a data frame first).
        h: default horizon (any ``h`` can be asked of ``predict``).
        **kwargs: the shared options of :class:`~tsattn.models.Forecaster`.
    """

    supports_windows = True

    def __init__(self, season_length: int | None = None, h: int = 1, **kwargs: Any):
        check_keywords(type(self), kwargs)
        super().__init__(h, **kwargs)
        self.season_length = check_season_length(season_length)

    def _fit(self, data: SeriesData, val_size: int | None) -> None:
        self._season = resolve_season(self.season_length, data)
        short = [uid for uid, v in zip(data.ids, data.values) if len(v) < self._season]
        if short:
            raise ValueError(
                f"SeasonalNaive's season of {self._season} steps (from the frequency "
                f"{data.freqs[0]!r}) is longer than series {short[:3]}; give season_length="
            )
        self._store_sigmas(data)

    def _lag(self) -> int:
        """The season: given, or taken from the frequency at fit."""
        if self.season_length is not None:
            return positive_int("season_length", self.season_length)
        season = getattr(self, "_season", None)
        if season is None:
            raise ValueError(
                "SeasonalNaive(season_length=None) takes its season from the data's frequency "
                "at fit; fit it on a data frame first or give season_length (e.g. 24 for "
                "hourly data)"
            )
        return season

    def _step_scale(self, h: int) -> np.ndarray:
        return np.sqrt(np.arange(h) // self._lag() + 1.0)  # floor((k - 1) / m) + 1

    def _predict(self, data: SeriesData, h: int) -> np.ndarray:
        m = self._lag()
        steps = np.arange(h) % m  # (h,) index into the last season
        return np.stack([values[-m:][steps] for values in data.values])

    def fit_arrays(self, train: np.ndarray, val: np.ndarray | None = None) -> SeasonalNaive:
        """Nothing to learn: checks ``train`` (T, C) and the season length."""
        check_window_array("train", train, 2)
        self._lag()
        return self

    def predict_windows(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Each window's last season repeated: (B, L, C) -> (B, h, C)."""
        x = check_window_array("x", x, 3)
        m = self._lag()
        if x.shape[1] < m:
            raise ValueError(f"input_size {x.shape[1]} < season_length {m}")
        steps = np.arange(self.h) % m  # (h,) index into the last season
        return x[:, -m:][:, steps]  # (B, h, C)

    def min_train_length(self, val_size: int = 0) -> int:
        return self.season_length or getattr(self, "_season", None) or 1

    def min_history_length(self) -> int:
        return self.season_length or getattr(self, "_season", None) or 1

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        meta, tensors = super()._get_state()
        season = getattr(self, "_season", None)
        return ({**meta, "season": season} if season is not None else meta), tensors

    def _set_state(self, meta: dict[str, Any], tensors: dict[str, Any]) -> None:
        if "season" in meta:
            self._season = positive_int("saved state 'season'", meta["season"])
        super()._set_state(meta, tensors)
