"""The vanilla encoder-decoder Transformer of Time-Series-Library (its ``Transformer`` model,
long-term forecasting), the model of the MLR paper's time-series experiment.

One token per time step. The encoder embeds the L input steps (value convolution +
sinusoidal position + time features, :class:`~tsattn.nn.embedding.DataEmbedding`) and runs
``n_layers`` post-LayerNorm layers and a final LayerNorm. The decoder's input is the last
``label_len`` input steps followed by H zeros (with the time features of all
``label_len + H`` steps); it runs ``decoder_layers`` layers of causal self-attention,
cross-attention to the encoder and feed-forward, a final LayerNorm and a linear projection
to the C channels; the last H steps are the forecast.

Attention is pluggable in the encoder (``attention``) and, causal, in the decoder
(``decoder_attention``); cross-attention is softmax. Defaults: the Time-Series-Library
ETTh1 script (d_model 512, 8 heads, 2 encoder and 1 decoder layer, d_ff 2048, dropout 0.1,
GELU, label_len 48 = half the input, hourly time features), all channels of one token
embedded together. ``channel_independent=True`` runs each channel as its own univariate
window with shared weights (as PatchTST), and ``subtract_last`` centres each window on its
last season (as DLinear); the forecaster's defaults for users' series take both, at a CPU
width (see :class:`VanillaTransformer`).

Time features: the network takes them as optional tensors (``hourly_time_features`` makes
them from timestamps, as the reference's ``time_features(freq="h")``). The forecaster
wrapper (``create_model("vanilla_transformer", ...)``) sees values only and runs without
them, as the reference does when no marks are given.

>>> import torch
>>> config = VanillaTransformerConfig(input_size=96, horizon=24, n_channels=7, d_model=32,
...                                   n_heads=4, d_ff=64, label_len=48)
>>> net = VanillaTransformerNetwork(config)
>>> net(torch.randn(2, 96, 7), torch.rand(2, 96, 4), torch.rand(2, 72, 4)).shape
torch.Size([2, 24, 7])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from tsattn.attention import ATTENTION, AttentionSpec, saveable_attention
from tsattn.checks import check_field_types, check_nonnegative_int, check_positive_int
from tsattn.models.catalog import register_model
from tsattn.models.neural import check_sizes
from tsattn.models.transformer import StepTokenForecaster, fold_channels
from tsattn.nn import (
    DistributionHead,
    Encoder,
    EncoderConfig,
    finish_outputs,
    last_season,
    n_outputs,
)
from tsattn.nn.covariates import CovariateLayout
from tsattn.nn.decoder import Decoder, DecoderLayer
from tsattn.nn.embedding import DataEmbedding

#: calendar features per step for hourly data (hour, weekday, day of month, day of year)
HOURLY_TIME_FEATURES = 4


def hourly_time_features(index: pd.DatetimeIndex) -> np.ndarray:
    """(T, 4) calendar features of hourly timestamps in [-0.5, 0.5], in the reference's
    order: hour of day, day of week, day of month, day of year (Time-Series-Library's
    ``time_features(dates, freq="h")``, transposed)."""
    index = pd.DatetimeIndex(index)
    columns = [
        index.hour / 23.0 - 0.5,
        index.dayofweek / 6.0 - 0.5,
        (index.day - 1) / 30.0 - 0.5,
        (index.dayofyear - 1) / 365.0 - 0.5,
    ]
    return np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=1)


@dataclass(frozen=True, kw_only=True)
class VanillaTransformerConfig(EncoderConfig):
    """The encoder's fields (see :class:`~tsattn.nn.EncoderConfig`; ``n_layers`` is the
    encoder depth, LayerNorm post-norm, no residual attention, one dropout after attention)
    plus:

    Attributes:
        input_size, horizon, n_channels: L, H and C.
        label_len: input steps the decoder starts from (its first ``label_len`` tokens);
            None: half the input (48 for the reference's 96), at most ``input_size``.
        decoder_layers: decoder depth.
        n_time_features: calendar features per step (4 for hourly data).
        decoder_attention, decoder_attention_options: the decoder's causal self-attention.
        channel_independent: each channel is its own univariate series, all sharing the
            weights (as PatchTST): the network embeds and projects one channel and folds
            the C channels into the batch, so it takes windows of any C (``n_channels``
            sets no width then). False (the reference): the C channels are one token's
            values, embedded together and projected back jointly.
        subtract_last, center_season: with ``subtract_last``, each window is centred on the
            periodic continuation of its last ``center_season`` values (1: its last value;
            see :func:`~tsattn.nn.last_season`) before the network and the forecast is that
            continuation (the seasonal naive forecast) plus the network's output, as
            DLinear's ``subtract_last``. The reference has none (False).
        center_drift: with it k > 0, the centre also follows the window's slope over its last
            k steps (the naive forecast with drift; see :func:`~tsattn.nn.last_season`).
    """

    input_size: int
    horizon: int
    n_channels: int = 1
    d_model: int = 512
    n_heads: int = 8
    n_layers: int = 2
    d_ff: int = 2048
    dropout: float = 0.1
    attention_dropout: float = 0.1
    projection_dropout: float | None = 0.0
    norm: str = "layer"
    residual_attention: bool = False
    label_len: int | None = None
    decoder_layers: int = 1
    n_time_features: int = HOURLY_TIME_FEATURES
    decoder_attention: AttentionSpec = "softmax"
    decoder_attention_options: dict[str, Any] | None = field(default=None, hash=False)
    channel_independent: bool = False
    subtract_last: bool = False
    center_season: int = 1
    center_drift: int = 0

    def __post_init__(self) -> None:
        check_field_types(self)
        super().__post_init__()
        check_sizes(self)
        for name in ("decoder_layers", "n_time_features", "center_season"):
            check_positive_int(name, getattr(self, name))
        check_nonnegative_int("center_drift", self.center_drift)
        if self.label_len is None:
            object.__setattr__(self, "label_len", max(self.input_size // 2, 1))
        check_positive_int("label_len", self.label_len)
        if self.label_len > self.input_size:
            raise ValueError(
                f"label_len ({self.label_len}) cannot exceed input_size ({self.input_size}): "
                "the decoder starts from the last label_len input steps"
            )
        if self.norm != "layer" or self.pre_norm:
            raise ValueError(
                "the vanilla Transformer is post-LayerNorm: norm='layer', pre_norm=False"
            )
        if isinstance(self.decoder_attention, str):
            ATTENTION.get(self.decoder_attention)  # unknown names list the valid ones
        self.check_attention(self.input_size)
        with torch.random.fork_rng(devices=[]):  # validate the decoder options, RNG untouched
            self.decoder_layer()

    @property
    def width(self) -> int:
        """Channels the network embeds and projects: 1 when channel-independent, else C."""
        return 1 if self.channel_independent else self.n_channels

    @property
    def decoder_len(self) -> int:
        """Decoder tokens: label_len + horizon."""
        return self.label_len + self.horizon

    def decoder_layer(self) -> DecoderLayer:
        """One freshly initialised decoder layer of this configuration."""
        return DecoderLayer(
            self.d_model,
            self.n_heads,
            self.d_ff,
            self.decoder_len,
            dropout=self.dropout,
            attention_dropout=self.attention_dropout,
            activation=self.activation,
            attention=self.decoder_attention,
            attention_options=self.decoder_attention_options,
        )

    @classmethod
    def saveable_options(cls, params: dict[str, Any], strict: bool) -> dict[str, Any]:
        """Both attentions as a model file can hold them (registered names)."""
        params = super().saveable_options(params, strict)
        if "decoder_attention" not in params:
            return params
        return {
            **params,
            "decoder_attention": saveable_attention(params["decoder_attention"], strict),
        }


class VanillaTransformerNetwork(nn.Module):
    """(B, L, C) inputs, optional time features (B, L, F) and (B, label_len + H, F) ->
    (B, H, C); with a distribution ``head``, (B, H, C, K) parameters. Channel-independent
    (``config.channel_independent``): each channel runs as its own 1-channel window with the
    same time features, any C."""

    def __init__(self, config: VanillaTransformerConfig, head: DistributionHead | None = None):
        super().__init__()
        c = self.config = config
        self.encoder_embedding = DataEmbedding(c.width, c.d_model, c.n_time_features, c.dropout)
        self.encoder = Encoder(c, seq_len=c.input_size)
        self.encoder_norm = nn.LayerNorm(c.d_model)
        self.decoder_embedding = DataEmbedding(c.width, c.d_model, c.n_time_features, c.dropout)
        self.decoder = Decoder([c.decoder_layer() for _ in range(c.decoder_layers)], c.d_model)
        self.output_head = head
        self.projection = nn.Linear(c.d_model, c.width * n_outputs(head))

    def decoder_input(self, x: Tensor) -> Tensor:
        """(B, L, C) -> (B, label_len + H, C): the last label_len steps, then H zeros."""
        c = self.config
        zeros = x.new_zeros(x.shape[0], c.horizon, x.shape[2])  # (B, H, C)
        return torch.cat([x[:, -c.label_len :], zeros], dim=1)

    def forward(
        self, x: Tensor, x_marks: Tensor | None = None, y_marks: Tensor | None = None
    ) -> Tensor:
        """``x`` (B, L, C); ``x_marks`` (B, L, F) and ``y_marks`` (B, label_len + H, F), the
        time features of the input and decoder steps (both or neither)."""
        if (x_marks is None) != (y_marks is None):
            raise ValueError("give both x_marks and y_marks, or neither")
        if not self.config.channel_independent or x.shape[2] == 1:
            return self.run(x, x_marks, y_marks)
        # each channel's window keeps its step's time features
        return fold_channels(self.run, x, x_marks, y_marks)  # (B, H, C) or (B, H, C, K)

    def run(self, x: Tensor, x_marks: Tensor | None, y_marks: Tensor | None) -> Tensor:
        """The encoder-decoder on (B, L, width) windows -> (B, H, width[, K])."""
        c = self.config
        ahead: Tensor | float = 0.0
        if c.subtract_last:  # centred on the last season: (B, L, C), and ahead (B, H, C)
            center, ahead = last_season(x, c.center_season, c.horizon, c.center_drift)
            x = x - center
        memory = self.encoder_norm(self.encoder(self.encoder_embedding(x, x_marks)))  # (B, L, D)
        tokens = self.decoder_embedding(self.decoder_input(x), y_marks)  # (B, label_len+H, D)
        decoded = self.projection(self.decoder(tokens, memory))[:, -c.horizon :]  # (B, H, C*K)
        if self.output_head is None:
            return decoded + ahead if c.subtract_last else decoded  # (B, H, C)
        raw = decoded.reshape(x.shape[0], c.horizon, c.width, -1)
        return finish_outputs(self.output_head, raw, 1.0, ahead)  # (B, H, C, K)


class CovariateMarks(nn.Module):
    """The network with user covariates as its time features: a packed window (B, L + H,
    width) (see :mod:`tsattn.nn.covariates`: the C targets, then every covariate channel)
    gives the encoder the covariates of the L input steps and the decoder those of its
    ``label_len + H`` steps (future-known values at the forecast dates; past-only ones are
    zero there) -> (B, H, C), or (B, H, C, K) with a head."""

    def __init__(self, network: VanillaTransformerNetwork, layout: CovariateLayout):
        super().__init__()
        self.network, self.layout = network, layout
        self.config = network.config
        self.output_head = network.output_head

    def forward(self, x: Tensor) -> Tensor:
        c, n_targets = self.config, self.layout.n_targets
        targets = x[:, : c.input_size, :n_targets]  # (B, L, C)
        marks = x[:, :, n_targets:]  # (B, L + H, K)
        decoder_marks = marks[:, c.input_size - c.label_len :]  # (B, label_len + H, K)
        return self.network(targets, marks[:, : c.input_size], decoder_marks)


@register_model("vanilla_transformer")
class VanillaTransformer(StepTokenForecaster):
    """Encoder-decoder Transformer forecaster (Time-Series-Library's ``Transformer``).

    For users' series (the ``user`` recipe, the constructors' default) it is
    channel-independent (``channel_independent=True``): each series is its own univariate
    sample, as for PatchTST, so series of any lengths and dates work and ``predict`` takes
    any series at least ``input_size`` long; and it is narrow enough to train in minutes on
    a CPU (see :attr:`user_network_defaults`). The literature recipe (the benchmark runner)
    keeps the reference: all series fitted jointly as the channels of one multivariate
    series (they must be aligned, and ``predict(df)`` needs the same series), at the paper's
    size (d_model 512, d_ff 2048). Without covariates it sees values only (no time
    features, as the reference without marks); with covariates (``calendar=True``,
    ``futr_exog_list``, ``hist_exog_list``, ``stat_exog_list``) they are its time features
    in the encoder and the decoder (``n_time_features`` then follows them): each series'
    own when channel-independent, every series' side by side when joint.

    >>> model = VanillaTransformer(h=24, input_size=96, attention="mlr", progress=False)
    >>> model.d_model, model.channel_independent, model.decoder_attention
    (16, True, 'softmax')
    >>> paper = VanillaTransformer(h=24, input_size=96, recipe="literature:ETTh1")
    >>> paper.d_model, paper.d_ff, paper.joint_channels
    (512, 2048, True)
    """

    config_class = VanillaTransformerConfig
    network_class = VanillaTransformerNetwork
    #: joint (not channel-independent), it takes covariates as every series' time features
    joint_covariates = True

    def covariate_options(self, layout: CovariateLayout) -> dict[str, Any]:
        """One time feature per covariate channel."""
        return {"n_time_features": layout.n_covariates}

    def covariate_network(self, config: Any, head: Any, layout: CovariateLayout) -> nn.Module:
        """The network whose time features are the covariates (:class:`CovariateMarks`)."""
        return CovariateMarks(VanillaTransformerNetwork(config, head), layout)
