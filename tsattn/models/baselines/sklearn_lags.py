"""Any scikit-learn regressor as a global forecaster on lag features (direct multi-step).

Windows of ``lags`` past values (stride 1, pooled over all series) are the features; one
clone of the regressor per horizon step predicts that step (the direct strategy, so ``h``
is fixed at construction). With ``center=True`` every window is shifted by the mean of its
inputs, so series of different levels share one model.

Covariates (``futr_exog_list`` with ``calendar``/``holidays``, ``hist_exog_list``,
``stat_exog_list``) add features beside the lags, each standardized by statistics of the
training rows (:class:`~tsattn.models.covariates.CovariateScaler`, saved with the model):

* a future-known covariate: its values over the lag window and at the step predicted
  (the regressor of step ``k`` sees step ``k``'s value, from ``futr_df`` at predict time);
* a past-only covariate: its values over the lag window only, i.e. strictly before the
  forecast origin, for every step ahead (a value after the cutoff never reaches a forecast);
* a static covariate: its value, the same in every window of the series.

The feature layout (lags and the number of columns of each kind) is saved, and checked on
load against the stored regressors and the model's covariates.

Saving never pickles the regressor: the fitted regressors are stored as a skops archive
restricted to trusted types (see :mod:`tsattn.models.baselines.sklearn_io`), and loading
rebuilds them as they were, without refitting, importing anything outside scikit-learn or
touching any other path.

>>> import numpy as np, pandas as pd
>>> from sklearn.linear_model import LinearRegression
>>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=30,
...                    freq="D"), "y": np.arange(30.0)})
>>> model = SklearnForecaster(LinearRegression(), lags=3, h=2).fit(df)
>>> model.predict()["SklearnForecaster"].round(6).tolist()
[30.0, 31.0]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from tsattn.checks import check_keywords, check_positive_int
from tsattn.datasets.windows import lag_windows
from tsattn.models.base import Forecaster, register_model
from tsattn.models.baselines._local import resolve_season
from tsattn.models.baselines.sklearn_io import (
    check_safe_params,
    dump_regressors,
    estimator_from_spec,
    estimator_type,
    is_json_value,
    load_regressors,
    saveable_class,
    short_repr,
)
from tsattn.models.covariate_scaling import CovariateScaler
from tsattn.models.covariates import KINDS as COVARIATE_KINDS
from tsattn.models.series_data import SeriesData, input_range_problem

ALLOWED_PREFIX = "sklearn."
#: the safetensors key of the skops archive of the fitted regressors
SKOPS_TENSOR = "__sklearn__.regressors"
#: what ``regressor=`` accepts, for error messages
ACCEPTED = (
    "accepted: None (Ridge()), an unfitted scikit-learn regressor instance such as Ridge() "
    "or RandomForestRegressor() (or any object with fit and predict methods), or a "
    "{'class': 'sklearn.<module>.<Name>', 'params': {...}} spec"
)
#: scikit-learn estimator types that have fit/predict but do not regress
NOT_REGRESSORS = ("classifier", "clusterer", "outlier_detector")


@register_model("sklearn")
class SklearnForecaster(Forecaster):
    """A scikit-learn regressor on lag features, one clone per horizon step.

    Args:
        regressor: an unfitted scikit-learn regressor (default ``Ridge()``), or the
            ``{"class": ..., "params": ...}`` spec that ``get_params`` returns for it. Any
            other object with ``fit`` and ``predict`` methods works too (but cannot be
            saved). Anything else (a name, a class, a classifier) is a ``ValueError`` here.
        lags: number of past values used as features; ``None`` (the default) chooses it from
            the data at ``fit`` (:func:`default_lags`: one season of the frequency or ``h``,
            whichever is longer, and at most half of what the shortest series leaves after
            ``h``); the chosen value is ``lags_`` and survives save/load.
        h: horizon; ``predict`` can ask for fewer steps, not more.
        center: subtract each window's input mean from its inputs and targets.
        **kwargs: the shared options of :class:`~tsattn.models.Forecaster`.
    """

    supports_longer_horizon = False
    supports_covariates = COVARIATE_KINDS

    def __init__(
        self,
        regressor: Any = None,
        lags: int | None = None,
        h: int = 1,
        center: bool = True,
        **kwargs: Any,
    ):
        check_keywords(type(self), kwargs)
        super().__init__(h, **kwargs)
        check_regressor(regressor)
        if lags is not None:
            check_positive_int("lags", lags)
        self.regressor, self.lags, self.center = regressor, lags, center
        self.lags_: int | None = lags
        self._regressors: list[Any] = []
        self._scaler: CovariateScaler | None = None  # fitted on the training rows

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments; the regressor as its JSON-able ``{"class", "params"}``."""
        params = super().get_params()
        params["regressor"] = regressor_spec(self.regressor)
        return params

    def _fit(self, data: SeriesData, val_size: int | None) -> None:
        from sklearn.base import clone

        base = build_regressor(self.regressor)
        if self.lags is None:
            self.lags_ = default_lags(self.h, resolve_season(None, data), data.min_length)
        self._scaler = fit_scaler(data, self.h) if data.has_covariates else None
        x, y = self._training_windows(data)  # (N, lags), (N, h)
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ValueError(f"{self.name} cannot fit: {input_range_problem(data)}")
        features = self._training_covariates(data)  # (N, shared), [(N, F)] * h
        self._regressors = [
            clone(base, safe=False).fit(with_covariates(x, features, k), y[:, k])
            for k in range(self.h)
        ]

    def _n_lags(self) -> int:
        """The lags in use: the given ``lags``, or the one :func:`default_lags` chose at fit."""
        if self.lags_ is None:
            raise ValueError(f"{self.name} has no lags yet: call fit first (lags=None)")
        return self.lags_

    def _predict(self, data: SeriesData, h: int) -> np.ndarray:
        lags = self._n_lags()
        x = np.stack([values[-lags:] for values in data.values])  # (S, lags)
        level = x.mean(axis=1, keepdims=True) if self.center else np.zeros((len(x), 1))
        features = self._forecast_covariates(data, h)  # (S, shared), [(S, F)] * h
        steps = [
            reg.predict(with_covariates(x - level, features, k))
            for k, reg in enumerate(self._regressors[:h])
        ]  # h x (S,)
        return np.stack(steps, axis=1) + level  # (S, h)

    def _training_covariates(self, data: SeriesData) -> CovariateFeatures | None:
        """The covariate features of every training window, in :func:`lag_windows`' order:
        window ``j`` of a series has inputs ``[j, j + lags)`` and targets from ``j + lags``."""
        if self._scaler is None:
            return None
        lags, h = self._n_lags(), self.h
        shared, ahead = [], []
        for i, values in enumerate(data.values):
            n_windows = len(values) - lags - h + 1
            parts = []
            futr = self._scaled(data, "futr", i)  # (n, F) or None
            hist = self._scaled(data, "hist", i)  # (n, P) or None
            for block in (futr, hist):
                if block is not None:  # the lag window's rows: (N, lags * K)
                    parts.append(_windows(block, lags)[:n_windows].reshape(n_windows, -1))
            if data.static is not None:
                row = self._scaler.scale("stat", data.static[i])  # (S,)
                parts.append(np.broadcast_to(row, (n_windows, len(row))))
            shared.append(np.concatenate(parts, axis=1) if parts else np.zeros((n_windows, 0)))
            if futr is not None:  # the value at the step predicted: (h, N, F)
                ahead.append(np.stack([futr[lags + k : lags + k + n_windows] for k in range(h)]))
        steps = np.concatenate(ahead, axis=1) if ahead else None  # (h, N_total, F)
        return CovariateFeatures(np.concatenate(shared), steps)

    def _forecast_covariates(self, data: SeriesData, h: int) -> CovariateFeatures | None:
        """The covariate features of each series' forecast origin (its end): the last
        ``lags`` rows of the history covariates, and the future-known rows ahead."""
        if self._scaler is None:
            return None
        lags = self._n_lags()
        shared, ahead = [], []
        for i in range(data.n_series):
            parts = []
            futr = self._scaled(data, "futr", i)
            for block in (futr, self._scaled(data, "hist", i)):
                if block is not None:
                    parts.append(block[-lags:].reshape(-1))  # (lags * K,)
            if data.static is not None:
                parts.append(self._scaler.scale("stat", data.static[i]))
            shared.append(np.concatenate(parts) if parts else np.zeros(0))
            if futr is not None:
                if data.future is None or len(data.future[i]) < h:
                    raise ValueError(
                        f"{self.name} needs the future-known covariates of series "
                        f"{data.ids[i]!r} at its {h} forecast dates: pass futr_df= to predict"
                    )
                ahead.append(self._scaler.scale("futr", data.future[i][:h]))  # (h, F)
        steps = np.stack(ahead, axis=1) if ahead else None  # (h, S, F)
        return CovariateFeatures(np.stack(shared), steps)

    def _scaled(self, data: SeriesData, kind: str, i: int) -> np.ndarray | None:
        """Series ``i``'s ``kind`` covariates, standardized, or None when it has none."""
        arrays = getattr(data, kind)
        if arrays is None or self._scaler is None:
            return None
        width = self._layout()[kind]
        if arrays[i].shape[1] != width:
            raise ValueError(
                f"{self.name} was fitted on {width} {kind} covariate columns, series "
                f"{data.ids[i]!r} has {arrays[i].shape[1]}"
            )
        return self._scaler.scale(kind, arrays[i])

    def _layout(self) -> dict[str, int]:
        """Columns of each covariate kind the regressors were fitted on."""
        stats = self._scaler.stats if self._scaler is not None else {}
        return {kind: len(stats[kind][0]) if kind in stats else 0 for kind in COVARIATE_KINDS}

    def n_features(self, layout: dict[str, int] | None = None) -> int:
        """Features of each regressor: the lags, then (lags + 1) values of each future-known
        covariate, lags values of each past-only one, one of each static one."""
        widths = self._layout() if layout is None else layout
        lags = self._n_lags()
        return lags + (lags + 1) * widths["futr"] + lags * widths["hist"] + widths["stat"]

    def _training_windows(self, data: SeriesData) -> tuple[np.ndarray, np.ndarray]:
        lags = self._n_lags()
        x, y = lag_windows(data.values, lags, self.h)  # (N, lags), (N, h) pooled over series
        level = x.mean(axis=1, keepdims=True) if self.center else 0.0
        return x - level, y - level

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        check_savable(self.regressor)
        archive = dump_regressors(self._regressors)
        meta: dict[str, Any] = {"regressors": "skops", "lags": self.lags_}
        tensors = {SKOPS_TENSOR: torch.frombuffer(bytearray(archive), dtype=torch.uint8)}
        if self._scaler is not None:
            meta["covariates"] = self._layout()
            tensors.update(
                {k: torch.from_numpy(v.copy()) for k, v in self._scaler.tensors().items()}
            )
        return meta, tensors

    def _set_state(self, meta: dict[str, Any], tensors: dict[str, Any]) -> None:
        archive = tensors.get(SKOPS_TENSOR)
        if meta.get("regressors") != "skops" or archive is None or archive.dtype != torch.uint8:
            raise ValueError(
                "no stored regressors (files from tsattn before format 2 refitted on load, "
                "which is no longer done: fit the model again and save it)"
            )
        lags = self.lags if self.lags is not None else meta.get("lags")
        self.lags_ = check_positive_int("lags", lags)
        layout = self._saved_layout(meta)
        self._scaler = None
        if any(layout.values()):
            self._scaler = CovariateScaler.from_tensors(
                {k: v.numpy() for k, v in tensors.items() if k.startswith("covariates.")}, layout
            )
        n_features = self.n_features(layout)
        regressors = load_regressors(archive.numpy().tobytes(), count=self.h, n_features=n_features)
        expected = json.dumps(regressor_spec(build_regressor(self.regressor)), sort_keys=True)
        if any(json.dumps(regressor_spec(reg), sort_keys=True) != expected for reg in regressors):
            raise ValueError(
                "the stored regressors do not match the regressor class and parameters in the "
                "file's header"
            )
        self._regressors = regressors

    def _saved_layout(self, meta: dict[str, Any]) -> dict[str, int]:
        """The saved columns of each covariate kind: those the model's covariates give on
        its saved history, or a ``ValueError``."""
        history = self._history
        expected = {kind: 0 for kind in COVARIATE_KINDS}
        if history is not None:
            for kind in ("futr", "hist"):
                arrays = getattr(history, kind)
                expected[kind] = 0 if arrays is None else arrays[0].shape[1]
            expected["stat"] = 0 if history.static is None else history.static.shape[1]
        saved = meta.get("covariates", {kind: 0 for kind in COVARIATE_KINDS})
        if not isinstance(saved, dict) or saved != expected:
            raise ValueError(
                f"saved state 'covariates' {short_repr(saved)} does not match the model's "
                f"covariate columns {expected}"
            )
        return expected

    def min_train_length(self, val_size: int = 0) -> int:
        if self.lags is None:  # default_lags needs (shortest - h) // 2 >= 1
            return self.h + 2
        return self.lags + self.h

    def min_history_length(self) -> int:
        return self.lags_ or self.lags or 1


@dataclass(frozen=True)
class CovariateFeatures:
    """Covariate features of a batch of windows: those every step's regressor shares
    (lag-window rows of future-known and past-only covariates, static values) and the
    future-known values at each step predicted."""

    shared: np.ndarray  # (N, shared features)
    steps: np.ndarray | None  # (h, N, F): step k's future-known values, None without any


def fit_scaler(data: SeriesData, h: int) -> CovariateScaler:
    """Statistics of the covariate rows the training windows read: every row of the
    future-known ones, and of the past-only ones the rows before the last ``h`` (values
    after the last window's origin are never features, so they never move the fit)."""
    every = CovariateScaler.fit(data, [len(v) for v in data.values])
    if data.hist is not None:
        inputs = CovariateScaler.fit(data, [len(v) - h for v in data.values])
        every.stats["hist"] = inputs.stats["hist"]
    return every


def with_covariates(x: np.ndarray, features: CovariateFeatures | None, k: int) -> np.ndarray:
    """The features of step ``k``'s regressor: lags ``x`` (N, lags), then the shared
    covariate features, then the future-known values at step ``k``."""
    if features is None:
        return x
    parts = [x, features.shared]
    if features.steps is not None:
        parts.append(features.steps[k])
    return np.concatenate(parts, axis=1)


def _windows(block: np.ndarray, lags: int) -> np.ndarray:
    """Every ``lags``-row window of ``block`` (n, K), stride 1: (n - lags + 1, lags, K)."""
    view = np.lib.stride_tricks.sliding_window_view(block, lags, axis=0)  # (W, K, lags)
    return view.transpose(0, 2, 1)


def default_lags(h: int, season: int, shortest: int) -> int:
    """``lags=None``: ``max(season, h)`` past values, at most ``(shortest - h) // 2`` so that
    the shortest series still gives as many training windows as lags, at least 1.

    >>> default_lags(h=24, season=24, shortest=1000), default_lags(h=6, season=1, shortest=34)
    (24, 6)
    >>> default_lags(h=8, season=52, shortest=100)
    46
    """
    return max(1, min(max(season, h), (shortest - h) // 2))


def regressor_spec(regressor: Any) -> dict[str, Any] | None:
    """``{"class": "sklearn....Name", "params": get_params(deep=False)}`` of a regressor."""
    if regressor is None or isinstance(regressor, dict):
        return regressor
    cls = type(regressor)
    path = f"{cls.__module__}.{cls.__qualname__}"
    if not path.startswith(ALLOWED_PREFIX):
        raise ValueError(
            f"only scikit-learn estimators can be saved (got {path}); "
            f"use one from the sklearn package"
        )
    return {"class": path, "params": regressor.get_params(deep=False)}


def check_savable(regressor: Any) -> None:
    """Only a regressor whose parameters are JSON values can be written to a model file."""
    spec = regressor_spec(regressor)
    params = spec["params"] if spec else {}
    nested = sorted(name for name, value in params.items() if not is_json_value(value))
    if nested:
        raise ValueError(
            f"cannot save a SklearnForecaster with {spec['class']}: parameter(s) {nested} are "
            f"not JSON values (numbers, strings, lists); pass a single regressor such as Ridge()"
        )


def check_regressor(regressor: Any) -> None:
    """Raise a ``ValueError`` naming ``regressor`` unless ``regressor=`` accepts it.

    >>> check_regressor("ridge")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: regressor must be a regressor object, not the string 'ridge'; ...
    """
    if regressor is None:
        return
    if isinstance(regressor, dict):
        regressor = build_regressor(regressor)  # only sklearn classes, JSON params, validated
    if isinstance(regressor, str):
        raise ValueError(
            f"regressor must be a regressor object, not the string {regressor!r}; {ACCEPTED}"
        )
    if isinstance(regressor, type):
        name = regressor.__name__
        raise ValueError(
            f"regressor must be an instance, not the class {name}: pass {name}() "
            f"(with its parameters); {ACCEPTED}"
        )
    missing = [m for m in ("fit", "predict") if not callable(getattr(regressor, m, None))]
    if missing:
        raise ValueError(
            f"regressor {regressor!r} (type {type(regressor).__name__}) is not a regressor: it "
            f"has no {' or '.join(missing)} method; {ACCEPTED}"
        )
    kind = estimator_type(regressor)
    if kind in NOT_REGRESSORS:
        raise ValueError(
            f"regressor {short_repr(regressor)} is a scikit-learn "
            f"{kind.replace('_', ' ')}, not a regressor; {ACCEPTED}"
        )
    check_safe_params(regressor)


def build_regressor(regressor: Any) -> Any:
    """An unfitted estimator from ``None`` (Ridge), an estimator, or a saved spec."""
    from sklearn.base import clone
    from sklearn.linear_model import Ridge

    if regressor is None:
        return Ridge()
    if isinstance(regressor, dict):
        path, params = _spec_parts(regressor)
        return estimator_from_spec(_class_from_path(path), params)
    if not (hasattr(regressor, "fit") and hasattr(regressor, "predict")):
        raise ValueError(f"regressor must be a scikit-learn regressor, got {regressor!r}")
    return clone(regressor, safe=False)  # a deep copy for non-sklearn objects


def _spec_parts(spec: dict) -> tuple[str, dict[str, Any]]:
    """(class path, params) of a ``{"class": ..., "params": ...}`` spec, or a ValueError."""
    unknown = sorted(map(str, set(spec) - {"class", "params"}))
    path, params = spec.get("class"), spec.get("params", {})
    if unknown or not isinstance(path, str) or not isinstance(params, dict):
        raise ValueError(
            f"regressor spec {short_repr(spec)} must be {{'class': 'sklearn.<module>.<Name>', "
            f"'params': {{...}}}} (params optional); {ACCEPTED}"
        )
    return path, params


def _class_from_path(path: str) -> type:
    """The class of a spec, only if it is one of the saveable regressors (an allow-list
    checked before anything is imported)."""
    if not isinstance(path, str) or not path.startswith(ALLOWED_PREFIX):
        raise ValueError(
            f"refusing to load regressor class {short_repr(path)}: not in the sklearn package"
        )
    return saveable_class(path)
