"""Probabilistic metrics: of quantile forecasts and of prediction intervals.

Registered in the same :data:`~tsattn.evaluation.metrics.METRICS` registry as the point
metrics, with a ``kind`` that tells :func:`~tsattn.evaluation.evaluate` what to hand them:

* ``"quantiles"`` (``crps``, ``mean_wql``, ``sql``): ``f(y, yq, quantiles)`` with ``y`` of
  shape (N,), ``yq`` (N, Q) the forecast quantiles and ``quantiles`` (Q,) their probabilities;
  one row per model, over all of that model's quantile columns (the ``-q-`` columns and both
  ends of every interval).
* ``"quantile"`` (``pinball``): ``f(y, yq, q)`` for one quantile; one row per probability,
  ``pinball-0.1``, ...
* ``"interval"`` (``coverage``, ``width``, ``msis``): ``f(y, lo, hi)`` for one central
  interval; one row per level, ``coverage-80``, ...

Definitions (``rho_q(y, f) = max(q (y - f), (q - 1)(y - f))``, the pinball loss):

* ``pinball``: ``mean(rho_q(y, f_q))``, in the units of ``y``.
* ``crps``: ``mean_q 2 mean(rho_q(y, f_q))``, the CRPS approximated from the quantiles (a
  Riemann sum of its quantile decomposition), in the units of ``y``.
* ``mean_wql``: gluonts' ``mean_wQuantileLoss`` exactly: ``mean_q 2 sum(rho_q(y, f_q)) /
  sum(|y|)``, sums over every row (all series and windows pooled), i.e. ``crps / mean|y|``.
* ``sql``: scaled quantile loss, ``mean_q 2 mean(rho_q(y, f_q) / scale)`` with the MASE scale
  (seasonal naive in-sample MAE); with ``quantiles=[0.5]`` it is the MASE of the median.
* ``coverage``: ``100 mean(lo <= y <= hi)``, in percent (compare it with the level).
* ``width``: ``mean(hi - lo)``, in the units of ``y``.
* ``msis``: the M4 mean scaled interval score at level L, ``a = 1 - L/100``:
  ``mean((hi - lo + 2/a (lo - y) 1[y < lo] + 2/a (y - hi) 1[y > hi]) / scale)``, scale as MASE.

As the point metrics, they compute on :class:`~tsattn.evaluation.wide.Wide` numbers: values
near the float64 limit never overflow to ``inf``.

>>> import numpy as np
>>> y = np.array([1.0, 3.0])
>>> pinball_loss(y, np.array([2.0, 2.0]), 0.75)  # (0.25 * 1 + 0.75 * 1) / 2
0.5
>>> coverage(y, lo=np.array([0.0, 0.0]), hi=np.array([2.0, 2.0]))
50.0
"""

from __future__ import annotations

import numpy as np

from tsattn.evaluation.metrics import METRICS, Metric, _pair, require_finite
from tsattn.evaluation.wide import Wide


def _kind(kind: str, *, scale: bool = False, level: bool = False, units: bool = False):
    """Flag a metric's kind; ``scale``: needs ``scale=``, ``level``: needs ``level=``,
    ``units``: scale-dependent (in the units of ``y``)."""

    def mark(metric: Metric) -> Metric:
        metric.kind = kind  # type: ignore[attr-defined]
        if scale:
            metric.needs_scale = True  # type: ignore[attr-defined]
        if level:
            metric.needs_level = True  # type: ignore[attr-defined]
        if units:
            metric.scale_dependent = True  # type: ignore[attr-defined]
        return metric

    return mark


def _quantile_set(y: object, yq: object, quantiles: object) -> tuple[np.ndarray, ...]:
    """``y`` (N,), ``yq`` (N, Q) and ``quantiles`` (Q,) checked: shapes, finite, q in (0, 1)."""
    y = np.asarray(y, dtype=np.float64).ravel()
    q = np.atleast_1d(np.asarray(quantiles, dtype=np.float64))
    yq = np.asarray(yq, dtype=np.float64).reshape(len(y), -1) if np.size(yq) else np.empty(0)
    if q.ndim != 1 or q.size == 0 or yq.shape != (len(y), len(q)):
        raise ValueError(
            f"quantile forecasts must have shape (len(y), len(quantiles)) = ({len(y)}, "
            f"{q.size}), got {np.shape(yq)}"
        )
    _check_probabilities(q)
    y, _ = _pair(y, yq[:, 0])
    require_finite("the quantile forecasts", yq)
    return y, yq, q


def _check_probabilities(q: np.ndarray) -> None:
    if not (np.isfinite(q).all() and ((q > 0) & (q < 1)).all()):
        raise ValueError(f"quantiles must lie strictly between 0 and 1, got {q.tolist()}")


def _rho(y: np.ndarray, yq: np.ndarray, q: np.ndarray) -> Wide:
    """Pinball losses, elementwise: (N, Q) from y (N,), yq (N, Q), q (Q,)."""
    # gluonts' form |(f - y) (1[y <= f] - q)|, equal to max(q (y - f), (q - 1)(y - f))
    return abs(Wide.diff(yq, np.broadcast_to(y[:, None], yq.shape)) * ((y[:, None] <= yq) - q))


def _scale(scale: object, shape: tuple[int, ...], metric: str) -> np.ndarray:
    if scale is None:
        raise ValueError(
            f"{metric} needs scale= (the seasonal naive in-sample MAE, as MASE); evaluate "
            "computes it from train_df="
        )
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), shape)
    require_finite(f"the {metric} scale", scale)
    if np.any(scale <= 0):
        raise ValueError(
            f"{metric} is undefined: the training series has a zero seasonal-naive error (scale 0)"
        )
    return scale


@METRICS.register("pinball")
@_kind("quantile", units=True)
def pinball_loss(y: object, yq: object, q: float) -> float:
    """Mean pinball (quantile) loss of the ``q`` quantile forecast ``yq``.

    >>> pinball_loss([1.0, 3.0], [2.0, 2.0], 0.25)  # (0.75 * 1 + 0.25 * 1) / 2
    0.5
    """
    y, yq, qs = _quantile_set(y, yq, [q])
    return _rho(y, yq, qs).mean().to_float("pinball")


@METRICS.register("crps")
@_kind("quantiles", units=True)
def crps(y: object, yq: object, quantiles: object) -> float:
    """CRPS approximated from quantiles: ``mean over q of 2 * mean pinball loss``.

    >>> crps([1.0, 3.0], [[0.0, 2.0], [2.0, 4.0]], [0.25, 0.75])  # 2 * 0.25 for each q
    0.5
    """
    y, yq, q = _quantile_set(y, yq, quantiles)
    return (_rho(y, yq, q).mean(axis=0) * 2.0).mean().to_float("crps")


@METRICS.register("mean_wql")
@_kind("quantiles")
def mean_weighted_quantile_loss(y: object, yq: object, quantiles: object) -> float:
    """gluonts' ``mean_wQuantileLoss``: ``mean over q of 2 * sum pinball / sum |y|``.

    The sums run over every value given (pool all series and windows, as gluonts'
    ``Evaluator`` does). Undefined when every ``y`` is 0.

    >>> mean_weighted_quantile_loss([1.0, 3.0], [[0.0, 2.0], [2.0, 4.0]], [0.25, 0.75])
    0.25
    """
    y, yq, q = _quantile_set(y, yq, quantiles)
    total = Wide.of(np.abs(y)).sum()
    if not total.nonzero():
        raise ValueError("mean_wql is undefined when every actual value is 0 (sum |y| = 0)")
    return (_rho(y, yq, q).sum(axis=0) * 2.0 / total).mean().to_float("mean_wql")


@METRICS.register("sql")
@_kind("quantiles", scale=True)
def scaled_quantile_loss(
    y: object, yq: object, quantiles: object, scale: float | np.ndarray | None = None
) -> float:
    """Scaled quantile loss: ``mean over q of 2 * mean(pinball / scale)``, ``scale`` the
    seasonal naive in-sample MAE (a number, or one per value of ``y``), as MASE.

    >>> scaled_quantile_loss([1.0, 3.0], [[0.0, 2.0], [2.0, 4.0]], [0.25, 0.75], scale=0.5)
    1.0
    """
    y, yq, q = _quantile_set(y, yq, quantiles)
    scale = _scale(scale, y.shape, "sql")
    return ((_rho(y, yq, q) / scale[:, None]).mean(axis=0) * 2.0).mean().to_float("sql")


def _interval(y: object, lo: object, hi: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, lo = _pair(y, lo)
    _, hi = _pair(y, hi)
    return y, lo, hi


@METRICS.register("coverage")
@_kind("interval")
def coverage(y: object, lo: object, hi: object) -> float:
    """Empirical coverage in percent: ``100 * mean(lo <= y <= hi)``.

    >>> coverage([1.0, 5.0], [0.0, 0.0], [2.0, 2.0])
    50.0
    """
    y, lo, hi = _interval(y, lo, hi)
    return float(100.0 * np.mean((lo <= y) & (y <= hi)))


@METRICS.register("width")
@_kind("interval", units=True)
def interval_width(y: object, lo: object, hi: object) -> float:
    """Mean interval width ``mean(hi - lo)`` (``y`` only sets the shape and is checked).

    >>> interval_width([1.0, 5.0], [0.0, 1.0], [2.0, 2.0])
    1.5
    """
    _, lo, hi = _interval(y, lo, hi)
    return Wide.diff(hi, lo).mean().to_float("width")


@METRICS.register("msis")
@_kind("interval", scale=True, level=True)
def msis(
    y: object,
    lo: object,
    hi: object,
    level: float = 95.0,
    scale: float | np.ndarray | None = None,
) -> float:
    """Mean scaled interval score of the M4 competition, for a central interval at ``level``.

    ``mean((hi - lo + 2/a (lo - y) 1[y < lo] + 2/a (y - hi) 1[y > hi]) / scale)`` with
    ``a = 1 - level / 100`` and ``scale`` the seasonal naive in-sample MAE (as MASE).

    >>> msis([1.0, 5.0], [0.0, 0.0], [2.0, 2.0], level=95, scale=1.0)  # (2 + 2 + 40 * 3) / 2
    62.0
    """
    y, lo, hi = _interval(y, lo, hi)
    if not 0.0 < float(level) < 100.0:
        raise ValueError(f"level must lie strictly between 0 and 100, got {level!r}")
    alpha = (100.0 - float(level)) / 100.0  # 95 -> 0.05, gluonts' alpha
    scale = _scale(scale, y.shape, "msis")
    penalty = 2.0 / alpha
    below = Wide.diff(lo, y) * penalty * (y < lo)
    above = Wide.diff(y, hi) * penalty * (y > hi)
    score = Wide.diff(hi, lo) + below + above
    return (score / scale).mean().to_float("msis")
