"""Thin adapters of statsmodels' local models: ETS, ARIMA, AutoARIMA and Theta.

Each series gets its own model (in parallel over series with ``n_jobs``). statsmodels is
imported when a model is fitted, not when tsattn is imported.

Persistence and ``predict(df=history)``: ETS, ARIMA and AutoARIMA keep each series'
estimated parameter vector (and chosen order); forecasting from a history re-runs the
statsmodels filter with those fixed parameters on that history (``ETSModel.smooth(params)``,
``ARIMA.filter(params)``), and ``save`` writes the parameters as tensors, so a loaded model
forecasts without re-estimating. Theta's two parameters have closed forms, so it stores
none: it re-estimates them on whatever history it forecasts from (the training data, the
saved history after ``load``, or ``df``), which is deterministic.

``predict(level=..., quantiles=...)`` takes the quantiles of statsmodels' own forecast
distribution: ETS's ``get_prediction`` (a Normal with the exact forecast variance for the
linear models ANN, AAN, AAdN, ANA, AAA, AAdA; otherwise 1000 simulated paths with a fixed seed,
so the numbers repeat), ARIMA's and AutoARIMA's ``get_forecast`` (a Normal with
``se_mean``), and Theta's forecast with the variance of its integrated-MA form (the
formula of statsmodels' ``prediction_intervals``, corrected: see :meth:`Theta._quantiles_one`).

>>> import numpy as np, pandas as pd
>>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=48,
...                    freq="D"), "y": 10 + np.sin(np.arange(48.0))})
>>> ETS(trend="add").fit(df).predict(h=3).shape
(3, 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tsattn.checks import (
    check_bool,
    check_choice,
    check_int_tuple,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    short_repr,
)
from tsattn.models.base import register_model
from tsattn.models.baselines._local import LocalModel, LocalState, normal_quantiles

ETS_COMPONENTS = (None, "add", "mul", "additive", "multiplicative")
ARIMA_TRENDS = (None, "n", "c", "t", "ct")
THETA_METHODS = ("auto", "additive", "multiplicative", "add", "mul")
#: simulated paths behind ETS quantiles when statsmodels has no exact variance, and their seed
ETS_SIMULATIONS = 1000
ETS_SEED = 0
#: the ETS forms with an exact forecast variance in statsmodels (the others are simulated)
ETS_EXACT = ("ANN", "AAN", "AAdN", "ANA", "AAA", "AAdA")


def check_param_count(params: np.ndarray, names: list[str]) -> None:
    """A saved parameter vector must have one value per statsmodels parameter name."""
    if len(params) != len(names):
        raise ValueError(
            f"expected {len(names)} parameters ({', '.join(names)}), got {len(params)}"
        )


def dummy_series(length: int) -> np.ndarray:
    """A positive, increasing series: enough for statsmodels to name a model's parameters."""
    return np.arange(1.0, max(length, 10) + 1.0)


@register_model("ets")
class ETS(LocalModel):
    """Exponential smoothing state-space model (statsmodels ``ETSModel``), one per series.

    Args:
        error: ``"add"`` or ``"mul"``.
        trend: None, ``"add"`` or ``"mul"``.
        damped_trend: damp the trend (needs ``trend``).
        seasonal: None, ``"add"`` or ``"mul"`` (needs ``season_length > 1``).
        season_length: seasonal period in steps.
        h, n_jobs, **kwargs: see :class:`~tsattn.models.baselines._local.LocalModel`.

    >>> ETS(trend="add", damped_trend=True, seasonal="add", season_length=24)  # doctest: +SKIP
    """

    def __init__(
        self,
        error: str = "add",
        trend: str | None = None,
        damped_trend: bool = False,
        seasonal: str | None = None,
        season_length: int = 1,
        h: int = 1,
        n_jobs: int = 1,
        **kwargs: Any,
    ):
        super().__init__(h, n_jobs, **kwargs)
        self.error = check_choice("error", error, ETS_COMPONENTS[1:])
        self.trend = check_choice("trend", trend, ETS_COMPONENTS)
        self.damped_trend = check_bool("damped_trend", damped_trend)
        self.seasonal = check_choice("seasonal", seasonal, ETS_COMPONENTS)
        self.season_length = check_positive_int("season_length", season_length)
        if self.damped_trend and self.trend is None:
            raise ValueError("damped_trend=True needs a trend ('add' or 'mul')")
        if self.seasonal is not None and self.season_length < 2:
            raise ValueError(
                f"seasonal={self.seasonal!r} needs season_length > 1, got {self.season_length}"
            )

    def _model(self, y: np.ndarray):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        m = check_positive_int("season_length", self.season_length)
        if self.seasonal is not None and m < 2:
            raise ValueError(f"seasonal={self.seasonal!r} needs season_length > 1, got {m}")
        return ETSModel(
            y,
            error=self.error,
            trend=self.trend,
            damped_trend=self.damped_trend,
            seasonal=self.seasonal,
            seasonal_periods=m if self.seasonal is not None else None,
        )

    def _fit_one(self, y: np.ndarray) -> LocalState:
        return {}, np.asarray(self._model(y).fit(disp=False).params, dtype=np.float64)

    def _forecast_one(self, y: np.ndarray, meta: dict, params: np.ndarray, h: int) -> np.ndarray:
        return np.asarray(self._model(y).smooth(params).forecast(h))

    def _quantiles_one(
        self, y: np.ndarray, meta: dict, params: np.ndarray, h: int, probs: np.ndarray
    ) -> np.ndarray:
        import pandas as pd  # statsmodels' get_prediction needs an index on the series

        result = self._model(pd.Series(y)).smooth(params)
        if result.model.short_name not in ETS_EXACT:  # nonlinear: statsmodels simulates
            paths = result.simulate(h, anchor="end", repetitions=ETS_SIMULATIONS, rng=ETS_SEED)
            return np.quantile(np.asarray(paths).reshape(h, -1), probs, axis=1).T
        n = len(y)
        pred = result.get_prediction(start=n, end=n + h - 1, method="exact")
        mean = np.asarray(pred.predicted_mean)  # the same as forecast(h)
        return normal_quantiles(mean, np.sqrt(np.asarray(pred.var_pred_mean)), probs)

    def _check_state(self, meta: dict, params: np.ndarray) -> None:
        model = self._model(dummy_series(self.min_train_length()))
        check_param_count(params, list(model.param_names))

    def min_train_length(self, val_size: int = 0) -> int:
        return 2 * self.season_length + 2 if self.seasonal is not None else 4


def check_seasonal_order(value: object) -> tuple[int, int, int, int]:
    """``(P, D, Q, s)``: integers >= 0, with a period ``s`` >= 2 when P, D or Q is set."""
    seasonal_order = check_int_tuple("seasonal_order", value, 4)
    if any(seasonal_order[:3]) and seasonal_order[3] < 2:
        raise ValueError(
            f"seasonal_order {short_repr(value)} has seasonal terms but a period s < 2; "
            f"give (P, D, Q, s) with s >= 2, or (0, 0, 0, 0) for none"
        )
    return seasonal_order


def _arima(y: np.ndarray, order, seasonal_order, trend: str | None):
    from statsmodels.tsa.arima.model import ARIMA as SMARIMA

    return SMARIMA(y, order=tuple(order), seasonal_order=tuple(seasonal_order), trend=trend)


def _fit_arima(y: np.ndarray, order, seasonal_order, trend: str | None):
    return _arima(y, order, seasonal_order, trend).fit()


def _arima_quantiles(model, params: np.ndarray, h: int, probs: np.ndarray) -> np.ndarray:
    """(h, Q) quantiles of the Normal forecast distribution of ``model`` at ``params``."""
    forecast = model.filter(params).get_forecast(h)
    mean, sd = np.asarray(forecast.predicted_mean), np.asarray(forecast.se_mean)
    return normal_quantiles(mean, sd, probs)


@register_model("arima")
class ARIMA(LocalModel):
    """ARIMA / SARIMA with a fixed order (statsmodels ``tsa.arima.model.ARIMA``), per series.

    Args:
        order: ``(p, d, q)``.
        seasonal_order: ``(P, D, Q, s)``; ``(0, 0, 0, 0)`` for none.
        trend: statsmodels' trend: None (a constant when d = 0), ``"n"``, ``"c"``, ``"t"``,
            ``"ct"``.
        h, n_jobs, **kwargs: see :class:`~tsattn.models.baselines._local.LocalModel`.

    >>> ARIMA(order=(1, 1, 1), seasonal_order=(1, 0, 0, 24))  # doctest: +SKIP
    """

    def __init__(
        self,
        order: tuple[int, int, int] = (1, 0, 0),
        seasonal_order: tuple[int, int, int, int] = (0, 0, 0, 0),
        trend: str | None = None,
        h: int = 1,
        n_jobs: int = 1,
        **kwargs: Any,
    ):
        super().__init__(h, n_jobs, **kwargs)
        self.order = check_int_tuple("order", order, 3)
        self.seasonal_order = check_seasonal_order(seasonal_order)
        self.trend = check_choice("trend", trend, ARIMA_TRENDS)

    def _fit_one(self, y: np.ndarray) -> LocalState:
        result = _fit_arima(y, self.order, self.seasonal_order, self.trend)
        return {}, np.asarray(result.params, dtype=np.float64)

    def _forecast_one(self, y: np.ndarray, meta: dict, params: np.ndarray, h: int) -> np.ndarray:
        model = _arima(y, self.order, self.seasonal_order, self.trend)
        return np.asarray(model.filter(params).forecast(h))

    def _quantiles_one(
        self, y: np.ndarray, meta: dict, params: np.ndarray, h: int, probs: np.ndarray
    ) -> np.ndarray:
        model = _arima(y, self.order, self.seasonal_order, self.trend)
        return _arima_quantiles(model, params, h, probs)

    def _check_state(self, meta: dict, params: np.ndarray) -> None:
        y = dummy_series(self.min_train_length())
        names = _arima(y, self.order, self.seasonal_order, self.trend).param_names
        check_param_count(params, list(names))

    def min_train_length(self, val_size: int = 0) -> int:
        p, d, q = self.order
        big_p, big_d, big_q, s = self.seasonal_order
        return p + d + q + (big_p + big_d + big_q) * s + 3


@register_model("auto_arima")
class AutoARIMA(LocalModel):
    """Non-seasonal ARIMA with the order chosen per series, built on statsmodels.

    ``d`` is the number of differences after which the KPSS test (level stationarity,
    ``alpha``) no longer rejects, at most ``max_d``; then every ``(p, q)`` in
    ``0..max_p x 0..max_q`` is fitted and the lowest AIC wins (a small grid: keep the bounds
    small). The trend term is a constant for d = 0, a drift for d = 1, none for d = 2.

    Args:
        max_p, max_q, max_d: search bounds.
        alpha: KPSS significance level.
        h, n_jobs, **kwargs: see :class:`~tsattn.models.baselines._local.LocalModel`.
    """

    def __init__(
        self,
        max_p: int = 2,
        max_q: int = 2,
        max_d: int = 2,
        alpha: float = 0.05,
        h: int = 1,
        n_jobs: int = 1,
        **kwargs: Any,
    ):
        super().__init__(h, n_jobs, **kwargs)
        self.max_p = check_nonnegative_int("max_p", max_p)
        self.max_q = check_nonnegative_int("max_q", max_q)
        self.max_d = check_nonnegative_int("max_d", max_d)
        self.alpha = check_real("alpha", alpha, "in (0, 1)", lambda v: 0.0 < v < 1.0)

    def _fit_one(self, y: np.ndarray) -> LocalState:
        d = n_diffs(y, self.max_d, self.alpha)
        trend = ("c", "t", "n")[min(d, 2)]
        best = None
        for p in range(self.max_p + 1):
            for q in range(self.max_q + 1):
                result = _fit_arima(y, (p, d, q), (0, 0, 0, 0), trend)
                if np.isfinite(result.aic) and (best is None or result.aic < best[0]):
                    best = (result.aic, [p, d, q], np.asarray(result.params, dtype=np.float64))
        if best is None:
            raise ValueError("AutoARIMA found no ARIMA order with a finite AIC for a series")
        return {"order": best[1], "trend": trend}, best[2]

    def _forecast_one(self, y: np.ndarray, meta: dict, params: np.ndarray, h: int) -> np.ndarray:
        model = _arima(y, meta["order"], (0, 0, 0, 0), meta["trend"])
        return np.asarray(model.filter(params).forecast(h))

    def _quantiles_one(
        self, y: np.ndarray, meta: dict, params: np.ndarray, h: int, probs: np.ndarray
    ) -> np.ndarray:
        model = _arima(y, meta["order"], (0, 0, 0, 0), meta["trend"])
        return _arima_quantiles(model, params, h, probs)

    def _check_state(self, meta: dict, params: np.ndarray) -> None:
        """The chosen order within the search bounds, its trend, and its parameters."""
        if set(meta) != {"order", "trend"}:
            raise ValueError(f"meta must hold 'order' and 'trend', got {short_repr(meta)}")
        p, d, q = check_int_tuple("order", meta["order"], 3)
        if p > self.max_p or d > self.max_d or q > self.max_q:
            raise ValueError(
                f"order {(p, d, q)} is outside the search bounds "
                f"max_p={self.max_p}, max_d={self.max_d}, max_q={self.max_q}"
            )
        trend = check_choice("trend", meta["trend"], (("c", "t", "n")[min(d, 2)],))
        names = _arima(dummy_series(p + d + q + 4), (p, d, q), (0, 0, 0, 0), trend).param_names
        check_param_count(params, list(names))

    def min_train_length(self, val_size: int = 0) -> int:
        return self.max_p + self.max_q + self.max_d + 4

    def orders(self) -> dict[str, tuple[int, int, int]]:
        """The chosen ``(p, d, q)`` of every fitted series."""
        return {uid: tuple(meta["order"]) for uid, (meta, _) in self._states.items()}


def n_diffs(y: np.ndarray, max_d: int, alpha: float = 0.05) -> int:
    """Differences needed until the KPSS test no longer rejects level stationarity."""
    from statsmodels.tsa.stattools import kpss

    d = 0
    while d < max_d and len(y) > 10:
        if np.ptp(y) == 0 or kpss(y, regression="c", nlags="auto")[1] >= alpha:
            break
        y, d = np.diff(y), d + 1
    return d


@register_model("theta")
class Theta(LocalModel):
    """The theta method (statsmodels ``ThetaModel``), per series.

    Args:
        season_length: seasonal period; > 1 deseasonalizes (classical decomposition) when
            the seasonality test (``use_test``) finds seasonality.
        theta: weight of the trend line (2 is the classic theta method).
        method: decomposition, ``"auto"`` (multiplicative for positive series), ``"add"``,
            ``"mul"``.
        use_test: test for seasonality before deseasonalizing.
        h, n_jobs, **kwargs: see :class:`~tsattn.models.baselines._local.LocalModel`.
    """

    def __init__(
        self,
        season_length: int = 1,
        theta: float = 2.0,
        method: str = "auto",
        use_test: bool = True,
        h: int = 1,
        n_jobs: int = 1,
        **kwargs: Any,
    ):
        super().__init__(h, n_jobs, **kwargs)
        self.season_length = check_positive_int("season_length", season_length)
        self.theta = check_real("theta", theta, ">= 1", lambda v: v >= 1.0)
        self.method = check_choice("method", method, THETA_METHODS)
        self.use_test = check_bool("use_test", use_test)

    def _fit_one(self, y: np.ndarray) -> LocalState:
        self._forecast_one(y, {}, np.empty(0), 1)  # surfaces bad settings at fit time
        return {}, np.empty(0)

    def _theta_fit(self, y: np.ndarray):
        from statsmodels.tsa.forecasting.theta import ThetaModel

        m = check_positive_int("season_length", self.season_length)
        model = ThetaModel(
            y,
            period=m,
            deseasonalize=m > 1,
            method=self.method,
            use_test=self.use_test,
        )
        return model.fit()

    def _forecast_one(self, y: np.ndarray, meta: dict, params: np.ndarray, h: int) -> np.ndarray:
        return np.asarray(self._theta_fit(y).forecast(h, theta=self.theta))

    def _quantiles_one(
        self, y: np.ndarray, meta: dict, params: np.ndarray, h: int, probs: np.ndarray
    ) -> np.ndarray:
        """Normal(forecast, sd) with the variance of the IMA(1, 1) form of SES that
        statsmodels' ``prediction_intervals`` names, ``sigma2 (1 + (k - 1) alpha^2)`` at step
        k. statsmodels 0.14-0.15 computes ``1 + (k - 1)(1 + (alpha - 1)^2)`` there (the MA
        weight 1 + theta = alpha squared in the wrong place), which is the same at k = 1 but
        over-covers beyond (measured: 93% for a nominal 80% at h = 6 on a local level)."""
        result = self._theta_fit(y)
        mean = np.asarray(result.forecast(h, theta=self.theta))
        alpha = float(np.asarray(result.params)[1])
        sd = np.sqrt(result.sigma2 * (1.0 + np.arange(h) * alpha**2))
        return normal_quantiles(mean, sd, probs)

    def _check_state(self, meta: dict, params: np.ndarray) -> None:
        if meta or len(params):
            raise ValueError("Theta stores no fitted parameters; the file holds some")

    def _jobs(self, data, h: int, *extra) -> list[tuple]:
        return [(y, {}, np.empty(0), h, *extra) for y in data.values]  # any series: no state

    def min_train_length(self, val_size: int = 0) -> int:
        return 2 * self.season_length + 1 if self.season_length > 1 else 4

    def min_history_length(self) -> int:
        return self.min_train_length()
