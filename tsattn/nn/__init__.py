"""Pandas-free torch building blocks of the forecasting networks.

>>> from tsattn.nn import count_patches
>>> count_patches(336, patch_len=16, stride=8), count_patches(512, patch_len=16, stride=8)
(42, 64)
"""

from tsattn.nn.encoder import (
    Encoder,
    EncoderConfig,
    EncoderLayer,
    LayerOutput,
    TokenBatchNorm,
    make_norm,
)
from tsattn.nn.ensemble import NetworkEnsemble
from tsattn.nn.layers import FastDropout, FlattenHead, LearnablePositionalEmbedding, MovingAverage
from tsattn.nn.patching import Patching, count_patches
from tsattn.nn.probabilistic import (
    DEFAULT_QUANTILES,
    LOSS_NAMES,
    PROBABILISTIC_LOSSES,
    DistributionHead,
    finish_outputs,
    make_head,
    n_outputs,
)
from tsattn.nn.revin import RevIN, RevINStats, last_season

__all__ = [
    "DEFAULT_QUANTILES",
    "LOSS_NAMES",
    "PROBABILISTIC_LOSSES",
    "DistributionHead",
    "finish_outputs",
    "make_head",
    "n_outputs",
    "FastDropout",
    "Encoder",
    "EncoderConfig",
    "EncoderLayer",
    "FlattenHead",
    "LayerOutput",
    "LearnablePositionalEmbedding",
    "MovingAverage",
    "NetworkEnsemble",
    "Patching",
    "RevIN",
    "RevINStats",
    "last_season",
    "TokenBatchNorm",
    "count_patches",
    "make_norm",
]
