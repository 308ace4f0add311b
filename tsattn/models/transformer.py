"""A vanilla Transformer encoder forecaster: one token per time step.

Each time step's C values are embedded linearly (plus a learned positional embedding), a
Transformer encoder with any registered attention mixes the L tokens, and a flatten head maps
them to the H x C forecast. Defaults: the MLR paper's ETTh1 setting (2 layers, d_model 512,
8 heads, lookback 96 given by the user), all channels of one step embedded together.
``channel_independent=True`` runs each channel as its own univariate window with shared
weights (as PatchTST; :func:`fold_channels`), and ``subtract_last`` centres each window on
its last season (as DLinear); the forecaster's defaults for users' series take both, at a CPU
width (see :class:`Transformer`).

>>> import torch
>>> config = TransformerConfig(input_size=96, horizon=24, n_channels=7, d_model=32, n_heads=4)
>>> TransformerNetwork(config)(torch.randn(2, 96, 7)).shape
torch.Size([2, 24, 7])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor, nn

from tsattn.checks import (
    check_field_types,
    check_nonnegative_int,
    check_positive_int,
    check_probability,
)
from tsattn.models.catalog import register_model
from tsattn.models.neural import NeuralForecaster, check_sizes
from tsattn.models.recipes import DataFacts, Resolved
from tsattn.nn import (
    DistributionHead,
    Encoder,
    EncoderConfig,
    FastDropout,
    FlattenHead,
    LearnablePositionalEmbedding,
    finish_outputs,
    last_season,
    n_outputs,
)


def fold_channels(run: Callable[..., Tensor], x: Tensor, *per_window: Tensor | None) -> Tensor:
    """``run`` on each channel of (B, L, C) windows as its own 1-channel window: the C
    channels folded into the batch, (B*C, L, 1), each keeping its window's ``per_window``
    tensors (e.g. time features, (B, ...) repeated per channel; None stays None); the
    outputs (B*C, H, 1) or (B*C, H, 1, K) come back as (B, H, C) or (B, H, C, K).

    >>> import torch
    >>> x = torch.randn(2, 5, 3)
    >>> out = fold_channels(lambda w: w[:, -2:] * 2, x)  # (B*C, 2, 1) -> (B, 2, C)
    >>> torch.equal(out, x[:, -2:] * 2)
    True
    """
    b, length, n_channels = x.shape
    series = x.transpose(1, 2).reshape(b * n_channels, length, 1)  # (B*C, L, 1)
    extras = [None if t is None else t.repeat_interleave(n_channels, dim=0) for t in per_window]
    out = run(series, *extras)  # (B*C, H, 1) or (B*C, H, 1, K)
    out = out.reshape(b, n_channels, *out.shape[1:2], *out.shape[3:])  # (B, C, H[, K])
    return out.transpose(1, 2)  # (B, H, C[, K])


def seasons_not_cycle(data: DataFacts | None) -> DataFacts | None:
    """``data`` with no longer cycle, so that a look-back chosen from it covers two seasons
    (``max(3 h, 2 seasons)``), not two of the longest cycle: for the networks with one token
    per step, whose attention cost grows with the square of the look-back."""
    if data is not None and data.cycle is not None:
        return dataclasses.replace(data, cycle=None)  # None: the season
    return data


@dataclass(frozen=True, kw_only=True)
class TransformerConfig(EncoderConfig):
    """The encoder's fields (see :class:`~tsattn.nn.EncoderConfig`, here with LayerNorm,
    no residual attention, d_model 512, 8 heads, 2 layers, d_ff 2048, dropout 0.1 applied
    once after attention) plus ``input_size`` L, ``horizon`` H, ``n_channels`` C,
    ``head_dropout`` and:

    Attributes:
        channel_independent: each channel is its own univariate series, all sharing the
            weights (as PatchTST): the network embeds and forecasts one channel and folds
            the C channels into the batch, so it takes windows of any C (``n_channels``
            sets no width then). False (the reference): the C channels are one token's
            values, embedded together and forecast jointly by the flatten head.
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
    projection_dropout: float | None = 0.0
    norm: str = "layer"
    residual_attention: bool = False
    head_dropout: float = 0.0
    channel_independent: bool = False
    subtract_last: bool = False
    center_season: int = 1
    center_drift: int = 0

    def __post_init__(self) -> None:
        check_field_types(self)
        super().__post_init__()
        check_sizes(self)
        check_probability("head_dropout", self.head_dropout)
        check_positive_int("center_season", self.center_season)
        check_nonnegative_int("center_drift", self.center_drift)
        self.check_attention(self.input_size)

    @property
    def width(self) -> int:
        """Channels the network embeds and forecasts: 1 when channel-independent, else C."""
        return 1 if self.channel_independent else self.n_channels


class TransformerNetwork(nn.Module):
    """(B, L, C) -> (B, H, C) with one token per time step; with a distribution ``head``
    (see :mod:`tsattn.nn.probabilistic`), (B, L, C) -> (B, H, C, K) parameters.
    Channel-independent (``config.channel_independent``): each channel runs as its own
    1-channel window, any C."""

    def __init__(self, config: TransformerConfig, head: DistributionHead | None = None):
        super().__init__()
        c = self.config = config
        self.embedding = nn.Linear(c.width, c.d_model)
        self.position = LearnablePositionalEmbedding(c.input_size, c.d_model)
        self.dropout = FastDropout(c.dropout)
        self.encoder = Encoder(c, seq_len=c.input_size)
        self.output_head = head
        width = c.horizon * c.width * n_outputs(self.output_head)
        self.head = FlattenHead(c.input_size, c.d_model, width, c.head_dropout)

    def forward(self, x: Tensor) -> Tensor:
        if not self.config.channel_independent or x.shape[2] == 1:
            return self.run(x)
        return fold_channels(self.run, x)

    def run(self, x: Tensor) -> Tensor:
        """The encoder on (B, L, width) windows -> (B, H, width[, K])."""
        c = self.config
        b = x.shape[0]
        ahead: Tensor | float = 0.0
        if c.subtract_last:  # centred on the last season: (B, L, C), and ahead (B, H, C)
            center, ahead = last_season(x, c.center_season, c.horizon, c.center_drift)
            x = x - center
        tokens = self.dropout(self.position(self.embedding(x)))  # (B, L, D)
        encoded = self.encoder(tokens)  # (B, L, D)
        forecast = self.head(encoded)  # (B, H*C*K)
        if self.output_head is not None:
            raw = forecast.reshape(b, c.horizon, c.width, -1)
            return finish_outputs(self.output_head, raw, 1.0, ahead)  # (B, H, C, K)
        forecast = forecast.reshape(b, c.horizon, c.width)  # (B, H, C)
        return forecast + ahead if c.subtract_last else forecast


class StepTokenForecaster(NeuralForecaster):
    """What the forecasters with one token per time step (:class:`Transformer`,
    :class:`~tsattn.models.VanillaTransformer`) share: channel-independent unless
    ``channel_independent=False`` (then all series are the channels of one series), the
    defaults for users' series and their look-back rule."""

    #: users' series: one univariate sample per series (unaligned series, any count), each
    #: window centred on its last season (``center_season="auto"``: the seasonal naive
    #: forecast when it clearly beats the last value; M4 Hourly at 1,000 steps, OWA centred
    #: against not: Transformer 0.566 against 0.751, VanillaTransformer 0.576 against 1.133),
    #: and a width at which M4 Hourly's 414 series (8,000 steps of 32 windows of 144 steps)
    #: train in minutes on one CPU thread: d_model 16 (d_model 32 was no better at 1,000
    #: steps: 0.609 and 0.578, in 1.3 times the time), 2 heads, d_ff 64, no dropout on the
    #: attention weights (which keeps the fused attention: about 5 times faster on a CPU).
    #: The literature recipe keeps the paper's joint model.
    user_network_defaults = {
        "channel_independent": True,
        "subtract_last": True,
        "d_model": 16,
        "n_heads": 2,
        "d_ff": 64,
        "attention_dropout": 0.0,
    }

    def resolved(self, data: DataFacts | None = None) -> Resolved:
        """As for every model, except that a look-back chosen from the data covers two
        seasons, not two of the longest cycle (:func:`seasons_not_cycle`): one token per step
        makes attention cost grow with the square of the look-back (``max(3 h, 2 seasons)``,
        144 steps at M4 Hourly's h of 48, where PatchTST's patches take two weeks, 336)."""
        return super().resolved(seasons_not_cycle(data))

    @property
    def joint_channels(self) -> bool:  # type: ignore[override]
        """All series fitted as the channels of one series (``channel_independent=False``)."""
        return not self.channel_independent


@register_model("transformer")
class Transformer(StepTokenForecaster):
    """Transformer encoder forecaster, one token per time step.

    For users' series (the ``user`` recipe, the constructors' default) it is
    channel-independent (``channel_independent=True``): each series is its own univariate
    sample, as for PatchTST, so series of any lengths and dates work and ``predict`` takes
    any series at least ``input_size`` long; and it is narrow enough to train in minutes on
    a CPU (see :attr:`user_network_defaults`). The literature recipe (the benchmark runner)
    keeps the MLR paper's model: all series fitted jointly as the channels of one
    multivariate series (they must be aligned, and ``predict(df)`` needs the same series),
    at d_model 512, d_ff 2048.

    Keyword arguments: as :class:`~tsattn.models.PatchTST`, with the
    :class:`TransformerConfig` fields. Series are standardized with their training statistics.

    >>> model = Transformer(h=24, input_size=96, attention="mlr", progress=False)
    >>> model.d_model, model.n_layers, model.channel_independent
    (16, 2, True)
    >>> paper = Transformer(h=24, input_size=96, recipe="literature:ETTh1")
    >>> paper.d_model, paper.d_ff, paper.joint_channels
    (512, 2048, True)
    """

    config_class = TransformerConfig
    network_class = TransformerNetwork
    supports_covariates = ()  # a class attribute; VanillaTransformer takes covariates
