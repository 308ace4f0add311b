"""The Forecaster contract shared by every model: fit / predict / save / load.

A forecaster takes the canonical long frame (``unique_id, ds, y``; names configurable) or a
wide frame (a time column or DatetimeIndex plus one column per series), validates it through
:func:`tsattn.read_series`, and returns forecasts as a long frame
``unique_id, ds, <alias>`` in the original scale, dated after each series' last timestamp.

Subclasses implement three hooks:

* ``_fit(data, val_size)``: learn from a :class:`SeriesData`;
* ``_predict(data, h) -> np.ndarray (n_series, h)``: forecast from the end of ``data``;
* ``_get_state() / _set_state(meta, tensors)``: the fitted state, as JSON-able metadata and
  named tensors (saved with safetensors, so loading never executes code from the file).

Models that forecast fixed-size windows of a multichannel array (``supports_windows``: the
neural models, Naive and SeasonalNaive) also implement the window-level entry the benchmark
runner calls, on arrays as they are (no scaling, no dates):

* ``fit_arrays(train (T, C), val (T_val, C) | None) -> self``;
* ``predict_windows(x (B, L, C)) -> (B, h, C)``.

Models that fit per series (statsmodels, scikit-learn, gluonts adapters) raise
``NotImplementedError`` there, with a message that says what to use instead.

Constructor arguments are stored as attributes of the same name (the scikit-learn
convention): :meth:`Forecaster.get_params` reads them back, which is what ``save`` writes.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from tsattn.checks import check_bool, check_positive_int, did_you_mean, short_repr
from tsattn.models.catalog import MODELS, register_model
from tsattn.models.covariate_frames import attach_covariates, future_values, static_rows
from tsattn.models.covariates import (
    check_calendar,
    check_exog_list,
    check_holidays,
    check_supported,
    fitted_spec,
    frame_columns,
)
from tsattn.models.intervals import (
    QuantileRequest,
    check_interval_method,
    conformal_quantiles,
    conformal_scores,
)
from tsattn.models.series_data import SeriesData, forecast_frame, input_range_problem

__all__ = ["MODELS", "Forecaster", "SeriesData", "input_range_problem", "register_model"]

#: the longest horizon any forecaster accepts (a guard against h=10**12 exhausting memory)
MAX_HORIZON = 1_000_000


#: column names tried, in order, as the time column of a wide frame
TIME_COLUMN_GUESSES = ("ds", "date", "datetime", "timestamp", "time")


@functools.cache
def _settable_names(cls: type) -> frozenset[str]:
    """The public attributes an instance of ``cls`` may set: its options and class attributes
    (properties with setters among them)."""
    return frozenset(cls.param_names()) | frozenset(name for name in dir(cls))


def _check_option_name(cls: type, name: str) -> None:
    if name in _settable_names(cls):
        return
    options = sorted(n for n in cls.param_names() if not n.startswith("_"))
    hint = did_you_mean(name, options)
    raise AttributeError(
        f"{cls.__name__} has no option {name!r}{hint}; its options: {', '.join(options)}"
    )


class Forecaster:
    """Base class of every tsattn forecaster.

    Args:
        h: forecast horizon (steps); ``predict`` may ask for fewer (or more, where the
            model allows).
        alias: name of the forecast column (default: the class name).
        id_col, time_col, target_col: column names of long input frames.
        freq: pandas frequency of the series (inferred when None).
        fill: missing-value policy passed to :func:`tsattn.read_series` (None: NaN is an
            error).
        intervals: where ``predict(level=..., quantiles=...)`` takes its uncertainty from:
            ``None`` / ``"native"`` (the model's own: a distribution or quantile head, a
            statistical model's forecast distribution) or ``"conformal"`` (split-conformal
            intervals from the model's own rolling-origin residuals; any model).
        conformal_windows: cutoffs (``h`` apart, at the end of each series) whose errors make
            the conformal scores; ``fit`` trains one extra copy of the model for them.
        futr_exog_list: future-known covariates: columns of the frame whose values at the
            forecast dates ``predict(futr_df=...)`` supplies (prices, promotions, plans).
        hist_exog_list: past-only covariates: columns observed up to the end of the history.
        stat_exog_list: static covariates: columns of ``static_df`` (one row per series).
        calendar: ``True`` (the calendar features that vary at the data's frequency) or a
            list of ``hour``, ``dayofweek``, ``dayofmonth``, ``dayofyear``, ``month``:
            future-known columns computed from the dates.
        holidays: a country code (``"US"``): a future-known 0/1 column of its public holidays
            (the ``tsattn[holidays]`` extra).
        ignore_covariates: fit without the covariates this model cannot use (with a warning)
            instead of refusing them.
    """

    registry_name: ClassVar[str] = ""
    #: True when predict can go beyond the h given at construction.
    supports_longer_horizon: ClassVar[bool] = True
    #: True when ``fit(..., resume=True)`` can continue from a training checkpoint.
    supports_resume: ClassVar[bool] = False
    #: True when the model computes in float32 (torch networks): inputs beyond
    #: :data:`HUGE_VALUE` are refused at fit instead of overflowing into NaN forecasts.
    float32_inputs: ClassVar[bool] = False
    #: True when the model has native uncertainty (implements :meth:`_predict_quantiles`)
    supports_quantiles: ClassVar[bool] = False
    #: True when the window-level entry (:meth:`fit_arrays`, :meth:`predict_windows`) works.
    supports_windows: ClassVar[bool] = False
    #: the covariate kinds the model uses: "futr" (future-known, calendar included), "hist"
    #: (past-only), "stat" (static); see :mod:`tsattn.models.covariates`
    supports_covariates: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        h: int,
        alias: str | None = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
        freq: str | None = None,
        fill: str | None = None,
        intervals: str | None = None,
        conformal_windows: int = 3,
        futr_exog_list: Sequence[str] | None = None,
        hist_exog_list: Sequence[str] | None = None,
        stat_exog_list: Sequence[str] | None = None,
        calendar: bool | Sequence[str] | None = None,
        holidays: str | None = None,
        ignore_covariates: bool = False,
    ):
        self.h = _check_horizon(h)
        self.intervals = None if intervals is None else check_interval_method(intervals)
        self.conformal_windows = check_positive_int("conformal_windows", conformal_windows)
        self._conformal_scores: np.ndarray | None = None
        self.alias = _optional_name("alias", alias)
        self.id_col = _check_name("id_col", id_col)
        self.time_col = _check_name("time_col", time_col)
        self.target_col = _check_name("target_col", target_col)
        self.freq, self.fill = _optional_name("freq", freq), _optional_name("fill", fill)
        self._history: SeriesData | None = None
        self.futr_exog_list = check_exog_list("futr_exog_list", futr_exog_list)
        self.hist_exog_list = check_exog_list("hist_exog_list", hist_exog_list)
        self.stat_exog_list = check_exog_list("stat_exog_list", stat_exog_list)
        self.calendar, self.holidays = check_calendar(calendar), check_holidays(holidays)
        self.ignore_covariates = check_bool("ignore_covariates", ignore_covariates)
        self._ignoring_covariates = check_supported(self, warn=False)
        self._static_known: dict[str, np.ndarray] = {}  # series id -> static row, from fit

    def __setattr__(self, name: str, value: Any) -> None:
        """Options are attributes (``model.lr = 1e-3`` takes effect); a public name that is
        neither an option nor a fitted attribute (``*_``) is refused, so a misspelt option
        (``model.lrr = 1``) cannot be silently ignored."""
        if not name.startswith("_") and not name.endswith("_"):
            _check_option_name(type(self), name)
        super().__setattr__(name, value)

    # ------------------------------------------------------------------ public API
    @property
    def name(self) -> str:
        """The forecast column's name."""
        return self.alias or type(self).__name__

    @property
    def series_ids(self) -> list[str]:
        """The ids of the series the model was last fitted on, in their order (what
        ``predict()`` without ``df`` forecasts); empty before any fit."""
        return [] if self._history is None else list(self._history.ids)

    def fit(
        self,
        df: pd.DataFrame,
        val_size: int | None = None,
        resume: bool = False,
        static_df: pd.DataFrame | None = None,
    ) -> Forecaster:
        """Fit on a long or wide frame; ``val_size`` steps per series are held out for
        early stopping by models that use a validation split. ``resume=True`` continues an
        interrupted training from the checkpoint in ``checkpoint_dir`` (neural models).
        Covariates: the frame's ``futr_exog_list`` and ``hist_exog_list`` columns, and
        ``static_df`` (``unique_id`` plus the ``stat_exog_list`` columns, one row per
        series)."""
        if resume and not self.supports_resume:
            raise ValueError(
                f"{self.name} does not train in epochs: resume=True applies to neural models "
                f"trained with checkpoint_dir"
            )
        if val_size is not None and (
            isinstance(val_size, bool) or not isinstance(val_size, int | np.integer) or val_size < 0
        ):
            raise ValueError(f"val_size must be None or a non-negative integer, got {val_size!r}")
        self._ignoring_covariates = check_supported(self)
        self._static_known = {}
        data = self._series(df, static_df)
        self._check_lengths(data, val_size or 0)
        if self.float32_inputs and input_range_problem(data):
            raise ValueError(f"{self.name} cannot fit: {input_range_problem(data)}")
        self._fit(data, val_size, **({"resume": resume} if self.supports_resume else {}))
        if self.intervals == "conformal":
            self._conformal_scores = conformal_scores(self, data, val_size)
        self._history = data
        if data.static is not None:
            self._static_known = dict(zip(data.ids, data.static))
        return self

    def predict(
        self,
        df: pd.DataFrame | None = None,
        h: int | None = None,
        level: Sequence[float] | None = None,
        quantiles: Sequence[float] | None = None,
        futr_df: pd.DataFrame | None = None,
        static_df: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Forecast ``h`` steps (default: the model's h) after the end of each series.

        With ``df``, forecasts start from the end of that history (no refit); otherwise from
        the end of the training data. ``level=[80, 95]`` adds ``<alias>-lo-80``,
        ``<alias>-hi-80``, ...; ``quantiles=[0.1, 0.9]`` adds ``<alias>-q-0.1``, ... (original
        scale; monotone in the level; every interval contains the median). The uncertainty
        is the model's own, or conformal with ``intervals="conformal"``.

        Covariates: ``futr_df`` (``unique_id``, ``ds`` and the ``futr_exog_list`` columns)
        gives the future-known values at each series' ``h`` forecast dates (calendar columns
        are computed); ``static_df`` the static rows of series not seen at fit.
        """
        request = QuantileRequest.make(level, quantiles)
        if self._history is None:
            raise ValueError(f"{self.name} is not fitted: call fit(df) before predict()")
        h = self._check_predict_horizon(h)
        data = self._series(df, static_df) if df is not None else self._history
        if df is not None:
            self._check_predict_lengths(data)
        spec = fitted_spec(self, data.freqs[0])
        future = future_values(data, futr_df, h, spec, self.id_col, self.time_col)
        data = replace(data, future=future)
        values = np.asarray(self._predict(data, h), dtype=np.float64)  # (n_series, h)
        self._check_finite(data, values)
        frame = self._forecast_frame(data, values)
        if request is None:
            return frame
        return self._with_quantiles(frame, data, values, request)

    def _with_quantiles(
        self, frame: pd.DataFrame, data: SeriesData, point: np.ndarray, request: QuantileRequest
    ) -> pd.DataFrame:
        """``frame`` plus the requested interval and quantile columns."""
        probs = request.probs  # (Q,) sorted
        values = np.sort(self._quantiles(data, point, probs), axis=-1)  # (S, h, Q)
        if values.shape != (*point.shape, len(probs)):
            raise ValueError(f"{self.name} returned quantiles of shape {values.shape}")
        self._check_finite(data, values.reshape(len(point), -1))
        index = [int(np.argmin(np.abs(probs - p))) for p in request.column_probs()]
        chosen = values[:, :, index].reshape(-1, len(index))  # (S*h, columns), rows as frame
        return frame.assign(**dict(zip(request.columns(self.name), chosen.T)))

    def _quantiles(self, data: SeriesData, point: np.ndarray, probs: np.ndarray) -> np.ndarray:
        """(S, h, Q) quantiles from the configured source of uncertainty."""
        if self.intervals == "conformal":
            if self._conformal_scores is None:
                raise ValueError(f"{self.name} has no conformal scores: fit it again")
            per_step = len(self._history.ids) if self._history is not None else 1
            return conformal_quantiles(point, self._conformal_scores, probs, self.name, per_step)
        if self.supports_quantiles:
            return np.asarray(self._predict_quantiles(data, point.shape[1], probs), np.float64)
        trained = " or loss='quantile' (a quantile head)" if hasattr(self, "loss") else ""
        raise ValueError(
            f"{self.name} has no native intervals; create it with intervals='conformal' "
            f"(intervals from its own backtest residuals){trained} to get level= and "
            f"quantiles="
        )

    def _predict_quantiles(self, data: SeriesData, h: int, probs: np.ndarray) -> np.ndarray:
        """(n_series, h, len(probs)) quantiles in the original scale (native uncertainty)."""
        raise NotImplementedError

    def conformal_copy(self) -> Forecaster:
        """An unfitted copy with the same options, for the conformal residuals (native
        intervals, no checkpoints, so it never touches the original's files)."""
        params = {**self.get_params(), "intervals": None}
        if "checkpoint_dir" in params:
            params["checkpoint_dir"] = None
        return type(self)(**params)

    @classmethod
    def param_names(cls) -> list[str]:
        """Names of the constructor arguments (through the class hierarchy)."""
        names: list[str] = []
        for klass in cls.__mro__:
            if klass is object or "__init__" not in vars(klass):
                continue
            for pname, param in inspect.signature(klass.__init__).parameters.items():
                variadic = param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD)
                if pname != "self" and not variadic and pname not in names:
                    names.append(pname)
        return names

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, read from the attributes of the same name."""
        return {name: getattr(self, name) for name in self.param_names() if hasattr(self, name)}

    def save(self, path: str | Path) -> Path:
        """Save config and fitted state to one safetensors file (see :func:`load`)."""
        from tsattn.models.persistence import save_forecaster

        return save_forecaster(self, path)

    # ------------------------------------------------------------------ window level
    def fit_arrays(self, train: np.ndarray, val: np.ndarray | None = None) -> Forecaster:
        """Fit on pre-split arrays as they are (no scaling): ``train`` (T_train, C) and
        optionally ``val`` (T_val, C) for early stopping, whose first ``input_size`` rows are
        the lookback of its first window (the literature protocol).

        Raises:
            NotImplementedError: the model fits per series (``supports_windows`` is False).
        """
        raise NotImplementedError(no_window_entry(type(self)))

    def predict_windows(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Forecast a batch of windows: ``x`` (B, L, C) -> (B, h, C), in the scale of ``x``
        (the scale the model was fitted in). ``batch_size``: windows per forward pass for
        models that run a network (None: the training batch size); others ignore it.

        Raises:
            NotImplementedError: the model fits per series (``supports_windows`` is False).
        """
        raise NotImplementedError(no_window_entry(type(self)))

    def predict_window_quantiles(
        self, x: np.ndarray, probs: Sequence[float], batch_size: int | None = None
    ) -> np.ndarray:
        """Quantiles of a batch of windows: ``x`` (B, L, C) -> (B, h, C, len(probs)), in the
        scale of ``x``, non-decreasing along the last axis (``probs`` sorted, in (0, 1)).

        Raises:
            NotImplementedError: the model gives no quantiles at the window level (every
                model but a neural network trained with a probabilistic ``loss``).
        """
        raise NotImplementedError(
            f"{type(self).__name__} gives no quantiles at the window level: only neural "
            "models trained with loss='quantile', 'normal' or 'studentt' do (use predict("
            "level=...) or intervals='conformal' on frames instead)"
        )

    def training_summary(self) -> dict[str, Any]:
        """Facts about the last fit that a results table records (epochs, parameters...);
        empty for models that do not train."""
        return {}

    # ------------------------------------------------------------------ hooks
    def _fit(self, data: SeriesData, val_size: int | None) -> None:
        raise NotImplementedError

    def _predict(self, data: SeriesData, h: int) -> np.ndarray:
        raise NotImplementedError

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Fitted state as (JSON-able metadata, name -> torch.Tensor)."""
        return {}, {}

    def _set_state(self, meta: dict[str, Any], tensors: dict[str, Any]) -> None:
        """Restore what :meth:`_get_state` returned."""

    def min_train_length(self, val_size: int = 0) -> int:
        """Shortest series ``fit`` accepts."""
        return self.h + val_size + 1

    def min_history_length(self) -> int:
        """Shortest history ``predict(df)`` accepts."""
        return 1

    # ------------------------------------------------------------------ helpers
    def _series(self, df: pd.DataFrame, static_df: pd.DataFrame | None = None) -> SeriesData:
        """The validated series of ``df`` with the covariates this model uses."""
        frame = self._long_frame(df, frame_columns(self))
        data = SeriesData.from_long(frame, self.freq)
        spec = fitted_spec(self, data.freqs[0])
        static = self._static_rows(static_df, data.ids, spec.stat)
        return attach_covariates(data, frame, spec, static)

    def _static_rows(
        self, static_df: pd.DataFrame | None, ids: list[str], names: tuple[str, ...]
    ) -> np.ndarray | None:
        """(n_series, S) static covariates: from ``static_df``, else those seen at fit."""
        if names and static_df is None and ids and all(i in self._static_known for i in ids):
            return np.stack([self._static_known[i] for i in ids])
        return static_rows(static_df, ids, names, self.id_col)

    def _long_frame(self, df: pd.DataFrame, covariates: tuple[str, ...]) -> pd.DataFrame:
        """``df`` (long or wide) as the validated canonical long frame, with the covariate
        columns after ``y``."""
        from tsattn.datasets import check_input, read_series

        check_input(df, "df")
        if df.empty:
            raise ValueError("the frame is empty: nothing to fit or forecast from")
        options = {"freq": self.freq, "fill": self.fill, "covariate_cols": covariates}
        if {self.id_col, self.target_col} <= set(df.columns):
            return read_series(
                df,
                time_col=self.time_col,
                id_col=self.id_col,
                target_col=self.target_col,
                **options,
            )
        return read_series(df, time_col=self._wide_time_col(df), **options)

    def _wide_time_col(self, df: pd.DataFrame) -> str:
        """The time column of a wide frame: ``time_col`` if present, else a usual name."""
        if self.time_col in df.columns or isinstance(df.index, pd.DatetimeIndex):
            return self.time_col
        for name in TIME_COLUMN_GUESSES:
            if name in df.columns:
                return name
        raise ValueError(
            f"no time column {self.time_col!r} in the frame (columns: {list(df.columns)}); "
            f"pass time_col=..., use a DatetimeIndex, or give a long frame with "
            f"{self.id_col!r}, {self.time_col!r}, {self.target_col!r}"
        )

    def _check_lengths(self, data: SeriesData, val_size: int) -> None:
        need = self.min_train_length(val_size)
        short = [(i, len(v)) for i, v in zip(data.ids, data.values) if len(v) < need]
        if short:
            uid, n = short[0]
            raise ValueError(
                f"series {uid!r} has {n} observations but {self.name} needs at least {need} "
                f"(input size + h + validation); {len(short)} series are too short. "
                f"Use a smaller input_size/h/val_size or longer series"
            )

    def _check_predict_lengths(self, data: SeriesData) -> None:
        need = self.min_history_length()
        if data.min_length < need:
            raise ValueError(
                f"predict needs at least {need} observations per series as history; "
                f"the shortest given series has {data.min_length}"
            )

    def _check_predict_horizon(self, h: int | None) -> int:
        if h is None:
            return self.h
        h = _check_horizon(h)
        if h > self.h and not self.supports_longer_horizon:
            raise ValueError(
                f"{self.name} was built for h={self.h} and cannot forecast h={h}; "
                f"create the model with h={h}"
            )
        return h

    def _check_finite(self, data: SeriesData, values: np.ndarray) -> None:
        """Forecasts are finite numbers, or a ``ValueError`` that says why they are not."""
        bad = ~np.isfinite(values).all(axis=1)  # (n_series,)
        if not bad.any():
            return
        uid = data.ids[int(np.argmax(bad))]
        if input_range_problem(data):
            why = input_range_problem(data)
        else:
            why = (
                "the fitted state is not finite (training diverged, or the model file is "
                "corrupt); refit with a lower learning rate or save the model again"
            )
        raise ValueError(
            f"{self.name} produced non-finite forecasts for {int(bad.sum())} series (first: "
            f"{str(uid)[:80]!r}): {why}"
        )

    def _forecast_frame(self, data: SeriesData, values: np.ndarray) -> pd.DataFrame:
        """``unique_id, ds, <name>``: each series' ``h`` forecasts dated after its end."""
        return forecast_frame(data, values, self.name)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({shown})"


def no_window_entry(cls: type) -> str:
    """Why ``cls`` has no window-level entry, and what to use instead."""
    return (
        f"{cls.__name__} fits per series and has no window-level entry (fit_arrays / "
        f"predict_windows), so it cannot run in the benchmark runner; use naive, "
        f"seasonal_naive or a neural model there, and tsattn.backtest for the others"
    )


def check_window_array(name: str, array: object, ndim: int) -> np.ndarray:
    """``array`` as a numpy array of ``ndim`` dimensions ((T, C) series, (B, L, C) windows),
    not copied when it already is one; otherwise a ``ValueError`` naming ``name``."""
    values = np.asarray(array)
    if values.ndim != ndim or 0 in values.shape:
        shape = "(rows, channels)" if ndim == 2 else "(windows, input_size, channels)"
        raise ValueError(f"{name} must be a non-empty {shape} array, got shape {values.shape}")
    if not np.issubdtype(values.dtype, np.number):
        raise ValueError(f"{name} must hold numbers, got dtype {values.dtype}")
    return values


def _check_horizon(h: object) -> int:
    if isinstance(h, bool) or not isinstance(h, int | np.integer) or h <= 0:
        raise ValueError(f"the horizon h must be a positive integer, got {short_repr(h)}")
    if h > MAX_HORIZON:
        raise ValueError(
            f"the horizon h={h} is more steps than any forecast needs (at most {MAX_HORIZON:,}); "
            f"forecast fewer steps"
        )
    return int(h)


def _check_name(what: str, value: object) -> str:
    """A column name or option given as a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {short_repr(value)}")
    return value


def _optional_name(what: str, value: object) -> str | None:
    return None if value is None else _check_name(what, value)
