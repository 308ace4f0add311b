"""The one torch training engine: loop, :class:`TrainingConfig`, schedules, windows,
checkpoints and distributed (DDP) training. It knows networks and arrays, never pandas or
forecasters; :mod:`tsattn.models` builds on it.
"""

from tsattn.training.config import TrainingConfig, resolve_device
from tsattn.training.engine import TrainResult, fit_network, predict_windows, train_network

__all__ = [
    "TrainResult",
    "TrainingConfig",
    "fit_network",
    "predict_windows",
    "resolve_device",
    "train_network",
]
