"""Baselines behind the Forecaster API: naive, statsmodels, scikit-learn and gluonts adapters.

Importing this package registers them (``naive``, ``seasonal_naive``, ``ets``, ``arima``,
``auto_arima``, ``theta``, ``sklearn``, ``gluonts``) without importing statsmodels,
scikit-learn, gluonts or Lightning: those load when a model is fitted.

>>> from tsattn.models.baselines import SeasonalNaive
>>> SeasonalNaive(season_length=24).name
'SeasonalNaive'
"""

from tsattn.models.baselines.gluonts_models import GluonTSForecaster
from tsattn.models.baselines.naive import Naive, SeasonalNaive
from tsattn.models.baselines.sklearn_lags import SklearnForecaster
from tsattn.models.baselines.statsmodels_models import ARIMA, ETS, AutoARIMA, Theta

__all__ = [
    "ARIMA",
    "ETS",
    "AutoARIMA",
    "GluonTSForecaster",
    "Naive",
    "SeasonalNaive",
    "SklearnForecaster",
    "Theta",
]
