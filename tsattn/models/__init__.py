"""Forecasting models behind one fit/predict/save/load API, buildable by name.

>>> from tsattn.models import list_models
>>> "patchtst" in list_models()
True
"""

from __future__ import annotations

from typing import Any

from tsattn.models.base import MODELS, Forecaster, SeriesData, register_model
from tsattn.models.persistence import load


def list_models() -> list[str]:
    """Names accepted by :func:`create_model` (and the CLI)."""
    return MODELS.names()


def create_model(name: str, **params: Any) -> Forecaster:
    """Build a registered forecaster by name, e.g. ``create_model("patchtst", h=96)``."""
    return MODELS.get(name)(**params)


__all__ = [
    "MODELS",
    "Forecaster",
    "SeriesData",
    "create_model",
    "list_models",
    "load",
    "register_model",
]
