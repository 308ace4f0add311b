"""``AutoForecaster``: a Forecaster whose members are Forecasters, chosen and weighted for
the data by rolling-origin validation.

>>> import numpy as np, pandas as pd
>>> t = np.arange(120)
>>> noise = np.random.default_rng(0).normal(0, 0.1, 120)
>>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=120,
...                    freq="h"), "y": np.sin(2 * np.pi * t / 24) + noise})
>>> auto = AutoForecaster(h=6, models=["naive", "seasonal_naive"]).fit(df)
>>> auto.leaderboard()["model"].tolist()
['naive', 'seasonal_naive', 'AutoForecaster']
>>> auto.leaderboard()["weight"].tolist()[:2]
[0.0, 1.0]
>>> list(auto.predict(level=[80]).columns)
['unique_id', 'ds', 'AutoForecaster', 'AutoForecaster-lo-80', 'AutoForecaster-hi-80']
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from tsattn.auto.candidates import build_candidates, check_models, describe
from tsattn.auto.combine import METHODS, combine, describe_method, loss
from tsattn.auto.covariates import (
    FrameCovariates,
    check_candidates,
    declaration,
    member_view,
    static_frame,
)
from tsattn.auto.state import LEADERBOARD_COLUMNS, restore_state, saved_state
from tsattn.auto.tune import tune_candidates
from tsattn.auto.validation import (
    AutoWarning,
    Validation,
    season_of,
    series_frame,
    series_scales,
    usable_windows,
    validate,
)
from tsattn.checks import check_bool, check_choice, check_keywords, check_positive_int, check_real
from tsattn.models.base import Forecaster, register_model
from tsattn.models.covariates import KINDS, fitted_spec
from tsattn.models.intervals import conformal_quantiles
from tsattn.models.series_data import SeriesData

ON_ERROR = ("warn", "raise")


@register_model("auto")
class AutoForecaster(Forecaster):
    """Validates candidate forecasters on the last windows of each series and forecasts with
    the best one per series, a greedy ensemble of them, or per-series weights.

    ``fit`` backtests every candidate (fitted once at the first validation cutoff, cheapest
    first) over the last ``n_windows`` windows of ``h`` steps of every series (fewer where a
    series is too short), scores it by MASE (each series' errors over its in-sample seasonal
    naive error, so every series weighs alike), combines the candidates by ``method``, then
    refits the members that carry weight on all the data. ``predict(level=[80, 95])`` gives
    conformal intervals from the combination's own validation errors (scaled per series).

    Args:
        h: forecast horizon.
        models: the candidates: spec strings as the CLI's ``--models`` (``"ets"``,
            ``"patchtst:mlr"``), Forecaster instances, or None for the default set of the
            data's frequency: naive, seasonal naive, Theta, ETS, DLinear, AutoARIMA (seasons
            of at most 12 steps) and PatchTST, with their defaults for users' series.
        method: ``"auto"`` (default): the greedy ensemble where there are at least 10
            validation windows (series x windows) per candidate, else the equal mean of the
            better half of the candidates by validation MASE (weights fitted on a few
            windows overfit them; see :mod:`tsattn.auto.combine` and BENCHMARKS.md);
            ``"ensemble"`` (one greedy ensemble for all series, Caruana-style forward
            selection with replacement, as AutoGluon), ``"top"`` (the better half's mean),
            ``"select"`` (the best candidate of each series) or ``"per_series"`` (a greedy
            ensemble per series).
        n_windows: validation windows of ``h`` steps at the end of each series.
        time_limit: seconds; once half of it is spent validating, the remaining candidates
            are skipped (the rest is left for refitting the members), and a member whose
            refit would end past it (expected to take as long as its validation) is left out,
            the lightest first (the heaviest is always refit); None: no limit.
        on_error: ``"warn"``: a candidate that fails (in validation or refit) is dropped
            with an :class:`AutoWarning`; ``"raise"``: its exception stops the fit.
        tune: ``True`` (10 trials) or a number of trials: first tune each network among
            the candidates with :func:`tsattn.tune` (its attention among the options) on the
            series without their validation windows; needs ``pip install "tsattn[tune]"``.
        progress: passed to the candidates that show progress bars.
        **kwargs: the shared options of :class:`~tsattn.models.Forecaster`, covariates
            among them (``futr_exog_list``, ``hist_exog_list``, ``stat_exog_list``,
            ``calendar``, ``holidays``): each candidate built from a spec (the default set
            included) gets them for the kinds its class uses and none of the others, so
            models without covariates still compete, without them; a candidate given as an
            instance keeps its own, which must be among the AutoForecaster's. The
            candidates are validated and refit with these columns (and ``static_df``), and
            ``predict`` takes ``futr_df`` as every forecaster does.
    """

    supports_quantiles: ClassVar[bool] = True
    supports_longer_horizon: ClassVar[bool] = False
    supports_covariates: ClassVar[tuple[str, ...]] = KINDS

    def __init__(
        self,
        h: int = 1,
        models: list | None = None,
        method: str = "auto",
        n_windows: int = 3,
        time_limit: float | None = None,
        on_error: str = "warn",
        tune: bool | int = False,
        progress: bool = False,
        **kwargs: Any,
    ):
        check_keywords(type(self), kwargs)
        super().__init__(h, **kwargs)
        self.models = check_models(models)
        self.method = check_choice("method", method, METHODS)
        self.n_windows = check_positive_int("n_windows", n_windows)
        self.time_limit = _check_time_limit(time_limit)
        self.on_error = check_choice("on_error", on_error, ON_ERROR)
        self.tune = _check_tune(tune)
        self.progress = check_bool("progress", progress)
        self._members: list[Forecaster] = []
        self._weights = np.zeros((0, 0))  # (n_series, n_members)
        self._global = np.zeros(0)  # (n_members,) for series not seen at fit
        self._series_ids: list[str] = []
        self._scores = np.zeros((0, h))  # (n, h) scaled validation errors of the combination
        self._board: list[list] = []

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments; candidates given as instances as ``{"model", "params"}``."""
        params = super().get_params()
        if params.get("models") is not None:
            params["models"] = [describe(entry) for entry in params["models"]]
        return params

    # ------------------------------------------------------------------ public extras
    def leaderboard(self) -> pd.DataFrame:
        """One row per candidate (validation MASE: the loss the combination minimises; mean
        weight over the series; seconds spent validating and refitting; status: ok, failed,
        skipped by the time limit...), then the combination's own row (its validation MASE,
        in-sample for the weights; its status names the rule, and for ``method="auto"`` why
        that one)."""
        if not self._board:
            raise ValueError(f"{self.name} is not fitted: call fit(df) first")
        return pd.DataFrame(self._board, columns=list(LEADERBOARD_COLUMNS))

    @property
    def members_(self) -> list[Forecaster]:
        """The fitted members (the candidates with weight), in candidate order."""
        return list(self._members)

    # ------------------------------------------------------------------ hooks
    def min_train_length(self, val_size: int = 0) -> int:
        """One validation window of ``h`` after ``h + 1`` points (the naive's least)."""
        return 2 * self.h + 1 + val_size

    def min_history_length(self) -> int:
        return max([1, *(m.min_history_length() for m in self._members)])

    def _fit(self, data: SeriesData, val_size: int | None) -> None:
        started = time.perf_counter()
        budget = math.inf if self.time_limit is None else self.time_limit / 2
        season = season_of(data)
        defaults = {"h": self.h, "freq": self.freq, "progress": self.progress}
        candidates = build_candidates(
            self.models, season, defaults, lambda cls: declaration(self, cls)
        )
        check_candidates(candidates, self, data.freqs[0])
        covariates = FrameCovariates.of(self)
        windows = usable_windows(data, self.h, self.n_windows)
        notes = {}
        if self.tune:
            trials = 10 if self.tune is True else self.tune
            held_out = windows * self.h
            notes = tune_candidates(candidates, data, self.h, held_out, trials, budget, covariates)
        deadline = started + budget
        result = validate(
            candidates, data, self.h, windows, deadline, self.on_error, self.progress, covariates
        )
        for row in result.rows:
            row["status"] += f"; {notes[row['model']]}" if row["model"] in notes else ""
        if not result.names:
            reasons = "; ".join(f"{row['model']}: {row['status']}" for row in result.rows)
            raise ValueError(f"no candidate of {self.name} could be validated ({reasons})")
        result.scale = series_scales(data, windows * self.h, season)[result.series]  # (N,)
        by_name = {m.name: m for m in candidates}
        limit = math.inf if self.time_limit is None else started + self.time_limit
        while True:  # drop a member whose refit fails or would run out of time, combine again
            weights, overall = self._combine(result, data.n_series)
            failed = _over_time(result, weights, limit) or self._refit(
                result, weights, by_name, data
            )
            if failed is None:
                break
            _drop_candidate(result, failed)
        self._record(result, weights, overall, data)

    def _combine(self, result: Validation, n_series: int):
        overall, weights = combine(
            self.method,
            result.matrix,
            result.actual,
            result.scale,
            result.series,
            n_series,
            self.h,
        )
        return weights, overall

    def _refit(self, result: Validation, weights: np.ndarray, by_name: dict, data: SeriesData):
        """Fit the candidates with weight on all the data; the name of one that fails."""
        covariates = FrameCovariates.of(self)
        frame, static = series_frame(data, covariates), static_frame(data, covariates)
        members = []
        for j in np.flatnonzero(weights.max(axis=0) > 0):
            name = result.names[j]
            row = next(r for r in result.rows if r["model"] == name)
            start = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    members.append(by_name[name].fit(frame, static_df=static))
            except Exception as err:  # noqa: BLE001 - raised, or dropped with a warning
                if self.on_error == "raise":
                    raise
                row["status"] = f"failed at refit: {type(err).__name__}: {err}"
                if len(result.names) == 1:
                    left = f"no candidate of {self.name} is left: {row['status']}"
                    raise ValueError(left) from err
                warnings.warn(f"candidate {name} is left out: {row['status']}", AutoWarning, 3)
                return name
            finally:
                row["refit_s"] = time.perf_counter() - start
        self._members = members
        return None

    def _record(self, result: Validation, weights, overall, data: SeriesData) -> None:
        """Keep the members' weights, the combination's scaled validation errors (the
        conformity scores of the intervals) and the leaderboard."""
        kept = weights.max(axis=0) > 0  # (M,) the members
        self._weights = weights[:, kept] / weights[:, kept].sum(axis=1, keepdims=True)
        self._global = overall.weights[kept] / max(overall.weights[kept].sum(), 1e-300)
        if not self._global.sum() > 0:  # the global ensemble's members all failed at refit
            self._global = self._weights.mean(axis=0)
        self._series_ids = list(data.ids)
        combined = np.sum(result.matrix * weights[result.series], axis=1)  # (N,)
        self._scores = (np.abs(result.actual - combined) / result.scale).reshape(-1, self.h)
        n_windows, n_models = len(result.actual) // self.h, len(result.names)
        status = describe_method(self.method, n_windows, n_models)
        self._board = _board(result, weights, _loss(combined, result), self.name, status)

    def _member_weights(self, ids: list[str]) -> np.ndarray:
        """(n_series, n_members): each series' weights; the global ones for a new series."""
        index = {uid: i for i, uid in enumerate(self._series_ids)}
        return np.stack([self._weights[index[u]] if u in index else self._global for u in ids])

    def _predict(self, data: SeriesData, h: int) -> np.ndarray:
        weights = self._member_weights(data.ids)  # (S, M)
        own = fitted_spec(self, data.freqs[0])  # the covariates data holds
        forecasts = [
            np.asarray(m._predict(member_view(m, data, own), h), np.float64) for m in self._members
        ]
        return np.einsum("msh,sm->sh", np.stack(forecasts), weights)  # (S, h)

    def _predict_quantiles(self, data: SeriesData, h: int, probs: np.ndarray) -> np.ndarray:
        """Split-conformal quantiles from the combination's validation errors, each series'
        radius scaled by its MASE scale."""
        point = self._predict(data, h)
        radius = conformal_quantiles(np.zeros_like(point), self._scores, probs)  # (S, h, Q)
        scale = series_scales(data, 0, season_of(data))
        return point[:, :, None] + radius * scale[:, None, None]

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return saved_state(self)

    def _set_state(self, meta: dict[str, Any], tensors: dict[str, Any]) -> None:
        restore_state(self, meta, tensors)


def _check_tune(value: object) -> bool | int:
    """False, True, or a positive number of trials."""
    if isinstance(value, bool):
        return value
    return check_positive_int("tune (True, False or a number of trials)", value)


def _check_time_limit(value: object) -> float | None:
    if value is None:
        return None
    return check_real("time_limit", value, "> 0 (seconds)", lambda v: v > 0)


def _over_time(result: Validation, weights: np.ndarray, limit: float) -> str | None:
    """The member to leave out so that the refits end by ``limit`` (a ``perf_counter``
    time): the members by weight, heaviest first, each refit expected to take what its
    validation took; the first that would end past ``limit`` is left out (the heaviest is
    always refit). None when every refit fits."""
    if math.isinf(limit):
        return None
    rows = {row["model"]: row for row in result.rows}
    mean = weights.mean(axis=0)  # (M,)
    expected = time.perf_counter()
    for rank, j in enumerate(np.argsort(-mean, kind="stable")):
        if weights[:, j].max() <= 0:
            break
        row = rows[result.names[j]]
        expected += row["validation_s"]
        if rank > 0 and expected > limit:
            row["status"] = (
                f"left out at refit: its refit (about {row['validation_s']:.3g} s, as its "
                f"validation) would end past time_limit"
            )
            return result.names[j]
    return None


def _drop_candidate(result: Validation, name: str) -> None:
    j = result.names.index(name)
    del result.names[j], result.forecasts[j]


def _board(
    result: Validation, weights: np.ndarray, combined: float, name: str, status: str
) -> list[list]:
    """Leaderboard rows: every candidate, then the combination (``status``: its rule)."""
    mean_weight = dict(zip(result.names, weights.mean(axis=0)))
    own = dict(zip(result.names, result.matrix.T))
    scale_free = {n: _loss(own[n], result) for n in result.names}
    rows = []
    for row in result.rows:
        model = row["model"]
        rows.append(
            [
                model,
                scale_free.get(model, math.nan),
                float(mean_weight.get(model, 0.0)),
                float(row.get("validation_s", 0.0)),
                float(row.get("refit_s", 0.0)),
                row["status"],
            ]
        )
    total = sum(r[3] + r[4] for r in rows)
    rows.append([name, combined, 1.0, total, 0.0, status])
    return rows


def _loss(forecast: np.ndarray, result: Validation) -> float:
    return loss(forecast, result.actual, result.scale)
