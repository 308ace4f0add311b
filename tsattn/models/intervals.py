"""Prediction intervals and quantiles: what ``predict(level=..., quantiles=...)`` asks for, how
the columns are named, and split-conformal intervals from a model's own backtest residuals.

Columns follow statsforecast / neuralforecast: ``<alias>-lo-<L>`` and ``<alias>-hi-<L>`` for a
level L (in percent), ``<alias>-q-<p>`` for a quantile p:

>>> request = QuantileRequest.make(level=[80, 95], quantiles=[0.5])
>>> request.probs.tolist()
[0.025, 0.1, 0.5, 0.9, 0.975]
>>> list(request.columns("M"))
['M-lo-80', 'M-hi-80', 'M-lo-95', 'M-hi-95', 'M-q-0.5']

Conformal intervals (``intervals="conformal"``): the model is fitted once on each series minus
its last ``conformal_windows * h`` steps and forecasts ``h`` steps from each of
``conformal_windows`` cutoffs there; the absolute errors per horizon step are the conformity
scores. The interval at level L and step k is the point forecast plus or minus the
``ceil((n + 1) L / 100) / n`` empirical quantile of the n scores of step k (split conformal, as
statsforecast's and neuralforecast's conformal options do), so it covers at least L% of new
errors that are exchangeable with the scores. n scores reach at most ``n / (n + 1)``: beyond,
the band is the one normal errors would give (and wider than the largest score), with a
warning that says how many ``conformal_windows`` a conformal band needs
(:func:`conformal_radius`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from tsattn.checks import short_repr

#: the ``intervals=`` choices: the model's own uncertainty, or conformal residuals
INTERVAL_METHODS = ("native", "conformal")


@dataclass(frozen=True)
class QuantileRequest:
    """The levels and quantiles one ``predict`` call asks for, and the probabilities needed."""

    levels: tuple[float, ...]
    quantiles: tuple[float, ...]

    @classmethod
    def make(cls, level: object = None, quantiles: object = None) -> QuantileRequest | None:
        """Checked request, or None when neither is asked for (a point forecast)."""
        if level is None and quantiles is None:
            return None
        levels = _numbers("level", level, 0.0, 100.0, "e.g. level=[80, 95]")
        probs = _numbers("quantiles", quantiles, 0.0, 1.0, "e.g. quantiles=[0.1, 0.5, 0.9]")
        return cls(tuple(levels), tuple(probs))

    @property
    def probs(self) -> np.ndarray:
        """(Q,) sorted unique probabilities: each level's two tails, the quantiles and 0.5 (so
        every interval contains the median)."""
        tails = [p for level in self.levels for p in level_tails(level)]
        return np.unique(np.array([*tails, *self.quantiles, 0.5], dtype=np.float64))

    def columns(self, alias: str) -> Iterator[str]:
        """The column names, in the order levels (lo, hi) then quantiles."""
        for level in self.levels:
            yield f"{alias}-lo-{format_level(level)}"
            yield f"{alias}-hi-{format_level(level)}"
        for p in self.quantiles:
            yield f"{alias}-q-{p!r}"

    def column_probs(self) -> list[float]:
        """The probability behind each column of :meth:`columns`, in the same order."""
        out = [p for level in self.levels for p in level_tails(level)]
        return out + list(self.quantiles)


def level_tails(level: float) -> tuple[float, float]:
    """(lower, upper) probabilities of a central interval at ``level`` percent."""
    tail = (1.0 - level / 100.0) / 2.0
    return round(tail, 12), round(1.0 - tail, 12)


def format_level(level: float) -> str:
    """80 for 80.0, 99.5 for 99.5: how levels appear in column names."""
    return str(int(level)) if float(level).is_integer() else repr(float(level))


def conformal_quantiles(
    point: np.ndarray,
    scores: np.ndarray,
    probs: np.ndarray,
    name: str = "conformal intervals",
    per_step: int = 1,
) -> np.ndarray:
    """Quantiles from a point forecast and conformity scores.

    Args:
        point: (S, h) point forecasts.
        scores: (n, H) absolute errors per horizon step (H >= h), n >= 1.
        probs: (Q,) probabilities in (0, 1).
        name, per_step: for the warning when a level is beyond what n scores reach (see
            :func:`conformal_radius`): the model, and the scores one window adds.

    Returns:
        (S, h, Q): ``point -/+ q`` where q is the conformal quantile of the scores at the
        central level ``|1 - 2p|`` (p = 0.5 gives the point itself).
    """
    h = point.shape[1]
    levels = np.abs(1.0 - 2.0 * probs)  # (Q,) central coverage of each tail
    warn_if_extrapolated(scores.shape[0], levels, name, per_step)
    radius = np.stack([conformal_radius(scores[:, :h], level) for level in levels], axis=-1)
    sign = np.sign(probs - 0.5)  # (Q,) -1 below the median, +1 above
    return point[:, :, None] + sign * radius[None, :, :]  # (S, h, Q)


def conformal_radius(scores: np.ndarray, coverage: float) -> np.ndarray:
    """(h,) split-conformal half-width per step: the ceil((n+1) coverage)-th smallest score
    (0 at coverage 0).

    With n scores no rank reaches a coverage above ``n / (n + 1)`` (split conformal would
    give an infinite interval). There the half-width is the normal-errors one, exact when
    the errors are normal: the scores' root mean square times Student's t quantile with n
    degrees of freedom, ``t_n((1 + coverage) / 2)``; and never less than the largest score
    widened by ``z((1 + coverage) / 2) / z((1 + n / (n + 1)) / 2)``, so that the band is
    wider than every band the scores do reach (a 95% band is never the 80% one).
    :func:`conformal_quantiles` warns when it does this.

    >>> scores = np.array([[1.0], [2.0], [3.0], [4.0]])  # n = 4: conformal up to 80%
    >>> float(conformal_radius(scores, 0.8)[0])
    4.0
    >>> round(float(conformal_radius(scores, 0.95)[0]), 3)  # max(2.739 t_4, 4 * 1.960 / 1.282)
    7.604
    """
    n = scores.shape[0]
    if coverage <= 0.0:
        return np.zeros(scores.shape[1])
    rank = math.ceil((n + 1) * coverage)  # 1-based
    ordered = np.sort(scores, axis=0)
    if rank <= n:
        return ordered[rank - 1]  # (h,)
    from scipy.stats import norm, t

    normal = np.sqrt(np.mean(scores**2, axis=0)) * t.ppf((1 + coverage) / 2, n)  # (h,)
    widened = ordered[-1] * norm.ppf((1 + coverage) / 2) / norm.ppf((1 + n / (n + 1)) / 2)
    return np.maximum(normal, widened)


def max_conformal_coverage(n: int) -> float:
    """The highest coverage ``n`` conformity scores give split-conformal intervals."""
    return n / (n + 1)


def scores_needed(coverage: float) -> int:
    """The fewest conformity scores whose split-conformal interval reaches ``coverage``.

    >>> scores_needed(0.8), scores_needed(0.95)
    (4, 19)
    """
    return math.ceil(coverage / (1 - coverage) - 1e-9)


def warn_if_extrapolated(n: int, levels: np.ndarray, name: str, per_step: int) -> None:
    """A ``UserWarning`` when some of ``levels`` (central coverages) exceed what ``n`` scores
    per step reach; ``per_step``: scores each conformal window adds (the series)."""
    beyond = sorted({float(c) for c in levels if c > max_conformal_coverage(n)})
    if not beyond:
        return
    need = scores_needed(max(beyond))
    windows = math.ceil(need / max(per_step, 1))
    shown = ", ".join(f"{100 * c:g}%" for c in beyond)
    warnings.warn(
        f"{name}: {n} conformity score(s) per step give split-conformal intervals up to "
        f"{100 * max_conformal_coverage(n):.0f}% coverage; the {shown} band(s) assume "
        f"normal errors instead. For conformal ones, use {need} scores "
        f"(conformal_windows={windows} with {per_step} series)",
        UserWarning,
        stacklevel=6,  # the caller of predict
    )


def check_interval_method(intervals: object) -> str:
    """``intervals=`` as a checked choice ("native" when None)."""
    if intervals is None:
        return "native"
    if intervals not in INTERVAL_METHODS:
        raise ValueError(
            f"intervals must be one of {', '.join(INTERVAL_METHODS)} (or None: native), got "
            f"{short_repr(intervals)}"
        )
    return str(intervals)


def _numbers(name: str, values: object, low: float, high: float, example: str) -> list[float]:
    """A list of distinct numbers strictly between ``low`` and ``high`` (None: empty)."""
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
        raise ValueError(f"{name} must be a list of numbers, {example}; got {short_repr(values)}")
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise ValueError(f"{name} must hold numbers, {example}; got {short_repr(value)}")
        if not (math.isfinite(value) and low < value < high):
            raise ValueError(
                f"{name} values must lie strictly between {low:g} and {high:g}; got {value!r}"
            )
        out.append(float(value))
    if len(set(out)) != len(out):
        raise ValueError(f"{name} has repeated values: {out}")
    return out


def conformal_scores(model, data, val_size: int | None) -> np.ndarray:
    """(n_windows * n_series, h) absolute errors of ``model``'s forecasts from the last
    ``model.conformal_windows`` cutoffs of each series, ``h`` apart, by a copy of the model
    fitted once on what precedes the first cutoff (see the module docstring)."""
    windows, h = model.conformal_windows, model.h
    held_out = windows * h
    probe = model.conformal_copy()
    need = held_out + probe.min_train_length(val_size or 0)
    short = [(uid, len(v)) for uid, v in zip(data.ids, data.values) if len(v) < need]
    if short:
        uid, n = short[0]
        raise ValueError(
            f"series {uid!r} has {n} observations; conformal intervals with "
            f"conformal_windows={windows} and h={h} need at least {need} ({held_out} held out "
            f"for the residuals); use fewer conformal_windows or longer series"
        )
    probe._fit(data.truncated(held_out), val_size)
    errors = []
    for w in range(windows):
        cut = held_out - w * h  # steps removed from the end of each series
        history = data.truncated(cut)
        forecast = np.asarray(probe._predict(history, h), dtype=np.float64)  # (S, h)
        actual = np.stack([v[len(v) - cut : len(v) - cut + h] for v in data.values])  # (S, h)
        errors.append(np.abs(actual - forecast))
    scores = np.concatenate(errors)  # (W * S, h)
    if not np.isfinite(scores).all():
        raise ValueError(f"{model.name}'s forecasts for the conformal scores are not finite")
    return scores


def check_scores(scores: object, h: int) -> np.ndarray:
    """Saved conformity scores: a finite, non-negative (n, >= h) float array."""
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < h:
        raise ValueError(f"conformal scores must be an (n, >= {h}) array, got {array.shape}")
    if not (np.isfinite(array).all() and (array >= 0).all()):
        raise ValueError("conformal scores must be finite and non-negative")
    return array
