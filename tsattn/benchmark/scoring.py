"""Score a forecaster on every window of a split by batched inference.

Errors are accumulated batch by batch (MSE and MAE overall and per horizon step), so even
Electricity at horizon 720 never holds all predictions in memory. ``legacy_drop_last``
reproduces the PatchTST code's test loader (``drop_last=True``), which silently drops the
most recent ``n_windows % batch`` windows (:func:`~tsattn.datasets.windows.evaluated_windows`).
The predictor is any forecaster's window-level entry, e.g. ``model.predict_windows``.

>>> import numpy as np
>>> data = np.tile(np.arange(10.0, dtype=np.float32)[:, None], (1, 2))  # (10, 2): y = t
>>> from tsattn.models import Naive
>>> scores = score_windows(Naive(h=3).predict_windows, data, input_size=4, horizon=3)
>>> scores.n_windows, scores.mae_by_step.tolist()
(4, [1.0, 2.0, 3.0])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tsattn.datasets.windows import SlidingWindows, evaluated_windows

#: (B, L, C) inputs -> (B, H, C) forecasts
WindowPredictor = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class WindowScores:
    """Errors over windows x horizon x channels, and per horizon step."""

    mse: float
    mae: float
    n_windows: int
    mse_by_step: np.ndarray  # (H,)
    mae_by_step: np.ndarray  # (H,)


def score_windows(
    predict: WindowPredictor,
    data: np.ndarray,
    input_size: int,
    horizon: int,
    batch_size: int = 256,
    legacy_drop_last: int | None = None,
) -> WindowScores:
    """MSE/MAE of ``predict`` over every stride-1 window of ``data`` (rows x channels),
    called on ``batch_size`` windows at a time."""
    windows = SlidingWindows(data, input_size, horizon)
    n = evaluated_windows(len(windows), legacy_drop_last)
    if n == 0:
        raise ValueError(f"no window left to score ({len(windows)} windows, drop_last batches)")
    sq_sum = np.zeros(horizon)
    abs_sum = np.zeros(horizon)
    for start in range(0, n, batch_size):
        inputs, targets = windows.batch(np.arange(start, min(start + batch_size, n)))
        forecast = np.asarray(predict(inputs), dtype=np.float64)  # (B, H, C)
        if forecast.shape != targets.shape:
            raise ValueError(f"forecast shape {forecast.shape} != target shape {targets.shape}")
        error = forecast - targets
        sq_sum += (error**2).sum(axis=(0, 2))
        abs_sum += np.abs(error).sum(axis=(0, 2))
    count = n * data.shape[1]
    return WindowScores(
        mse=float(sq_sum.sum() / (count * horizon)),
        mae=float(abs_sum.sum() / (count * horizon)),
        n_windows=n,
        mse_by_step=sq_sum / count,
        mae_by_step=abs_sum / count,
    )
