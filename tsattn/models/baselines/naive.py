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
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tsattn.checks import check_keywords
from tsattn.models.base import Forecaster, SeriesData, check_window_array, register_model
from tsattn.models.baselines._local import positive_int


@register_model("naive")
class Naive(Forecaster):
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
        pass

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
class SeasonalNaive(Forecaster):
    """Repeats each series' last observed season of ``season_length`` steps (no fit is
    needed before ``predict_windows``).

    Args:
        season_length: the seasonal period in steps (e.g. 24 for a daily cycle of hourly
            data).
        h: default horizon (any ``h`` can be asked of ``predict``).
        **kwargs: the shared options of :class:`~tsattn.models.Forecaster`.
    """

    supports_windows = True

    def __init__(self, season_length: int = 1, h: int = 1, **kwargs: Any):
        check_keywords(type(self), kwargs)
        super().__init__(h, **kwargs)
        self.season_length = positive_int("season_length", season_length)

    def _fit(self, data: SeriesData, val_size: int | None) -> None:
        positive_int("season_length", self.season_length)

    def _predict(self, data: SeriesData, h: int) -> np.ndarray:
        m = positive_int("season_length", self.season_length)
        steps = np.arange(h) % m  # (h,) index into the last season
        return np.stack([values[-m:][steps] for values in data.values])

    def fit_arrays(self, train: np.ndarray, val: np.ndarray | None = None) -> SeasonalNaive:
        """Nothing to learn: checks ``train`` (T, C) and the season length."""
        check_window_array("train", train, 2)
        positive_int("season_length", self.season_length)
        return self

    def predict_windows(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Each window's last season repeated: (B, L, C) -> (B, h, C)."""
        x = check_window_array("x", x, 3)
        m = positive_int("season_length", self.season_length)
        if x.shape[1] < m:
            raise ValueError(f"input_size {x.shape[1]} < season_length {m}")
        steps = np.arange(self.h) % m  # (h,) index into the last season
        return x[:, -m:][:, steps]  # (B, h, C)

    def min_train_length(self, val_size: int = 0) -> int:
        return positive_int("season_length", self.season_length)

    def min_history_length(self) -> int:
        return positive_int("season_length", self.season_length)
