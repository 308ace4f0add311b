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

import logging
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from tsattn.checks import check_positive_int, short_repr
from tsattn.datasets import check_input
from tsattn.evaluation import quantile_metrics  # noqa: F401  (registers the metrics)
from tsattn.evaluation.columns import ModelColumns, forecast_columns, level_label, split_suffix
from tsattn.evaluation.metrics import Metric, get_metric, mase_scale

log = logging.getLogger("tsattn.evaluation")

#: columns of a backtest frame that are never model forecasts
RESERVED = ("unique_id", "ds", "cutoff", "y", "step")

#: scale-dependent metrics pooled over series whose mean |y| differ more than this warn
SCALE_RATIO = 10.0


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
            and one column per model. ``y`` and the model columns must be numeric and finite,
            the ``by`` columns complete: anything else is a ``ValueError``, never a NaN score
            or a silently dropped row.
        metrics: a list of metric names (see :func:`~tsattn.evaluation.metrics.list_metrics`)
            or functions ``f(y, yhat) -> float``; a lone string is an error (``["mae"]``).
        by: column(s) to group by, e.g. ``"unique_id"`` or ``"cutoff"``; ``"step"`` (the
            horizon step 1..h after each cutoff) is computed when the frame lacks it.
            Scale-dependent metrics (``mae``, ``mse``, ``rmse``) pooled over series whose
            mean ``|y|`` differ more than tenfold raise a ``UserWarning``: score them
            ``by="unique_id"`` or use a scale-free metric (``mase``, ``smape``).
        season_length: seasonal period of the MASE scale, a positive integer. None (the
            default): the season of ``train_df``'s frequency, as the CLI and the models infer
            it (12 for monthly, 24 for hourly, 7 for daily data; 1 for yearly data and
            integer steps), said in an INFO log line of ``tsattn.evaluation``.
        train_df: the series the models were trained on (long or wide, as
            :func:`tsattn.read_series` accepts), needed by ``"mase"``. The scale of each
            (series, cutoff) uses the training values at or before that cutoff, so the full
            series given to ``backtest`` gives each window its expanding-window scale.
        models: a list of the model columns to score (default: every numeric column but the
            reserved ones, those of ``by`` and the interval / quantile columns).

    Interval and quantile columns (``<model>-lo-80``, ``<model>-hi-80``, ``<model>-q-0.1``,
    from ``predict`` / ``backtest`` with ``level=`` / ``quantiles=``) are never models: the
    probabilistic metrics read them (:mod:`~tsattn.evaluation.quantile_metrics`).
    ``coverage``, ``width`` and ``msis`` give one row per level (``coverage-80``, ...),
    ``pinball`` one per quantile (``pinball-0.1``, ...), ``crps``, ``mean_wql`` and ``sql``
    one row over each model's quantiles (both ends of every interval count). Asking one of
    them for a model without those columns is a ``ValueError``; ``msis`` and ``sql`` need
    ``train_df`` (the MASE scale).

    Returns:
        DataFrame with columns ``[*by, "metric", *models]``, one row per group and metric.

    >>> evaluate(frame, metrics=["mae"], by="unique_id")  # doctest: +SKIP
      unique_id metric  Naive  PatchTST
    """
    check_input(frame, "frame")
    named = _metric_table(metrics)
    if season_length is not None:
        season_length = check_positive_int("season_length", season_length)
    by = [by] if isinstance(by, str) else _names("by", by or [], "by=['unique_id']")
    _require_dates(frame, [c for c in ("cutoff",) if c in by])
    if "step" in by and "step" not in frame.columns:
        frame = with_step(frame)
    _require(frame, ["y", *by])
    _require_complete(frame, by, "a by= column")
    layout = forecast_columns(frame.columns)
    if models is None:
        models = _model_columns(frame, by, layout)
    else:
        models = _chosen_models(frame, models, by, layout)
    tasks = _plan(named, {m: layout[m] for m in models})
    used = dict.fromkeys(["y", *models, *(c for t in tasks for c in t.columns_used())])
    frame = frame.assign(**{c: _finite_values(frame, c) for c in used})
    scaled = [n for n, fn in named.items() if getattr(fn, "needs_scale", False)]
    if scaled:
        frame = frame.assign(_scale=_scale_column(frame, train_df, season_length, scaled))
    _warn_if_scales_pooled(frame, named, by)
    groups = frame.groupby(by, sort=True) if by else [((), frame)]
    rows = []
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        for task in tasks:
            scores = {m: task.score(group, m) for m in models}
            rows.append({**dict(zip(by, key)), "metric": task.label, **scores})
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
    _require_complete(frame, ["unique_id", "ds", "cutoff"], "needed for the horizon step")
    _require_dates(frame, ["ds", "cutoff"])
    ordered = frame.sort_values(["unique_id", "cutoff", "ds"], kind="stable")
    step = ordered.groupby(["unique_id", "cutoff"], sort=False).cumcount() + 1
    return frame.assign(step=step.reindex(frame.index))


class _Task(NamedTuple):
    """One row label of the result: a metric on each model's columns.

    ``inputs[model]`` holds the forecast columns handed to the metric after ``y`` and the
    constant arguments after them (a quantile's probability, an interval's level...).
    """

    label: str
    fn: Metric
    inputs: dict[str, tuple[list[str], tuple]]

    def columns_used(self) -> list[str]:
        return [c for columns, _ in self.inputs.values() for c in columns]

    def score(self, group: pd.DataFrame, model: str) -> float:
        columns, constants = self.inputs[model]
        if _kind(self.fn) == "quantiles":  # one (N, Q) array of the model's quantiles
            forecasts = [group[columns].to_numpy(dtype=np.float64)]
        else:
            forecasts = [group[c].to_numpy() for c in columns]
        extra = {}
        if getattr(self.fn, "needs_scale", False):
            extra["scale"] = group["_scale"].to_numpy()
        return self.fn(group["y"].to_numpy(), *forecasts, *constants, **extra)


def _kind(fn: Metric) -> str:
    """``"point"`` (f(y, yhat), the default), ``"quantiles"``, ``"quantile"`` or ``"interval"``
    (see :mod:`tsattn.evaluation.quantile_metrics`)."""
    return getattr(fn, "kind", "point")


def _plan(named: dict[str, Metric], layout: dict[str, ModelColumns]) -> list[_Task]:
    """The result rows of one group: a point metric gives one row, ``pinball`` one per
    quantile, an interval metric one per level; every model must have the columns needed."""
    planners = {
        "point": _point_tasks,
        "quantiles": _quantile_set_tasks,
        "quantile": _per_quantile_tasks,
        "interval": _interval_tasks,
    }
    tasks = []
    for name, fn in named.items():
        kind = _kind(fn)
        if kind not in planners:
            raise ValueError(f"metric {name!r} has an unknown kind {kind!r}")
        tasks.extend(planners[kind](name, fn, layout))
    return tasks


def _point_tasks(name: str, fn: Metric, layout: dict[str, ModelColumns]) -> list[_Task]:
    return [_Task(name, fn, {m: ([m], ()) for m in layout})]


def _quantile_set_tasks(name: str, fn: Metric, layout: dict[str, ModelColumns]) -> list[_Task]:
    """One row over each model's own quantile columns."""
    inputs = {}
    for model, cols in layout.items():
        if not cols.quantiles:
            raise _no_columns(name, model, "quantile forecasts")
        inputs[model] = (list(cols.quantiles.values()), (np.array(list(cols.quantiles)),))
    return [_Task(name, fn, inputs)]


def _per_quantile_tasks(name: str, fn: Metric, layout: dict[str, ModelColumns]) -> list[_Task]:
    """One row per probability that any model forecasts (every model must have it)."""
    probs = sorted({p for cols in layout.values() for p in cols.quantiles})
    for model, cols in layout.items():
        missing = [p for p in probs if p not in cols.quantiles]
        if not cols.quantiles or missing:
            what = f"the {missing[0]!r} quantile" if missing and cols.quantiles else None
            raise _no_columns(name, model, what or "quantile forecasts")
    return [
        _Task(f"{name}-{p!r}", fn, {m: ([c.quantiles[p]], (p,)) for m, c in layout.items()})
        for p in probs
    ]


def _interval_tasks(name: str, fn: Metric, layout: dict[str, ModelColumns]) -> list[_Task]:
    """One row per level that any model forecasts (every model must have it)."""
    levels = sorted({level for cols in layout.values() for level in cols.intervals})
    for model, cols in layout.items():
        missing = [level for level in levels if level not in cols.intervals]
        if not cols.intervals or missing:
            what = f"a {level_label(missing[0])}% interval" if missing and cols.intervals else None
            raise _no_columns(name, model, what or "prediction intervals", (missing or [None])[0])
    with_level = getattr(fn, "needs_level", False)
    return [
        _Task(
            f"{name}-{level_label(level)}",
            fn,
            {
                m: (list(c.intervals[level]), (level,) if with_level else ())
                for m, c in layout.items()
            },
        )
        for level in levels
    ]


def _no_columns(metric: str, model: str, what: str, level: float | None = None) -> ValueError:
    """The error of a probabilistic metric asked of a model without the columns it reads."""
    if "interval" in what:
        shown = level_label(level) if level is not None else "80"
        example = f"{model}-lo-{shown}, {model}-hi-{shown} (forecast with level=[{shown}, ...])"
    else:
        example = (
            f"{model}-q-0.1, ... or {model}-lo-80, {model}-hi-80 (forecast with "
            f"quantiles=[0.1, 0.5, 0.9] or level=[80, 95])"
        )
    return ValueError(
        f"metric {metric!r} needs {what} of model {model!r}, but the frame has no such "
        f"columns; it reads {example}, e.g. backtest(..., level=[80, 95]); or score that "
        f"model with point metrics only (models=[...])"
    )


def _scale_column(
    frame: pd.DataFrame,
    train_df: pd.DataFrame | None,
    season_length: int | None,
    metrics: list[str],
) -> np.ndarray:
    """MASE scale of every row: from its series' training values up to its cutoff (the
    season inferred from ``train_df``'s frequency when ``season_length`` is None)."""
    if train_df is None:
        raise ValueError(
            f"{', '.join(m.upper() for m in metrics)} need(s) the training series for the "
            "seasonal naive scale (as MASE): pass train_df= to evaluate"
        )
    from tsattn.datasets import read_series

    train = read_series(train_df)
    pasts = _training_values(frame, train)
    if season_length is None:
        season_length = _season_of(train, min(len(p) for _, p in pasts), metrics)
    scale = np.empty(len(frame))
    for rows, past in pasts:
        scale[rows] = mase_scale(past, season_length)
    return scale


def _training_values(frame: pd.DataFrame, train: pd.DataFrame) -> list[tuple[np.ndarray, ...]]:
    """(rows of ``frame``, training values of their series up to their cutoff) per group."""
    history = {str(u): g for u, g in train.groupby("unique_id", sort=False)}
    keys = ["unique_id", "cutoff"] if "cutoff" in frame.columns else ["unique_id"]
    _require(frame, keys)
    _require_complete(frame, keys, "needed for the MASE scale")
    pasts = []
    for key, rows in frame.groupby(keys, sort=False).indices.items():
        key = key if isinstance(key, tuple) else (key,)
        uid = str(key[0])
        if uid not in history:
            raise ValueError(f"series {uid!r} is missing from train_df (needed for MASE)")
        past = history[uid]
        if len(key) > 1:
            past = past[past["ds"] <= key[1]]
        pasts.append((rows, past["y"].to_numpy()))
    return pasts


def _season_of(train: pd.DataFrame, shortest: int, metrics: list[str]) -> int:
    """The season of ``train``'s frequency, or 1 when a scale has ``shortest`` training
    values, too few for it; said in an INFO log line."""
    season = inferred_season(train)
    note = "from the frequency of train_df"
    if season >= shortest:
        note = f"as the frequency's season ({season}) needs more than {shortest} training values"
        season = 1
    log.info(
        "evaluate: season_length=%d for %s, %s (pass season_length= to choose)",
        season,
        "/".join(m.upper() for m in metrics),
        note,
    )
    return season


def inferred_season(train: pd.DataFrame) -> int:
    """The seasonal period of a long frame's frequency (its first series'; the frequency
    is the same for all, as :func:`tsattn.read_series` checks): 12 for monthly data..."""
    from tsattn.datasets.frequency import infer_frequency, season_length

    first = train["unique_id"].iloc[0]
    return season_length(infer_frequency(train.loc[train["unique_id"] == first, "ds"]))


def _model_columns(
    frame: pd.DataFrame, by: list[str], layout: dict[str, ModelColumns]
) -> list[str]:
    """Every numeric column that is neither reserved, grouped by, nor a model's interval or
    quantile column (``<model>-lo-80``, ``<model>-q-0.1``...)."""
    models = _candidates(frame, by, layout)
    if not models:
        raise ValueError(f"no model columns to score: the frame has only {list(frame.columns)}")
    return models


def _chosen_models(
    frame: pd.DataFrame, models: Sequence[str], by: list[str], layout: dict[str, ModelColumns]
) -> list[str]:
    """``models`` as given, checked: a list of existing forecast columns."""
    if isinstance(models, str):
        raise ValueError(
            f"models must be a list of column names, e.g. models=[{models!r}]; got the "
            f"string {models!r}"
        )
    models = _names("models", models, "models=['PatchTST']")
    if not models:
        raise ValueError("models is empty; pass the forecast columns to score or leave it None")
    _require(frame, models)
    for column in models:
        if column in RESERVED or column in by or column not in layout:
            what = (
                "a reserved or by= column"
                if column in layout
                else (f"an interval or quantile column of model {split_suffix(column)[0]!r}")
            )
            raise ValueError(
                f"models=[{column!r}, ...]: {column!r} is {what}, not a forecast; the "
                f"forecast columns of this frame are {_candidates(frame, by, layout)}"
            )
    return models


def _candidates(frame: pd.DataFrame, by: list[str], layout: dict[str, ModelColumns]) -> list[str]:
    """The columns that may be forecasts: real-valued, neither reserved, grouped by, nor a
    model's interval or quantile column."""
    skip = set(RESERVED) | set(by)
    return [
        c for c in frame.columns if c not in skip and c in layout and _is_number_column(frame[c])
    ]


def _is_number_column(column: pd.Series) -> bool:
    """Real numbers: ints or floats (nullable too), not bool, complex, datetime or text."""
    types = pd.api.types
    return (
        types.is_numeric_dtype(column)
        and not types.is_bool_dtype(column)
        and not types.is_complex_dtype(column)
    )


def _finite_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """``frame[column]`` as float64, or a ``ValueError`` naming the column and the first bad row."""
    role = "actuals" if column == "y" else "forecast"
    if not _is_number_column(frame[column]):
        raise ValueError(
            f"{role} column {column!r} must hold real numbers, got dtype {frame[column].dtype}; "
            f"convert it (e.g. pd.to_numeric(frame[{column!r}])) or score other columns"
        )
    values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    failed = [f for f in frame.attrs.get("failures", ()) if f.get("model") == column]
    if bad.any() and failed:
        first = failed[0]
        raise ValueError(
            f"forecast column {column!r} is NaN on {int(bad.sum())} row(s): {column} failed in "
            f"the backtest (on_error='warn') on {len(failed)} series/window(s), first series "
            f"{first['unique_id']!r} at cutoff {first['cutoff']} ({first['error']}); score the "
            f"windows every model forecast: evaluate(frame.dropna(subset=[<model columns>]))"
        )
    if bad.any():
        where = _describe_row(frame.loc[bad].iloc[0])
        raise ValueError(
            f"{role} column {column!r} has {int(bad.sum())} NaN or infinite value(s) (first "
            f"at {where}); metrics of them are meaningless: drop or fill those rows first, "
            f"e.g. frame[np.isfinite(frame[{column!r}])]"
        )
    return values


def _describe_row(row: pd.Series) -> str:
    keys = [k for k in ("unique_id", "ds", "cutoff") if k in row.index]
    return ", ".join(f"{k}={row[k]}" for k in keys) or f"row {row.name!r}"


def _require_complete(frame: pd.DataFrame, columns: list[str], role: str) -> None:
    """A ``ValueError`` when a key column has missing values (groupby would drop those rows)."""
    for column in columns:
        missing = int(frame[column].isna().sum())
        if missing:
            raise ValueError(
                f"column {column!r} ({role}) has {missing} missing value(s); their rows would "
                f"be silently dropped: fill them or drop those rows first, e.g. "
                f"frame.dropna(subset=[{column!r}])"
            )


def _warn_if_scales_pooled(frame: pd.DataFrame, named: dict[str, Metric], by: list[str]) -> None:
    """Warn when scale-dependent metrics average series of very different scales."""
    pooled = [n for n, fn in named.items() if getattr(fn, "scale_dependent", False)]
    if not pooled or "unique_id" in by or "unique_id" not in frame.columns:
        return
    level = frame["y"].abs().groupby(frame["unique_id"], sort=False).mean()
    if len(level) < 2 or level.max() <= SCALE_RATIO * level.min():
        return
    warnings.warn(
        f"{', '.join(pooled)} pool {len(level)} series whose scales differ more than "
        f"{SCALE_RATIO:g}x (mean |y| from {level.min():.3g} for {level.idxmin()!r} to "
        f"{level.max():.3g} for {level.idxmax()!r}), so the largest series dominate: pass "
        "by='unique_id' for per-series scores, or use a scale-free metric such as 'mase' "
        "(with train_df=) or 'smape'",
        UserWarning,
        stacklevel=3,
    )


def _metric_table(metrics: Sequence[str | Metric]) -> dict[str, Metric]:
    """``{name: function}`` of a list of metric names or functions."""
    if isinstance(metrics, str) or callable(metrics):
        shown = metrics if isinstance(metrics, str) else _metric_name(metrics)
        raise ValueError(
            f"metrics must be a list of metric names or functions, e.g. metrics=[{shown!r}]; "
            f"got the single {'string' if isinstance(metrics, str) else 'function'} {shown!r}"
        )
    items = _as_list("metrics", metrics, "metrics=['mae']")
    bad = [m for m in items if not (isinstance(m, str) or callable(m))]
    if bad:
        raise ValueError(
            f"metrics must hold metric names or functions f(y, yhat); got {short_repr(bad[0])} "
            f"(see list_metrics())"
        )
    named = {_metric_name(m): get_metric(m) for m in items}
    if not named:
        raise ValueError("metrics is empty; pass e.g. metrics=['mae'] (see list_metrics())")
    return named


def _as_list(argument: str, value: object, example: str) -> list:
    """``value`` as a list, when it is a list or tuple; anything else is a ``ValueError``."""
    if not isinstance(value, list | tuple):
        raise ValueError(f"{argument} must be a list, e.g. {example}; got {short_repr(value)}")
    return list(value)


def _names(argument: str, value: object, example: str) -> list[str]:
    """A list (or tuple) of column names, or a ``ValueError`` naming ``argument``."""
    names = _as_list(argument, value, example)
    if not all(isinstance(name, str) for name in names):
        raise ValueError(f"{argument} must hold column names (strings); got {short_repr(value)}")
    return names


def _require_dates(frame: pd.DataFrame, columns: list[str]) -> None:
    """Time columns must hold datetimes, or sorting and grouping by them is meaningless."""
    for column in columns:
        if column in frame.columns and not pd.api.types.is_datetime64_any_dtype(frame[column]):
            raise ValueError(
                f"column {column!r} must hold timestamps (datetime64), got dtype "
                f"{frame[column].dtype}; convert it with pd.to_datetime"
            )


def _metric_name(metric: str | Metric) -> str:
    return metric.lower() if isinstance(metric, str) else metric.__name__


def _require(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; the frame has {list(frame.columns)}")
