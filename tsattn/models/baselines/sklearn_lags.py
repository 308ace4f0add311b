"""Any scikit-learn regressor as a global forecaster on lag features (direct multi-step).

Windows of ``lags`` past values (stride 1, pooled over all series) are the features; one
clone of the regressor per horizon step predicts that step (the direct strategy, so ``h``
is fixed at construction). With ``center=True`` every window is shifted by the mean of its
inputs, so series of different levels share one model.

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
        x, y = self._training_windows(data)  # (N, lags), (N, h)
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ValueError(f"{self.name} cannot fit: {input_range_problem(data)}")
        self._regressors = [clone(base, safe=False).fit(x, y[:, k]) for k in range(self.h)]

    def _n_lags(self) -> int:
        """The lags in use: the given ``lags``, or the one :func:`default_lags` chose at fit."""
        if self.lags_ is None:
            raise ValueError(f"{self.name} has no lags yet: call fit first (lags=None)")
        return self.lags_

    def _predict(self, data: SeriesData, h: int) -> np.ndarray:
        lags = self._n_lags()
        x = np.stack([values[-lags:] for values in data.values])  # (S, lags)
        level = x.mean(axis=1, keepdims=True) if self.center else np.zeros((len(x), 1))
        steps = [reg.predict(x - level) for reg in self._regressors[:h]]  # h x (S,)
        return np.stack(steps, axis=1) + level  # (S, h)

    def _training_windows(self, data: SeriesData) -> tuple[np.ndarray, np.ndarray]:
        lags = self._n_lags()
        x, y = lag_windows(data.values, lags, self.h)  # (N, lags), (N, h) pooled over series
        level = x.mean(axis=1, keepdims=True) if self.center else 0.0
        return x - level, y - level

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        check_savable(self.regressor)
        archive = dump_regressors(self._regressors)
        return {"regressors": "skops", "lags": self.lags_}, {
            SKOPS_TENSOR: torch.frombuffer(bytearray(archive), dtype=torch.uint8)
        }

    def _set_state(self, meta: dict[str, Any], tensors: dict[str, Any]) -> None:
        archive = tensors.get(SKOPS_TENSOR)
        if meta.get("regressors") != "skops" or archive is None or archive.dtype != torch.uint8:
            raise ValueError(
                "no stored regressors (files from tsattn before format 2 refitted on load, "
                "which is no longer done: fit the model again and save it)"
            )
        lags = self.lags if self.lags is not None else meta.get("lags")
        self.lags_ = check_positive_int("lags", lags)
        regressors = load_regressors(archive.numpy().tobytes(), count=self.h, n_features=lags)
        expected = json.dumps(regressor_spec(build_regressor(self.regressor)), sort_keys=True)
        if any(json.dumps(regressor_spec(reg), sort_keys=True) != expected for reg in regressors):
            raise ValueError(
                "the stored regressors do not match the regressor class and parameters in the "
                "file's header"
            )
        self._regressors = regressors

    def min_train_length(self, val_size: int = 0) -> int:
        if self.lags is None:  # default_lags needs (shortest - h) // 2 >= 1
            return self.h + 2
        return self.lags + self.h

    def min_history_length(self) -> int:
        return self.lags_ or self.lags or 1


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
