"""GluonTS' torch estimators (DeepAR, PatchTST, DLinear) behind the Forecaster API.

Needs the ``gluonts`` extra (PyTorch Lightning): ``pip install "tsattn[gluonts]"``. The
point forecast is the mean of gluonts' probabilistic forecast, and ``predict(level=...,
quantiles=...)`` returns that forecast's own quantiles (``forecast.quantile(p)``: of the
sample paths for DeepAR, of the output distribution for the others); sampling is seeded, so
a model forecasts the same numbers every time. ``save`` writes the network's ``state_dict``
as tensors; ``load`` rebuilds the estimator from its parameters and loads them (no
retraining, no pickle).

gluonts indexes series by pandas *periods*, whose aliases differ from the timestamp offsets
:func:`tsattn.read_series` infers: :func:`period_frequency` maps one to the other (month
starts and ends are both ``"M"``, quarter starts ``"QS-JAN"`` are ``"Q-DEC"``, year ends
``"YE-DEC"`` are ``"Y-DEC"``...), so every frequency ``read_series`` accepts trains.

>>> [period_frequency(f) for f in ("MS", "ME", "QS", "QE-NOV", "YS", "YE", "W-SUN", "15min")]
['M', 'M', 'Q-DEC', 'Q-NOV', 'Y-DEC', 'Y-DEC', 'W-SUN', '15min']

>>> model = GluonTSForecaster("deepar", h=24, max_epochs=5,
...                           estimator_kwargs={"num_layers": 1})  # doctest: +SKIP
>>> model.fit(df).predict()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import tempfile
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch

from tsattn.checks import (
    check_choice,
    check_keywords,
    check_nonnegative_int,
    check_positive_int,
    check_str_mapping,
    load_weights,
    state_frequency,
)
from tsattn.datasets.axis import is_integer_freq
from tsattn.models.base import Forecaster, register_model
from tsattn.models.series_data import SeriesData

#: estimator name -> (module, class, needs ``freq``, default estimator kwargs)
ESTIMATORS: dict[str, tuple[str, str, bool, dict[str, Any]]] = {
    "deepar": ("gluonts.torch.model.deepar", "DeepAREstimator", True, {}),
    "patchtst": ("gluonts.torch.model.patch_tst", "PatchTSTEstimator", False, {"patch_len": 8}),
    "dlinear": ("gluonts.torch.model.d_linear", "DLinearEstimator", False, {}),
}
INSTALL_HINT = 'pip install "tsattn[gluonts]"'
QUIET_TRAINER = {
    "enable_progress_bar": False,
    "enable_model_summary": False,
    "logger": False,
}


#: month names of pandas' anchored aliases, January first
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def period_frequency(freq: str) -> str:
    """The pandas *period* alias gluonts needs for series of timestamp frequency ``freq``.

    Timestamp offsets that mark where a calendar period starts or ends (``MS``, ``ME``,
    ``BMS``, ``BME``, ``QS-*``, ``QE-*``, ``YS-*``, ``YE-*``) have no period alias; the
    period they name does: a month ``M``, a quarter ``Q-<last month of the year>``, a year
    ``Y-<last month>``. Other frequencies (minutes, hours, days, business days, weeks) are
    periods already. A frequency with no period equivalent is a ``ValueError``.
    """
    if is_integer_freq(freq):
        raise ValueError(
            "GluonTSForecaster needs timestamps: gluonts indexes series by pandas periods, "
            "which integer time steps have none of; give the series dates (e.g. "
            "pd.date_range('2000-01-01', periods=n, freq='D')) or use another model"
        )
    offset = pd.tseries.frequencies.to_offset(freq)
    offsets = pd.offsets
    n = "" if offset.n == 1 else str(offset.n)
    if isinstance(
        offset,
        offsets.MonthBegin
        | offsets.MonthEnd
        | offsets.BusinessMonthBegin
        | offsets.BusinessMonthEnd,
    ):
        return f"{n}M"
    if isinstance(offset, offsets.QuarterBegin | offsets.BQuarterBegin):
        return f"{n}Q-{MONTHS[(offset.startingMonth - 2) % 12]}"  # starts in JAN: ends in DEC
    if isinstance(offset, offsets.QuarterEnd | offsets.BQuarterEnd):
        return f"{n}Q-{MONTHS[offset.startingMonth - 1]}"
    if isinstance(offset, offsets.YearBegin | offsets.BYearBegin):
        return f"{n}Y-{MONTHS[(offset.month - 2) % 12]}"
    if isinstance(offset, offsets.YearEnd | offsets.BYearEnd):
        return f"{n}Y-{MONTHS[offset.month - 1]}"
    try:
        pd.Period("2000-01-03", freq=offset)
    except (TypeError, ValueError):
        raise ValueError(
            f"GluonTSForecaster cannot model frequency {freq!r}: gluonts indexes series by "
            f"pandas periods and {freq!r} has none; resample to minutes, hours, days, "
            f"business days, weeks, months, quarters or years"
        ) from None
    return offset.freqstr


def require_lightning() -> None:
    """Raise an ImportError naming the extra to install when Lightning is missing."""
    try:
        importlib.import_module("lightning.pytorch")
    except ImportError as err:
        raise ImportError(
            f"GluonTSForecaster needs PyTorch Lightning for gluonts' torch models ({err}); "
            f"install the extra: {INSTALL_HINT}"
        ) from None


@register_model("gluonts")
class GluonTSForecaster(Forecaster):
    """A gluonts torch estimator trained on all series (a global model).

    Args:
        estimator: ``"deepar"``, ``"patchtst"`` or ``"dlinear"``.
        h: horizon (the estimator's ``prediction_length``); ``predict`` may ask for fewer.
        estimator_kwargs: more keyword arguments of the gluonts estimator (e.g.
            ``context_length``, ``num_layers``, ``trainer_kwargs``); JSON-able, so the model
            can be saved.
        max_epochs: training epochs (Lightning ``max_epochs``).
        seed: seeds training and the sampling of forecasts.
        **kwargs: the shared options of :class:`~tsattn.models.Forecaster`.
    """

    supports_longer_horizon = False
    float32_inputs: ClassVar[bool] = True
    supports_quantiles: ClassVar[bool] = True

    def __init__(
        self,
        estimator: str = "deepar",
        h: int = 1,
        estimator_kwargs: dict[str, Any] | None = None,
        max_epochs: int = 10,
        seed: int = 0,
        **kwargs: Any,
    ):
        check_keywords(type(self), kwargs)
        super().__init__(h, **kwargs)
        self.estimator = check_choice("estimator", estimator, tuple(ESTIMATORS))
        self.estimator_kwargs = check_str_mapping("estimator_kwargs", estimator_kwargs)
        self.max_epochs = check_positive_int("max_epochs", max_epochs)
        self.seed = check_nonnegative_int("seed", seed)
        self._predictor = None
        self._freq: str | None = None

    def _build(self, freq: str):
        """The configured gluonts estimator for series of frequency ``freq``."""
        require_lightning()
        if self.estimator not in ESTIMATORS:
            raise ValueError(
                f"unknown gluonts estimator {self.estimator!r}; valid: {', '.join(ESTIMATORS)}"
            )
        module, name, needs_freq, defaults = ESTIMATORS[self.estimator]
        options = {**defaults, **(self.estimator_kwargs or {})}
        trainer = {**QUIET_TRAINER, "max_epochs": self.max_epochs}
        options["trainer_kwargs"] = {**trainer, **options.get("trainer_kwargs", {})}
        if needs_freq:
            options.setdefault("freq", period_frequency(freq))
        cls = getattr(importlib.import_module(module), name)
        return cls(prediction_length=self.h, **options)

    def _fit(self, data: SeriesData, val_size: int | None) -> None:
        estimator = self._build(data.freqs[0])
        torch.manual_seed(self.seed)
        np.random.seed(self.seed)
        with _quiet_lightning(), tempfile.TemporaryDirectory() as tmp:
            estimator.trainer_kwargs.setdefault("default_root_dir", tmp)  # checkpoints
            self._predictor = estimator.train(_dataset(data))
        self._freq = data.freqs[0]

    def _forecasts(self, data: SeriesData) -> list:
        """gluonts' probabilistic forecast of every series (seeded: the same sample paths
        on every call, so the mean and the quantiles come from the same draws)."""
        torch.manual_seed(self.seed)
        return list(self._predictor.predict(_dataset(data)))

    def _predict(self, data: SeriesData, h: int) -> np.ndarray:
        return np.stack([np.asarray(f.mean)[:h] for f in self._forecasts(data)])

    def _predict_quantiles(self, data: SeriesData, h: int, probs: np.ndarray) -> np.ndarray:
        """(n_series, h, Q): ``forecast.quantile(p)`` of each series' forecast."""
        return np.stack(
            [
                np.stack([np.asarray(f.quantile(float(p)))[:h] for p in probs], axis=-1)
                for f in self._forecasts(data)
            ]
        )

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        state = self._predictor.prediction_net.state_dict()
        return {"freq": self._freq}, {f"net.{k}": v for k, v in state.items()}

    def _set_state(self, meta: dict[str, Any], tensors: dict[str, Any]) -> None:
        """Rebuild the estimator and load the saved network (finite weights that fit it)."""
        freq = state_frequency(meta, "freq")
        estimator = self._build(freq)
        module = estimator.create_lightning_module()
        state = {k[len("net.") :]: v for k, v in tensors.items() if k.startswith("net.")}
        load_weights(module, state, "net")
        self._predictor = estimator.create_predictor(estimator.create_transformation(), module)
        self._freq = freq

    def min_train_length(self, val_size: int = 0) -> int:
        return self.h + 1


def _dataset(data: SeriesData):
    """Validated SeriesData as a gluonts ``PandasDataset`` (float32 targets: DLinear and
    PatchTST do not cast them)."""
    from gluonts.dataset.pandas import PandasDataset

    period = period_frequency(data.freqs[0])  # first: integer time steps have no period
    frames = [
        pd.DataFrame(
            {
                "unique_id": uid,
                "ds": pd.date_range(end=last, periods=len(values), freq=freq, unit=last.unit),
                "y": values.astype(np.float32),
            }
        )
        for uid, values, last, freq in zip(data.ids, data.values, data.last_ds, data.freqs)
    ]
    return PandasDataset.from_long_dataframe(
        pd.concat(frames, ignore_index=True),
        item_id="unique_id",
        timestamp="ds",
        target="y",
        freq=period,
    )


@contextlib.contextmanager
def _quiet_lightning():
    loggers = [logging.getLogger(n) for n in ("lightning.pytorch", "lightning.fabric")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
