"""A vanilla Transformer encoder forecaster: one token per time step, channels mixed.

Each time step's C values are embedded linearly (plus a learned positional embedding), a
Transformer encoder with any registered attention mixes the L tokens, and a flatten head maps
them to the H x C forecast. Defaults: the MLR paper's ETTh1 setting (2 layers, d_model 512,
8 heads, lookback 96 given by the user).

>>> import torch
>>> config = TransformerConfig(input_size=96, horizon=24, n_channels=7, d_model=32, n_heads=4)
>>> TransformerNetwork(config)(torch.randn(2, 96, 7)).shape
torch.Size([2, 24, 7])
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from tsattn.checks import check_field_types, check_probability
from tsattn.models.catalog import register_model
from tsattn.models.neural import NeuralForecaster, check_sizes
from tsattn.nn import (
    DistributionHead,
    Encoder,
    EncoderConfig,
    FastDropout,
    FlattenHead,
    LearnablePositionalEmbedding,
    finish_outputs,
    n_outputs,
)


@dataclass(frozen=True, kw_only=True)
class TransformerConfig(EncoderConfig):
    """The encoder's fields (see :class:`~tsattn.nn.EncoderConfig`, here with LayerNorm,
    no residual attention, d_model 512, 8 heads, 2 layers, d_ff 2048, dropout 0.1 applied
    once after attention) plus
    ``input_size`` L, ``horizon`` H, ``n_channels`` C and ``head_dropout``."""

    input_size: int
    horizon: int
    n_channels: int = 1
    d_model: int = 512
    n_heads: int = 8
    n_layers: int = 2
    d_ff: int = 2048
    dropout: float = 0.1
    projection_dropout: float | None = 0.0
    norm: str = "layer"
    residual_attention: bool = False
    head_dropout: float = 0.0

    def __post_init__(self) -> None:
        check_field_types(self)
        super().__post_init__()
        check_sizes(self)
        check_probability("head_dropout", self.head_dropout)
        self.check_attention(self.input_size)


class TransformerNetwork(nn.Module):
    """(B, L, C) -> (B, H, C) with one token per time step; with a distribution ``head``
    (see :mod:`tsattn.nn.probabilistic`), (B, L, C) -> (B, H, C, K) parameters."""

    def __init__(self, config: TransformerConfig, head: DistributionHead | None = None):
        super().__init__()
        c = self.config = config
        self.embedding = nn.Linear(c.n_channels, c.d_model)
        self.position = LearnablePositionalEmbedding(c.input_size, c.d_model)
        self.dropout = FastDropout(c.dropout)
        self.encoder = Encoder(c, seq_len=c.input_size)
        self.output_head = head
        width = c.horizon * c.n_channels * n_outputs(self.output_head)
        self.head = FlattenHead(c.input_size, c.d_model, width, c.head_dropout)

    def forward(self, x: Tensor) -> Tensor:
        b = x.shape[0]
        tokens = self.dropout(self.position(self.embedding(x)))  # (B, L, D)
        encoded = self.encoder(tokens)  # (B, L, D)
        forecast = self.head(encoded)  # (B, H*C*K)
        if self.output_head is not None:
            raw = forecast.reshape(b, self.config.horizon, self.config.n_channels, -1)
            return finish_outputs(self.output_head, raw)  # (B, H, C, K)
        return forecast.reshape(b, self.config.horizon, self.config.n_channels)  # (B, H, C)


@register_model("transformer")
class Transformer(NeuralForecaster):
    """Transformer encoder forecaster that fits all series jointly, as channels: the series
    must be aligned (same length and timestamps) and ``predict(df)`` needs the same series.

    Keyword arguments: as :class:`~tsattn.models.PatchTST`, with the
    :class:`TransformerConfig` fields. Series are standardized with their training statistics.

    >>> model = Transformer(h=24, input_size=96, attention="mlr", progress=False)
    >>> model.d_model, model.n_layers
    (512, 2)
    """

    config_class = TransformerConfig
    network_class = TransformerNetwork
    joint_channels = True
    supports_covariates = ()  # its channels are the series; VanillaTransformer takes them
