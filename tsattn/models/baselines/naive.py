"""Naive and seasonal naive forecasts: the baselines every model has to beat.

>>> import numpy as np, pandas as pd
>>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=6,
...                    freq="D"), "y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
>>> Naive().fit(df).predict(h=2)["Naive"].tolist()
[6.0, 6.0]
>>> SeasonalNaive(season_length=3).fit(df).predict(h=4)["SeasonalNaive"].tolist()
[4.0, 5.0, 6.0, 4.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tsattn.checks import check_keywords
from tsattn.models.base import Forecaster, SeriesData, register_model
from tsattn.models.baselines._local import positive_int


@register_model("naive")
class Naive(Forecaster):
    """Repeats each series' last observed value. Nothing is learned, so ``predict(df=...)``
    works on any series, seen in training or not.

    Args:
        h: default horizon (any ``h`` can be asked of ``predict``).
        **kwargs: the shared options of :class:`~tsattn.models.Forecaster` (``alias``, ...).
    """

    def __init__(self, h: int = 1, **kwargs: Any):
        check_keywords(type(self), kwargs)
        super().__init__(h, **kwargs)

    def _fit(self, data: SeriesData, val_size: int | None) -> None:
        pass

    def _predict(self, data: SeriesData, h: int) -> np.ndarray:
        return np.stack([np.full(h, values[-1]) for values in data.values])

    def min_train_length(self, val_size: int = 0) -> int:
        return 1


@register_model("seasonal_naive")
class SeasonalNaive(Forecaster):
    """Repeats each series' last observed season of ``season_length`` steps.

    Args:
        season_length: the seasonal period in steps (e.g. 24 for a daily cycle of hourly
            data).
        h: default horizon (any ``h`` can be asked of ``predict``).
        **kwargs: the shared options of :class:`~tsattn.models.Forecaster`.
    """

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

    def min_train_length(self, val_size: int = 0) -> int:
        return positive_int("season_length", self.season_length)

    def min_history_length(self) -> int:
        return positive_int("season_length", self.season_length)
