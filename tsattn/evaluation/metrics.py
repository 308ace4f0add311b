"""Point-forecast metrics as plain functions of numpy arrays, and a registry by name.

Every metric takes the actual values ``y`` and the forecasts ``yhat`` (any shape, equal
shapes, finite numbers: NaN or inf is a ``ValueError``) and returns a float. Percentage
metrics follow the M4 convention and are in percent: ``mape`` in [0, inf), ``smape`` in
[0, 200]. ``mae``, ``mse`` and ``rmse`` are in the units of ``y`` (flagged
``scale_dependent``): pooled over series of different scales, the largest series dominate.

Values near the float64 limit do not overflow: the arithmetic runs on
:class:`~tsattn.evaluation.wide.Wide` numbers, so ``rmse`` of errors near ``1e300`` is near
``1e300``, never ``inf``; a metric whose own value lies beyond float64 (the MSE of those errors,
about ``1e600``) is a ``ValueError``, never ``inf``. Ordinary values give the same floats as
the plain formulas.

>>> import numpy as np
>>> y, yhat = np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 2.0])
>>> mae(y, yhat), mse(y, yhat), rmse(y, yhat)
(1.0, 1.6666666666666667, 1.2909944487358056)
>>> mape(y, yhat)
50.0
>>> mase(y, yhat, y_train=np.array([0.0, 1.0, 2.0, 3.0]))  # naive in-sample MAE = 1
1.0
>>> get_metric("RMSE") is rmse
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tsattn.checks import check_positive_int
from tsattn.evaluation.wide import Wide
from tsattn.registry import Registry

Metric = Callable[..., float]

#: name -> metric function; ``evaluate(metrics=[...])`` looks names up here.
METRICS: Registry[Metric] = Registry("metric")


def _pair(y: object, yhat: object) -> tuple[np.ndarray, np.ndarray]:
    """``y`` and ``yhat`` as float arrays of one shape, non-empty and finite."""
    y, yhat = np.asarray(y, dtype=np.float64), np.asarray(yhat, dtype=np.float64)
    if y.shape != yhat.shape:
        raise ValueError(f"y and yhat must have the same shape, got {y.shape} and {yhat.shape}")
    if y.size == 0:
        raise ValueError("cannot compute a metric on empty arrays")
    require_finite("y", y)
    require_finite("yhat", yhat)
    return y, yhat


def require_finite(name: str, values: np.ndarray) -> None:
    """A ``ValueError`` naming ``name`` unless every value is finite (no NaN, no inf)."""
    bad = int(np.count_nonzero(~np.isfinite(values)))
    if bad:
        raise ValueError(
            f"{name} has {bad} NaN or infinite value(s); a metric of them is meaningless: "
            "drop or fill those values first"
        )


def _scale_dependent(metric: Metric) -> Metric:
    """Flag ``metric`` as in the units of ``y`` (``evaluate`` warns when it pools scales)."""
    metric.scale_dependent = True  # type: ignore[attr-defined]
    return metric


@METRICS.register("mae")
@_scale_dependent
def mae(y: object, yhat: object) -> float:
    """Mean absolute error: ``mean(|y - yhat|)``.

    >>> mae([1, 2], [2, 4])
    1.5
    """
    y, yhat = _pair(y, yhat)
    return abs(Wide.diff(y, yhat)).mean().to_float("mae")


@METRICS.register("mse")
@_scale_dependent
def mse(y: object, yhat: object) -> float:
    """Mean squared error: ``mean((y - yhat)**2)``.

    >>> mse([1, 2], [2, 4])
    2.5
    """
    hint = "score rmse (its square root) instead, or rescale y and the forecasts"
    return _mean_square(*_pair(y, yhat)).to_float("mse", hint)


@METRICS.register("rmse")
@_scale_dependent
def rmse(y: object, yhat: object) -> float:
    """Root mean squared error: ``sqrt(mse)``.

    >>> rmse([0, 0], [3, 3])
    3.0
    """
    return _mean_square(*_pair(y, yhat)).sqrt().to_float("rmse")


def _mean_square(y: np.ndarray, yhat: np.ndarray) -> Wide:
    error = Wide.diff(y, yhat)
    return (error * error).mean()


@METRICS.register("mape")
def mape(y: object, yhat: object) -> float:
    """Mean absolute percentage error in percent: ``100 * mean(|y - yhat| / |y|)``.

    Undefined when ``y`` contains zeros (a ``ValueError``; use ``smape`` or ``mase``).

    >>> mape([100, 200], [110, 180])
    10.0
    """
    y, yhat = _pair(y, yhat)
    if np.any(y == 0):
        raise ValueError("MAPE is undefined when y contains zeros; use smape or mase instead")
    return ((abs(Wide.diff(y, yhat)) / np.abs(y)).mean() * 100).to_float("mape")


@METRICS.register("smape")
def smape(y: object, yhat: object) -> float:
    """Symmetric MAPE in percent (M4): ``200 * mean(|y - yhat| / (|y| + |yhat|))``.

    Terms where both ``y`` and ``yhat`` are 0 count as 0. The range is [0, 200].

    >>> smape([1, 0], [3, 0])
    50.0
    """
    y, yhat = _pair(y, yhat)
    denom = Wide.of(np.abs(y)) + Wide.of(np.abs(yhat))  # 0 only where the error is 0 too
    ratio = abs(Wide.diff(y, yhat)) / denom.where(denom.nonzero(), 1.0)
    return (ratio.mean() * 200).to_float("smape")


def mase_scale(y_train: object, season_length: int = 1) -> float:
    """In-sample MAE of the seasonal naive forecast: ``mean(|y_t - y_{t-m}|)``, m = season_length.

    >>> mase_scale([1, 2, 4, 8], season_length=2)
    4.5
    """
    y_train = np.asarray(y_train, dtype=np.float64).ravel()
    m = check_positive_int("season_length", season_length)
    require_finite("the MASE training series", y_train)
    if y_train.size <= m:
        raise ValueError(
            f"MASE needs more than season_length={m} training values, got {y_train.size}"
        )
    return abs(Wide.diff(y_train[m:], y_train[:-m])).mean().to_float("the MASE scale")


@METRICS.register("mase")
def mase(
    y: object,
    yhat: object,
    y_train: object | None = None,
    season_length: int = 1,
    scale: float | np.ndarray | None = None,
) -> float:
    """Mean absolute scaled error: ``mean(|y - yhat| / scale)``.

    ``scale`` is the in-sample MAE of the seasonal naive forecast on ``y_train``
    (:func:`mase_scale`), or given directly (a number, or one per element of ``y`` when
    several series are scored together). A zero scale (a constant training series) is an
    error.

    >>> mase([3, 5], [4, 4], y_train=[1, 2, 1, 2], season_length=2)  # scale 0 -> error
    Traceback (most recent call last):
    ...
    ValueError: MASE is undefined: the training series has a zero seasonal-naive error (scale 0)
    >>> mase([3, 5], [4, 4], scale=0.5)
    2.0
    """
    y, yhat = _pair(y, yhat)
    if scale is None:
        if y_train is None:
            raise ValueError("MASE needs the training series (y_train=) or scale=")
        scale = mase_scale(y_train, season_length)
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), y.shape)
    require_finite("the MASE scale", scale)
    if np.any(scale <= 0):
        raise ValueError(
            "MASE is undefined: the training series has a zero seasonal-naive error (scale 0)"
        )
    return (abs(Wide.diff(y, yhat)) / scale).mean().to_float("mase")


mase.needs_scale = True  # type: ignore[attr-defined]  # evaluate passes scale= per row


def get_metric(name: str | Metric) -> Metric:
    """The metric function registered as ``name`` (case-insensitive); callables pass through."""
    return name if callable(name) else METRICS.get(name)


def list_metrics() -> list[str]:
    """Names accepted by :func:`get_metric` and ``evaluate(metrics=...)``."""
    return METRICS.names()
