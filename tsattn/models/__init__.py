"""Forecasting models behind one fit/predict/save/load API, buildable by name.

>>> from tsattn.models import list_models
>>> "patchtst" in list_models()
True
"""

from __future__ import annotations

from tsattn.models.base import Forecaster
from tsattn.models.baselines import (
    ARIMA,
    ETS,
    AutoARIMA,
    GluonTSForecaster,
    Naive,
    SeasonalNaive,
    SklearnForecaster,
    Theta,
)
from tsattn.models.catalog import MODELS, register_model
from tsattn.models.factory import create_model
from tsattn.models.linear import (
    DLinear,
    DLinearConfig,
    DLinearNetwork,
    NLinear,
    NLinearConfig,
    NLinearNetwork,
)
from tsattn.models.neural import NeuralForecaster, create_network, split_options
from tsattn.models.patchtst import PatchTST, PatchTSTConfig, PatchTSTNetwork
from tsattn.models.persistence import load
from tsattn.models.series_data import SeriesData
from tsattn.models.transformer import Transformer, TransformerConfig, TransformerNetwork
from tsattn.models.vanilla_transformer import (
    VanillaTransformer,
    VanillaTransformerConfig,
    VanillaTransformerNetwork,
    hourly_time_features,
)
from tsattn.training.config import TrainingConfig
from tsattn.training.engine import TrainResult, fit_network, predict_windows, train_network


def list_models() -> list[str]:
    """Names accepted by :func:`create_model` (and the CLI)."""
    return MODELS.names()


__all__ = [
    "ARIMA",
    "ETS",
    "MODELS",
    "AutoARIMA",
    "GluonTSForecaster",
    "Naive",
    "SeasonalNaive",
    "SklearnForecaster",
    "Theta",
    "DLinear",
    "DLinearConfig",
    "DLinearNetwork",
    "Forecaster",
    "NLinear",
    "NLinearConfig",
    "NLinearNetwork",
    "NeuralForecaster",
    "PatchTST",
    "PatchTSTConfig",
    "PatchTSTNetwork",
    "SeriesData",
    "TrainResult",
    "TrainingConfig",
    "Transformer",
    "TransformerConfig",
    "TransformerNetwork",
    "VanillaTransformer",
    "VanillaTransformerConfig",
    "VanillaTransformerNetwork",
    "create_model",
    "create_network",
    "fit_network",
    "hourly_time_features",
    "list_models",
    "load",
    "predict_windows",
    "register_model",
    "split_options",
    "train_network",
]
