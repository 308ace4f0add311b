"""Shared machinery of the local statistical baselines: one model per series, in parallel.

A local model fits each series on its own (in blocks of series run by ``n_jobs`` local processes
or a Dask ``engine``: :func:`tsattn.parallel.run_units`, with the same results as one process) and
keeps, per series id, JSON-able metadata and a float64 parameter vector. Those are what ``save``
writes (as JSON and safetensors; never a pickle), and what ``predict(df=history)`` re-applies
to the given history without re-estimating anything.

Subclasses implement ``_fit_one(y, exog=None) -> (meta, params)``,
``_forecast_one(y, meta, params, h, exog=None) -> (h,) array`` and, for ``predict(level=...,
quantiles=...)``, ``_quantiles_one(y, meta, params, h, probs, exog=None) -> (h, Q) array``:
quantiles of statsmodels' own forecast distribution (:func:`normal_quantiles` where that is a
Normal with the model's forecast standard error).

A model whose class lists ``"futr"`` in ``supports_covariates`` receives each series'
future-known covariates as ``exog`` (:class:`SeriesExog`: the rows of its history and, when
forecasting, the ``h`` rows of its forecast dates); the arrays travel inside the series' job,
so worker processes and engines see them as one process does. Other models never get
``exog`` (the base class refuses covariates they cannot use).
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np
import torch

from tsattn.checks import (
    check_keywords,
    check_n_jobs,
    check_nonnegative_int,
    check_positive_int,
    check_season_length,
    state_field,
    state_ids,
    state_vector,
)
from tsattn.models.base import Forecaster
from tsattn.models.series_data import SeriesData
from tsattn.parallel import check_engine, check_progress, engine_slots, n_workers, run_units

#: one series' fitted state: (JSON-able metadata, parameter vector)
LocalState = tuple[dict[str, Any], np.ndarray]

#: kept for the modules that import it from here
positive_int = check_positive_int


@dataclass(frozen=True)
class SeriesExog:
    """One series' future-known covariates (user columns, then calendar columns): at the
    steps of its history and, when forecasting, at its ``h`` forecast dates."""

    history: np.ndarray  # (n, F), one row per observation of y
    future: np.ndarray | None = None  # (h, F), one row per forecast step


def series_exog(data: SeriesData, i: int, h: int | None = None) -> tuple[SeriesExog, ...]:
    """``(SeriesExog,)`` of series ``i`` of ``data`` (with its first ``h`` future rows when
    ``h`` is given), or ``()`` when the data carry no future-known covariates."""
    if data.futr is None:
        return ()
    future = None
    if h is not None:
        if data.future is None or len(data.future[i]) < h:
            raise ValueError(
                f"series {data.ids[i]!r} has no future-known covariates for its {h} forecast "
                f"dates: pass futr_df= to predict"
            )
        future = data.future[i][:h]
    return (SeriesExog(data.futr[i], future),)


def resolve_season(given: int | None, data: SeriesData) -> int:
    """``given``, or when None the season of the data's frequency
    (:func:`tsattn.datasets.frequency.season_length`: hourly 24, daily 7, monthly 12, ...)."""
    from tsattn.datasets.frequency import season_length

    if given is not None:
        return check_season_length(given)
    return season_length(data.freqs[0]) if data.freqs else 1


def normal_quantiles(mean: np.ndarray, sd: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Quantiles ``probs`` (Q,) of Normal(mean, sd) per step: (..., h) -> (..., h, Q).

    >>> normal_quantiles(np.array([0.0]), np.array([1.0]), np.array([0.5, 0.975])).round(2)
    array([[0.  , 1.96]])
    """
    mean = np.asarray(mean, dtype=np.float64)[..., None]
    sd = np.maximum(np.asarray(sd, dtype=np.float64), 0.0)[..., None]
    z = np.array([NormalDist().inv_cdf(float(p)) for p in np.ravel(probs)], dtype=np.float64)
    return mean + sd * z


def quietly(fn, *args):
    """``fn(*args)`` with statsmodels' convergence/frequency warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return fn(*args)


#: blocks of series per worker: enough for an even load, few enough to amortize each task
BLOCKS_PER_WORKER = 4


def series_blocks(n_series: int, n_blocks: int) -> list[range]:
    """``n_blocks`` contiguous, near-equal ranges of ``range(n_series)`` (fewer when there are
    fewer series).

    >>> series_blocks(5, 2)
    [range(0, 2), range(2, 5)]
    """
    n_blocks = max(1, min(n_blocks, n_series))
    edges = [k * n_series // n_blocks for k in range(n_blocks + 1)]
    return [range(lo, hi) for lo, hi in zip(edges[:-1], edges[1:])]


def _block_label(ids: list[str], block: range) -> str:
    """``series 'a'``, or ``series 'a' .. 'z' (26)`` for a block of several."""
    first = ids[block.start]
    if len(block) == 1:
        return f"series {first!r}"
    return f"series {first!r} .. {ids[block.stop - 1]!r} ({len(block)})"


def _run_block(
    model: LocalModel, method: str, ids: list[str], jobs: list[tuple], name: bool = True
) -> list:
    """``model.<method>(*job)`` for every series of a block; a failure names its series
    (when ``name``: a model fitted on one series leaves its error as it is)."""
    fn = getattr(model, method)
    results = []
    for uid, job in zip(ids, jobs):
        try:
            results.append(quietly(fn, *job))
        except Exception as exc:
            if not name:
                raise
            raise _named(exc, f"{model.name} failed on series {uid!r}: {exc}") from exc
    return results


def _named(exc: Exception, message: str) -> Exception:
    """``exc``'s type carrying ``message`` (a ValueError stays one), else a RuntimeError."""
    try:
        named = type(exc)(message)
    except Exception:  # noqa: BLE001 - a type built from other arguments
        return RuntimeError(message)
    return named if message in str(named) else RuntimeError(message)


class LocalModel(Forecaster):
    """Base of models fitted series by series (ETS, ARIMA, AutoARIMA, Theta).

    Args:
        h: default horizon (any ``h`` can be asked of ``predict``).
        n_jobs: local worker processes over blocks of series (default 1: no process start-up
            cost, which dominates for a few short series; -1: every core). Each worker runs
            single-threaded BLAS, and the results equal ``n_jobs=1``'s.
        progress: a bar over the series blocks of ``fit`` and ``predict``: True, False, or
            None (default: shown when the work lasts more than two seconds).
        engine: None (local, ``n_jobs``), or ``"dask"``: fit and forecast the blocks as tasks
            on the active ``dask.distributed.Client`` (``pip install "tsattn[dask]"``).
        **kwargs: the shared options of :class:`~tsattn.models.Forecaster`.
    """

    supports_quantiles: ClassVar[bool] = True

    def __init__(
        self,
        h: int = 1,
        n_jobs: int = 1,
        progress: bool | None = None,
        engine: str | None = None,
        **kwargs: Any,
    ):
        check_keywords(type(self), kwargs)
        super().__init__(h, **kwargs)
        self.n_jobs = check_n_jobs(n_jobs)
        self.progress = check_progress(progress)
        if engine is not None and not isinstance(engine, str):
            raise ValueError(f"engine must be None or 'dask', got {engine!r}")
        self.engine = check_engine(engine)
        self._states: dict[str, LocalState] = {}
        self._n_exog = 0  # future-known columns the fitted models regress on

    # ------------------------------------------------------------------ per-series hooks
    def _fit_one(self, y: np.ndarray, exog: SeriesExog | None = None) -> LocalState:
        raise NotImplementedError

    def _forecast_one(
        self, y: np.ndarray, meta: dict, params: np.ndarray, h: int, exog: SeriesExog | None = None
    ) -> np.ndarray:
        raise NotImplementedError

    def _quantiles_one(
        self,
        y: np.ndarray,
        meta: dict,
        params: np.ndarray,
        h: int,
        probs: np.ndarray,
        exog: SeriesExog | None = None,
    ) -> np.ndarray:
        raise NotImplementedError

    def _check_state(self, meta: dict, params: np.ndarray) -> None:
        """Validate one series' saved (meta, params); a ``ValueError`` names what is wrong.
        The default accepts any metadata and any (finite) parameter vector."""

    # ------------------------------------------------------------------ Forecaster hooks
    @property
    def season(self) -> int:
        """The season in use: ``season_length``, or the one taken from the frequency at fit
        (1 before a fit when ``season_length`` is None)."""
        fitted = getattr(self, "_season", None)
        if fitted is not None:
            return fitted
        given = getattr(self, "season_length", None)
        return 1 if given is None else given

    def _fit(self, data: SeriesData, val_size: int | None) -> None:
        if hasattr(self, "season_length"):
            self._season = resolve_season(self.season_length, data)
        self._n_exog = 0 if data.futr is None else data.futr[0].shape[1]
        jobs = [(y, *series_exog(data, i)) for i, y in enumerate(data.values)]
        states = self._parallel("_fit_one", data.ids, jobs)
        self._states = dict(zip(data.ids, states))

    def _predict(self, data: SeriesData, h: int) -> np.ndarray:
        return np.stack(self._parallel("_forecast_one", data.ids, self._jobs(data, h)))

    def _predict_quantiles(self, data: SeriesData, h: int, probs: np.ndarray) -> np.ndarray:
        """(n_series, h, Q) quantiles of each series' native forecast distribution."""
        probs = np.asarray(probs, dtype=np.float64)
        jobs = self._jobs(data, h, probs)
        return np.stack(self._parallel("_quantiles_one", data.ids, jobs))

    def _jobs(self, data: SeriesData, h: int, *extra) -> list[tuple]:
        """``(y, meta, params, h, *extra[, exog])`` per series, from the states fitted on
        them (``exog`` when the model regresses on future-known covariates)."""
        unknown = [uid for uid in data.ids if uid not in self._states]
        if unknown:
            raise ValueError(
                f"{self.name} is a local model (one fit per series) and was not fitted on "
                f"series {unknown[:3]}; fit it on them (backtest with refit=True) first"
            )
        width = 0 if data.futr is None else data.futr[0].shape[1]
        if width != self._n_exog:
            raise ValueError(
                f"{self.name} was fitted on {self._n_exog} future-known covariate columns, "
                f"the data give {width}"
            )
        return [
            (y, *self._states[uid], h, *extra, *series_exog(data, i, h))
            for i, (uid, y) in enumerate(zip(data.ids, data.values))
        ]

    def _parallel(self, method: str, ids: list[str], jobs: list[tuple]) -> list:
        """``self.<method>(*job)`` for every series, in blocks of series run by
        :func:`~tsattn.parallel.run_units`, with single-threaded BLAS in every worker: the
        matrices of one series are tiny, and BLAS threads competing for cores slow them down
        10x. One series per block in one process (the bar counts series); a few blocks per
        worker otherwise. Each block carries only its own series (and a copy of the model
        without the fitted states of the others)."""
        if self.engine is not None:
            n_blocks = BLOCKS_PER_WORKER * engine_slots(self.engine)
        else:
            workers = n_workers(self.n_jobs, len(jobs))
            n_blocks = len(jobs) if workers == 1 else BLOCKS_PER_WORKER * workers
        worker = self._worker_copy()
        blocks = series_blocks(len(jobs), n_blocks)
        name = len(jobs) > 1
        units = [
            (worker, method, ids[b.start : b.stop], jobs[b.start : b.stop], name) for b in blocks
        ]
        results = run_units(
            _run_block,
            units,
            n_jobs=self.n_jobs,
            engine=self.engine,
            progress=self.progress,
            desc=f"{self.name} {method.strip('_').split('_')[0]}",
            labels=[_block_label(ids, b) for b in blocks],
            threads=1,
        )
        return [r for block in results for r in block]

    def _worker_copy(self) -> LocalModel:
        """This model without its fitted states and history: what a worker needs to run the
        per-series hooks (the states of a block's series travel in its jobs)."""
        worker = copy.copy(self)
        heavy = ("_states", "_history", "_conformal_scores")
        worker.__dict__.update({name: None for name in heavy if name in worker.__dict__})
        return worker

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        ids = list(self._states)
        meta = {"ids": ids, "meta": [self._states[uid][0] for uid in ids]}
        if getattr(self, "_season", None) is not None:
            meta["season"] = self._season
        if self._n_exog:
            meta["exog"] = self._n_exog
        tensors = {
            f"params.{i}": torch.from_numpy(np.ascontiguousarray(self._states[uid][1]))
            for i, uid in enumerate(ids)
        }
        return meta, tensors

    def _set_state(self, meta: dict[str, Any], tensors: dict[str, Any]) -> None:
        """Restore every series' state, each checked by :meth:`_check_state` (finite
        parameters of the length the model expects, metadata it can use)."""
        ids = state_ids(meta, "ids")
        if "season" in meta:
            self._season = check_season_length(meta["season"], "saved state 'season'")
        self._n_exog = self._saved_exog_width(meta)
        series_meta = state_field(meta, "meta", list)
        if len(series_meta) != len(ids):
            raise ValueError(
                f"saved state has {len(series_meta)} 'meta' entries for {len(ids)} series ids"
            )
        states = {}
        for i, (uid, one) in enumerate(zip(ids, series_meta)):
            if not isinstance(one, dict):
                raise ValueError(f"saved state 'meta' of series {uid!r} is not a JSON object")
            params = state_vector(tensors, f"params.{i}")
            try:
                self._check_state(one, params)
            except ValueError as err:
                raise ValueError(f"saved state of series {uid!r} (params.{i}): {err}") from None
            states[uid] = (one, params)
        self._states = states

    def _saved_exog_width(self, meta: dict[str, Any]) -> int:
        """The saved number of future-known columns, checked against the covariates the
        model declares (and the saved history's, when it has them)."""
        width = check_nonnegative_int("saved state 'exog'", meta.get("exog", 0))
        history = self._history
        expected = 0 if history is None or history.futr is None else history.futr[0].shape[1]
        if history is not None and width != expected:
            raise ValueError(
                f"saved state 'exog' is {width} future-known columns, the model's covariates "
                f"give {expected}"
            )
        return width
