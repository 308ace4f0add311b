"""The base of every neural forecaster: options split by dataclass fields, lazy network,
one training engine, original-scale forecasts, save/load, and the window-level entry
(:meth:`~NeuralForecaster.fit_arrays` / :meth:`~NeuralForecaster.predict_windows`) through
which the benchmark trains and scores the network on its standardized split as is.

A subclass only names its network config dataclass and network class::

    @register_model("nlinear")
    class NLinear(NeuralForecaster):
        config_class = NLinearConfig
        network_class = NLinearNetwork

Keyword arguments are routed by field name: the network config's fields (except
``input_size``, ``horizon`` and ``n_channels``, which come from ``h``, ``input_size`` and the
data) and :class:`TrainingConfig`'s fields; anything else is an error listing the accepted
names.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from tsattn.checks import (
    check_choice,
    check_nonnegative_int,
    check_positive_int,
    check_season_length,
    load_weights,
    short_repr,
    state_field,
    state_ids,
)
from tsattn.datasets.frequency import longest_cycle, season_length
from tsattn.models.base import Forecaster, check_window_array
from tsattn.models.catalog import MODELS
from tsattn.models.covariate_packing import (
    covariate_layout,
    horizon_rows,
    pack_joint,
    pack_series,
)
from tsattn.models.covariate_scaling import CovariateScaler
from tsattn.models.covariate_state import (
    check_same_covariates,
    layout_widths,
    saved_covariates,
)
from tsattn.models.covariates import KINDS
from tsattn.models.options import (
    DERIVED_FIELDS,
    neural_signature,
    option_fields,
    options_doc,
    resolve_fields,
    saveable_options,
)
from tsattn.models.recipes import (
    USER,
    DataFacts,
    Recipe,
    Resolved,
    parse_recipe,
    recipe_defaults,
    resolve_options,
)
from tsattn.models.series_data import SeriesData
from tsattn.models.series_scaling import SeriesScaler, aligned_matrix
from tsattn.models.user_defaults import (
    MIN_INPUT,
    drift_wins,
    holdout_errors,
    seasonal_naive_wins,
)
from tsattn.nn.covariates import CovariateLayout, CovariateNetwork
from tsattn.nn.ensemble import NetworkEnsemble
from tsattn.nn.probabilistic import PROBABILISTIC_LOSSES, make_head
from tsattn.training.config import TrainingConfig
from tsattn.training.engine import (
    TrainResult,
    fit_network,
    forecast_batches,
    forecast_quantiles,
    train_network,
)
from tsattn.training.windows import covariate_windows, series_windows, split_array_windows

log = logging.getLogger(__name__)


def check_sizes(config: Any) -> None:
    """Validate a network config's input_size, horizon and n_channels."""
    for name in DERIVED_FIELDS:
        check_positive_int(name, getattr(config, name))


def split_options(
    model: str | type[NeuralForecaster], options: dict[str, Any]
) -> tuple[dict[str, Any], TrainingConfig]:
    """Split flat keyword options into (network options, :class:`TrainingConfig`).

    Raises:
        ValueError: an option neither config accepts (the message lists the accepted ones).
    """
    cls = MODELS.get(model) if isinstance(model, str) else model
    resolve_fields(cls.config_class, options)  # refuses unknown names
    network, training = option_fields(cls.config_class)
    network_options = {k: v for k, v in options.items() if k in network}
    training_options = {k: v for k, v in options.items() if k in training}
    return network_options, TrainingConfig(**training_options)


def create_network(
    model: str, input_size: int, horizon: int, n_channels: int, **options: Any
) -> nn.Module:
    """Build a registered model's network, e.g. for the benchmark runner::

    create_network("patchtst", 336, 96, 7, attention="mlr")  # (B, 336, 7) -> (B, 96, 7)
    """
    cls = MODELS.get(model)
    network_options, training = split_options(cls, options)
    config = cls.config_class(
        input_size=input_size, horizon=horizon, n_channels=n_channels, **network_options
    )
    return cls.network_class(config, make_head(training.loss, training.quantiles))


class NeuralForecaster(Forecaster):
    """Base of the torch forecasters; see the module docstring for the arguments."""

    config_class: ClassVar[type]
    network_class: ClassVar[type[nn.Module]]
    supports_longer_horizon = False
    #: standardize each series with its training mean/std outside the network
    standardize: ClassVar[bool] = True
    #: fit all series jointly as the channels of one multivariate series
    joint_channels: ClassVar[bool] = False
    supports_resume: ClassVar[bool] = True
    float32_inputs: ClassVar[bool] = True
    supports_windows: ClassVar[bool] = True
    supports_covariates: ClassVar[tuple[str, ...]] = KINDS
    #: a joint-channel model that takes covariates (in packed windows of every series'
    #: targets and covariates; it overrides :meth:`covariate_network`)
    joint_covariates: ClassVar[bool] = False
    #: network options whose default for users' series differs from the config dataclass's
    #: (the literature regime keeps the dataclass's; see :mod:`tsattn.models.recipes`)
    user_network_defaults: ClassVar[dict[str, Any]] = {}
    #: the literature recipe gives this model the dataset's reference architecture (PatchTST);
    #: other models keep their config's (e.g. the paper-size vanilla Transformer)
    literature_architecture: ClassVar[bool] = False
    #: native quantiles when trained with a probabilistic loss ("quantile", "normal",
    #: "studentt"): the network's distribution head (see :mod:`tsattn.nn.probabilistic`)
    supports_quantiles = property(lambda self: self.loss in PROBABILISTIC_LOSSES)  # type: ignore

    def __init__(
        self,
        h: int,
        input_size: int | None = None,
        alias: str | None = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
        freq: str | None = None,
        fill: str | None = None,
        intervals: str | None = None,
        conformal_windows: int = 3,
        season_length: int | None = None,
        recipe: str | Recipe = USER,
        config: Any = None,
        training: TrainingConfig | None = None,
        futr_exog_list: list[str] | None = None,
        hist_exog_list: list[str] | None = None,
        stat_exog_list: list[str] | None = None,
        calendar: bool | list[str] | None = None,
        holidays: str | None = None,
        ignore_covariates: bool = False,
        **kwargs: Any,
    ):
        super().__init__(
            h,
            alias,
            id_col,
            time_col,
            target_col,
            freq,
            fill,
            intervals,
            conformal_windows,
            futr_exog_list=futr_exog_list,
            hist_exog_list=hist_exog_list,
            stat_exog_list=stat_exog_list,
            calendar=calendar,
            holidays=holidays,
            ignore_covariates=ignore_covariates,
        )
        self.input_size = (
            input_size if input_size is None else check_positive_int("input_size", input_size)
        )
        self._lookback: int | None = None  # input_size=None: chosen from the data at fit
        self.season_length = check_season_length(season_length)
        self._season: int | None = None  # the data's season, found at fit
        self._centring = 1  # the season the windows are centred on, decided at fit
        self._drift = 0  # the steps whose slope the centre follows (0: none), decided at fit
        self.recipe = parse_recipe(recipe).name
        # the options live once, as attributes: assigning one (model.lr = 1e-3) takes effect
        resolved = resolve_options(type(self), h, self.input_size, recipe, kwargs, config, training)
        for name, value in resolved.options.items():
            setattr(self, name, value)
        self.training_config  # noqa: B018 - validates the training options now
        self.network_config(n_channels=1)  # validates the network options now
        self.network_: nn.Module | None = None
        self.train_result_: TrainResult | None = None
        self.refit_result_: TrainResult | None = None  # refit_full's second training
        self._scaler: SeriesScaler | None = None
        self._channel_ids: list[str] | None = None
        self._layout: CovariateLayout | None = None  # the covariates fitted with, if any
        self._covariate_scaler: CovariateScaler | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Give each concrete model a signature and docstring listing its options."""
        super().__init_subclass__(**kwargs)
        if "config_class" in vars(cls):
            defaults = recipe_defaults(cls, USER)
            cls.__signature__ = neural_signature(cls, defaults)
            cls.__doc__ = (cls.__doc__ or "").rstrip() + options_doc(cls, defaults)

    # ------------------------------------------------------------------ configuration
    @classmethod
    def param_names(cls) -> list[str]:
        """Forecaster arguments (with ``recipe``) plus every network and training option (not
        ``config`` / ``training``, whose fields these are)."""
        network, training = option_fields(cls.config_class)
        forecaster = [n for n in super().param_names() if n not in ("config", "training")]
        return [*forecaster, *network, *training]

    def resolved(self, data: DataFacts | None = None) -> Resolved:
        """The options as set (attributes) resolved with ``data``: what a fit on that data
        trains with (:func:`~tsattn.models.recipes.resolve_options`, the one resolver)."""
        network, training = option_fields(self.config_class)
        values = {name: getattr(self, name) for name in [*network, *training]}
        return resolve_options(type(self), self.h, self.input_size, self.recipe, values, data=data)

    @property
    def training_config(self) -> TrainingConfig:
        """The training options as a :class:`TrainingConfig`, read from the attributes (a
        ``max_steps="auto"`` budget is decided with the data, at fit)."""
        return self.resolved().training_config()

    def network_config(self, n_channels: int, layout: CovariateLayout | None = None) -> Any:
        """The network's config for data with ``n_channels`` channels (and the covariates
        of ``layout``), at the look-back in use (patches shrunk to fit a short look-back
        chosen from the data)."""
        # the centring season decided at fit (or read from a file) is the data's answer here
        facts = DataFacts(
            (), self._centring, lookback=self.lookback, seasonal=True, drift=self._drift
        )
        options = self.resolved(facts).network_options(self.config_class)
        if layout is not None:
            options.update(self.covariate_options(layout))
        return self.config_class(
            input_size=self.lookback, horizon=self.h, n_channels=n_channels, **options
        )

    def covariate_options(self, layout: CovariateLayout) -> dict[str, Any]:
        """Network options that follow the covariates (none by default)."""
        return {}

    def build_network(self, n_channels: int, layout: CovariateLayout | None = None) -> nn.Module:
        """A freshly initialised network, seeded by ``seed`` after the config is validated
        (so the initial weights never depend on how validation works); with a covariate
        ``layout``, one that takes packed windows (:meth:`covariate_network`)."""
        config = self.network_config(n_channels, layout)
        training = self.training_config  # an automatic loss is a point loss: no head
        torch.manual_seed(training.seed)
        return self._members(config, layout)

    def _members(self, config: Any, layout: CovariateLayout | None) -> nn.Module:
        """``ensemble_size`` networks of ``config`` (each initialised in turn from the
        current torch seed) in a :class:`~tsattn.nn.ensemble.NetworkEnsemble`, or the one
        network when it is 1."""
        training = self.training_config
        members = []
        for _ in range(training.ensemble_size):
            head = make_head(training.loss, training.quantiles)
            if layout is None:
                members.append(self.network_class(config, head))
            else:
                members.append(self.covariate_network(config, head, layout))
        return members[0] if len(members) == 1 else NetworkEnsemble(members)

    def covariate_network(self, config: Any, head: Any, layout: CovariateLayout) -> nn.Module:
        """The network for packed windows with covariates ((B, L + H, width) -> (B, H, 1)):
        by default the target-only network plus a linear covariate effect
        (:class:`~tsattn.nn.covariates.CovariateNetwork`); a model with its own way of
        using covariates overrides this."""
        return CovariateNetwork(self.network_class(config, head), layout)

    def get_params(self) -> dict[str, Any]:
        """Forecaster arguments plus every network and training option."""
        params = super().get_params()
        network, training = option_fields(self.config_class)
        params.update({name: getattr(self, name) for name in [*network, *training]})
        return saveable_options(self.config_class, params, strict=False)

    @property
    def lookback(self) -> int:
        """The input size in use: ``input_size``, or the one chosen at fit for
        ``input_size=None`` (before any fit, a provisional ``max(3 h, 16)`` for validation)."""
        if self.input_size is not None:
            return self.input_size
        return self._lookback or max(3 * self.h, MIN_INPUT)

    def min_train_length(self, val_size: int = 0) -> int:
        if self.input_size is None:  # the look-back adapts; 1 step and 8 windows at least
            return self.h + val_size + 9
        return self.input_size + self.h + val_size

    def min_history_length(self) -> int:
        return self.lookback

    # ------------------------------------------------------------------ hooks
    def _fit(self, data: SeriesData, val_size: int | None, resume: bool = False) -> None:
        """Scale, window, build the network and train it (``resume``: from the checkpoint
        in ``checkpoint_dir``; see :func:`~tsattn.training.engine.fit_network`)."""
        if val_size is not None and 0 < val_size < self.h:
            raise ValueError(f"val_size ({val_size}) must be at least h ({self.h}) or 0/None")
        facts = self._data_facts(data, val_size)
        plan = self.resolved(facts)
        val_size, season = plan.holdout, facts.season
        self._season = season
        self._lookback = plan.lookback if self.input_size is None else None
        self._centring = plan.options.get("center_season", 1)
        self._drift = plan.options.get("center_drift", 0)
        train_parts = [v[: len(v) - val_size] for v in data.values]
        log_values = plan.options["target_transform"] == "log"
        self._scaler = SeriesScaler.fit(data.ids, train_parts, self.standardize, log_values)
        series = self._scaler.transform(data.ids, data.values)
        self._fit_covariates(data, val_size)
        train, val = self._windows(data, series, val_size)
        network = self.build_network(train.n_channels, self._layout)
        config = plan.training_config()
        log.info(
            "%s: input_size=%d, validation holdout %d steps per series, season %d, "
            "center_season=%d, center_drift=%d, "
            "target_transform=%s, loss=%s, max_steps=%s, lr=%g, patience=%s",
            self.name,
            self.lookback,
            val_size,
            season,
            self._centring,
            self._drift,
            config.target_transform,
            config.loss,
            config.max_steps,
            config.lr,
            config.patience,
        )
        self.train_result_ = fit_network(network, train, val, config, resume, label=self.name)
        self.network_ = network
        self._channel_ids = list(data.ids) if self.joint_channels else None
        self.holdout_errors_ = holdout_errors(self, data, val_size, season) if val_size else None
        self.refit_result_ = None
        if config.refit_full and val is not None:
            self._refit_full(data, series, config)

    def _refit_full(
        self, data: SeriesData, series: list[np.ndarray], config: TrainingConfig
    ) -> None:
        """``refit_full``: a fresh network trained on every window, the holdout's included,
        for the optimiser steps the kept epoch had reached; it replaces the first network
        (whose holdout errors are kept: the new one has seen the holdout)."""
        steps = self.train_result_.history[self.train_result_.best_epoch].steps
        train, _ = self._windows(data, series, 0)
        network = self.build_network(train.n_channels, self._layout)
        full = dataclasses.replace(config, max_steps=steps, patience=None, checkpoint_dir=None)
        log.info("%s: refit on every window for %d steps", self.name, steps)
        self.refit_result_ = fit_network(network, train, None, full, label=f"{self.name} refit")
        self.network_ = network

    def _data_facts(self, data: SeriesData, val_size: int | None) -> DataFacts:
        """What the data decides, for :func:`~tsattn.models.recipes.resolve_options`: the season
        (``season_length``, or the frequency's), the longest cycle, the lengths, whether every
        value is positive and whether the seasonal naive clearly wins on the history."""
        freq = data.freqs[0]
        season = self.season_length or season_length(freq)
        history = [v[: len(v) - (val_size or self.h)] for v in data.values]
        seasonal = seasonal_naive_wins(history, season, self.h)
        return DataFacts(
            lengths=(data.min_length,) if self.joint_channels else tuple(map(len, data.values)),
            season=season,
            cycle=self.season_length or longest_cycle(freq),
            val_size=val_size,
            positive=all(len(v) and float(np.min(v)) > 0 for v in data.values),
            seasonal=seasonal,
            n_series=len(data.values),
            drift=0 if seasonal or not drift_wins(history, self.h) else self.h,
        )

    def _fit_covariates(self, data: SeriesData, val_size: int) -> None:
        """The covariate layout and scaling (fitted on the training rows only) of ``data``."""
        self._layout = self._covariate_scaler = None
        if not data.has_covariates:
            return
        if self.joint_channels and not self.joint_covariates:
            raise ValueError(
                f"{self.name} fits the series jointly as channels and takes no covariates; "
                f"use its channel-independent form (individual=False) or another model"
            )
        self._layout = covariate_layout(data, self.joint_channels)
        train_lengths = [len(v) - val_size for v in data.values]
        self._covariate_scaler = CovariateScaler.fit(data, train_lengths)

    def _windows(self, data: SeriesData, series: list[np.ndarray], val_size: int):
        if self._layout is not None:
            hidden, n_targets = self._layout.hidden_in_horizon, self._layout.n_targets
            packed = self._packed(data, series)
            return covariate_windows(packed, self.lookback, self.h, val_size, hidden, n_targets)
        if self.joint_channels:
            array = aligned_matrix(data, series, self.name)  # (T, C)
            return split_array_windows(array, self.lookback, self.h, val_size)
        return series_windows(series, self.lookback, self.h, val_size)

    def _last_windows(self, data: SeriesData) -> np.ndarray:
        """The scaled last ``lookback`` steps of each series as network input: (1, L, C) for a
        joint-channel model, else (N, L, 1)."""
        assert self.network_ is not None and self._scaler is not None
        series = self._scaler.transform(data.ids, data.values)
        if self.joint_channels:
            self._check_channels(data)
        if self._layout is not None:
            check_same_covariates(self._layout, data, self.joint_channels)
            packed = self._packed(data, series)  # histories, (n_i, width) each
            joint = self.joint_channels
            ahead = horizon_rows(data, self._covariate_scaler, self._layout, self.h, joint)
            windows = [np.concatenate([p[-self.lookback :], a]) for p, a in zip(packed, ahead)]
            return np.stack(windows)  # (N, L + H, width); joint: (1, L + H, width)
        if self.joint_channels:
            return aligned_matrix(data, series, self.name)[-self.lookback :][None]  # (1,L,C)
        return np.stack([s[-self.lookback :] for s in series])[:, :, None]  # (N, L, 1)

    def _packed(self, data: SeriesData, series: list[np.ndarray]) -> list[np.ndarray]:
        """Scaled targets beside their scaled covariates: one (n_i, width) array per series,
        or for a joint model one (T, width) array."""
        scaler = self._covariate_scaler
        if self.joint_channels:
            return [pack_joint(data, aligned_matrix(data, series, self.name), scaler)]
        return pack_series(data, series, scaler)

    def _predict(self, data: SeriesData, h: int) -> np.ndarray:
        inputs = self._last_windows(data)  # (1, L, C) joint, else (N, L, 1)
        forecast = forecast_batches(self.network_, inputs, self.training_config.batch_size)
        per_series = forecast[0].T if self.joint_channels else forecast[:, :, 0]  # (N, H)
        return self._scaler.inverse(data.ids, per_series[:, :h], data.values)

    def _predict_quantiles(self, data: SeriesData, h: int, probs: np.ndarray) -> np.ndarray:
        """(n_series, h, len(probs)) quantiles of the distribution head, in the original
        scale: computed in the network's scale, then each mapped back as the point forecast
        (the per-series standardization is increasing, so their order is kept)."""
        inputs = self._last_windows(data)  # (1, L, C) joint, else (N, L, 1)
        batch_size = self.training_config.batch_size
        values = forecast_quantiles(self.network_, inputs, probs, batch_size)  # (B, H, C, Q)
        per_series = values[0].transpose(1, 0, 2) if self.joint_channels else values[:, :, 0]
        per_series = per_series[:, :h]  # (N, h, Q)
        columns = [
            self._scaler.inverse(data.ids, per_series[:, :, k], data.values)  # (N, h)
            for k in range(per_series.shape[-1])
        ]
        return np.stack(columns, axis=-1)  # (N, h, Q)

    # ------------------------------------------------------------------ window level
    def fit_arrays(self, train: np.ndarray, val: np.ndarray | None = None) -> NeuralForecaster:
        """Train the network on pre-split arrays as they are, with no scaling (the benchmark
        protocol: the split's train-only standardization is the only scaling outside the
        network): every stride-1 window of ``train`` (T_train, C), early stopping on those of
        ``val`` (T_val, C; its first ``input_size`` rows are its first window's lookback).
        A joint-channel model gets one network channel per column, others one shared one.
        """
        train = check_window_array("train", train, 2)
        val = None if val is None else check_window_array("val", val, 2)
        plan = self.resolved(DataFacts(lengths=(train.shape[0],), val_size=0))
        self._lookback = plan.lookback if self.input_size is None else None
        network = self.build_network(train.shape[1] if self.joint_channels else 1)
        config = plan.training_config()
        self.train_result_ = train_network(
            network, train, val, self.lookback, self.h, config, label=self.name
        )
        self.network_ = network
        self._scaler, self._channel_ids, self._history = None, None, None  # no frame state
        return self

    def predict_windows(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """The network on windows ``x`` (B, input_size, C) as they are -> (B, h, C) float32,
        ``batch_size`` windows per forward pass (None: the training batch size). ``x`` must
        be in the scale the network was trained in: that of the :meth:`fit_arrays` arrays,
        or after :meth:`fit`, each series standardized with its training mean/std."""
        if self.network_ is None:
            raise ValueError(f"{self.name} is not fitted: call fit_arrays(train, val) or fit(df)")
        x = check_window_array("x", x, 3)
        self._check_window_shape(x)
        batch_size = batch_size or self.training_config.batch_size
        return forecast_batches(self.network_, x, batch_size)  # (B, h, C)

    def predict_window_quantiles(
        self, x: np.ndarray, probs: Any, batch_size: int | None = None
    ) -> np.ndarray:
        """The distribution head's quantiles on windows ``x`` (B, input_size, C) as they are
        -> (B, h, C, len(probs)) float64, in the scale of ``x`` (as :meth:`predict_windows`);
        ``probs`` sorted, in (0, 1), and for ``loss="quantile"`` within the trained range.

        Raises:
            NotImplementedError: the network was trained with a point loss.
        """
        if not self.supports_quantiles:
            raise NotImplementedError(
                f"{self.name} was trained with loss={self.loss!r}, a point loss: it gives no "
                f"quantiles (train with loss='quantile', 'normal' or 'studentt')"
            )
        if self.network_ is None:
            raise ValueError(f"{self.name} is not fitted: call fit_arrays(train, val) or fit(df)")
        x = check_window_array("x", x, 3)
        self._check_window_shape(x)
        batch_size = batch_size or self.training_config.batch_size
        return forecast_quantiles(self.network_, x, np.asarray(probs), batch_size)

    def _check_window_shape(self, x: np.ndarray) -> None:
        """Windows of ``input_size`` steps, and for a joint model the network's channels."""
        if x.shape[1] != self.lookback:
            raise ValueError(
                f"{self.name} takes windows of input_size={self.lookback} steps, got "
                f"{x.shape[1]} (x has shape {x.shape}: (windows, steps, channels))"
            )
        channels = self.network_.config.n_channels
        if self.joint_channels and x.shape[2] != channels:
            raise ValueError(
                f"{self.name} was fitted on {channels} channels and forecasts them jointly; "
                f"got windows with {x.shape[2]}"
            )

    def training_summary(self) -> dict[str, Any]:
        """Epochs run, best epoch (1-based: the epoch whose weights were kept) and validation
        loss, parameter count and device of the last fit (empty before any); with
        ``refit_full``, the steps of the refit on every window."""
        result, network = self.train_result_, self.network_
        if result is None or network is None:
            return {}
        val_losses = [e.val_loss for e in result.history if e.val_loss is not None]
        return {
            "epochs": len(result.history),
            "best_epoch": result.best_epoch + 1,  # 1-based, as "epochs" counts them
            "best_val_loss": min(val_losses, default=None),
            "parameters": sum(p.numel() for p in network.parameters()),
            "device": str(next(network.parameters()).device),
            **({"refit_steps": self.refit_result_.history[-1].steps} if self.refit_result_ else {}),
        }

    def _check_channels(self, data: SeriesData) -> None:
        if list(data.ids) != self._channel_ids:
            raise ValueError(
                f"{self.name} forecasts the series it was fitted on, as channels, in the same "
                f"order: {self._channel_ids}; got {list(data.ids)}"
            )

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        saveable_options(self.config_class, self.get_params(), strict=True)
        assert self.network_ is not None and self._scaler is not None
        tensors = {f"network.{k}": v for k, v in self.network_.state_dict().items()}
        tensors.update(self._scaler.tensors())
        if self._covariate_scaler is not None:
            tensors.update(
                {k: torch.from_numpy(v.copy()) for k, v in self._covariate_scaler.tensors().items()}
            )
        meta = {
            "n_channels": len(self._channel_ids) if self._channel_ids else 1,
            "channel_ids": self._channel_ids,
            "scaler_ids": self._scaler.ids,
            "train_result": self.train_result_.to_dict() if self.train_result_ else None,
            "lookback": self.lookback,
            "season": self._centring,
            "drift": self._drift,
            "target_transform": "log" if self._scaler.log else "none",
        }
        if self._layout is not None:
            meta["covariates"] = layout_widths(self._layout)
        return meta, tensors

    def _set_state(self, meta: dict[str, Any], tensors: dict[str, Any]) -> None:
        """Rebuild the network from the saved state; every field is checked (channel
        count and ids, finite weights that fit the network, one finite scaler statistic
        per series) and anything wrong is a ``ValueError`` naming it."""
        n_channels, channel_ids = self._saved_channels(meta)
        if self.input_size is None:  # the look-back chosen at fit (files before it: no None)
            self._lookback = check_positive_int("lookback", state_field(meta, "lookback", int))
        self._centring, log_values = _saved_season_and_transform(meta)
        self._drift = _saved_drift(meta)
        network = self.saved_network(n_channels, meta, tensors)
        prefix = "network."
        weights = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        load_weights(network, weights, "network")
        scaler_ids = state_ids(meta, "scaler_ids")
        self._scaler = SeriesScaler.from_tensors(scaler_ids, tensors, self.standardize, log_values)
        self.network_ = network.eval()
        self._channel_ids = channel_ids

    def saved_network(self, n_channels: int, meta: dict[str, Any], tensors: dict) -> nn.Module:
        """An unloaded network of the shape a model file describes: its channels, the
        distribution head it was trained with and the covariates it was fitted with (whose
        layout and scaling this reads)."""
        self._layout, self._covariate_scaler = saved_covariates(meta, tensors, n_channels)
        config = self.network_config(n_channels, self._layout)
        return self._members(config, self._layout)

    def _saved_channels(self, meta: dict[str, Any]) -> tuple[int, list[str] | None]:
        """(n_channels, channel ids) from saved metadata: a joint model names one series
        per channel, a channel-independent one has a single channel and no ids."""
        n_channels = state_field(meta, "n_channels", int)
        try:
            check_positive_int("n_channels", n_channels)
        except ValueError as err:
            raise ValueError(f"saved state field {err}") from None
        if not self.joint_channels:
            if n_channels != 1 or state_field(meta, "channel_ids", object) is not None:
                raise ValueError(
                    f"saved state of the channel-independent {type(self).__name__} must have "
                    f"n_channels 1 and no channel_ids, got n_channels={short_repr(n_channels)}"
                )
            return 1, None
        channel_ids = state_ids(meta, "channel_ids")
        if len(channel_ids) != n_channels:
            raise ValueError(
                f"saved state has {len(channel_ids)} channel_ids for n_channels={n_channels}"
            )
        return n_channels, channel_ids


def _saved_season_and_transform(meta: dict[str, Any]) -> tuple[int, bool]:
    """The centring season and log transform a file's network was fitted with (files written
    before they were saved: season 1, no transform, which is how those networks were fitted)."""
    season = state_field(meta, "season", int) if "season" in meta else 1
    transform = state_field(meta, "target_transform", str) if "target_transform" in meta else None
    check_choice("saved state field 'target_transform'", transform or "none", ("none", "log"))
    return check_season_length(season, "saved state field 'season'"), transform == "log"


def _saved_drift(meta: dict[str, Any]) -> int:
    """The drift steps a file's network was centred with (files written before it: 0)."""
    drift = state_field(meta, "drift", int) if "drift" in meta else 0
    return check_nonnegative_int("saved state field 'drift'", drift)


__all__ = [
    "DERIVED_FIELDS",
    "NeuralForecaster",
    "check_sizes",
    "create_network",
    "option_fields",
    "split_options",
]
