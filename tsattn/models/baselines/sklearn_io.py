"""Fitted scikit-learn regressors in and out of a model file, without running code on load.

A saved :class:`~tsattn.models.baselines.SklearnForecaster` holds its fitted regressors as a
`skops.io <https://skops.readthedocs.io>`_ archive (stored as a uint8 tensor in the
safetensors file). skops rebuilds objects from an explicit description and refuses every type
that is not trusted: scikit-learn estimators, numpy arrays and builtins by default, plus the
short fixed list :data:`TRUSTED_TYPES` below (the internal state of trees, neighbours, MLPs,
Gaussian processes). Nothing is unpickled, nothing is refitted, no path is read.

Saving checks the same list, so a regressor that could not be loaded back is refused at save
time, with the types that are not trusted named. Both directions also refuse estimator
parameters that could touch the file system or run code: a cache directory (``memory=``) and
callables.

Parameters written as a ``{"class": ..., "params": ...}`` spec (what ``get_params`` shows) are
JSON scalars or lists only, and are checked against the estimator's documented parameter
constraints before anything else happens.

>>> import numpy as np
>>> from sklearn.linear_model import Ridge
>>> fitted = [Ridge().fit(np.eye(3), np.arange(3.0))]
>>> restored = load_regressors(dump_regressors(fitted), count=1, n_features=3)
>>> type(restored[0]).__name__
'Ridge'
"""

from __future__ import annotations

import importlib
import io
import os
import zipfile
from collections.abc import Mapping
from typing import Any

from tsattn import checks
from tsattn.models.baselines.sklearn_fitted import check_fitted_structure

#: Types beyond skops' defaults that fitted scikit-learn regressors hold. A fixed allow-list:
#: extend it deliberately, never from what a file asks for.
TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    "sklearn.metrics._dist_metrics.ChebyshevDistance64",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn.gaussian_process.kernels.ConstantKernel",
    "sklearn.gaussian_process.kernels.DotProduct",
    "sklearn.gaussian_process.kernels.ExpSineSquared",
    "sklearn.gaussian_process.kernels.Matern",
    "sklearn.gaussian_process.kernels.Product",
    "sklearn.gaussian_process.kernels.RBF",
    "sklearn.gaussian_process.kernels.RationalQuadratic",
    "sklearn.gaussian_process.kernels.Sum",
    "sklearn.gaussian_process.kernels.WhiteKernel",
    "sklearn._loss.loss.HalfTweedieLossIdentity",
)
#: JSON scalar types a regressor spec's parameter may hold (lists of them too)
JSON_SCALARS = (bool, int, float, str, type(None))
#: the deepest list nesting a spec parameter may have
MAX_LIST_DEPTH = 3
#: the regressors a model file may hold, by public name; checked by exact type at save and at
#: load, and before a spec's class is imported. Not here: libsvm's SVR / NuSVR (their fitted
#: internals cannot be checked), meta-estimators (their nested estimators and callables).
SAVEABLE_REGRESSORS: tuple[str, ...] = (
    "sklearn.linear_model.LinearRegression",
    "sklearn.linear_model.Ridge",
    "sklearn.linear_model.RidgeCV",
    "sklearn.linear_model.Lasso",
    "sklearn.linear_model.LassoCV",
    "sklearn.linear_model.ElasticNet",
    "sklearn.linear_model.ElasticNetCV",
    "sklearn.linear_model.Lars",
    "sklearn.linear_model.LassoLars",
    "sklearn.linear_model.LassoLarsIC",
    "sklearn.linear_model.BayesianRidge",
    "sklearn.linear_model.ARDRegression",
    "sklearn.linear_model.HuberRegressor",
    "sklearn.linear_model.QuantileRegressor",
    "sklearn.linear_model.SGDRegressor",
    "sklearn.linear_model.PoissonRegressor",
    "sklearn.linear_model.GammaRegressor",
    "sklearn.linear_model.TweedieRegressor",
    "sklearn.linear_model.OrthogonalMatchingPursuit",
    "sklearn.linear_model.TheilSenRegressor",
    "sklearn.svm.LinearSVR",
    "sklearn.kernel_ridge.KernelRidge",
    "sklearn.dummy.DummyRegressor",
    "sklearn.tree.DecisionTreeRegressor",
    "sklearn.tree.ExtraTreeRegressor",
    "sklearn.ensemble.RandomForestRegressor",
    "sklearn.ensemble.ExtraTreesRegressor",
    "sklearn.ensemble.GradientBoostingRegressor",
    "sklearn.ensemble.HistGradientBoostingRegressor",
    "sklearn.neighbors.KNeighborsRegressor",
    "sklearn.neighbors.RadiusNeighborsRegressor",
    "sklearn.neural_network.MLPRegressor",
    "sklearn.gaussian_process.GaussianProcessRegressor",
)
#: scikit-learn estimators that saveable regressors hold inside (forests' trees, boosting's
#: initial estimator and binning)
COMPONENTS: tuple[str, ...] = (
    "sklearn.tree.DecisionTreeRegressor",
    "sklearn.tree.ExtraTreeRegressor",
    "sklearn.dummy.DummyRegressor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
)
#: a skops archive may inflate to at most this many times its size, plus ARCHIVE_ALLOWANCE
#: (tsattn writes them uncompressed: about 1 time)
ARCHIVE_RATIO = 4
ARCHIVE_ALLOWANCE = 1 << 20


def dump_regressors(regressors: list[Any]) -> bytes:
    """The skops archive of fitted regressors, or a ``ValueError`` if it could not be loaded
    back under :data:`TRUSTED_TYPES` or holds an unsafe parameter."""
    import skops.io as sio

    for regressor in regressors:
        check_safe_params(regressor)
        try:
            check_saveable_type(type(regressor))
            check_fitted_structure(regressor, regressor.n_features_in_, saveable_types())
        except ValueError as err:
            raise ValueError(_cannot_save(regressor, str(err))) from None
    try:
        data = sio.dumps(regressors)
    except Exception as err:  # skops' own errors for types it cannot describe
        raise ValueError(_cannot_save(regressors[0], f"skops cannot store it ({err})")) from None
    untrusted = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))
    if untrusted:
        raise ValueError(_cannot_save(regressors[0], f"it holds untrusted types {untrusted}"))
    return data


def load_regressors(data: bytes, count: int, n_features: int) -> list[Any]:
    """``count`` fitted regressors from a skops archive, each checked; else ``ValueError``.

    Only skops' default trusted types and :data:`TRUSTED_TYPES` are rebuilt; nothing is
    executed, fitted or read from any other path.
    """
    import skops.io as sio

    check_archive_size(data)
    try:
        regressors = sio.loads(data, trusted=list(TRUSTED_TYPES))
    except Exception as err:  # malformed archive or an untrusted type: never trust it
        reason = short_repr(err)
        raise ValueError(f"the stored regressors cannot be loaded safely ({reason})") from None
    if not isinstance(regressors, list) or len(regressors) != count:
        raise ValueError(f"the stored regressors are not a list of {count} fitted estimators")
    for regressor in regressors:
        check_fitted_regressor(regressor, n_features)
    return regressors


def check_fitted_regressor(regressor: Any, n_features: int) -> None:
    """A loaded object must be a safe, fitted scikit-learn regressor on ``n_features`` lags."""
    from sklearn.base import BaseEstimator

    if not isinstance(regressor, BaseEstimator) or estimator_type(regressor) != "regressor":
        raise ValueError(f"the stored object {type(regressor).__name__} is not a regressor")
    check_saveable_type(type(regressor))
    check_safe_params(regressor)
    seen = getattr(regressor, "n_features_in_", n_features)
    if seen != n_features:
        raise ValueError(
            f"the stored {type(regressor).__name__} was fitted on {seen!r} features, "
            f"not the model's {n_features} features"
        )
    check_fitted_structure(regressor, n_features, saveable_types())


def saveable_types() -> tuple[type, ...]:
    """The classes of :data:`SAVEABLE_REGRESSORS` and :data:`COMPONENTS` this scikit-learn has."""
    return tuple(cls for cls in map(_public_class, SAVEABLE_REGRESSORS + COMPONENTS) if cls)


def _public_class(path: str) -> type | None:
    """The class at ``path``, a name from the fixed lists above (never from a file)."""
    module_name, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module_name), name, None)


def saveable_class(path: str) -> type:
    """The saveable regressor class named ``path`` (its public name, or its module path as
    ``get_params`` writes it); nothing is imported for a name that is not in the list."""
    for public in SAVEABLE_REGRESSORS:
        cls = _public_class(public)
        if cls is not None and path in (public, f"{cls.__module__}.{cls.__qualname__}"):
            return cls
    raise ValueError(
        f"{short_repr(path)} is not a regressor a model file can hold; saveable regressors: "
        f"{', '.join(p.rpartition('.')[2] for p in SAVEABLE_REGRESSORS)}"
    )


def check_saveable_type(cls: type) -> None:
    """``cls`` must be one of :data:`SAVEABLE_REGRESSORS`, exactly (not a subclass)."""
    saveable_class(f"{cls.__module__}.{cls.__qualname__}")


def check_archive_size(data: bytes) -> None:
    """Refuse an archive whose entries would inflate beyond ``ARCHIVE_RATIO`` times its size
    plus ``ARCHIVE_ALLOWANCE`` (a zip bomb), from its directory alone, before reading it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise ValueError(f"the stored regressors are not a skops archive ({err})") from None
    limit = ARCHIVE_RATIO * len(data) + ARCHIVE_ALLOWANCE
    if total > limit:
        raise ValueError(
            f"the stored regressors' archive ({len(data):,} bytes) would inflate to "
            f"{total:,} bytes, more than the {limit:,} allowed"
        )


def check_safe_params(estimator: Any) -> None:
    """Refuse parameters that touch the file system or run code: ``memory`` caches (read
    back with pickle), path objects and callables other than nested estimators."""
    from sklearn.base import BaseEstimator

    if not isinstance(estimator, BaseEstimator):
        return
    for name, value in estimator.get_params(deep=True).items():
        if name.split("__")[-1] == "memory" and value is not None:
            raise ValueError(
                f"{type(estimator).__name__} parameter {name}={short_repr(value)}: a cache "
                f"directory is not allowed (it is read back with pickle); use memory=None"
            )
        if name.split("__")[-1] == "n_jobs" and value is not None:
            checks.check_n_jobs(value, f"{type(estimator).__name__} parameter {name}")
        if isinstance(value, os.PathLike):
            raise ValueError(f"{type(estimator).__name__} parameter {name} is a path")
        if callable(value) and not isinstance(value, BaseEstimator | type):
            raise ValueError(
                f"{type(estimator).__name__} parameter {name}={short_repr(value)}: callables "
                f"cannot be saved or loaded; use a built-in option name"
            )


def estimator_from_spec(cls: type, params: Mapping[str, Any]) -> Any:
    """An unfitted ``cls(**params)``, its params JSON values checked against the estimator's
    documented parameter constraints (``ValueError`` otherwise)."""
    for name, value in params.items():
        if not isinstance(name, str) or not is_json_value(value, MAX_LIST_DEPTH):
            raise ValueError(
                f"regressor parameter {name!r}={short_repr(value)}: only JSON numbers, strings, "
                f"booleans, null and lists of them are allowed"
            )
    try:
        estimator = cls(**params)
        validate = getattr(estimator, "_validate_params", None)
        if validate is not None:
            validate()  # scikit-learn's documented types and ranges
    except (TypeError, ValueError) as err:
        raise ValueError(f"regressor {cls.__name__} parameters: {short_repr(err)}") from None
    check_safe_params(estimator)
    return estimator


def estimator_type(estimator: Any) -> str | None:
    """scikit-learn's estimator type ("regressor", "classifier"...) or None if unknown."""
    from sklearn.base import BaseEstimator

    if not isinstance(estimator, BaseEstimator):
        return None
    try:
        from sklearn.utils import get_tags  # scikit-learn >= 1.6
    except ImportError:  # pragma: no cover - older scikit-learn
        return getattr(estimator, "_estimator_type", None)
    return get_tags(estimator).estimator_type


def is_json_value(value: Any, depth: int = MAX_LIST_DEPTH) -> bool:
    """True for a JSON scalar or a list (tuple) of them, nested at most ``depth`` deep."""
    if isinstance(value, JSON_SCALARS):
        return True
    if isinstance(value, list | tuple) and depth > 0:
        return all(is_json_value(item, depth - 1) for item in value)
    return False


def _cannot_save(regressor: Any, why: str) -> str:
    return (
        f"cannot save a SklearnForecaster with {type(regressor).__name__}: {why}. Model files "
        f"only hold the scikit-learn regressors in SAVEABLE_REGRESSORS (linear models, trees and "
        f"forests, gradient boosting, neighbours, MLP, Gaussian processes, LinearSVR)"
    )


def short_repr(obj: Any, limit: int = 120) -> str:
    """``repr(obj)`` (an exception: its message) cut to ``limit`` characters."""
    if isinstance(obj, BaseException):
        text = str(obj)
        return text if len(text) <= limit else text[: limit - 3] + "..."
    return checks.short_repr(obj, limit)
