"""Defaults of the neural forecasters for users' own series (one of the two regimes).

The literature recipe (lr 1e-4, 100 epochs with a 0.9 decay per epoch, batch 128, no early
stopping before epoch 100) trains PatchTST on ETTh1's 8,000 windows; on a few hundred windows
of a user's series it takes few steps at a learning rate that decays to nothing. So the
constructors default to a recipe for small data (the ``"user"`` recipe of
:mod:`tsattn.models.recipes`), and the benchmark runner names the literature recipe
(``"literature:<dataset>"``), so its numbers never move with these defaults. This module holds
the user recipe's rules that depend on the data; :func:`~tsattn.models.recipes.resolve_options`
applies them.

The user recipe, all overridable by keyword; the rules that depend on the data are decided at
fit (:func:`~tsattn.models.recipes.resolve_options`):

* ``input_size=None``: ``max(3 h, 2 seasons, 16)`` steps, or ``max(3 h, 2 cycles, 16)`` over
  the longest cycle of the data's frequency (a week for hourly data: 336 steps) when the data
  has 20 training windows per step of that look-back (many series do; one series of 2,000 steps
  does not), at most 1,024, and at most what the shortest series leaves after the horizon and
  the validation holdout (:func:`default_input_size`); seasons and cycles count only when the
  seasonal naive wins on the history (the centring rule below), else ``max(3 h, 16)``;
* each window centred on its **seasonal naive forecast** (the periodic continuation of its last
  season) when that forecast clearly beats the last value on the series' own history
  (:func:`seasonal_naive_wins`), else on its last value: ``center_season="auto"`` with
  PatchTST's ``revin_subtract_last=True``, DLinear's ``subtract_last=True`` and NLinear, so a
  network that outputs zeros forecasts the better of the two naive forecasts and learns
  departures from it (trends and level shifts are followed from the last value, seasons from
  the last season); where the season does not pay, on the **naive forecast with drift** (the
  last value plus the slope of the last ``h`` steps) when that clearly beats the last value on
  the history (:func:`drift_wins`, ``center_drift="auto"``: an accelerating yearly series);
* for a panel of several series, what makes them comparable: ``target_transform="auto"`` is a
  log transform when every value is positive (relative errors, as sMAPE and MASE across series
  of different levels want; a seasonal amplitude that grows with the level) and
  ``loss="auto"`` the MAE; one series keeps its values and the MSE (NLinear on the 18 single
  series of the real-series suite, ``benchmarks/real_series_defaults.py``: mean MASE 2.52 and
  worse than before on 1 series with the MSE; 2.40 but worse on 8 with the MAE; 2.98, worse on
  8, with logs and the MAE: the MSE moves the fewest series the wrong way);
* Adam at ``lr=1e-3``, constant, ``batch_size=32``;
* a step budget that adapts to the data, ``max_steps="auto"``: 20 passes over the training
  windows, between 300 and :data:`MAX_STEPS` steps (:func:`step_budget`), in epochs of at most
  :data:`STEPS_PER_EPOCH` steps on large data (``windows_per_epoch="auto"``,
  :func:`epoch_windows`), so that early stopping looks at the validation loss regularly;
* early stopping with ``patience=10`` epochs on a validation holdout of the last ``h`` steps of
  each series (unless ``val_size`` says otherwise), the best weights restored.

M4 Hourly (414 series, ``benchmarks/m4.py``) and the real-series suite
(``benchmarks/real_series.py``) measured each rule; BENCHMARKS.md has the figures.

>>> default_input_size(h=24, cycle=168, shortest=1000, holdout=24)
336
>>> step_budget(n_windows=400, batch_size=32)
300
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

#: the value of an option that the data decides (``max_steps``, ``center_season`` ...)
AUTO = "auto"
MIN_INPUT, MAX_INPUT = 16, 1024
MIN_STEPS, MAX_STEPS, PASSES = 300, 8000, 20
#: on large data an epoch is a random sample of this many steps' windows
STEPS_PER_EPOCH = 200
#: windows are centred on the last season when the seasonal naive's error is at most this
#: fraction of the last value's on the series' history (M4 Hourly: 0.21; a 30-minute solar
#: series 0.31; weekly flu counts, 0.68 and 0.85, lost with it on the real-series suite)
SEASONAL_MARGIN = 0.6
#: windows are centred on the naive forecast with drift when its error is at most this
#: fraction of the last value's on the history (only when the season does not pay)
DRIFT_MARGIN = 0.8


def default_input_size(h: int, cycle: int, shortest: int, holdout: int) -> int:
    """The look-back for ``input_size=None``: ``max(3 h, 2 cycle, 16)``, capped at 1,024 and
    at what the shortest series leaves for at least a few training windows."""
    want = min(max(3 * h, 2 * cycle, MIN_INPUT), MAX_INPUT)
    room = shortest - h - holdout - 8  # keep 8+ training windows in the shortest series
    return max(1, min(want, room))


def fit_patches(options: dict[str, Any], lookback: int) -> dict[str, Any]:
    """``options`` with ``patch_len`` (and ``stride``) shrunk to fit a look-back chosen by
    :func:`default_input_size` that is shorter than the patch: ``patch_len = lookback // 2``,
    ``stride = patch_len // 2`` (at least 1), so a short series still gives a few patches."""
    if "patch_len" not in options or options["patch_len"] <= lookback:
        return options
    patch_len = max(1, lookback // 2)
    stride = max(1, min(options.get("stride", patch_len), patch_len // 2))
    return {**options, "patch_len": patch_len, "stride": stride}


def step_budget(n_windows: int, batch_size: int) -> int:
    """Optimiser steps for ``max_steps="auto"``: 20 passes over ``n_windows`` training windows,
    at least 300 and at most :data:`MAX_STEPS`."""
    per_epoch = math.ceil(n_windows / batch_size)
    return int(min(max(PASSES * per_epoch, MIN_STEPS), MAX_STEPS))


def epoch_windows(n_windows: int, batch_size: int) -> int | None:
    """``windows_per_epoch="auto"``: every window (None) when they make at most
    :data:`STEPS_PER_EPOCH` steps, else a random sample of that many steps' windows.

    >>> epoch_windows(1000, 32), epoch_windows(290_000, 32)
    (None, 6400)
    """
    cap = STEPS_PER_EPOCH * batch_size
    return None if n_windows <= cap else cap


def seasonal_naive_wins(series: list, season: int, h: int, cutoffs: int = 8) -> bool:
    """Whether the seasonal naive forecast clearly beats the last value over ``h`` steps on the
    series' own history: at up to ``cutoffs`` origins ``h`` apart at the end of each series, the
    geometric mean over series of (seasonal naive MAE / last-value MAE) is below
    :data:`SEASONAL_MARGIN`.

    >>> import numpy as np
    >>> t = np.arange(200)
    >>> seasonal_naive_wins([np.sin(2 * np.pi * t / 12)], season=12, h=6)
    True
    >>> seasonal_naive_wins([np.sin(2 * np.pi * t / 12) + 0.5 * t], season=12, h=6)
    False
    """
    import numpy as np

    if season < 2:
        return False

    def seasonal_naive(v: np.ndarray, origin: int) -> np.ndarray:  # (h,)
        return v[origin - season + np.arange(h) % season]

    ratio = _ratio_to_last_value(series, h, cutoffs, season, seasonal_naive)
    return ratio is not None and ratio < SEASONAL_MARGIN


def drift_wins(series: list, h: int, cutoffs: int = 8) -> bool:
    """Whether the naive forecast with drift (the last value plus the slope of the last ``h``
    steps) clearly beats the last value over ``h`` steps on the series' own history: the
    geometric mean over series, at up to ``cutoffs`` origins ``h`` apart at the end of each,
    of (drift MAE / last-value MAE) is below :data:`DRIFT_MARGIN`.

    >>> import numpy as np
    >>> t = np.arange(60.0)
    >>> drift_wins([t**2], h=6), drift_wins([np.sin(t)], h=6)
    (True, False)
    """
    import numpy as np

    def with_drift(v: np.ndarray, origin: int) -> np.ndarray:  # (h,)
        slope = (v[origin - 1] - v[origin - 1 - h]) / h
        return v[origin - 1] + slope * np.arange(1, h + 1)

    ratio = _ratio_to_last_value(series, h, cutoffs, h + 1, with_drift)
    return ratio is not None and ratio < DRIFT_MARGIN


def _ratio_to_last_value(
    series: list, h: int, cutoffs: int, earliest: int, forecast: Callable[[Any, int], Any]
) -> float | None:
    """The geometric mean over series of ``forecast``'s MAE over the last value's, at up to
    ``cutoffs`` origins ``h`` apart at the end of each series and not before ``earliest``
    (``forecast(values, origin)`` sees ``values[:origin]``); None when no series has one."""
    import numpy as np

    logs = []
    for values in series:
        v = np.asarray(values, dtype=np.float64)
        origins = [c for c in (len(v) - h * (k + 1) for k in range(cutoffs)) if c >= earliest]
        if not origins:
            continue
        actual = np.stack([v[c : c + h] for c in origins])  # (K, h)
        candidate = np.stack([forecast(v, c) for c in origins])  # (K, h)
        naive = np.stack([np.full(h, v[c - 1]) for c in origins])  # (K, h)
        error, naive_error = np.abs(actual - candidate).mean(), np.abs(actual - naive).mean()
        if naive_error > 0 and error > 0:
            logs.append(np.log(error / naive_error))
        elif error == 0 and naive_error > 0:
            logs.append(-1.0)
    return float(np.exp(np.mean(logs))) if logs else None


def holdout_errors(model: Any, data: Any, holdout: int, season: int) -> dict[str, float]:
    """The fitted model's MAE on the validation holdout (its first ``h`` steps, forecast from
    what precedes the holdout) beside the seasonal naive's on the same steps, averaged over
    series; a ``UserWarning`` when the model is worse. ``fit`` keeps them as
    ``holdout_errors_``."""
    import warnings

    import numpy as np

    h = model.h
    history = [v[: len(v) - holdout] for v in data.values]
    actual = np.stack([v[len(v) - holdout : len(v) - holdout + h] for v in data.values])
    past = data.truncated(holdout)
    forecast = np.asarray(model._predict(past, h), dtype=np.float64)  # (S, h)
    m = max(1, min(season, min(len(v) for v in history)))
    naive = np.stack([v[-m:][np.arange(h) % m] for v in history])  # (S, h)
    errors = {
        "model_mae": float(np.abs(actual - forecast).mean()),
        "seasonal_naive_mae": float(np.abs(actual - naive).mean()),
        "season_length": m,
    }
    if errors["model_mae"] > errors["seasonal_naive_mae"]:
        warnings.warn(
            f"{model.name} is worse than a seasonal naive forecast (season {m}) on its "
            f"validation holdout: MAE {errors['model_mae']:.4g} vs "
            f"{errors['seasonal_naive_mae']:.4g}; consider SeasonalNaive, more data or "
            f"other options",
            UserWarning,
            stacklevel=4,
        )
    return errors
