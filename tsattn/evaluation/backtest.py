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

A model that fails (raises) on a window stops the backtest with its own exception type (a
``ValueError`` stays one), the message naming the model, the series and the cutoff;
``on_error="warn"`` records the failure instead (a :class:`BacktestWarning`, and a row of
``frame.attrs["failures"]``), leaves that model's forecasts of that window NaN and carries on
with every other model and window.

Units of work: each (model, block of series, run of windows sharing one fit) is a unit, run
in this process, by ``n_jobs`` local processes, or as a task of a Dask ``engine``
(:func:`tsattn.parallel.run_units`); local models (one fit per series) are split into blocks
of series, global models take every series in one block. The result is the same frame in
every mode.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from tsattn.checks import check_choice, check_positive_int
from tsattn.evaluation.backtest_units import (
    BacktestError,
    BacktestWarning,
    Job,
    Panel,
    SeriesCuts,
    assemble,
    plan_units,
    run_job,
)
from tsattn.evaluation.cutoffs import Start, cutoff_positions
from tsattn.models.base import Forecaster
from tsattn.models.covariates import frame_columns
from tsattn.models.intervals import QuantileRequest
from tsattn.parallel import (
    check_progress,
    run_units,
)

WINDOWS = ("expanding", "sliding")
ON_ERROR = ("raise", "warn")
#: the errors and warnings a backtest raises, importable from here
__all__ = ["BacktestError", "BacktestWarning", "backtest"]


def backtest(  # noqa: PLR0913 - the read_series options sit beside the window options
    models: Forecaster | Sequence[Forecaster],
    df: pd.DataFrame,
    h: int,
    n_windows: int | None = None,
    start: Start | None = None,
    step: int | None = None,
    refit: bool | int = True,
    window: str = "expanding",
    train_length: int | None = None,
    progress: bool | None = None,
    *,
    id_col: str | None = None,
    time_col: str = "ds",
    target_col: str | None = None,
    freq: str | None = None,
    fill: str | None = None,
    level: Sequence[float] | None = None,
    quantiles: Sequence[float] | None = None,
    on_error: str = "raise",
    n_jobs: int = 1,
    engine: object = None,
    static_df: pd.DataFrame | None = None,
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
      datetime) makes the last observation at or before it the first cutoff. On an axis of
      integer time steps an int ``start`` is a position too, and the cutoffs are steps.
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
        progress: a tqdm bar over the units of work (model x window x block of series),
            naming the model and the window: True, False, or None (default: shown when the
            backtest lasts more than two seconds).
        level: prediction interval levels in percent, e.g. ``[80, 95]``, and
        quantiles: probabilities, e.g. ``[0.1, 0.5, 0.9]``: passed to every model's
            ``predict``; their columns (``<model>-lo-80``, ``<model>-hi-80``, ...,
            ``<model>-q-0.1``, ...) follow each model's column. The models need uncertainty
            (native, or ``intervals="conformal"``).
        on_error: what a model that raises on a window does: ``"raise"`` (default) stops
            with the model's own exception type (chained from it; :class:`BacktestError`
            where that type takes no message), its message naming the model, the series and
            the cutoff; ``"warn"`` issues a :class:`BacktestWarning` saying the same, fills
            that model's rows of that window with NaN and carries on. Local models (ETS, ARIMA,
            AutoARIMA, Theta: one fit per series) are retried series by series, so only the
            series that fail are NaN; a global model's failure covers every series of the
            window. After a failed fit the model is refit at the next window, whatever
            ``refit`` says.
        n_jobs: local worker processes over the units of work (1: this process; -1: every
            core). Local models are split into blocks of series and run single-threaded
            (their own ``n_jobs`` is set to 1 in the workers); every worker's BLAS and torch
            threads are limited to cores // workers. The frame equals ``n_jobs=1``'s.
        engine: ``"dask"`` (the active ``dask.distributed.Client``) or a Client: the units run
            as tasks on that cluster, each block of series placed on it once (``pip install
            "tsattn[dask]"``). The frame equals ``n_jobs=1``'s.
        static_df: the static covariates of models with ``stat_exog_list`` (one row per
            series). Covariate columns of ``df`` (each model's ``futr_exog_list`` and
            ``hist_exog_list``) are read too: every fit sees them up to its cutoff, and each
            forecast gets the future-known ones at its forecast dates (past-only values after
            a cutoff are never seen).

    Returns:
        Long frame ``unique_id, ds, cutoff, y, <one column per model name>`` (each followed
        by its interval and quantile columns when asked for), ordered by window, series, then
        time. ``frame.attrs["failures"]`` lists the failures recorded with
        ``on_error="warn"`` (dicts with ``model``, ``unique_id``, ``cutoff``, ``error``).
        :func:`~tsattn.evaluation.evaluate` refuses NaN forecasts: to compare the models on
        the windows every one of them forecast, drop the failed rows first, e.g.
        ``frame.dropna(subset=[m.name for m in models])``.

    Raises:
        ValueError: ``h``/``step``/``n_windows``/``train_length`` not positive, both
            ``n_windows`` and ``start`` given, an unknown ``window``, a sliding window
            without ``train_length``, duplicate model names, or too little data.
        Exception: a model failed on a window (``on_error="raise"``): its own type, with
            the model, the series and the cutoff in the message.
    """
    models = _as_models(models)
    request = QuantileRequest.make(level, quantiles)
    asked = {} if request is None else {"level": level, "quantiles": quantiles}
    h = check_positive_int("h", h)
    step = h if step is None else check_positive_int("step", step)
    check_choice("on_error", on_error, ON_ERROR)
    refit_every = _refit_every(refit)
    _check_windows(n_windows, start, window, train_length)
    reading = {"id_col": id_col, "time_col": time_col, "target_col": target_col}
    reading.update(freq=freq, fill=fill, covariate_cols=_covariate_columns(models))
    panel = _read(df, h, n_windows, start, step, reading)
    _check_models(panel.series, models, h, window, train_length)
    n_total = max(len(s.cutoffs) for s in panel.series)
    length = train_length if window == "sliding" else None
    futr_cols = tuple(dict.fromkeys(c for m in models for c in frame_columns(m, "futr")))
    job = Job(models[0], (), h, asked, length, on_error, n_total, static_df, futr_cols)
    units, labels, owners = plan_units(panel, models, job, refit_every, n_jobs, engine)
    outputs = run_units(
        run_job,
        units,
        n_jobs=n_jobs,
        engine=engine,
        progress=check_progress(progress),
        desc="backtest",
        labels=labels,
    )
    frame = assemble(panel, models, job, request, outputs, owners)
    return frame


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


def _covariate_columns(models: list[Forecaster]) -> tuple[str, ...]:
    """Every covariate column any of the models reads from the frame, once."""
    return tuple(dict.fromkeys(c for m in models for c in frame_columns(m)))


def _read(df, h, n_windows, start, step, reading: dict) -> Panel:
    """The validated panel (``reading``: :func:`~tsattn.read_series`'s options) with each
    series' cutoffs."""
    from tsattn.datasets import read_series
    from tsattn.datasets.grid import series_bounds

    frame = read_series(df, **reading)
    bounds = series_bounds(frame["unique_id"])
    ds, y = pd.Index(frame["ds"]), frame["y"].to_numpy(np.float64)
    ids = pd.Series(list(frame["unique_id"].iloc[bounds[:-1]]))  # dtype as per-series scalars
    series = []
    for uid, lo, hi in zip(ids, bounds[:-1], bounds[1:]):
        cuts = cutoff_positions(ds[lo:hi], h, n_windows, start, step, uid)
        series.append(SeriesCuts(uid, ds[lo:hi], y[lo:hi], cuts))
    return Panel(frame, bounds, ids, series)


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
