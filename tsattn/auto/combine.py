"""How an :class:`~tsattn.AutoForecaster` turns its candidates' validation forecasts into
weights: a choice per series, a global greedy ensemble, greedy weights per series, the equal
mean of the better half, or (``"auto"``) the greedy ensemble where there is validation data
enough to fit its weights and the better half's mean where there is not.

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

The better half (``"top"``) is the equally weighted mean of the ``ceil(M / 2)`` candidates
with the lowest validation MASE: no weight is estimated beyond a ranking, which is what a few
validation windows can support (equal weights beat fitted ones when the fitting sample is
small: the "forecast combination puzzle"). ``"auto"`` fits the greedy weights when there are
at least :data:`WINDOWS_PER_CANDIDATE` validation windows (series x windows) per candidate,
and takes the better half otherwise: one short series with 3 windows gets the half, M4
Hourly's 414 series the greedy ensemble.

>>> actual = np.array([1.0, 2.0, 3.0, 4.0])
>>> forecasts = np.stack([actual + 1.0, actual - 1.0, actual + 3.0], axis=1)
>>> fit = greedy_ensemble(forecasts, actual, np.ones(4))
>>> fit.weights.tolist(), fit.path
([0.5, 0.5, 0.0], [1.0, 0.0])
>>> better_half(forecasts, actual, np.ones(4)).weights.tolist()
[0.5, 0.5, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: the ``method=`` choices: the greedy ensemble or the better half by the amount of
#: validation data, one candidate per series, one global greedy ensemble, greedy weights
#: fitted on each series' own validation errors, the equal mean of the better half
METHODS = ("auto", "select", "ensemble", "per_series", "top")
#: ``"auto"``: validation windows (series x windows) per candidate that the greedy ensemble's
#: weights need; with fewer, the better half's equal mean (the rule of thumb of ten
#: observations per fitted weight)
WINDOWS_PER_CANDIDATE = 10
#: how the leaderboard names each rule
RULE_NAMES = {
    "ensemble": "greedy ensemble",
    "top": "equal mean of the better half",
    "select": "best candidate per series",
    "per_series": "greedy ensemble per series",
}
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


def better_half(forecasts: np.ndarray, actual: np.ndarray, scale: np.ndarray) -> Ensemble:
    """Equal weights on the ``ceil(M / 2)`` candidates with the lowest validation MASE (ties
    to the earlier, cheaper candidate); ``path``: that mean's validation loss."""
    n_models = forecasts.shape[1]
    best = np.argsort(candidate_losses(forecasts, actual, scale), kind="stable")
    weights = np.zeros(n_models)
    weights[best[: (n_models + 1) // 2]] = 1.0 / ((n_models + 1) // 2)
    return Ensemble(weights, [loss(forecasts @ weights, actual, scale)])


def resolve_method(method: str, n_windows: int, n_models: int) -> str:
    """``"auto"`` as ``"ensemble"`` with at least :data:`WINDOWS_PER_CANDIDATE` validation
    windows per candidate, else ``"top"``; any other method as it is."""
    if method != "auto":
        return method
    return "ensemble" if n_windows >= WINDOWS_PER_CANDIDATE * n_models else "top"


def describe_method(method: str, n_windows: int, n_models: int) -> str:
    """What ``method`` combined, for the leaderboard: ``"auto"`` says which rule it took."""
    rule = resolve_method(method, n_windows, n_models)
    if method != "auto":
        return f"combination: {RULE_NAMES[rule]}"
    per = n_windows / n_models
    return (
        f"combination: {RULE_NAMES[rule]} (method='auto': {n_windows} validation windows for "
        f"{n_models} candidates, {per:.3g} per candidate, "
        f"{'at least' if rule == 'ensemble' else 'fewer than'} {WINDOWS_PER_CANDIDATE})"
    )


def combine(
    method: str,
    forecasts: np.ndarray,
    actual: np.ndarray,
    scale: np.ndarray,
    series: np.ndarray,
    n_series: int,
    h: int,
) -> tuple[Ensemble, np.ndarray]:
    """The global weights (greedy, or the better half's for ``"top"``) and the
    (n_series, M) weights ``method`` gives each series (``series`` (N,): the series index
    of each validation point; ``h``: the points per validation window)."""
    method = resolve_method(method, len(actual) // h, forecasts.shape[1])
    if method == "top":
        overall = better_half(forecasts, actual, scale)
        return overall, np.tile(overall.weights, (n_series, 1))
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
