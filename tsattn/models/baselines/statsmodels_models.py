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

ARIMA and AutoARIMA take future-known covariates as ``exog`` regressors (regression with
ARIMA errors; their coefficients are part of the saved parameter vector); the other models
use no covariates.

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
    MAX_SEASON,
    check_bool,
    check_choice,
    check_int_tuple,
    check_nonnegative_int,
    check_real,
    short_repr,
)
from tsattn.models.base import register_model
from tsattn.models.baselines._local import (
    LocalModel,
    LocalState,
    SeriesExog,
    check_season_length,
    normal_quantiles,
)
from tsattn.models.baselines.arima_search import (
    APPROXIMATE_ABOVE_SEASON,
    arima_model,
    search_order,
)

#: the longest season AutoARIMA searches seasonal terms for
ARIMA_MAX_SEASON = 24
#: the value of an option that the fit chooses per series
AUTO = "auto"
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


def _component(value: str | None) -> str | None:
    """``"additive"`` -> ``"add"``, ``"multiplicative"`` -> ``"mul"``; others as they are."""
    return {"additive": "add", "multiplicative": "mul"}.get(value, value)  # type: ignore[arg-type]


@register_model("ets")
class ETS(LocalModel):
    """Exponential smoothing state-space model (statsmodels ``ETSModel``), one per series,
    with its form chosen per series by AICc where left ``"auto"`` (as R's ``ets()`` and
    statsforecast's ``AutoETS``).

    The automatic choice (:func:`ets_forms`) fits every admissible form and keeps the lowest
    AICc: error additive or multiplicative; trend none, additive or additive damped;
    season none, additive or multiplicative. Multiplicative error and season only for strictly
    positive series; additive error never with a multiplicative season (R's ``restrict``);
    a season only when ``2 <= season <= 24`` (R's limit) and the series holds two full
    seasons; forms with more parameters than the series can carry (``n <= k + 4``) are
    skipped, and so is a form whose fit fails. A component given explicitly is kept as given
    (explicit values behave as before), the others are still chosen.

    Args:
        error: ``"auto"``, ``"add"`` or ``"mul"``.
        trend: ``"auto"``, None, ``"add"`` or ``"mul"`` (``"mul"`` only when given).
        damped_trend: ``"auto"``, True or False (True needs an explicit ``trend``).
        seasonal: ``"auto"``, None, ``"add"`` or ``"mul"``.
        season_length: seasonal period in steps; None: from the data's frequency at fit
            (:func:`tsattn.datasets.frequency.season_length`: monthly 12, hourly 24, ...).
        h, n_jobs, **kwargs: see :class:`~tsattn.models.baselines._local.LocalModel`.

    After ``fit``, :meth:`forms` gives each series' chosen form (e.g. ``"MAdM"``).

    >>> ETS(trend="add", damped_trend=True, seasonal="add", season_length=24)  # doctest: +SKIP
    """

    def __init__(
        self,
        error: str = AUTO,
        trend: str | None = AUTO,
        damped_trend: bool | str = AUTO,
        seasonal: str | None = AUTO,
        season_length: int | None = None,
        h: int = 1,
        n_jobs: int = 1,
        **kwargs: Any,
    ):
        super().__init__(h, n_jobs, **kwargs)
        self.error = check_choice("error", error, (*ETS_COMPONENTS[1:], AUTO))
        self.trend = check_choice("trend", trend, (*ETS_COMPONENTS, AUTO))
        self.damped_trend = (
            damped_trend if damped_trend == AUTO else check_bool("damped_trend", damped_trend)
        )
        self.seasonal = check_choice("seasonal", seasonal, (*ETS_COMPONENTS, AUTO))
        self.season_length = check_season_length(season_length)
        if self.damped_trend is True and self.trend in (None, AUTO):
            raise ValueError(
                "damped_trend=True needs a trend ('add' or 'mul'); leave damped_trend='auto' "
                "to let the fit choose a damped trend"
            )
        if self.seasonal not in (None, AUTO) and self.season_length == 1:
            raise ValueError(f"seasonal={self.seasonal!r} needs season_length > 1, got 1")

    def _explicit_form(self) -> dict[str, Any]:
        """The form when every component is given (a model saved before forms were chosen)."""
        if AUTO in (self.error, self.trend, self.damped_trend, self.seasonal):
            raise ValueError("the saved state lacks the chosen form (error, trend, ...)")
        return {
            "error": _component(self.error),
            "trend": _component(self.trend),
            "damped": bool(self.damped_trend),
            "seasonal": _component(self.seasonal),
            "m": self.season if self.seasonal is not None else 1,
        }

    def _model(self, y: np.ndarray, form: dict[str, Any], init: str = "estimated"):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        form = form or self._explicit_form()
        seasonal = form["seasonal"]
        return ETSModel(
            y,
            error=form["error"],
            trend=form["trend"],
            damped_trend=form["damped"],
            seasonal=seasonal,
            seasonal_periods=form["m"] if seasonal is not None else None,
            initialization_method=init,
        )

    def _fit_one(self, y: np.ndarray) -> LocalState:
        """Rank the candidate forms by AICc, fitted with heuristic initial states (10-30x
        faster than estimating them); refit the best with estimated initial states (as an
        explicit form is fitted), falling back to the next form if that refit fails."""
        forms = ets_forms(y, self.error, self.trend, self.damped_trend, self.seasonal, self.season)
        if len(forms) > 1 and len(y) >= ETS_MIN_HEURISTIC:
            heuristic = [_ets_aicc(lambda f=f: self._model(y, f, "heuristic")) for f in forms]
            ranked = sorted(zip(heuristic, range(len(forms))))
            forms = [forms[i] for aicc, i in ranked if aicc < np.inf] or forms
        for form in forms:
            result = _try_fit(lambda form=form: self._model(y, form))
            if result is not None:
                return form, np.asarray(result.params, dtype=np.float64)
        raise ValueError(f"ETS could not fit any of its forms to a series of {len(y)} values")

    def _forecast_one(self, y: np.ndarray, meta: dict, params: np.ndarray, h: int) -> np.ndarray:
        return np.asarray(self._model(y, meta).smooth(params).forecast(h))

    def _quantiles_one(
        self, y: np.ndarray, meta: dict, params: np.ndarray, h: int, probs: np.ndarray
    ) -> np.ndarray:
        import pandas as pd  # statsmodels' get_prediction needs an index on the series

        result = self._model(pd.Series(y), meta).smooth(params)
        if result.model.short_name not in ETS_EXACT:  # nonlinear: statsmodels simulates
            paths = result.simulate(h, anchor="end", repetitions=ETS_SIMULATIONS, rng=ETS_SEED)
            return np.quantile(np.asarray(paths).reshape(h, -1), probs, axis=1).T
        n = len(y)
        pred = result.get_prediction(start=n, end=n + h - 1, method="exact")
        mean = np.asarray(pred.predicted_mean)  # the same as forecast(h)
        return normal_quantiles(mean, np.sqrt(np.asarray(pred.var_pred_mean)), probs)

    def _check_state(self, meta: dict, params: np.ndarray) -> None:
        """The chosen form (or, for an older file, the explicit one) and its parameters."""
        if meta:
            check_ets_form(meta)
        model = self._model(dummy_series(2 * int(meta.get("m", self.season)) + 2), meta)
        check_param_count(params, list(model.param_names))

    def min_train_length(self, val_size: int = 0) -> int:
        if self.seasonal not in (None, AUTO) and self.season_length is not None:
            return 2 * self.season_length + 2
        return 4

    def forms(self) -> dict[str, str]:
        """Each fitted series' form in R's notation: error, trend (``Ad``: damped), season,
        e.g. ``{"a": "MAdM"}``."""
        return {uid: ets_name(meta) for uid, (meta, _) in self._states.items()}


def _try_fit(build):
    """``build().fit()``, or None when statsmodels cannot fit it (an error or non-finite
    parameters): a failed candidate is skipped, never the end of a search."""
    try:
        result = build().fit(disp=False)
    except (ArithmeticError, ValueError, np.linalg.LinAlgError):
        return None
    return result if np.isfinite(np.asarray(result.params, dtype=np.float64)).all() else None


def _ets_aicc(build) -> float:
    """AICc of a fitted candidate; inf when it cannot be fitted or has none (-inf, an exact
    fit of a constant series, ranks first)."""
    result = _try_fit(build)
    aicc = np.inf if result is None else float(result.aicc)
    return np.inf if np.isnan(aicc) else aicc


#: the shortest series whose ETS forms are ranked with heuristic initial states
ETS_MIN_HEURISTIC = 10
#: the longest season the automatic ETS choice considers (R's ``ets()`` limit)
ETS_MAX_AUTO_SEASON = 24


def ets_forms(
    y: np.ndarray, error: Any, trend: Any, damped: Any, seasonal: Any, m: int
) -> list[dict[str, Any]]:
    """The forms the automatic ETS choice fits to ``y`` (see :class:`ETS`); components that
    are not ``"auto"`` are fixed. An explicit seasonal form needs ``m > 1``."""
    if seasonal not in (None, AUTO) and m < 2:
        raise ValueError(f"seasonal={seasonal!r} needs season_length > 1, got {m}")
    positive = bool(np.all(y > 0))
    seasons_fit = 2 <= m <= ETS_MAX_AUTO_SEASON and len(y) >= 2 * m
    errors = (["add", "mul"] if positive else ["add"]) if error == AUTO else [_component(error)]
    trends = [None, "add"] if trend == AUTO else [_component(trend)]
    seasons = [_component(seasonal)]
    if seasonal == AUTO:
        seasons = [None] + (["add", "mul"] if positive else ["add"]) * seasons_fit
    forms = []
    for e, t, s in ((e, t, s) for e in errors for t in trends for s in seasons):
        if e == "add" and s == "mul" and AUTO in (error, seasonal):
            continue  # R's restrict: an additive error with a multiplicative season
        damps = [bool(damped)] if damped != AUTO else ([False, True] if t else [False])
        forms += [{"error": e, "trend": t, "damped": d, "seasonal": s,
                   "m": m if s else 1} for d in damps]  # fmt: skip
    if len(forms) > 1:  # R's rule: no more parameters than the series can carry
        forms = [f for f in forms if len(y) > _ets_n_params(f) + 4] or forms[:1]
    return forms


def _ets_n_params(form: dict[str, Any]) -> int:
    """Smoothing parameters and initial states of ``form`` (R's count)."""
    trend = 2 * (form["trend"] is not None) + int(form["damped"])
    return 2 + trend + (form["m"] + 1) * (form["seasonal"] is not None)


def ets_name(form: dict[str, Any]) -> str:
    """``{"error": "mul", "trend": "add", "damped": True, "seasonal": "mul"}`` -> ``"MAdM"``."""
    letter = {None: "N", "add": "A", "mul": "M"}
    return (
        letter[form["error"]]
        + letter[form["trend"]]
        + ("d" if form["damped"] else "")
        + letter[form["seasonal"]]
    )


def check_ets_form(meta: dict) -> None:
    """A saved ETS form: the keys of :func:`ets_forms`' forms with admissible values."""
    if set(meta) != {"error", "trend", "damped", "seasonal", "m"}:
        raise ValueError(f"meta must hold error, trend, damped, seasonal, m: {short_repr(meta)}")
    check_choice("error", meta["error"], ("add", "mul"))
    check_choice("trend", meta["trend"], (None, "add", "mul"))
    check_bool("damped", meta["damped"])
    check_choice("seasonal", meta["seasonal"], (None, "add", "mul"))
    m = check_season_length(meta["m"], "m")
    if meta["seasonal"] is not None and m < 2:
        raise ValueError(f"a seasonal form needs m > 1, got {m}")


def check_seasonal_order(value: object) -> tuple[int, int, int, int]:
    """``(P, D, Q, s)``: integers >= 0, with a period ``s`` >= 2 when P, D or Q is set."""
    seasonal_order = check_int_tuple("seasonal_order", value, 4)
    if seasonal_order[3] > MAX_SEASON:
        raise ValueError(f"seasonal_order period s must be at most {MAX_SEASON:,}, got {value!r}")
    if any(seasonal_order[:3]) and seasonal_order[3] < 2:
        raise ValueError(
            f"seasonal_order {short_repr(value)} has seasonal terms but a period s < 2; "
            f"give (P, D, Q, s) with s >= 2, or (0, 0, 0, 0) for none"
        )
    return seasonal_order


def _history_exog(exog: SeriesExog | None) -> np.ndarray | None:
    return None if exog is None else exog.history


def _future_exog(exog: SeriesExog | None) -> np.ndarray | None:
    return None if exog is None else exog.future


def dummy_exog(length: int, width: int) -> np.ndarray | None:
    """``width`` distinct columns beside :func:`dummy_series` (None when ``width`` is 0):
    enough for statsmodels to name a regression's coefficients."""
    if not width:
        return None
    t = np.arange(max(length, 10), dtype=np.float64)[:, None]
    return np.sin(t * np.arange(1, width + 1) / (width + 1))  # (length, width)


def _arima_forecast(model, params: np.ndarray, h: int, exog: SeriesExog | None) -> np.ndarray:
    """(h,) point forecast of ``model`` at ``params`` (``exog``'s future rows as regressors)."""
    return np.asarray(model.filter(params).forecast(h, exog=_future_exog(exog)))


def _arima_quantiles(
    model, params: np.ndarray, h: int, probs: np.ndarray, exog: SeriesExog | None = None
) -> np.ndarray:
    """(h, Q) quantiles of the Normal forecast distribution of ``model`` at ``params``
    (the covariates' coefficients taken as known, as statsmodels does)."""
    forecast = model.filter(params).get_forecast(h, exog=_future_exog(exog))
    mean, sd = np.asarray(forecast.predicted_mean), np.asarray(forecast.se_mean)
    return normal_quantiles(mean, sd, probs)


class _RegressionArima(LocalModel):
    """The hooks ARIMA and AutoARIMA share: forecasts and quantiles of one series' statsmodels
    model (:meth:`_model`, from its fitted ``meta``), its future-known covariates as
    regressors (a regression with ARIMA errors)."""

    supports_covariates = ("futr",)

    def _model(self, y: np.ndarray, meta: dict, exog: np.ndarray | None = None):
        raise NotImplementedError

    def _forecast_one(
        self, y: np.ndarray, meta: dict, params: np.ndarray, h: int, exog: SeriesExog | None = None
    ) -> np.ndarray:
        return _arima_forecast(self._model(y, meta, _history_exog(exog)), params, h, exog)

    def _quantiles_one(
        self,
        y: np.ndarray,
        meta: dict,
        params: np.ndarray,
        h: int,
        probs: np.ndarray,
        exog: SeriesExog | None = None,
    ) -> np.ndarray:
        model = self._model(y, meta, _history_exog(exog))
        return _arima_quantiles(model, params, h, probs, exog)


@register_model("arima")
class ARIMA(_RegressionArima):
    """ARIMA / SARIMA with a fixed order (statsmodels ``tsa.arima.model.ARIMA``), per series.

    Args:
        order: ``(p, d, q)``.
        seasonal_order: ``(P, D, Q, s)``; ``(0, 0, 0, 0)`` for none.
        trend: statsmodels' trend: None (a constant when d = 0), ``"n"``, ``"c"``, ``"t"``,
            ``"ct"``.
        h, n_jobs, **kwargs: see :class:`~tsattn.models.baselines._local.LocalModel`.

    Future-known covariates (``futr_exog_list``, ``calendar``, ``holidays``) are regressors:
    a regression with ARIMA errors (statsmodels' ``exog``), fitted on the history's values
    and forecast with ``predict(futr_df=...)``'s. Past-only covariates are unknown in the
    horizon and static ones are constant per series (collinear with the constant), so the
    model refuses both.

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

    def _model(self, y: np.ndarray, meta: dict, exog: np.ndarray | None = None):
        return arima_model(y, self.order, self.seasonal_order, self.trend, exog)  # fixed order

    def _fit_one(self, y: np.ndarray, exog: SeriesExog | None = None) -> LocalState:
        result = self._model(y, {}, _history_exog(exog)).fit()
        return {}, np.asarray(result.params, dtype=np.float64)

    def _check_state(self, meta: dict, params: np.ndarray) -> None:
        """One parameter per statsmodels name: trend, covariate coefficients, ARMA terms."""
        length = self.min_train_length()
        model = self._model(dummy_series(length), meta, dummy_exog(length, self._n_exog))
        check_param_count(params, list(model.param_names))

    def min_train_length(self, val_size: int = 0) -> int:
        p, d, q = self.order
        big_p, big_d, big_q, s = self.seasonal_order
        return p + d + q + (big_p + big_d + big_q) * s + 3


@register_model("auto_arima")
class AutoARIMA(_RegressionArima):
    """Seasonal ARIMA with the order chosen per series (R's ``auto.arima``, Hyndman-Khandakar
    stepwise search), built on statsmodels: see :mod:`tsattn.models.baselines.arima_search`.

    ``D`` from the STL seasonal strength (> 0.64), ``d`` from the KPSS test (``alpha``), then a
    stepwise search over ``(p, q)(P, Q)`` and the constant / drift by AICc. A candidate that
    statsmodels cannot fit is skipped. Seasonal terms are searched when the season is
    between 2 and :data:`ARIMA_MAX_SEASON` (24) and the series holds two full seasons; longer
    seasons (weekly 52, 15-minute 96) make statsmodels' state-space fits too slow. For seasons
    over 12 (hourly 24) the search ranks its candidates by a conditional-sum-of-squares AICc and
    fits only the winner exactly, as R's ``approximation`` does: about ten times faster, at the
    risk of a different (rarely worse) order than the exact search would choose. The
    approximate search keeps ``p + q + P + Q <= 5`` (R's ``max.order``): on a 1,400-point hourly
    series it otherwise climbed to (5,0,5)(2,1,2), whose exact refits took a minute each and did
    not converge.

    Args:
        max_p, max_q, max_d: non-seasonal bounds (R's defaults 5, 5, 2).
        max_P, max_Q, max_D: seasonal bounds (R's defaults 2, 2, 1).
        season_length: seasonal period in steps; None: from the data's frequency at fit
            (:func:`tsattn.datasets.frequency.season_length`); 1: non-seasonal.
        alpha: KPSS significance level.
        h, n_jobs, **kwargs: see :class:`~tsattn.models.baselines._local.LocalModel`.
        approximation: rank the search's candidates by conditional sum of squares, then fit
            the winner exactly (True), or fit every candidate exactly (False); None: True
            when the season searched is over 12 steps.

    Future-known covariates are regressors, as in R's ``auto.arima(xreg=)``: the
    differences are chosen on the residuals of the series' regression on them, and every
    candidate order is a regression on them with ARIMA errors (see :class:`ARIMA`).
    """

    def __init__(
        self,
        max_p: int = 5,
        max_q: int = 5,
        max_d: int = 2,
        max_P: int = 2,  # noqa: N803 - R's and statsforecast's names
        max_Q: int = 2,  # noqa: N803
        max_D: int = 1,  # noqa: N803
        season_length: int | None = None,
        alpha: float = 0.05,
        h: int = 1,
        n_jobs: int = 1,
        *,
        approximation: bool | None = None,
        **kwargs: Any,
    ):
        super().__init__(h, n_jobs, **kwargs)
        if approximation not in (None, True, False):
            raise ValueError(f"approximation must be None, True or False, got {approximation!r}")
        self.approximation = approximation
        self.max_p = check_nonnegative_int("max_p", max_p)
        self.max_q = check_nonnegative_int("max_q", max_q)
        self.max_d = check_nonnegative_int("max_d", max_d)
        self.max_P = check_nonnegative_int("max_P", max_P)  # noqa: N815
        self.max_Q = check_nonnegative_int("max_Q", max_Q)  # noqa: N815
        self.max_D = check_nonnegative_int("max_D", max_D)  # noqa: N815
        self.season_length = check_season_length(season_length)
        self.alpha = check_real("alpha", alpha, "in (0, 1)", lambda v: 0.0 < v < 1.0)

    def _bounds(self) -> dict[str, int]:
        names = ("max_p", "max_q", "max_d", "max_P", "max_Q", "max_D")
        return {name: getattr(self, name) for name in names}

    def _fit_one(self, y: np.ndarray, exog: SeriesExog | None = None) -> LocalState:
        m = self.season
        m = m if 2 <= m <= ARIMA_MAX_SEASON and len(y) > 2 * m else 1
        approximate = self.approximation
        if approximate is None:
            approximate = m > APPROXIMATE_ABOVE_SEASON
        return search_order(y, self._bounds(), m, self.alpha, approximate, _history_exog(exog))

    @staticmethod
    def _model(y: np.ndarray, meta: dict, exog: np.ndarray | None = None):
        seasonal = meta.get("seasonal_order", (0, 0, 0, 0))  # older files: non-seasonal
        return arima_model(y, meta["order"], seasonal, meta["trend"], exog)

    def _check_state(self, meta: dict, params: np.ndarray) -> None:
        """The chosen orders within the search bounds, a trend, and their parameters."""
        if not {"order", "trend"} <= set(meta) <= {"order", "seasonal_order", "trend"}:
            raise ValueError(f"meta must hold 'order' and 'trend', got {short_repr(meta)}")
        p, d, q = check_int_tuple("order", meta["order"], 3)
        big_p, big_d, big_q, s = check_seasonal_order(meta.get("seasonal_order", (0, 0, 0, 0)))
        b = self._bounds()
        chosen = (p, d, q, big_p, big_d, big_q)
        limits = (b["max_p"], b["max_d"], b["max_q"], b["max_P"], b["max_D"], b["max_Q"])
        if any(c > limit for c, limit in zip(chosen, limits)):
            raise ValueError(
                f"order {(p, d, q)}{(big_p, big_d, big_q, s)} is outside the search bounds "
                + ", ".join(f"{k}={v}" for k, v in b.items())
            )
        check_choice("trend", meta["trend"], ("n", "c", "t"))
        length = p + d + q + (big_p + big_d + big_q + 1) * s + 4
        model = self._model(dummy_series(length), meta, dummy_exog(length, self._n_exog))
        check_param_count(params, list(model.param_names))

    def min_train_length(self, val_size: int = 0) -> int:
        return self.max_d + 6

    def orders(self) -> dict[str, tuple[int, int, int]]:
        """The chosen ``(p, d, q)`` of every fitted series."""
        return {uid: tuple(meta["order"]) for uid, (meta, _) in self._states.items()}

    def seasonal_orders(self) -> dict[str, tuple[int, int, int, int]]:
        """The chosen ``(P, D, Q, s)`` of every fitted series (``(0, 0, 0, 0)``: none)."""
        return {
            uid: tuple(meta.get("seasonal_order", (0, 0, 0, 0)))
            for uid, (meta, _) in self._states.items()
        }


@register_model("theta")
class Theta(LocalModel):
    """The theta method (statsmodels ``ThetaModel``), per series.

    Args:
        season_length: seasonal period; None: from the data's frequency at fit
            (:func:`tsattn.datasets.frequency.season_length`). A period > 1 deseasonalizes
            (classical decomposition, multiplicative for positive series under ``"auto"``)
            when the series holds two full seasons and the seasonality test (``use_test``:
            statsmodels' test of the lag-``m`` autocorrelation at 90%, as R's ``thetaf``)
            finds a season.
        theta: weight of the trend line (2 is the classic theta method).
        method: decomposition, ``"auto"`` (multiplicative for positive series), ``"add"``,
            ``"mul"``.
        use_test: test for seasonality before deseasonalizing.
        h, n_jobs, **kwargs: see :class:`~tsattn.models.baselines._local.LocalModel`.
    """

    def __init__(
        self,
        season_length: int | None = None,
        theta: float = 2.0,
        method: str = "auto",
        use_test: bool = True,
        h: int = 1,
        n_jobs: int = 1,
        **kwargs: Any,
    ):
        super().__init__(h, n_jobs, **kwargs)
        self.season_length = check_season_length(season_length)
        self.theta = check_real("theta", theta, ">= 1", lambda v: v >= 1.0)
        self.method = check_choice("method", method, THETA_METHODS)
        self.use_test = check_bool("use_test", use_test)

    def _fit_one(self, y: np.ndarray) -> LocalState:
        self._forecast_one(y, {}, np.empty(0), 1)  # surfaces bad settings at fit time
        return {}, np.empty(0)

    def _theta_fit(self, y: np.ndarray):
        from statsmodels.tsa.forecasting.theta import ThetaModel

        m = self.season
        model = ThetaModel(
            y,
            period=m,
            deseasonalize=m > 1 and len(y) >= 2 * m,
            method=self.method,
            use_test=self.use_test,
        )
        return model.fit()

    def _forecast_one(self, y: np.ndarray, meta: dict, params: np.ndarray, h: int) -> np.ndarray:
        return np.asarray(self._theta_fit(y).forecast(h, theta=self.theta))

    def _quantiles_one(
        self, y: np.ndarray, meta: dict, params: np.ndarray, h: int, probs: np.ndarray
    ) -> np.ndarray:
        """Normal(forecast, sd): the theta method is SES with drift (Hyndman & Billah 2003),
        an IMA(1, 1) with drift, whose k-step variance is ``sigma2 (1 + (k - 1) alpha^2)``.

        Two departures from statsmodels' ``prediction_intervals`` (0.14-0.15), each checked
        on series generated from the model (tests/test_first_hour_intervals.py):

        * statsmodels computes ``1 + (k - 1)(1 + (alpha - 1)^2)`` (the MA weight
          ``1 + theta = alpha`` squared in the wrong place), the same at k = 1 but
          over-covering beyond (93% for a nominal 80% at h = 6 on a local level);
        * its ``sigma2`` is the ARIMA(0, 1, 1) variance of the series as given, seasonal
          swings included, while the SES runs on the deseasonalized series: 100% coverage
          at 80% on seasonal series. Here ``sigma2`` is estimated on the series the SES ran
          on, and a multiplicative season scales the sd as it scales the forecast.
        """
        result = self._theta_fit(y)
        mean = np.asarray(result.forecast(h, theta=self.theta))
        alpha = float(np.asarray(result.params)[1])
        sd = np.sqrt(_model_sigma2(result) * (1.0 + np.arange(h) * alpha**2))
        if result.model.deseasonalize and result.model.method.startswith("mul"):
            sd = sd * np.asarray(result.forecast_components(h)["seasonal"])
        return normal_quantiles(mean, sd, probs)

    def _check_state(self, meta: dict, params: np.ndarray) -> None:
        if meta or len(params):
            raise ValueError("Theta stores no fitted parameters; the file holds some")

    def _jobs(self, data, h: int, *extra) -> list[tuple]:
        return [(y, {}, np.empty(0), h, *extra) for y in data.values]  # any series: no state

    def min_train_length(self, val_size: int = 0) -> int:
        m = self.season_length or 1
        return 2 * m + 1 if m > 1 else 4

    def min_history_length(self) -> int:
        return self.min_train_length()


def _model_sigma2(result) -> float:
    """The one-step variance of the ARIMA(0, 1, 1) with drift (statsmodels' estimator of
    ``ThetaModelResults.sigma2``) fitted to the series the theta SES ran on: the
    deseasonalized one when the model found a season, its variance scaled by ``n / (n - m)``
    for the ``m`` seasonal indices estimated from the same ``n`` values."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    model = result.model
    deseasonalized, _ = model._deseasonalize_data()  # what ThetaModel.fit ran the SES on
    if deseasonalized is model._y:
        return float(result.sigma2)  # no season: statsmodels' own estimate
    fitted = SARIMAX(deseasonalized, order=(0, 1, 1), trend="c").fit(disp=False)
    n, m = len(deseasonalized), model.period
    return float(np.asarray(fitted.params)[-1]) * n / max(n - m, 1)  # m seasonal indices
