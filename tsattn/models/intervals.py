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
errors that are exchangeable with the scores.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from tsattn.checks import short_repr
from tsattn.models.series_data import SeriesData

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


def conformal_quantiles(point: np.ndarray, scores: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Quantiles from a point forecast and conformity scores.

    Args:
        point: (S, h) point forecasts.
        scores: (n, H) absolute errors per horizon step (H >= h), n >= 1.
        probs: (Q,) probabilities in (0, 1).

    Returns:
        (S, h, Q): ``point -/+ q`` where q is the conformal quantile of the scores at the
        central level ``|1 - 2p|`` (p = 0.5 gives the point itself).
    """
    h = point.shape[1]
    levels = np.abs(1.0 - 2.0 * probs)  # (Q,) central coverage of each tail
    radius = np.stack([conformal_radius(scores[:, :h], level) for level in levels], axis=-1)
    sign = np.sign(probs - 0.5)  # (Q,) -1 below the median, +1 above
    return point[:, :, None] + sign * radius[None, :, :]  # (S, h, Q)


def conformal_radius(scores: np.ndarray, coverage: float) -> np.ndarray:
    """(h,) split-conformal half-width per step: the ceil((n+1) coverage)-th smallest score
    (the largest score when that rank exceeds n; 0 at coverage 0)."""
    n = scores.shape[0]
    if coverage <= 0.0:
        return np.zeros(scores.shape[1])
    rank = min(math.ceil((n + 1) * coverage), n)  # 1-based
    return np.sort(scores, axis=0)[rank - 1]  # (h,)


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
    probe._fit(_truncated(data, held_out), val_size)
    errors = []
    for w in range(windows):
        cut = held_out - w * h  # steps removed from the end of each series
        history = _truncated(data, cut)
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


def _truncated(data: SeriesData, steps: int) -> SeriesData:
    """``data`` with the last ``steps`` observations of every series removed (dates kept as
    they are: the copies only forecast arrays, never frames)."""
    values = [v[: len(v) - steps] for v in data.values]
    return SeriesData(list(data.ids), values, list(data.last_ds), list(data.freqs))
