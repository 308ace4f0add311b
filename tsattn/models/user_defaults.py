"""Defaults of the neural forecasters for users' own series (one of the two regimes).

The literature recipe (lr 1e-4, 100 epochs with a 0.9 decay per epoch, batch 128, no early
stopping before epoch 100) trains PatchTST on ETTh1's 8,000 windows; on a few hundred windows
of a user's series it takes few steps at a learning rate that decays to nothing. So the
constructors default to a recipe for small data (the ``"user"`` recipe of
:mod:`tsattn.models.recipes`), and the benchmark runner names the literature recipe
(``"literature:<dataset>"``), so its numbers never move with these defaults. This module holds
the user recipe's rules that depend on the data; :func:`~tsattn.models.recipes.resolve_options`
applies them.

The user recipe, all overridable by keyword:

* ``input_size=None``: ``max(3 * h, 2 * season)`` (the season from the data's frequency),
  at least 16 steps, at most 512, and at most what the shortest series leaves after the
  horizon and the validation holdout (:func:`default_input_size`);
* ``lr=1e-3`` (Adam), constant, ``batch_size=32``;
* a step budget that adapts to the data, ``max_steps="auto"``: 20 passes over the training
  windows, between 300 and 3,000 steps (:func:`step_budget`);
* early stopping with ``patience=10`` epochs on a validation holdout of the last ``h`` steps of
  each series (unless ``val_size`` says otherwise), the best weights restored;
* networks that follow trends and level shifts: each window centred on its last value
  (PatchTST's RevIN with ``revin_subtract_last=True``, DLinear's ``subtract_last=True``, NLinear
  by construction), so a network that outputs zeros forecasts the last value. On the 18 series of
  the real-series benchmark this beat RevIN's window mean on 10 series (the trending ones and
  those with a level shift, e.g. weekly ILI across 2020: MASE 3.46 -> 1.58) and lost on 8
  (strongly seasonal ones, e.g. 30-minute solar: 1.03 -> 1.46); `benchmarks/revin_centering.py`.

>>> default_input_size(h=24, season=24, shortest=1000, holdout=24)
72
>>> step_budget(n_windows=400, batch_size=32)
300
"""

from __future__ import annotations

import math
from typing import Any

#: the value of ``max_steps`` that asks for :func:`step_budget`
AUTO = "auto"
MIN_INPUT, MAX_INPUT = 16, 512
MIN_STEPS, MAX_STEPS, PASSES = 300, 3000, 20


def default_input_size(h: int, season: int, shortest: int, holdout: int) -> int:
    """The look-back for ``input_size=None``: ``max(3 h, 2 season, 16)``, capped at 512 and at
    what the shortest series leaves for at least a few training windows."""
    want = min(max(3 * h, 2 * season, MIN_INPUT), MAX_INPUT)
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
    at least 300 and at most 3,000."""
    per_epoch = math.ceil(n_windows / batch_size)
    return int(min(max(PASSES * per_epoch, MIN_STEPS), MAX_STEPS))


def holdout_errors(model: Any, data: Any, holdout: int, season: int) -> dict[str, float]:
    """The fitted model's MAE on the validation holdout (its first ``h`` steps, forecast from
    what precedes the holdout) beside the seasonal naive's on the same steps, averaged over
    series; a ``UserWarning`` when the model is worse. ``fit`` keeps them as
    ``holdout_errors_``."""
    import warnings

    import numpy as np

    from tsattn.models.series_data import SeriesData

    h = model.h
    history = [v[: len(v) - holdout] for v in data.values]
    actual = np.stack([v[len(v) - holdout : len(v) - holdout + h] for v in data.values])
    past = SeriesData(list(data.ids), history, list(data.last_ds), list(data.freqs))
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
