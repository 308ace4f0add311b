"""Score forecast frames: :func:`evaluate` and the per-horizon-step breakdown.

The result layout is fixed: one row per (group, metric), the group columns first (those
named in ``by``; none when ``by`` is None), then ``metric``, then one column per model.

>>> import pandas as pd
>>> frame = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024", periods=4, freq="D"),
...                       "cutoff": pd.Timestamp("2023-12-31"), "y": [1.0, 2.0, 3.0, 4.0],
...                       "Naive": [0.0, 0.0, 0.0, 0.0]})
>>> evaluate(frame, metrics=["mae", "rmse"])
  metric     Naive
0    mae  2.500000
1   rmse  2.738613
>>> metrics_by_step(frame, metrics=["mae"])["Naive"].tolist()
[1.0, 2.0, 3.0, 4.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tsattn.evaluation.metrics import Metric, get_metric, mase_scale

#: columns of a backtest frame that are never model forecasts
RESERVED = ("unique_id", "ds", "cutoff", "y", "step")


def evaluate(
    frame: pd.DataFrame,
    metrics: Sequence[str | Metric] = ("mae", "mse"),
    by: str | Sequence[str] | None = None,
    season_length: int | None = None,
    train_df: pd.DataFrame | None = None,
    models: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Metrics of every model column of a forecast frame (e.g. from :func:`backtest`).

    Args:
        frame: long frame with ``unique_id``, ``ds``, ``y`` (actuals), optionally ``cutoff``,
            and one column per model.
        metrics: metric names (see :func:`~tsattn.evaluation.metrics.list_metrics`) or
            functions ``f(y, yhat) -> float``.
        by: column(s) to group by, e.g. ``"unique_id"`` or ``"cutoff"``; ``"step"`` (the
            horizon step 1..h after each cutoff) is computed when the frame lacks it.
        season_length: seasonal period of the MASE scale (default 1).
        train_df: the series the models were trained on (long or wide, as
            :func:`tsattn.read_series` accepts), needed by ``"mase"``. The scale of each
            (series, cutoff) uses the training values at or before that cutoff, so the full
            series given to ``backtest`` gives each window its expanding-window scale.
        models: the model columns to score (default: every column but the reserved ones and
            those of ``by``).

    Returns:
        DataFrame with columns ``[*by, "metric", *models]``, one row per group and metric.

    >>> evaluate(frame, metrics=["mae"], by="unique_id")  # doctest: +SKIP
      unique_id metric  Naive  PatchTST
    """
    by = [by] if isinstance(by, str) else list(by or [])
    if "step" in by and "step" not in frame.columns:
        frame = with_step(frame)
    _require(frame, ["y", *by])
    models = _model_columns(frame, by) if models is None else list(models)
    _require(frame, models)
    named = {_metric_name(m): get_metric(m) for m in metrics}
    if any(getattr(fn, "needs_scale", False) for fn in named.values()):
        frame = frame.assign(_scale=_scale_column(frame, train_df, season_length or 1))
    groups = frame.groupby(by, sort=True) if by else [((), frame)]
    rows = []
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        for name, fn in named.items():
            scores = {m: _score(fn, group, m) for m in models}
            rows.append({**dict(zip(by, key)), "metric": name, **scores})
    return pd.DataFrame(rows, columns=[*by, "metric", *models])


def metrics_by_step(
    frame: pd.DataFrame, metrics: Sequence[str | Metric] = ("mae", "mse"), **kwargs
) -> pd.DataFrame:
    """:func:`evaluate` by horizon step: rows ``step`` 1..h x metric, columns the models.

    ``kwargs`` are those of :func:`evaluate` (``season_length``, ``train_df``, ``models``).
    """
    return evaluate(frame, metrics, by="step", **kwargs)


def with_step(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``step``: the position 1..h of each row after its ``cutoff`` (per series)."""
    _require(frame, ["unique_id", "ds", "cutoff"])
    ordered = frame.sort_values(["unique_id", "cutoff", "ds"], kind="stable")
    step = ordered.groupby(["unique_id", "cutoff"], sort=False).cumcount() + 1
    return frame.assign(step=step.reindex(frame.index))


def _score(fn: Metric, group: pd.DataFrame, model: str) -> float:
    extra = {"scale": group["_scale"].to_numpy()} if getattr(fn, "needs_scale", False) else {}
    return fn(group["y"].to_numpy(), group[model].to_numpy(), **extra)


def _scale_column(
    frame: pd.DataFrame, train_df: pd.DataFrame | None, season_length: int
) -> np.ndarray:
    """MASE scale of every row: from its series' training values up to its cutoff."""
    if train_df is None:
        raise ValueError("MASE needs the training series: pass train_df= to evaluate")
    from tsattn.datasets import read_series

    train = read_series(train_df)
    history = {str(u): g for u, g in train.groupby("unique_id", sort=False)}
    keys = ["unique_id", "cutoff"] if "cutoff" in frame.columns else ["unique_id"]
    scale = np.empty(len(frame))
    for key, rows in frame.groupby(keys, sort=False).indices.items():
        key = key if isinstance(key, tuple) else (key,)
        uid = str(key[0])
        if uid not in history:
            raise ValueError(f"series {uid!r} is missing from train_df (needed for MASE)")
        past = history[uid]
        if len(key) > 1:
            past = past[past["ds"] <= key[1]]
        scale[rows] = mase_scale(past["y"].to_numpy(), season_length)
    return scale


def _model_columns(frame: pd.DataFrame, by: list[str]) -> list[str]:
    skip = set(RESERVED) | set(by)
    models = [c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])]
    if not models:
        raise ValueError(f"no model columns to score: the frame has only {list(frame.columns)}")
    return models


def _metric_name(metric: str | Metric) -> str:
    return metric.lower() if isinstance(metric, str) else metric.__name__


def _require(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; the frame has {list(frame.columns)}")
