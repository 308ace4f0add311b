"""A tiny factory per registered model: the one list the model-driven tests are fed from.

``FACTORIES[name](h, context=48, **options)`` builds a small, seeded, CPU-only, quiet model
registered as ``name`` in :func:`tsattn.models.list_models`. ``context`` is the look-back in
steps, mapped onto each model's own option (``input_size``, ``lags``, ``context_length``,
half of it as the season); ``options`` are passed through (``fill=...``, ``freq=...``).
``test_factories_cover_the_registry`` fails when a model is registered without a factory
here, so a new model cannot go untested.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import pytest

import tsattn
import tsattn.auto  # noqa: F401 - registers "auto" whatever the tests import first
from tsattn.models import Forecaster, list_models

#: training options every tiny neural model shares
TRAINING = {"max_epochs": 1, "batch_size": 32, "progress": False, "device": "cpu", "seed": 0}
#: the smallest encoder (PatchTST, Transformer)
ENCODER = {"d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 16}
HAS_LIGHTNING = importlib.util.find_spec("lightning") is not None
NO_LIGHTNING = 'lightning is not installed: pip install "tsattn[gluonts]" to test gluonts'


def _season(context: int) -> int:
    return max(2, context // 2)


def _patchtst(h: int, context: int = 48, **options) -> Forecaster:
    patch_len = max(2, min(16, context // 3))
    return tsattn.PatchTST(
        h=h,
        input_size=context,
        patch_len=patch_len,
        stride=max(1, patch_len // 2),
        **{**TRAINING, **ENCODER, **options},
    )


def _gluonts(h: int, context: int = 48, **options) -> Forecaster:
    estimator_kwargs = {
        "num_batches_per_epoch": 2,
        "batch_size": 16,
        "context_length": context,
        "patch_len": max(1, min(8, context // 3)),
    }
    return tsattn.GluonTSForecaster(
        "patchtst", h=h, max_epochs=1, estimator_kwargs=estimator_kwargs, **options
    )


def _sklearn(h: int, context: int = 48, **options) -> Forecaster:
    from sklearn.linear_model import Ridge

    return tsattn.SklearnForecaster(Ridge(), lags=min(context, 24), h=h, **options)


FACTORIES: dict[str, Callable[..., Forecaster]] = {
    "arima": lambda h, context=48, **kw: tsattn.ARIMA(order=(2, 0, 0), h=h, **kw),
    # non-seasonal: the contract checks need no seasonal search (exact SARIMAX fits at m=24
    # take minutes); the seasonal search is tested in test_auto_baselines.py
    "auto_arima": lambda h, context=48, **kw: tsattn.AutoARIMA(
        max_p=1, max_q=1, season_length=1, h=h, **kw
    ),
    # two cheap candidates: the choosing, weighting and nested saving are what is tested
    "auto": lambda h, context=48, **kw: tsattn.AutoForecaster(
        h=h, models=["naive", f"seasonal_naive:season_length={_season(context)}"], **kw
    ),
    "dlinear": lambda h, context=48, **kw: tsattn.DLinear(
        h=h, input_size=context, kernel_size=min(25, context - 1 | 1), **{**TRAINING, **kw}
    ),
    "ets": lambda h, context=48, **kw: tsattn.ETS(trend="add", damped_trend=True, h=h, **kw),
    "gluonts": _gluonts,
    "naive": lambda h, context=48, **kw: tsattn.Naive(h=h, **kw),
    "nlinear": lambda h, context=48, **kw: tsattn.NLinear(
        h=h, input_size=context, **{**TRAINING, **kw}
    ),
    "patchtst": _patchtst,
    "seasonal_naive": lambda h, context=48, **kw: tsattn.SeasonalNaive(
        season_length=_season(context), h=h, **kw
    ),
    "sklearn": _sklearn,
    "theta": lambda h, context=48, **kw: tsattn.Theta(season_length=_season(context), h=h, **kw),
    "transformer": lambda h, context=48, **kw: tsattn.Transformer(
        h=h, input_size=context, **{**TRAINING, **ENCODER, **kw}
    ),
    "vanilla_transformer": lambda h, context=48, **kw: tsattn.VanillaTransformer(
        h=h, input_size=context, **{**TRAINING, **ENCODER, **kw}
    ),
}

#: models that need an optional extra, and the module that extra provides
NEEDS = {"gluonts": ("lightning", NO_LIGHTNING)}
#: the networks trained by tsattn's own engine (seeded, bit-reproducible on CPU)
NEURAL = sorted(n for n in FACTORIES if "max_epochs" in tsattn.models.MODELS.get(n).param_names())
NEURAL.remove("gluonts")
#: models with an ``attention`` option
ATTENTION_MODELS = sorted(
    n for n in FACTORIES if "attention" in tsattn.models.MODELS.get(n).param_names()
)


def model_params(names=None) -> list:
    """``list_models()`` (or ``names``) as pytest params; a model whose extra is missing is
    skipped with the reason."""
    params = []
    for name in list_models() if names is None else names:
        marks = []
        if name in NEEDS and importlib.util.find_spec(NEEDS[name][0]) is None:
            marks.append(pytest.mark.skip(reason=NEEDS[name][1]))
        params.append(pytest.param(name, marks=marks, id=name))
    return params


def available_models() -> list[str]:
    """The registered models whose optional extras are importable (for hypothesis)."""
    return [n for n in list_models() if n not in NEEDS or importlib.util.find_spec(NEEDS[n][0])]
