"""Score a forecaster on every window of a split by batched inference.

Errors are accumulated batch by batch (MSE and MAE overall and per horizon step), so even
Electricity at horizon 720 never holds all predictions in memory. ``legacy_drop_last``
reproduces the PatchTST code's test loader (``drop_last=True``), which silently drops the
most recent ``n_windows % batch`` windows (:func:`~tsattn.datasets.windows.evaluated_windows`).
The predictor is any forecaster's window-level entry, e.g. ``model.predict_windows``.

A model that also gives quantiles at the window level (``model.predict_window_quantiles``, a
neural network trained with a probabilistic loss) is scored on the same windows, in the same
scale, by the definitions of :mod:`tsattn.evaluation.quantile_metrics`: the CRPS approximated
from its quantiles, gluonts' mean weighted quantile loss (the pooled CRPS over the pooled mean
``|y|``) and the coverage of the central 80% and 95% intervals, in percent. These too are
accumulated chunk by chunk (a chunk's quantiles hold ``batch_size`` point forecasts' worth of
values), never over all windows at once.

>>> import numpy as np
>>> data = np.tile(np.arange(10.0, dtype=np.float32)[:, None], (1, 2))  # (10, 2): y = t
>>> from tsattn.models import Naive
>>> scores = score_windows(Naive(h=3).predict_windows, data, input_size=4, horizon=3)
>>> scores.n_windows, scores.mae_by_step.tolist()
(4, [1.0, 2.0, 3.0])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from tsattn.datasets.windows import SlidingWindows, evaluated_windows
from tsattn.evaluation.quantile_metrics import coverage, crps

#: (B, L, C) inputs -> (B, H, C) forecasts
WindowPredictor = Callable[[np.ndarray], np.ndarray]
#: (B, L, C) inputs, sorted probabilities (Q,) -> (B, H, C, Q) quantiles
QuantilePredictor = Callable[[np.ndarray, np.ndarray], np.ndarray]
#: the central intervals whose coverage is scored (each from its two end quantiles)
INTERVAL_LEVELS = (80, 95)


@dataclass(frozen=True)
class QuantileScores:
    """Probabilistic scores over windows x horizon x channels: ``crps`` (in the units of the
    data), ``wql`` (gluonts' mean weighted quantile loss), ``coverage`` (level -> percent;
    None where the model's quantiles do not reach that interval's ends)."""

    crps: float
    wql: float
    coverage: dict[int, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class WindowScores:
    """Errors over windows x horizon x channels, and per horizon step."""

    mse: float
    mae: float
    n_windows: int
    mse_by_step: np.ndarray  # (H,)
    mae_by_step: np.ndarray  # (H,)
    quantiles: QuantileScores | None = None  # None: a point model


class _QuantileTally:
    """Running sums of the quantile scores, fed (inputs, targets) batches of windows.

    ``probs`` are the quantiles the CRPS averages over; the ends of each interval level are
    asked for beside them when they lie within ``probs``' range."""

    def __init__(self, predict: QuantilePredictor, probs: Sequence[float], batch_size: int):
        self.predict = predict
        self.probs = np.unique(np.asarray(probs, dtype=np.float64))  # sorted
        if self.probs.size == 0:
            raise ValueError("scoring quantiles needs probs= (the quantiles the CRPS averages)")
        ends = {
            level: (round((100 - level) / 200, 10), round((100 + level) / 200, 10))
            for level in INTERVAL_LEVELS
        }
        self.ends = {
            level: pair
            for level, pair in ends.items()
            if self.probs[0] <= pair[0] and pair[1] <= self.probs[-1]
        }
        wanted = [*self.probs, *(q for pair in self.ends.values() for q in pair)]
        self.grid = np.unique(np.round(wanted, 10))  # (Q,) what the model is asked for
        self.chunk = max(1, batch_size // len(self.grid))  # windows per quantile call
        self.count = 0
        self.crps_sum = self.abs_sum = 0.0
        self.cover_sum = dict.fromkeys(self.ends, 0.0)

    def _column(self, q: float) -> int:
        return int(np.argmin(np.abs(self.grid - q)))

    def add(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        for start in range(0, len(inputs), self.chunk):
            x, y = inputs[start : start + self.chunk], targets[start : start + self.chunk]
            yq = np.asarray(self.predict(x, self.grid), dtype=np.float64)  # (b, H, C, Q)
            if yq.shape != (*y.shape, len(self.grid)):
                raise ValueError(
                    f"quantile forecast shape {yq.shape} != {(*y.shape, len(self.grid))}"
                )
            y = y.reshape(-1).astype(np.float64)  # (N,)
            yq = yq.reshape(len(y), -1)  # (N, Q)
            self.count += len(y)
            columns = [self._column(q) for q in self.probs]
            self.crps_sum += crps(y, yq[:, columns], self.probs) * len(y)
            self.abs_sum += float(np.abs(y).sum())
            for level, (lo, hi) in self.ends.items():
                cover = coverage(y, yq[:, self._column(lo)], yq[:, self._column(hi)])
                self.cover_sum[level] += cover * len(y)

    def result(self) -> QuantileScores:
        # mean_wql = mean_q 2 sum(rho) / sum|y| = pooled crps / pooled mean |y|
        wql = self.crps_sum / self.abs_sum if self.abs_sum > 0 else float("nan")
        cover = {level: self.cover_sum.get(level) for level in INTERVAL_LEVELS}
        return QuantileScores(
            crps=self.crps_sum / self.count,
            wql=wql,
            coverage={k: None if v is None else v / self.count for k, v in cover.items()},
        )


def score_windows(
    predict: WindowPredictor,
    data: np.ndarray,
    input_size: int,
    horizon: int,
    batch_size: int = 256,
    legacy_drop_last: int | None = None,
    quantiles: QuantilePredictor | None = None,
    probs: Sequence[float] = (),
) -> WindowScores:
    """MSE/MAE of ``predict`` over every stride-1 window of ``data`` (rows x channels),
    called on ``batch_size`` windows at a time; with ``quantiles`` (e.g.
    ``model.predict_window_quantiles``), also the CRPS over its ``probs`` quantiles, the mean
    weighted quantile loss and the 80%/95% coverage on the same windows."""
    windows = SlidingWindows(data, input_size, horizon)
    n = evaluated_windows(len(windows), legacy_drop_last)
    if n == 0:
        raise ValueError(f"no window left to score ({len(windows)} windows, drop_last batches)")
    sq_sum = np.zeros(horizon)
    abs_sum = np.zeros(horizon)
    tally = None if quantiles is None else _QuantileTally(quantiles, probs, batch_size)
    for start in range(0, n, batch_size):
        inputs, targets = windows.batch(np.arange(start, min(start + batch_size, n)))
        forecast = np.asarray(predict(inputs), dtype=np.float64)  # (B, H, C)
        if forecast.shape != targets.shape:
            raise ValueError(f"forecast shape {forecast.shape} != target shape {targets.shape}")
        error = forecast - targets
        sq_sum += (error**2).sum(axis=(0, 2))
        abs_sum += np.abs(error).sum(axis=(0, 2))
        if tally is not None:
            tally.add(inputs, targets)
    count = n * data.shape[1]
    return WindowScores(
        mse=float(sq_sum.sum() / (count * horizon)),
        mae=float(abs_sum.sum() / (count * horizon)),
        n_windows=n,
        mse_by_step=sq_sum / count,
        mae_by_step=abs_sum / count,
        quantiles=None if tally is None else tally.result(),
    )
