"""The units of work of a backtest and the frames they work on (issue 26): each unit is one
model on one block of series over a run of windows that share one fit, run by
:func:`tsattn.parallel.run_units` in this process, in local processes or on a Dask cluster; the
frame :func:`~tsattn.evaluation.backtest` returns is assembled from the units' outputs in one
process's order, whoever ran them.
"""

from __future__ import annotations

import copy
import math
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from tsattn.checks import check_n_jobs
from tsattn.models.base import Forecaster
from tsattn.models.baselines._local import BLOCKS_PER_WORKER, LocalModel, series_blocks
from tsattn.models.intervals import QuantileRequest
from tsattn.parallel import Partition, check_engine, engine_slots, n_workers

#: blocks of series of a local model in a one-process backtest (so that its bar moves)
SERIAL_BLOCKS = 16


class BacktestError(RuntimeError):
    """A model failed on a backtest window and its exception type cannot carry the message
    naming the model, the series and the cutoff (``__cause__`` is the model's exception)."""


class BacktestWarning(UserWarning):
    """``backtest(on_error="warn")``: a model failed on a window, whose rows are NaN."""


class SeriesCuts(NamedTuple):
    uid: object
    ds: pd.Index  # timestamps, or integer time steps
    y: np.ndarray
    cutoffs: np.ndarray  # positions of this series' cutoffs, one per window


class Panel(NamedTuple):
    """Every series of a backtest as one validated long frame, grouped by series."""

    frame: pd.DataFrame  # unique_id, ds, y, then the models' covariate columns
    bounds: np.ndarray  # (n_series + 1,) series i at rows bounds[i]:bounds[i + 1]
    ids: pd.Series  # (n_series,) each series' id, as the frame holds it
    series: list[SeriesCuts]  # views into the frame, with each series' cutoffs

    def block(self, rows: range) -> Panel:
        """The series ``rows`` (a contiguous range of series) as a panel of their own."""
        lo, hi = self.bounds[rows.start], self.bounds[rows.stop]
        frame = self.frame.iloc[lo:hi].reset_index(drop=True)
        ids = self.ids.iloc[rows.start : rows.stop].reset_index(drop=True)
        bounds = self.bounds[rows.start : rows.stop + 1] - lo
        series = [s._replace(ds=None, y=None) for s in self.series[rows.start : rows.stop]]
        return Panel(frame, bounds, ids, series)  # the series' cutoffs, not their copies


class Job(NamedTuple):
    """One unit of a backtest: a model on a block of series over a run of windows that share
    one fit (one window with ``refit=True``; ``refit`` windows otherwise)."""

    model: Forecaster  # the template each fit copies
    windows: tuple[int, ...]
    h: int
    asked: dict  # level= / quantiles= for predict
    train_length: int | None  # sliding windows' length, None when expanding
    on_error: str
    n_windows: int
    static_df: pd.DataFrame | None = None  # static covariates, one row per series
    futr_cols: tuple[str, ...] = ()  # the future-known columns a forecast may read


class Failure(NamedTuple):
    """A failure recorded under ``on_error="warn"``: its warning and its rows of
    ``frame.attrs["failures"]``."""

    window: int
    message: str
    rows: list[dict]


def plan_units(panel: Panel, models: list[Forecaster], job: Job, refit_every, n_jobs, engine):
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


def run_job(job: Job, block: Panel) -> tuple[list, list[Failure]]:
    """A unit: its model on its block over its windows; ``(window, forecast, failed keys)``
    per window the block has, and the failures recorded under ``on_error="warn"``."""
    run = _Run(job)
    out = []
    for w in job.windows:
        train, actual = _window(block, w, job.h, job.train_length)
        if actual.empty:  # none of the block's series reaches window w
            continue
        futr = _future_covariates(block, w, job)
        forecast, failed = run.forecast(w, train, actual, futr)
        out.append((w, forecast, failed))
    return out, run.failures


def assemble(panel: Panel, models, job: Job, request, outputs: list, owners: list[int]):
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

    def __init__(self, job: Job):
        self.model, self.job = job.model, job
        self.fitted: Forecaster | None = None
        self.failures: list[Failure] = []

    def forecast(self, w: int, train: pd.DataFrame, actual: pd.DataFrame, futr: pd.DataFrame):
        """The model's forecast of window ``w`` (``futr``: the future-known covariates at the
        window's forecast dates) and the keys of the series it failed on."""
        model = self.model
        local = _as_model_frame(train, model)
        self.futr = _as_model_frame(futr, model)
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
        h, static = self.job.h, self.job.static_df
        asked = {**self.job.asked, "futr_df": self.futr, "static_df": static}
        if refit:
            fitted = copy.deepcopy(self.model).fit(frame, static_df=static)
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
        self.failures.append(Failure(w, f"{what}: {error}; its forecasts there are NaN", rows))


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


def _window(panel: Panel, w: int, h: int, train_length: int | None, with_train: bool = True):
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
                **{c: panel.frame[c].to_numpy()[train_rows] for c in panel.frame.columns[3:]},
            }
        )  # every covariate up to the cutoff only
    actual = pd.DataFrame(
        {
            "unique_id": ids.take(future_series).to_numpy(),
            "ds": ds.take(future_rows).array,
            "cutoff": ds.take(first_row + cut).take(future_series).array,
            "y": y[future_rows],
        }
    )
    return train, actual.assign(_key=actual["unique_id"].astype(str))


def _future_covariates(panel: Panel, w: int, job: Job) -> pd.DataFrame:
    """``unique_id, ds`` and the future-known columns at window ``w``'s forecast dates (never
    a past-only column: those stop at the cutoff)."""
    _, actual = _window(panel, w, job.h, job.train_length, with_train=False)
    futr = actual[["unique_id", "ds"]].reset_index(drop=True)
    rows = panel.frame.set_index(["unique_id", "ds"]).index.get_indexer(
        pd.MultiIndex.from_frame(futr)
    )  # (rows,) positions of the forecast dates in the panel
    for column in job.futr_cols:
        futr[column] = panel.frame[column].to_numpy()[rows]
    return futr


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
