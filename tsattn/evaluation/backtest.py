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

import copy
import math
import warnings
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from tsattn.checks import check_choice, check_n_jobs, check_positive_int
from tsattn.evaluation.cutoffs import Start, cutoff_positions
from tsattn.models.base import Forecaster
from tsattn.models.baselines._local import BLOCKS_PER_WORKER, LocalModel, series_blocks
from tsattn.models.intervals import QuantileRequest
from tsattn.parallel import (
    Partition,
    check_engine,
    check_progress,
    engine_slots,
    n_workers,
    run_units,
)

WINDOWS = ("expanding", "sliding")
ON_ERROR = ("raise", "warn")
#: blocks of series of a local model in a one-process backtest (so that its bar moves)
SERIAL_BLOCKS = 16


class BacktestError(RuntimeError):
    """A model failed on a backtest window and its exception type cannot carry the message
    naming the model, the series and the cutoff (``__cause__`` is the model's exception)."""


class BacktestWarning(UserWarning):
    """``backtest(on_error="warn")``: a model failed on a window, whose rows are NaN."""


class _Series(NamedTuple):
    uid: object
    ds: pd.Index  # timestamps, or integer time steps
    y: np.ndarray
    cutoffs: np.ndarray  # positions of this series' cutoffs, one per window


class _Panel(NamedTuple):
    """Every series of a backtest as one validated long frame, grouped by series."""

    frame: pd.DataFrame  # unique_id, ds, y
    bounds: np.ndarray  # (n_series + 1,) series i at rows bounds[i]:bounds[i + 1]
    ids: pd.Series  # (n_series,) each series' id, as the frame holds it
    series: list[_Series]  # views into the frame, with each series' cutoffs

    def block(self, rows: range) -> _Panel:
        """The series ``rows`` (a contiguous range of series) as a panel of their own."""
        lo, hi = self.bounds[rows.start], self.bounds[rows.stop]
        frame = self.frame.iloc[lo:hi].reset_index(drop=True)
        ids = self.ids.iloc[rows.start : rows.stop].reset_index(drop=True)
        bounds = self.bounds[rows.start : rows.stop + 1] - lo
        series = [s._replace(ds=None, y=None) for s in self.series[rows.start : rows.stop]]
        return _Panel(frame, bounds, ids, series)  # the series' cutoffs, not their copies


class _Job(NamedTuple):
    """One unit of a backtest: a model on a block of series over a run of windows that share
    one fit (one window with ``refit=True``; ``refit`` windows otherwise)."""

    model: Forecaster  # the template each fit copies
    windows: tuple[int, ...]
    h: int
    asked: dict  # level= / quantiles= for predict
    train_length: int | None  # sliding windows' length, None when expanding
    on_error: str
    n_windows: int


class _Failure(NamedTuple):
    """A failure recorded under ``on_error="warn"``: its warning and its rows of
    ``frame.attrs["failures"]``."""

    window: int
    message: str
    rows: list[dict]


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
    panel = _read(df, h, n_windows, start, step, id_col, time_col, target_col, freq, fill)
    _check_models(panel.series, models, h, window, train_length)
    n_total = max(len(s.cutoffs) for s in panel.series)
    length = train_length if window == "sliding" else None
    job = _Job(models[0], (), h, asked, length, on_error, n_total)
    units, labels, owners = _plan(panel, models, job, refit_every, n_jobs, engine)
    outputs = run_units(
        _run_job,
        units,
        n_jobs=n_jobs,
        engine=engine,
        progress=check_progress(progress),
        desc="backtest",
        labels=labels,
    )
    frame = _assemble(panel, models, job, request, outputs, owners)
    return frame


def _plan(panel: _Panel, models: list[Forecaster], job: _Job, refit_every, n_jobs, engine):
    """The units of a backtest (``(job, block)`` argument pairs, ordered by first window, model
    and block, which is the order one process runs them in), a label of each for the bar,
    and each one's model index."""
    engine = check_engine(engine)
    slots = engine_slots(engine) if engine is not None else n_workers(check_n_jobs(n_jobs))
    parallel = engine is not None or slots > 1
    n_series = len(panel.series)
    whole = Partition(panel.block(range(n_series)))
    blocks_of: dict[int, list[Partition]] = {}
    runs = _window_runs(job.n_windows, refit_every)
    units, labels, owners = [], [], []
    for first, windows in runs:
        for i, model in enumerate(models):
            template, n_blocks = _unit_model(model, parallel, slots, n_series)
            if n_blocks not in blocks_of:
                ranges = series_blocks(n_series, n_blocks)
                blocks_of[n_blocks] = [Partition(panel.block(r)) for r in ranges]
            blocks = [whole] if n_blocks == 1 else blocks_of[n_blocks]
            for b, block in enumerate(blocks):
                units.append((job._replace(model=template, windows=windows), block))
                owners.append(i)
                span = f"{first + 1}" if len(windows) == 1 else f"{first + 1}-{windows[-1] + 1}"
                part = f" series block {b + 1}/{len(blocks)}" if len(blocks) > 1 else ""
                labels.append(f"{model.name} window {span}/{job.n_windows}{part}")
    return units, labels, owners


def _window_runs(n_windows: int, refit_every: float) -> list[tuple[int, tuple[int, ...]]]:
    """The runs of windows that share one fit: ``(first window, windows)``.

    >>> _window_runs(5, 2)
    [(0, (0, 1)), (2, (2, 3)), (4, (4,))]
    """
    every = n_windows if math.isinf(refit_every) else int(refit_every)
    return [(w, tuple(range(w, min(w + every, n_windows)))) for w in range(0, n_windows, every)]


def _unit_model(model: Forecaster, parallel: bool, slots: int, n_series: int):
    """The model a unit copies, and the blocks of series it is split into: local models
    run in blocks (a few per worker; up to :data:`SERIAL_BLOCKS` in one process, so that the
    bar moves), single-threaded in workers and without a bar of their own; a global model, or
    a local one left to its own ``n_jobs`` / engine in one process, takes every series."""
    if not isinstance(model, LocalModel):
        return model, 1
    template = copy.deepcopy(model)
    template.progress = False  # the backtest's bar counts the blocks
    if parallel:
        template.n_jobs, template.engine = 1, None
        return template, min(n_series, BLOCKS_PER_WORKER * slots)
    if model.n_jobs != 1 or model.engine is not None:
        return template, 1
    return template, min(n_series, SERIAL_BLOCKS)


def _run_job(job: _Job, block: _Panel) -> tuple[list, list[_Failure]]:
    """A unit: its model on its block over its windows; ``(window, forecast, failed keys)``
    per window the block has, and the failures recorded under ``on_error="warn"``."""
    run = _Run(job)
    out = []
    for w in job.windows:
        train, actual = _window(block, w, job.h, job.train_length)
        if actual.empty:  # none of the block's series reaches window w
            continue
        forecast, failed = run.forecast(w, train, actual)
        out.append((w, forecast, failed))
    return out, run.failures


def _assemble(panel: _Panel, models, job: _Job, request, outputs: list, owners: list[int]):
    """The backtest's frame from the units' outputs: per window, each model's forecasts of
    every block merged onto the actuals; failures warned and listed in window, model and
    series order (one process's order)."""
    parts: dict[tuple[int, int], list] = {}
    failures = []
    for u, (out, failed_here) in enumerate(outputs):
        for w, forecast, failed in out:
            parts.setdefault((w, owners[u]), []).append((forecast, failed))
        failures += [(f.window, owners[u], u, f) for f in failed_here]
    frames = []
    for w in range(job.n_windows):
        _, actual = _window(panel, w, job.h, job.train_length, with_train=False)
        for i, model in enumerate(models):
            pieces = parts.get((w, i), [])
            forecast = pd.concat([p[0] for p in pieces], ignore_index=True)
            failed = set().union(*(p[1] for p in pieces))
            actual = _attach(actual, forecast, model.name, request, failed)
        frames.append(actual.drop(columns="_key"))
    frame = pd.concat(frames, ignore_index=True)
    rows = []
    for *_, failure in sorted(failures, key=lambda f: f[:3]):
        warnings.warn(failure.message, BacktestWarning, 3)  # the caller's line
        rows += failure.rows
    frame.attrs["failures"] = rows
    return frame


class _Run:
    """The fitted copy of one unit's model and the failures it records."""

    def __init__(self, job: _Job):
        self.model, self.job = job.model, job
        self.fitted: Forecaster | None = None
        self.failures: list[_Failure] = []

    def forecast(self, w: int, train: pd.DataFrame, actual: pd.DataFrame):
        """The model's forecast of window ``w`` and the keys of the series it failed on."""
        model = self.model
        local = _as_model_frame(train, model)
        refit = w == self.job.windows[0] or self.fitted is None
        try:
            forecast, self.fitted = self._one(local, refit)
            return forecast, set()
        except Exception as exc:  # noqa: BLE001 - the failure is reported, raised or warned
            self.fitted = None
            if not isinstance(model, LocalModel) or train["unique_id"].nunique() == 1:
                self._fail(w, actual, exc)
                return actual.iloc[:0][["_key", "ds"]], set(actual["_key"])
        return self._series_by_series(w, local, actual, refit)

    def _one(self, frame: pd.DataFrame, refit: bool):
        h, asked = self.job.h, self.job.asked
        if refit:
            fitted = copy.deepcopy(self.model).fit(frame)
            return fitted.predict(h=h, **asked), fitted
        return self.fitted.predict(df=frame, h=h, **asked), self.fitted

    def _series_by_series(self, w, local: pd.DataFrame, actual: pd.DataFrame, refit: bool):
        """A local model's window, one series at a time: only the failing series fail."""
        forecasts, failed = [], set()
        ids = local[self.model.id_col]
        for uid in ids.unique():
            try:
                forecasts.append(self._one(local[ids == uid], refit)[0])
            except Exception as exc:  # noqa: BLE001
                key = str(uid)
                self._fail(w, actual[actual["_key"] == key], exc)
                failed.add(key)
        if not forecasts:
            return actual.iloc[:0][["_key", "ds"]], failed
        return pd.concat(forecasts, ignore_index=True), failed

    def _fail(self, w: int, actual: pd.DataFrame, exc: Exception) -> None:
        name = self.model.name
        cuts = actual.drop_duplicates("_key")[["unique_id", "cutoff"]]
        where = "; ".join(
            f"series {uid!r} at cutoff {_time_label(cut)}"
            for uid, cut in zip(cuts["unique_id"], cuts["cutoff"])
        )
        together = " (fitted together)" if len(cuts) > 1 else ""
        error = f"{type(exc).__name__}: {exc}"
        what = f"{name} failed on {where}{together} (window {w + 1} of {self.job.n_windows})"
        if self.job.on_error == "raise":
            raise _named(exc, f"{what}: {error}") from exc
        rows = [
            {"model": name, "unique_id": uid, "cutoff": cut, "error": error}
            for uid, cut in zip(cuts["unique_id"], cuts["cutoff"])
        ]
        self.failures.append(_Failure(w, f"{what}: {error}; its forecasts there are NaN", rows))


def _time_label(cut: object) -> object:
    """A cutoff as a message shows it: a Timestamp, or an integer time step."""
    return int(cut) if isinstance(cut, int | np.integer) else pd.Timestamp(cut)


def _named(exc: Exception, message: str) -> Exception:
    """``exc``'s type with ``message`` (a ValueError stays a ValueError), or a
    :class:`BacktestError` when that type cannot be built from a message."""
    message += "; on_error='warn' (the CLI: --on-error warn) records failures and carries on"
    try:
        named = type(exc)(message)
    except Exception:  # noqa: BLE001 - a type that needs other arguments
        return BacktestError(message)
    return named if message in str(named) else BacktestError(message)


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


def _read(df, h, n_windows, start, step, id_col, time_col, target_col, freq, fill) -> _Panel:
    from tsattn.datasets import read_series
    from tsattn.datasets.grid import series_bounds

    frame = read_series(
        df, time_col=time_col, id_col=id_col, target_col=target_col, freq=freq, fill=fill
    )
    bounds = series_bounds(frame["unique_id"])
    ds, y = pd.Index(frame["ds"]), frame["y"].to_numpy(np.float64)
    ids = pd.Series(list(frame["unique_id"].iloc[bounds[:-1]]))  # dtype as per-series scalars
    series = []
    for uid, lo, hi in zip(ids, bounds[:-1], bounds[1:]):
        cuts = cutoff_positions(ds[lo:hi], h, n_windows, start, step, uid)
        series.append(_Series(uid, ds[lo:hi], y[lo:hi], cuts))
    return _Panel(frame, bounds, ids, series)


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


def _window(panel: _Panel, w: int, h: int, train_length: int | None, with_train: bool = True):
    """Training rows and future actuals of window ``w`` (series lacking it are skipped),
    gathered for all series at once from the panel's columns (no training rows, None,
    unless ``with_train``)."""
    has = np.array([w < len(s.cutoffs) for s in panel.series])  # (n_series,)
    cut = np.array([int(s.cutoffs[w]) for s, ok in zip(panel.series, has) if ok], np.int64)
    first_row = panel.bounds[:-1][has]  # (n_window_series,)
    lo = np.zeros_like(cut) if train_length is None else cut + 1 - train_length
    ids = panel.ids[has].reset_index(drop=True)
    train_rows, train_series = _ranges(first_row + lo, cut + 1 - lo)
    future_rows, future_series = _ranges(first_row + cut + 1, np.full_like(cut, h))
    ds, y = panel.frame["ds"], panel.frame["y"].to_numpy()
    train = None
    if with_train:
        train = pd.DataFrame(
            {
                "unique_id": ids.take(train_series).to_numpy(),
                "ds": ds.take(train_rows).array,
                "y": y[train_rows],
            }
        )
    actual = pd.DataFrame(
        {
            "unique_id": ids.take(future_series).to_numpy(),
            "ds": ds.take(future_rows).array,
            "cutoff": ds.take(first_row + cut).take(future_series).array,
            "y": y[future_rows],
        }
    )
    return train, actual.assign(_key=actual["unique_id"].astype(str))


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows ``starts[i] .. starts[i] + lengths[i] - 1`` of every i, one after the other,
    and for each row the i it belongs to."""
    owner = np.repeat(np.arange(len(starts)), lengths)  # (sum(lengths),)
    offset_in_range = np.arange(len(owner)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return starts[owner] + offset_in_range, owner


def _as_model_frame(train: pd.DataFrame, model: Forecaster) -> pd.DataFrame:
    """The training frame under the column names ``model`` was configured with."""
    names = {"unique_id": model.id_col, "ds": model.time_col, "y": model.target_col}
    if all(old == new for old, new in names.items()):
        return train  # the usual case: no copy of every training row
    return train.rename(columns=names)


def _attach(
    actual: pd.DataFrame,
    forecast: pd.DataFrame,
    name: str,
    request: QuantileRequest | None,
    failed: set[str] = frozenset(),
) -> pd.DataFrame:
    """``actual`` with the model's point column and its requested interval/quantile columns;
    the rows of the ``failed`` series (keys) are NaN."""
    columns = [name, *(request.columns(name) if request is not None else ())]
    if failed:
        forecast = forecast.reindex(columns=list(dict.fromkeys([*forecast.columns, *columns])))
    missing = [c for c in columns if c not in forecast.columns]
    if missing:
        raise ValueError(
            f"{name}.predict returned no {missing} columns although level=/quantiles= were "
            f"given; it returned {list(forecast.columns)}"
        )
    if "unique_id" in forecast.columns:
        forecast = forecast.assign(_key=forecast["unique_id"].astype(str))
    merged = actual.merge(forecast[["_key", "ds", *columns]], on=["_key", "ds"], how="left")
    if failed:  # the NaN of failed series: float columns, as a forecast's
        merged = merged.astype(dict.fromkeys(columns, np.float64))
    unmatched = merged[name].isna() & ~merged["_key"].isin(failed)
    if unmatched.any():
        raise ValueError(
            f"{name} returned forecasts whose series/dates do not match the actuals "
            f"(e.g. series {merged.loc[unmatched, 'unique_id'].iloc[0]!r})"
        )
    return merged
