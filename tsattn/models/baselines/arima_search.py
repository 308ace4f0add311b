"""The order search behind :class:`~tsattn.models.baselines.AutoARIMA` (Hyndman-Khandakar).

1. ``D`` (0 or 1, seasonal only): 1 when the seasonal strength of an STL decomposition,
   ``max(0, 1 - var(remainder) / var(season + remainder))``, exceeds 0.64 (R's
   ``nsdiffs(test="seas")``, statsforecast's default) and the series holds two full seasons.
2. ``d`` (0..max_d): differences of the seasonally differenced series until the KPSS test
   (level stationarity, ``alpha``, ``trunc(3 sqrt(n) / 13)`` lags) no longer rejects (R's
   ``ndiffs``).
3. A stepwise search over ``(p, q)(P, Q)`` by AICc from the four starting models
   ``(2,d,2)(1,D,1)``, ``(0,d,0)(0,D,0)``, ``(1,d,0)(1,D,0)``, ``(0,d,1)(0,D,1)``: each step
   tries every neighbour (one of p, q, P, Q by +-1, p and q together, P and Q together, the
   constant on or off) and moves to the best one that lowers the AICc, until none does.
   The constant (a drift when ``d + D = 1``) is only possible when ``d + D < 2``.

With ``approximate=True`` (R's ``approximation``, AutoARIMA's default for seasons over 12) the
search ranks candidates by an AICc from the conditional sum of squares of the differenced series
(:func:`css_aicc`: one least-squares fit through a linear filter, no Kalman filter) and then fits
the best candidates exactly, in that order, until one succeeds: the winner's parameters are
always exact maximum likelihood; only the choice of orders is approximate. The approximate
search keeps ``p + q + P + Q <= 5`` (R's ``max.order``): on long hourly series the conditional
AICc kept falling up to the bounds, (5,0,5)(2,1,2), whose exact fits took about 60 s each and did
not converge, while (2,0,1)(1,1,1) converged in 6 to 9 s with a lower exact AICc.

With future-known covariates (``exog``, (n, F)) the search is R's ``auto.arima(xreg=)``: a
regression with ARIMA errors. ``D`` and ``d`` are chosen on the residuals of the least-squares
regression of the series on the covariates (and a constant), every candidate regresses on the
covariates (statsmodels' ``ARIMA(exog=)`` differences them with the series), and the
approximate search's conditional sum of squares estimates their coefficients with the ARMA
terms, on the differenced covariates.

A candidate that statsmodels cannot fit (``LinAlgError``, ``ValueError``, a failed or
non-converged optimisation, a non-finite AICc) is skipped; the search only fails when every
candidate and the ``(0, d, 0)`` fallback fail.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: seasonal strength above which a seasonal difference is taken (R's nsdiffs "seas" test)
SEASONAL_STRENGTH_THRESHOLD = 0.64
#: the stepwise search's cap on the number of models fitted (R's ``nmodels``: 94)
MAX_MODELS = 94
#: AutoARIMA approximates the search for seasons longer than this (R: frequency > 12)
APPROXIMATE_ABOVE_SEASON = 12
#: the exact fits tried, best approximate AICc first, before the fallback model
EXACT_REFITS = 5
#: the approximate search's cap on p + q + P + Q (R's ``max.order``)
APPROXIMATE_MAX_ORDER = 5


def arima_model(
    y: np.ndarray, order, seasonal_order, trend: str | None, exog: np.ndarray | None = None
):
    """statsmodels' ARIMA of ``y``; with ``exog`` (n, F), a regression on it with ARIMA errors."""
    from statsmodels.tsa.arima.model import ARIMA as SMARIMA

    return SMARIMA(
        y, exog=exog, order=tuple(order), seasonal_order=tuple(seasonal_order), trend=trend
    )


def regression_residuals(y: np.ndarray, exog: np.ndarray | None) -> np.ndarray:
    """``y`` less its least-squares fit on a constant and ``exog`` (n, F): what R's
    ``auto.arima(xreg=)`` tests for differences; ``y`` itself without ``exog``."""
    if exog is None or exog.shape[1] == 0:
        return y
    design = np.column_stack([np.ones(len(y)), exog])  # (n, 1 + F)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return y - design @ coef


def difference(a: np.ndarray, m: int, big_d: int, d: int) -> np.ndarray:
    """``a`` (n,) or (n, F) after ``big_d`` (0 or 1) seasonal differences of lag ``m`` and
    ``d`` ordinary ones, along its first axis."""
    a = a[m:] - a[:-m] if big_d else a
    return np.diff(a, n=d, axis=0) if d else a


def seasonal_strength(y: np.ndarray, m: int) -> float:
    """STL seasonal strength of ``y`` with period ``m`` (0: none, 1: all season)."""
    from statsmodels.tsa.seasonal import STL

    result = STL(y, period=m, robust=False).fit()
    remainder, season = np.asarray(result.resid), np.asarray(result.seasonal)
    total = np.var(season + remainder)
    return 0.0 if total == 0 else max(0.0, 1.0 - np.var(remainder) / total)


def n_seasonal_diffs(y: np.ndarray, m: int, max_d: int = 1) -> int:
    """1 when ``y`` holds two full seasons of ``m`` and its seasonal strength exceeds
    :data:`SEASONAL_STRENGTH_THRESHOLD`, else 0 (and 0 when ``max_d`` is 0)."""
    if max_d < 1 or m < 2 or len(y) < 2 * m + 1 or np.ptp(y) == 0:
        return 0
    try:
        strength = seasonal_strength(y, m)
    except (ValueError, np.linalg.LinAlgError):
        return 0
    return int(strength > SEASONAL_STRENGTH_THRESHOLD)


def n_diffs(y: np.ndarray, max_d: int, alpha: float = 0.05) -> int:
    """Differences needed until the KPSS test no longer rejects level stationarity, with R's
    lag truncation ``trunc(3 sqrt(n) / 13)`` (forecast's ``ndiffs``, as statsforecast does;
    statsmodels' data-driven ``nlags="auto"`` kept a 34-point growing yearly series
    undifferenced)."""
    from statsmodels.tsa.stattools import kpss

    d = 0
    while d < max_d and len(y) > 10:
        lags = int(3 * np.sqrt(len(y)) / 13)
        if np.ptp(y) == 0 or kpss(y, regression="c", nlags=lags)[1] >= alpha:
            break
        y, d = np.diff(y), d + 1
    return d


def trend_term(d: int, big_d: int, constant: bool) -> str:
    """statsmodels' trend for a constant in the differenced series: ``"c"`` at d + D = 0, a
    drift ``"t"`` at d + D = 1, none otherwise or without a constant."""
    return ("c", "t")[d + big_d] if constant and d + big_d < 2 else "n"


class StepwiseSearch:
    """One series' stepwise search; :meth:`run` returns ``(meta, params)`` of the best fit."""

    def __init__(
        self,
        y: np.ndarray,
        bounds: dict[str, int],
        d: int,
        big_d: int,
        m: int,
        approximate: bool = False,
        exog: np.ndarray | None = None,
    ):
        self.y, self.bounds, self.d, self.big_d, self.m = y, bounds, d, big_d, m
        self.approximate, self.exog = approximate, exog
        self.fitted: dict[tuple, tuple[float, np.ndarray | None] | None] = {}

    def candidate_ok(self, key: tuple) -> bool:
        p, q, big_p, big_q, constant = key
        b = self.bounds
        seasonal_ok = self.m > 1 or (big_p == 0 and big_q == 0)
        in_bounds = 0 <= p <= b["max_p"] and 0 <= q <= b["max_q"]
        in_bounds = in_bounds and 0 <= big_p <= b["max_P"] and 0 <= big_q <= b["max_Q"]
        if self.approximate:
            in_bounds = in_bounds and p + q + big_p + big_q <= APPROXIMATE_MAX_ORDER
        return seasonal_ok and in_bounds and not (constant and self.d + self.big_d >= 2)

    def meta(self, key: tuple) -> dict[str, Any]:
        p, q, big_p, big_q, constant = key
        seasonal = [big_p, self.big_d, big_q, self.m] if self.m > 1 else [0, 0, 0, 0]
        trend = trend_term(self.d, self.big_d, constant)
        return {"order": [p, self.d, q], "seasonal_order": seasonal, "trend": trend}

    def score(self, key: tuple) -> float:
        """AICc of the candidate ``key`` (fitted once); inf when it is out of bounds or fails."""
        if not self.candidate_ok(key):
            return np.inf
        if key not in self.fitted:
            if len(self.fitted) >= MAX_MODELS:
                return np.inf
            if self.approximate:
                self.fitted[key] = css_aicc(self.differenced(), key, self.m, self.xreg())
            else:
                self.fitted[key] = fit_candidate(self.y, self.meta(key), exog=self.exog)
        found = self.fitted[key]
        return np.inf if found is None else found[0]

    def fallback(self) -> tuple:
        """``(0, d, 0)(0, D, 0)`` with the constant when allowed, else without, accepted even
        if the optimiser reports no convergence (a constant series, for one)."""
        for constant in (self.d + self.big_d < 2, False):
            key = (0, 0, 0, 0, constant)
            self.fitted[key] = fit_candidate(
                self.y, self.meta(key), require_converged=False, exog=self.exog
            )
            if self.fitted[key] is not None:
                return key
        raise ValueError(
            f"AutoARIMA could not fit any ARIMA model (d={self.d}, D={self.big_d}) "
            f"to a series of {len(self.y)} values"
        )

    def run(self) -> tuple[dict[str, Any], np.ndarray]:
        constant = self.d + self.big_d < 2
        starts = [(2, 2, 1, 1), (0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1)]
        if self.m < 2:
            starts = [(p, q, 0, 0) for p, q, _, _ in starts]
        best = min(((*s, constant) for s in starts), key=self.score)
        while True:
            step = min(neighbours(best), key=self.score)
            if not self.score(step) < self.score(best):
                break
            best = step
        if self.approximate:
            best = self.refit_exactly()
        elif self.score(best) == np.inf:  # every candidate failed: the plainest models
            best = self.fallback()
        return self.meta(best), self.fitted[best][1]

    def differenced(self) -> np.ndarray:
        """The series after the search's ``D`` seasonal and ``d`` ordinary differences."""
        return difference(self.y, self.m, self.big_d, self.d)

    def xreg(self) -> np.ndarray | None:
        """The covariates differenced as the series is (None without covariates)."""
        return None if self.exog is None else difference(self.exog, self.m, self.big_d, self.d)

    def refit_exactly(self) -> tuple:
        """Fit the approximate search's best candidates exactly (maximum likelihood), best
        approximate AICc first, keeping the first that succeeds; the fallback if none does."""
        ranked = sorted((v[0], key) for key, v in self.fitted.items() if v is not None)
        for _, key in ranked[:EXACT_REFITS]:
            self.fitted[key] = fit_candidate(self.y, self.meta(key), exog=self.exog)
            if self.fitted[key] is not None:
                return key
        return self.fallback()


def neighbours(key: tuple) -> list[tuple]:
    """The stepwise moves from ``key`` = (p, q, P, Q, constant)."""
    p, q, big_p, big_q, constant = key
    moves = [(1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1), (1, 1, 0, 0), (0, 0, 1, 1)]
    out = [(p, q, big_p, big_q, not constant)]
    for sign in (-1, 1):
        out += [
            (p + sign * a, q + sign * b, big_p + sign * c, big_q + sign * e, constant)
            for a, b, c, e in moves
        ]
    return out


def fit_candidate(
    y: np.ndarray,
    meta: dict[str, Any],
    require_converged: bool = True,
    exog: np.ndarray | None = None,
) -> tuple[float, np.ndarray] | None:
    """``(AICc, params)`` of one candidate (regressing on ``exog`` when given), or None when
    statsmodels cannot fit it."""
    try:
        model = arima_model(y, meta["order"], meta["seasonal_order"], meta["trend"], exog)
        result = model.fit()
    except (ArithmeticError, ValueError, IndexError, np.linalg.LinAlgError):
        return None
    params = np.asarray(result.params, dtype=np.float64)
    converged = (result.mle_retvals or {}).get("converged", True)
    aicc = float(result.aicc)
    if not np.isfinite(params).all() or np.isnan(aicc) or (require_converged and not converged):
        return None
    return aicc, params


def css_aicc(
    z: np.ndarray, key: tuple, m: int, xreg: np.ndarray | None = None
) -> tuple[float, None] | None:
    """``(AICc, None)`` of the candidate ``key`` = (p, q, P, Q, constant) on the differenced
    series ``z`` by conditional sum of squares (residuals of the ARMA filter started at zero,
    the first ``p + m P`` dropped), regressing on the differenced covariates ``xreg``
    (len(z), F) when given; None when the fit fails or is not stationary and invertible.
    Comparable across candidates of one search (same ``z``), not with exact AICc."""
    from scipy.optimize import least_squares
    from scipy.signal import lfilter

    p, q, big_p, big_q, constant = key
    skip = p + m * big_p
    n_reg = 0 if xreg is None else xreg.shape[1]
    if len(z) - skip < p + q + big_p + big_q + n_reg + 3:
        return None
    n_arma = p + q + big_p + big_q

    def polynomials(params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        phi, theta = params[:p], params[p : p + q]
        big_phi, big_theta = params[p + q : p + q + big_p], params[p + q + big_p :]
        ar = np.polymul(np.r_[1.0, -phi][::-1], _seasonal(-big_phi, m)[::-1])[::-1]
        ma = np.polymul(np.r_[1.0, theta][::-1], _seasonal(big_theta, m)[::-1])[::-1]
        return ar, ma  # coefficients of B^0, B^1, ...

    def split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the regression part of z: mean and covariates, the ARMA coefficients) of ``x``
        = [mean if constant, covariate coefficients (n_reg), ARMA coefficients]."""
        mean, rest = (x[0], x[1:]) if constant else (0.0, x)
        fitted = mean + (xreg @ rest[:n_reg] if n_reg else 0.0)
        return fitted, rest[n_reg:]

    def residuals(x: np.ndarray) -> np.ndarray:
        fitted, params = split(x)
        ar, ma = polynomials(params)
        e = lfilter(ar, ma, z - fitted)[skip:]
        return e if np.isfinite(e).all() else np.full_like(e, 1e10)

    start = np.r_[_regression_start(z, xreg, constant), np.zeros(n_arma)]
    try:
        x = least_squares(residuals, start, method="lm" if len(z) > len(start) else "trf").x
    except (ValueError, np.linalg.LinAlgError):
        return None
    ar, ma = polynomials(split(x)[1])
    if not (_outside_unit_circle(ar) and _outside_unit_circle(ma)):
        return None
    e = residuals(x)
    n, k = len(e), len(x) + 1  # + 1: the innovation variance
    sigma2 = float(np.mean(e**2))
    if not (np.isfinite(sigma2) and sigma2 > 0) or n - k - 1 <= 0:
        return None
    log_lik = -0.5 * n * (np.log(2 * np.pi * sigma2) + 1)
    return -2 * log_lik + 2 * k + 2 * k * (k + 1) / (n - k - 1), None


def _regression_start(z: np.ndarray, xreg: np.ndarray | None, constant: bool) -> np.ndarray:
    """Least-squares [mean if ``constant``, coefficients of ``xreg``] of ``z``: where the
    conditional-sum-of-squares search starts them."""
    columns = ([np.ones(len(z))] if constant else []) + ([] if xreg is None else list(xreg.T))
    if not columns:
        return np.zeros(0)
    coef, *_ = np.linalg.lstsq(np.column_stack(columns), z, rcond=None)
    return coef


def _seasonal(coefs: np.ndarray, m: int) -> np.ndarray:
    """``1 + c_1 B^m + c_2 B^2m + ...`` as coefficients of B^0, B^1, ..."""
    poly = np.zeros(m * len(coefs) + 1)
    poly[0], poly[m::m] = 1.0, coefs
    return poly


def _outside_unit_circle(poly: np.ndarray) -> bool:
    """Whether every root of the lag polynomial ``poly`` (B^0 first) lies outside the unit
    circle (a stationary AR, an invertible MA)."""
    trimmed = np.trim_zeros(poly, "b")
    if len(trimmed) < 2:
        return True
    return bool(np.all(np.abs(np.roots(trimmed[::-1])) > 1.001))


def search_order(
    y: np.ndarray,
    bounds: dict[str, int],
    m: int,
    alpha: float,
    approximate: bool = False,
    exog: np.ndarray | None = None,
) -> tuple[dict[str, Any], np.ndarray]:
    """``(meta, params)`` of the chosen ARIMA for ``y``: ``meta`` holds ``order``,
    ``seasonal_order`` and ``trend``. ``bounds`` holds max_p, max_q, max_P, max_Q, max_d,
    max_D; ``m`` < 2 searches non-seasonal models only; ``approximate`` ranks candidates by
    :func:`css_aicc` and fits the winner exactly; ``exog`` (n, F): regression on these
    covariates with ARIMA errors (their coefficients lead ``params``' ARMA terms, in
    statsmodels' order)."""
    r = regression_residuals(y, exog)
    big_d = n_seasonal_diffs(r, m, bounds["max_D"]) if m > 1 else 0
    z = r[m:] - r[:-m] if big_d else r
    d = n_diffs(z, bounds["max_d"], alpha)
    return StepwiseSearch(y, bounds, d, big_d, m, approximate, exog).run()
