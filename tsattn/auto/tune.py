"""``tsattn.tune``: search a network's options, its attention among them, with Optuna.

Each trial builds the model with the options Optuna samples and scores it by rolling origin:
the last ``n_windows`` windows of ``h`` steps of every series, oldest first, a fresh fit for
each; after every window the trial reports its mean MASE so far, and a trial worse than the
median of the earlier trials at the same window is pruned (Optuna's ``MedianPruner``). The
first trial is the model's defaults (where they lie in the space), so the best trial is
never worse than the defaults on the validation windows.

The attention is searched like any option: ``softmax``, ``mlr`` (its default ranks) and
``mlr-global`` (a quarter of each head's width global, the rest at the finer levels),
``btt``, ``sliding`` (window 8) and ``none`` (``sliding`` with ``window=0``: each patch
attends to itself only, no mixing between positions).

A study stored in a file (``storage="sqlite:///search.db"``) resumes where it stopped: the
search runs until the study holds ``n_trials`` finished trials (complete or pruned), however
many processes share it.

Optuna is an optional extra: ``pip install "tsattn[tune]"``.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tsattn.auto.covariates import FrameCovariates, static_frame
from tsattn.auto.validation import season_of, series_frame, series_scales
from tsattn.checks import check_positive_int, check_real, short_repr
from tsattn.evaluation import backtest
from tsattn.models.base import Forecaster
from tsattn.models.catalog import MODELS

INSTALL = 'tsattn.tune needs Optuna: pip install "tsattn[tune]"'
#: attention variants: name -> (attention, attention_options or a function of the head width)
ATTENTION_VARIANTS: dict[str, tuple[str, Any]] = {
    "softmax": ("softmax", None),
    "mlr": ("mlr", None),
    "mlr-global": ("mlr", lambda width: {"ranks": _global_ranks(width)}),
    "btt": ("btt", None),
    "sliding": ("sliding", {"window": 8}),
    "none": ("sliding", {"window": 0}),
}


def _global_ranks(width: int) -> list[int]:
    """MLR ranks with a quarter of the head width global (level 0), the rest at level 1."""
    first = max(1, width // 4)
    return [first, width - first] if width > first else [width]


@dataclass(frozen=True)
class TuneResult:
    """The best model found (unfitted), its options, its validation MASE and every trial."""

    model: Forecaster
    params: dict[str, Any]
    value: float
    trials: pd.DataFrame
    study: Any


def default_search_space(name: str, h: int, max_input: int) -> dict[str, Any]:
    """The default space of the registered network ``name`` (``patchtst``, ``transformer``,
    ``vanilla_transformer``, ``dlinear``, ``nlinear``): lists are choices, ``(low, high)``
    ranges, ``("log", low, high)`` log-uniform ranges. Look-backs are None (the model's own
    choice) or 2, 4, 8 and 16 times ``h``, up to ``max_input``."""
    lookbacks = [None, *(k * h for k in (2, 4, 8, 16) if k * h <= max_input)]
    space: dict[str, Any] = {"input_size": lookbacks, "lr": ("log", 1e-4, 1e-2)}
    if name == "patchtst":
        space |= {"patch_len": [4, 8, 16, 24], "d_model": [16, 32, 64], "dropout": (0.0, 0.4)}
    elif name in ("transformer", "vanilla_transformer"):
        space |= {"d_model": [32, 64, 128], "dropout": (0.0, 0.3)}
    elif name not in ("dlinear", "nlinear"):
        raise ValueError(
            f"no default search space for {name!r}: give search_space= (the networks with "
            f"one: patchtst, transformer, vanilla_transformer, dlinear, nlinear)"
        )
    if "attention" in MODELS.get(name).param_names():
        space["attention"] = list(ATTENTION_VARIANTS)
    return space


def tune(
    model: str | type | Forecaster,
    df: pd.DataFrame,
    h: int,
    search_space: Mapping[str, Any] | Callable | None = None,
    n_trials: int = 20,
    time_limit: float | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    n_windows: int = 2,
    seed: int = 0,
    static_df: pd.DataFrame | None = None,
) -> TuneResult:
    """Search ``model``'s options on ``df`` (see the module docstring).

    Args:
        model: a spec (``"patchtst"``, ``"patchtst:n_layers=2"``), a registered class, or an
            instance (its options are the fixed ones).
        df: the series, long or wide, as every ``fit`` takes them.
        h: forecast horizon of the validation windows.
        search_space: ``{option: choices}`` (a list), ``(low, high)`` (ints or floats) or
            ``("log", low, high)``; the key ``attention`` takes the names of
            :data:`ATTENTION_VARIANTS`; or a function ``trial -> options``; None: the
            default space of the network (:func:`default_search_space`).
        n_trials: finished trials the study holds when the search stops.
        time_limit: seconds this call may search (None: no limit).
        storage: an Optuna storage URL, e.g. ``"sqlite:///search.db"``: the study is kept
            there, resumes when called again and can be shared by several processes.
        study_name: the study's name in ``storage`` (default from the model and ``h``).
        n_windows: validation windows of ``h`` steps at the end of each series.
        seed: the sampler's seed (the models keep their own ``seed``).
        static_df: the static covariates of a model with ``stat_exog_list`` (one row per
            series); a model's future-known and past-only columns are read from ``df``, and
            every trial is validated with them, as :func:`tsattn.backtest` does.
    """
    optuna = _optuna()
    base = _base_model(model, h)
    n_trials = check_positive_int("n_trials", n_trials)
    n_windows = check_positive_int("n_windows", n_windows)
    if time_limit is not None:
        check_real("time_limit", time_limit, "> 0 (seconds)", lambda v: v > 0)
    frame, scales = _validation_data(base, df, h, n_windows, static_df)
    space = search_space if search_space is not None else _default_space(base, h, frame)
    study = optuna.create_study(
        study_name=study_name or f"tsattn-{base.registry_name}-h{h}",
        storage=storage,
        load_if_exists=True,
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3),
    )
    if not study.trials and not callable(space):
        study.enqueue_trial(_defaults_in(base, space), skip_if_exists=True)
    objective = _Objective(base, frame, scales, h, n_windows, space, static_df)
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    remaining = n_trials - len(study.get_trials(deepcopy=False, states=finished))
    if remaining > 0:
        study.optimize(
            objective,
            n_trials=remaining,
            timeout=time_limit,
            catch=(ValueError, RuntimeError),
            callbacks=[optuna.study.MaxTrialsCallback(n_trials, states=finished)],
        )
    return _result(base, study, space)


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ImportError(INSTALL) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _base_model(model: str | type | Forecaster, h: int) -> Forecaster:
    from tsattn.models.factory import build_model

    if isinstance(model, Forecaster):
        return model
    if isinstance(model, type) and issubclass(model, Forecaster) and model.registry_name:
        model = model.registry_name
    if isinstance(model, str):
        return build_model(model, h=h, progress=False)
    raise ValueError(
        f"tune takes a model spec, a registered Forecaster class or an instance, got "
        f"{short_repr(model)}"
    )


def _validation_data(
    base: Forecaster, df: pd.DataFrame, h: int, n_windows: int, static_df: pd.DataFrame | None
):
    """The canonical frame (with the model's covariate columns) and each series' MASE
    scale (from before the first window)."""
    data = base._series(df, static_df)
    need = n_windows * h + base.min_train_length(0)
    if data.min_length < need:
        raise ValueError(
            f"the shortest series has {data.min_length} observations; tuning with "
            f"n_windows={n_windows} windows of h={h} needs at least {need}"
        )
    frame = series_frame(data, FrameCovariates.of(base))
    scales = dict(zip(data.ids, series_scales(data, n_windows * h, season_of(data))))
    return frame, scales


def _default_space(base: Forecaster, h: int, frame: pd.DataFrame) -> dict[str, Any]:
    shortest = int(frame.groupby("unique_id", sort=False).size().min())
    return default_search_space(base.registry_name, h, max_input=shortest // 2)


def _defaults_in(base: Forecaster, space: Mapping[str, Any]) -> dict[str, Any]:
    """The base model's own values of the searched options, where the space holds them."""
    params = base.get_params()
    found = {}
    for name, spec in space.items():
        value = params.get(name)
        if name == "attention" and params.get("attention_options"):
            continue  # a variant with options of its own is not one of the named ones
        if isinstance(spec, list) and value in spec:
            found[name] = value
        elif isinstance(spec, tuple) and isinstance(value, int | float) and _inside(spec, value):
            found[name] = value
    return found


def _inside(spec: tuple, value: float) -> bool:
    low, high = spec[-2:]
    return low <= value <= high


class _Objective:
    """One trial: the sampled options, a fit per validation window, pruning in between."""

    def __init__(self, base, frame, scales, h, n_windows, space, static_df=None) -> None:
        self.base, self.frame, self.scales = base, frame, scales
        self.h, self.n_windows, self.space = h, n_windows, space
        self.static_df = static_df

    def __call__(self, trial) -> float:
        import optuna

        start = time.perf_counter()
        options = self.space(trial) if callable(self.space) else sample(trial, self.space)
        trial.set_user_attr("options", dict(options))
        model = build(self.base, options)
        errors = []
        for step, held_out in enumerate(range(self.n_windows - 1, -1, -1)):
            errors.append(self._window(model, held_out))
            trial.report(float(np.mean(errors)), step)
            if trial.should_prune():
                trial.set_user_attr("seconds", time.perf_counter() - start)
                raise optuna.TrialPruned()
        trial.set_user_attr("seconds", time.perf_counter() - start)
        return float(np.mean(errors))

    def _window(self, model: Forecaster, held_out: int) -> float:
        """Mean scaled absolute error of the window ending ``held_out * h`` before the end."""
        frame = self.frame
        if held_out:
            rank = frame.groupby("unique_id", sort=False).cumcount(ascending=False)
            frame = frame[rank.to_numpy() >= held_out * self.h]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a trial's fit chatter (worse than naive...)
            result = backtest(
                model, frame, h=self.h, n_windows=1, progress=False, static_df=self.static_df
            )
        scale = result["unique_id"].astype(str).map(self.scales).to_numpy(np.float64)
        value = float(np.mean(np.abs(result["y"] - result[model.name]) / scale))
        if not math.isfinite(value):
            raise ValueError("the trial's forecasts are not finite")
        return value


def sample(trial, space: Mapping[str, Any]) -> dict[str, Any]:
    """One value per option of ``space`` from an Optuna trial."""
    options = {}
    for name, spec in space.items():
        if isinstance(spec, list):
            options[name] = trial.suggest_categorical(name, spec)
        elif isinstance(spec, tuple) and len(spec) == 3 and spec[0] == "log":
            options[name] = trial.suggest_float(name, spec[1], spec[2], log=True)
        elif isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(v, int) for v in spec):
            options[name] = trial.suggest_int(name, *spec)
        elif isinstance(spec, tuple) and len(spec) == 2:
            options[name] = trial.suggest_float(name, float(spec[0]), float(spec[1]))
        else:
            raise ValueError(
                f"search_space[{name!r}] must be a list of choices, (low, high) or "
                f"('log', low, high); got {short_repr(spec)}"
            )
    return options


def build(base: Forecaster, options: Mapping[str, Any]) -> Forecaster:
    """``base``'s class with its options and ``options`` (an attention variant's name becomes
    ``attention`` and ``attention_options``; PatchTST's stride follows its patch length)."""
    params = {**base.get_params(), **options}
    variant = options.get("attention")
    if variant is not None:
        if variant not in ATTENTION_VARIANTS:
            raise ValueError(f"unknown attention variant {variant!r}: {list(ATTENTION_VARIANTS)}")
        attention, extra = ATTENTION_VARIANTS[variant]
        width = params["d_model"] // params["n_heads"]
        params["attention"] = attention
        params["attention_options"] = extra(width) if callable(extra) else extra
    if "patch_len" in options and "stride" not in options:
        params["stride"] = max(1, options["patch_len"] // 2)
    if params.get("input_size") is not None and "patch_len" in params:
        params["patch_len"] = min(params["patch_len"], params["input_size"])
        params["stride"] = min(params["stride"], params["patch_len"])
    return type(base)(**params)


def _result(base: Forecaster, study, space) -> TuneResult:
    frame = study.trials_dataframe(attrs=("number", "value", "state", "params", "user_attrs"))
    try:
        best = study.best_trial
    except ValueError:
        raise ValueError(f"no trial of {base.name} finished: every one failed") from None
    options = dict(best.user_attrs.get("options", best.params))
    return TuneResult(build(base, options), options, float(best.value), frame, study)


def tune_candidates(
    candidates: list[Forecaster],
    data,
    h: int,
    held_out: int,
    n_trials: int,
    seconds: float,
    covariates: FrameCovariates | None = None,
) -> dict[str, str]:
    """Tune every network among ``candidates`` in place, on the series without their last
    ``held_out`` steps (the AutoForecaster's validation windows stay unseen), one window of
    ``h``; ``seconds`` (or inf) shared among them; ``covariates``: the columns of ``data``
    the candidates may read. Returns a note per tuned candidate; a network that cannot be
    tuned (too short a series) keeps its defaults."""
    from tsattn.models.file_checks import is_neural

    networks = [i for i, m in enumerate(candidates) if is_neural(type(m))]
    frame = series_frame(data, covariates)
    static = None if covariates is None else static_frame(data, covariates)
    rank = frame.groupby("unique_id", sort=False).cumcount(ascending=False).to_numpy()
    train = frame[rank >= held_out]
    notes = {}
    for i in networks:
        model = candidates[i]
        limit = None if math.isinf(seconds) else max(seconds / len(networks), 1.0)
        try:
            found = tune(
                model,
                train,
                h,
                n_trials=n_trials,
                time_limit=limit,
                n_windows=1,
                static_df=static,
            )
        except ValueError as err:
            notes[model.name] = f"not tuned: {err}"
            continue
        candidates[i] = found.model
        shown = ", ".join(f"{k}={_short(v)}" for k, v in found.params.items())
        notes[model.name] = f"tuned ({len(found.trials)} trials): {shown}"
    return notes


def _short(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
