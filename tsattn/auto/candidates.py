"""The candidates an AutoForecaster validates: the default set for a frequency, or the user's.

A candidate is given as a spec string (``"patchtst:mlr"``, ``"ets:trend=add"``: the CLI's
``--models`` syntax), a Forecaster instance, or a saved description ``{"model": name,
"params": {...}}`` (what :meth:`AutoForecaster.get_params` writes for an instance, so a model
file never holds more than JSON).

The default set, cheapest first (the order in which a ``time_limit`` drops them from the end):
naive, seasonal naive (when the frequency has a season), Theta, ETS, DLinear, AutoARIMA (when
the season is at most :data:`ARIMA_MAX_SEASON` steps: its seasonal search grows fast with the
season), PatchTST and the encoder-only Transformer, each with its defaults for users' series.
The two networks are both in it because they err differently (patches against one token
per step): on M4 Hourly the greedy ensemble of the set with the Transformer weighs PatchTST
2/3 and the Transformer 1/3, OWA 0.427 against PatchTST's 0.433 and the Transformer's 0.450
in the same run; without it the ensemble was PatchTST alone (``benchmarks/auto.py --m4``).

>>> default_specs(24)
['naive', 'seasonal_naive:season_length=24', 'theta', 'ets', 'dlinear', 'patchtst', 'transformer']
>>> default_specs(1)
['naive', 'theta', 'ets', 'dlinear', 'auto_arima', 'patchtst', 'transformer']
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from tsattn.checks import short_repr
from tsattn.models.base import Forecaster
from tsattn.models.catalog import MODELS
from tsattn.models.factory import build_model, parse_model_spec

#: the longest season for which the default set includes AutoARIMA (monthly data: 12)
ARIMA_MAX_SEASON = 12
#: the keys of a saved candidate description
DESCRIPTION_KEYS = frozenset({"model", "params"})


def default_specs(season: int) -> list[str]:
    """The default candidates for data whose season is ``season`` steps (1: none)."""
    specs = ["naive"]
    if season > 1:
        specs.append(f"seasonal_naive:season_length={season}")
    specs += ["theta", "ets", "dlinear"]
    if season <= ARIMA_MAX_SEASON:
        specs.append("auto_arima")
    return [*specs, "patchtst", "transformer"]


def check_models(models: object) -> list | None:
    """``models=`` checked: None (the default set) or a non-empty list of specs, Forecaster
    instances or saved descriptions, none of them an AutoForecaster."""
    if models is None:
        return None
    if isinstance(models, str | Forecaster | Mapping) or not isinstance(models, list | tuple):
        raise ValueError(
            f"models must be a list of model specs or Forecasters, e.g. ['ets', 'patchtst'], "
            f"got {short_repr(models)}"
        )
    if not models:
        raise ValueError("models is empty: give at least one candidate, or None for the default")
    for entry in models:
        _check_entry(entry)
    return list(models)


def _check_entry(entry: object) -> None:
    if isinstance(entry, str):
        name = parse_model_spec(entry).name
    elif isinstance(entry, Forecaster):
        name = entry.registry_name
    elif isinstance(entry, Mapping):
        if set(entry) != DESCRIPTION_KEYS or not isinstance(entry["params"], Mapping):
            raise ValueError(
                f"a saved candidate is {{'model': name, 'params': {{...}}}}, got "
                f"{short_repr(entry)}"
            )
        name = entry["model"]
        if not isinstance(name, str):
            raise ValueError(f"a saved candidate's model is a name, got {short_repr(name)}")
        MODELS.get(name)  # a ValueError listing the valid names
    else:
        raise ValueError(
            f"a candidate is a model spec, a Forecaster or {{'model': name, 'params': {{...}}}}, "
            f"got {short_repr(entry)}"
        )
    if isinstance(name, str) and name.lower() == "auto":
        raise ValueError("an AutoForecaster cannot be a candidate of another one")


def describe(entry: object) -> object:
    """A candidate as JSON: a spec as it is, an instance as ``{"model", "params"}``."""
    if isinstance(entry, Forecaster):
        return {"model": entry.registry_name, "params": entry.get_params()}
    return entry


def build_candidates(
    models: list | None,
    season: int,
    defaults: Mapping[str, Any],
    declare: Callable[[type], Mapping[str, Any]] | None = None,
) -> list[Forecaster]:
    """Fresh, unfitted candidates: ``models`` (or the default set for ``season``), specs
    built with ``defaults`` (``h``, ``freq``, ``progress``) where the model accepts them and
    with the covariate arguments ``declare(cls)`` gives their class (the AutoForecaster's
    declaration, for the kinds the class uses: :func:`tsattn.auto.covariates.declaration`);
    instances and saved descriptions keep their own."""
    if models is None:  # named as the classes are: Naive, SeasonalNaive, ETS, ...
        built = [_build(spec, defaults, declare) for spec in default_specs(season)]
        for model in built:
            model.alias = type(model).__name__
    else:
        built = [_build(entry, defaults, declare) for entry in models]
    names = [m.name for m in built]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"candidate names must be unique, {repeated} repeat; set alias=")
    return built


def _build(
    entry: object, defaults: Mapping[str, Any], declare: Callable[[type], Mapping[str, Any]] | None
) -> Forecaster:
    if isinstance(entry, str):
        covariates = {} if declare is None else declare(MODELS.get(parse_model_spec(entry).name))
        return build_model(entry, **defaults, **covariates)
    if isinstance(entry, Forecaster):
        return copy.deepcopy(entry)
    from tsattn.models.factory import create_model

    return create_model(entry["model"], **dict(entry["params"]))
