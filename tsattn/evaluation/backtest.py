"""Rolling-origin backtests of one or several forecasters on users' own series.

The vocabulary is darts' and statsforecast's: a *cutoff* is the last timestamp of a
window's training data; each window forecasts the ``h`` steps after its cutoff and is
scored against the actual values there.

>>> import numpy as np, pandas as pd
>>> from tsattn.models.baselines import Naive
>>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=20,
...                    freq="D"), "y": np.arange(20.0)})
>>> frame = backtest(Naive(), df, h=2, n_windows=3)
>>> list(frame.columns)
['unique_id', 'ds', 'cutoff', 'y', 'Naive']
>>> frame["cutoff"].dt.day.unique().tolist()
[14, 16, 18]
>>> (frame["y"] - frame["Naive"]).tolist()
[1.0, 2.0, 1.0, 2.0, 1.0, 2.0]
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from tsattn.checks import check_positive_int
from tsattn.evaluation.cutoffs import Start, cutoff_positions
from tsattn.models.base import Forecaster
from tsattn.models.intervals import QuantileRequest

WINDOWS = ("expanding", "sliding")


class _Series(NamedTuple):
    uid: object
    ds: pd.DatetimeIndex
    y: np.ndarray
    cutoffs: np.ndarray  # positions of this series' cutoffs, one per window


def backtest(
    models: Forecaster | Sequence[Forecaster],
    df: pd.DataFrame,
    h: int,
    n_windows: int | None = None,
    start: Start | None = None,
    step: int | None = None,
    refit: bool | int = True,
    window: str = "expanding",
    train_length: int | None = None,
    progress: bool = False,
    *,
    id_col: str | None = None,
    time_col: str = "ds",
    target_col: str | None = None,
    freq: str | None = None,
    fill: str | None = None,
    level: Sequence[float] | None = None,
    quantiles: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Forecast ``h`` steps after each of several cutoffs and return them next to the actuals.

    Windows (per series; the positions count that series' own observations):

    * ``n_windows``: that many cutoffs, the last one ``h`` steps before the end of the series
      (so the last window ends at the last observation), ``step`` apart. The default when
      neither ``n_windows`` nor ``start`` is given is one window.
    * ``start``: the first cutoff; then one every ``step`` up to the last one that still has
      ``h`` observed future values. An int is a 0-based position (negative counts from the
      end); a float in (0, 1) is the fraction of the series in the first training window
      (first cutoff at position ``int(start * n) - 1``); a timestamp (str, Timestamp,
      datetime) makes the last observation at or before it the first cutoff.
    * ``step``: positions between consecutive cutoffs (default ``h``: non-overlapping
      windows).

    Training data of a window: ``window="expanding"`` uses every observation up to and
    including the cutoff; ``"sliding"`` the last ``train_length`` of them (required then;
    every window must have that many).

    Refitting: ``refit=True`` fits a fresh copy of each model at every window; ``False`` fits
    once at the first window, then forecasts later windows with ``predict(df=history)`` from
    the window's training data (all history up to the cutoff when expanding); an int ``k``
    refits at windows 0, k, 2k, ... and predicts from the history in between.

    The given models are never modified: each fit happens on a ``copy.deepcopy``.

    Args:
        models: one forecaster or a list of them with unique names (set ``alias=``).
        df: the series, long (``unique_id, ds, y``) or wide, as :func:`tsattn.read_series`
            reads them (``id_col``, ``time_col``, ``target_col``, ``freq``, ``fill`` are
            passed to it).
        progress: show a tqdm bar over windows.
        level: prediction interval levels in percent, e.g. ``[80, 95]``, and
        quantiles: probabilities, e.g. ``[0.1, 0.5, 0.9]``: passed to every model's
            ``predict``; their columns (``<model>-lo-80``, ``<model>-hi-80``, ...,
            ``<model>-q-0.1``, ...) follow each model's column. The models need uncertainty
            (native, or ``intervals="conformal"``).

    Returns:
        Long frame ``unique_id, ds, cutoff, y, <one column per model name>`` (each followed
        by its interval and quantile columns when asked for), ordered by window, series, then
        time.

    Raises:
        ValueError: ``h``/``step``/``n_windows``/``train_length`` not positive, both
            ``n_windows`` and ``start`` given, an unknown ``window``, a sliding window
            without ``train_length``, duplicate model names, or too little data.
    """
    models = _as_models(models)
    request = QuantileRequest.make(level, quantiles)
    asked = {} if request is None else {"level": level, "quantiles": quantiles}
    h = check_positive_int("h", h)
    step = h if step is None else check_positive_int("step", step)
    refit_every = _refit_every(refit)
    _check_windows(n_windows, start, window, train_length)
    series = _read(df, h, n_windows, start, step, id_col, time_col, target_col, freq, fill)
    _check_models(series, models, h, window, train_length)
    n_total = max(len(s.cutoffs) for s in series)
    fitted: list[Forecaster | None] = [None] * len(models)
    frames = []
    for w in tqdm(range(n_total), desc="backtest", unit="window", disable=not progress):
        train, actual = _window(series, w, h, train_length if window == "sliding" else None)
        for i, model in enumerate(models):
            local = _as_model_frame(train, model)
            if w % refit_every == 0:
                fitted[i] = copy.deepcopy(model).fit(local)
                forecast = fitted[i].predict(h=h, **asked)
            else:
                forecast = fitted[i].predict(df=local, h=h, **asked)
            actual = _attach(actual, forecast, model.name, request)
        frames.append(actual.drop(columns="_key"))
    return pd.concat(frames, ignore_index=True)


def _as_models(models: Forecaster | Sequence[Forecaster]) -> list[Forecaster]:
    if isinstance(models, Forecaster):
        models = [models]
    elif isinstance(models, Iterable) and not isinstance(models, str | type):
        models = list(models)
    else:
        hint = " (a class: create an instance, e.g. Naive())" if isinstance(models, type) else ""
        raise ValueError(
            f"models must be a tsattn Forecaster or a list of them, got {models!r}{hint}"
        )
    if not models:
        raise ValueError("give at least one model")
    bad = [type(m).__name__ for m in models if not isinstance(m, Forecaster)]
    if bad:
        raise ValueError(f"models must be tsattn Forecasters, got {', '.join(bad)}")
    names = [m.name for m in models]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(
            f"model names must be unique, {dupes} appear more than once; "
            f"give each model its own alias=, e.g. Naive(alias='naive_2')"
        )
    clash = sorted(set(names) & {"unique_id", "ds", "cutoff", "y"})
    if clash:
        raise ValueError(f"model name(s) {clash} clash with result columns; set alias=")
    return models


def _refit_every(refit: bool | int) -> float:
    if isinstance(refit, bool):
        return 1 if refit else math.inf
    if isinstance(refit, int | np.integer) and refit >= 1:
        return int(refit)
    raise ValueError(
        f"refit must be True, False or a positive int (refit every k windows), got {refit!r}"
    )


def _check_windows(n_windows, start, window: str, train_length) -> None:
    if n_windows is not None and start is not None:
        raise ValueError("give n_windows or start, not both")
    if n_windows is not None:
        check_positive_int("n_windows", n_windows)
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {WINDOWS}, got {window!r}")
    if window == "sliding" and train_length is None:
        raise ValueError('window="sliding" needs train_length= (observations per window)')
    if train_length is not None:
        check_positive_int("train_length", train_length)
        if window != "sliding":
            raise ValueError('train_length applies to window="sliding" only')


def _read(df, h, n_windows, start, step, id_col, time_col, target_col, freq, fill):
    from tsattn.datasets import read_series

    frame = read_series(
        df, time_col=time_col, id_col=id_col, target_col=target_col, freq=freq, fill=fill
    )
    series = []
    for uid, group in frame.groupby("unique_id", sort=False):
        ds = pd.DatetimeIndex(group["ds"])
        cuts = cutoff_positions(ds, h, n_windows, start, step, uid)
        series.append(_Series(uid, ds, group["y"].to_numpy(np.float64), cuts))
    return series


def _check_models(series, models, h: int, window: str, train_length) -> None:
    for m in models:
        if h > m.h and not m.supports_longer_horizon:
            raise ValueError(
                f"{m.name} was built for h={m.h} and cannot forecast h={h}; create it with h={h}"
            )
    need = max(m.min_train_length(0) for m in models)
    for s in series:
        size = int(s.cutoffs[0]) + 1
        if window == "sliding" and size < train_length:
            raise ValueError(
                f"the first window of series {s.uid!r} has {size} observations, fewer than "
                f"train_length={train_length}; start later or use fewer windows"
            )
        size = train_length if window == "sliding" else size
        if size < need:
            raise ValueError(
                f"the first window of series {s.uid!r} trains on {size} observations, but "
                f"the models need at least {need}; start later, use fewer windows or a "
                f"longer train_length"
            )


def _window(series, w: int, h: int, train_length: int | None):
    """Training rows and future actuals of window ``w`` (series lacking it are skipped)."""
    train, actual = [], []
    for s in series:
        if w >= len(s.cutoffs):
            continue
        cut = int(s.cutoffs[w])
        lo = 0 if train_length is None else cut + 1 - train_length
        future = slice(cut + 1, cut + 1 + h)
        train.append(
            pd.DataFrame({"unique_id": s.uid, "ds": s.ds[lo : cut + 1], "y": s.y[lo : cut + 1]})
        )
        actual.append(
            pd.DataFrame(
                {"unique_id": s.uid, "ds": s.ds[future], "cutoff": s.ds[cut], "y": s.y[future]}
            )
        )
    actual = pd.concat(actual, ignore_index=True)
    return pd.concat(train, ignore_index=True), actual.assign(_key=actual["unique_id"].astype(str))


def _as_model_frame(train: pd.DataFrame, model: Forecaster) -> pd.DataFrame:
    """The training frame under the column names ``model`` was configured with."""
    names = {"unique_id": model.id_col, "ds": model.time_col, "y": model.target_col}
    return train.rename(columns=names)


def _attach(
    actual: pd.DataFrame, forecast: pd.DataFrame, name: str, request: QuantileRequest | None
) -> pd.DataFrame:
    """``actual`` with the model's point column and its requested interval/quantile columns."""
    columns = [name, *(request.columns(name) if request is not None else ())]
    missing = [c for c in columns if c not in forecast.columns]
    if missing:
        raise ValueError(
            f"{name}.predict returned no {missing} columns although level=/quantiles= were "
            f"given; it returned {list(forecast.columns)}"
        )
    forecast = forecast.assign(_key=forecast["unique_id"].astype(str))[["_key", "ds", *columns]]
    merged = actual.merge(forecast, on=["_key", "ds"], how="left")
    if merged[name].isna().any():
        raise ValueError(
            f"{name} returned forecasts whose series/dates do not match the actuals "
            f"(e.g. series {merged.loc[merged[name].isna(), 'unique_id'].iloc[0]!r})"
        )
    return merged
