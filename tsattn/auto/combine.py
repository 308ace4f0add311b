"""How an :class:`~tsattn.AutoForecaster` turns its candidates' validation forecasts into
weights: a choice per series, a global greedy ensemble, or greedy weights per series.

Everything here works on the validation matrix: ``forecasts`` (N, M), the forecasts of M
candidates for N validation points (every series, window and step), ``actual`` (N,) and
``scale`` (N,), the MASE scale of each point's series. The loss is the mean of
``|actual - forecast| / scale``: the validation MASE, which weighs every series alike
whatever its level.

The greedy ensemble is Caruana et al. (2004)'s forward selection with replacement, as
AutoGluon fits it: start from the best single candidate, then repeatedly add (again, if it is
the best) the candidate whose addition to the equally weighted bag lowers the loss most;
stop when no addition lowers it or after ``rounds`` additions. A candidate's weight is its
share of the bag, so the weights are multiples of ``1 / size``, sum to one, and the loss falls
at every step (``path``).

>>> actual = np.array([1.0, 2.0, 3.0, 4.0])
>>> forecasts = np.stack([actual + 1.0, actual - 1.0, actual + 3.0], axis=1)
>>> fit = greedy_ensemble(forecasts, actual, np.ones(4))
>>> fit.weights.tolist(), fit.path
([0.5, 0.5, 0.0], [1.0, 0.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: the ``method=`` choices: one candidate per series, one global greedy ensemble, greedy
#: weights fitted on each series' own validation errors
METHODS = ("select", "ensemble", "per_series")
#: additions to the greedy ensemble's bag at most (AutoGluon's default ensemble_size is 100;
#: with a handful of candidates the loss stops falling long before)
ROUNDS = 100


@dataclass(frozen=True)
class Ensemble:
    """Greedy ensemble weights (M,) and the validation loss after each addition."""

    weights: np.ndarray
    path: list[float]


def loss(forecast: np.ndarray, actual: np.ndarray, scale: np.ndarray) -> float:
    """Mean scaled absolute error (validation MASE) of one forecast column (N,)."""
    return float(np.mean(np.abs(actual - forecast) / scale))


def candidate_losses(forecasts: np.ndarray, actual: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(M,) validation MASE of each candidate."""
    return np.mean(np.abs(actual[:, None] - forecasts) / scale[:, None], axis=0)


def greedy_ensemble(
    forecasts: np.ndarray, actual: np.ndarray, scale: np.ndarray, rounds: int = ROUNDS
) -> Ensemble:
    """Forward selection with replacement (see the module docstring); ties go to the
    earlier candidate (the cheaper one, as candidates are ordered)."""
    n_models = forecasts.shape[1]
    errors = np.abs(actual[:, None] - forecasts) / scale[:, None]  # (N, M) only for the start
    first = int(np.argmin(errors.mean(axis=0)))
    counts = np.zeros(n_models, dtype=np.int64)
    counts[first] = 1
    total = forecasts[:, first].copy()  # (N,) sum of the bag's forecasts
    path = [loss(total, actual, scale)]
    for size in range(2, rounds + 1):
        trial = (total[:, None] + forecasts) / size  # (N, M) the bag plus each candidate
        losses = np.mean(np.abs(actual[:, None] - trial) / scale[:, None], axis=0)
        best = int(np.argmin(losses))
        if not losses[best] < path[-1] - 1e-12 * max(1.0, abs(path[-1])):
            break
        counts[best] += 1
        total += forecasts[:, best]
        path.append(float(losses[best]))
    return Ensemble(counts / counts.sum(), path)


def combine(
    method: str,
    forecasts: np.ndarray,
    actual: np.ndarray,
    scale: np.ndarray,
    series: np.ndarray,
    n_series: int,
) -> tuple[Ensemble, np.ndarray]:
    """The global greedy ensemble and the (n_series, M) weights ``method`` gives each series
    (``series`` (N,): the series index of each validation point)."""
    overall = greedy_ensemble(forecasts, actual, scale)
    if method == "ensemble":
        return overall, np.tile(overall.weights, (n_series, 1))
    rows = []
    for s in range(n_series):
        mine = series == s
        if not mine.any():  # not validated (cannot happen after a full backtest): global
            rows.append(overall.weights)
        elif method == "select":
            losses = candidate_losses(forecasts[mine], actual[mine], scale[mine])
            rows.append(np.eye(forecasts.shape[1])[int(np.argmin(losses))])
        else:
            rows.append(greedy_ensemble(forecasts[mine], actual[mine], scale[mine]).weights)
    return overall, np.stack(rows)
