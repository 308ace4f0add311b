"""PatchTST (Nie et al., ICLR 2023) with pluggable attention.

Channel-independent: each channel of a (B, L, C) window is a univariate series, cut into
patches that are the encoder's tokens; one flatten head (shared by all channels) maps the
encoded patches to the horizon. The defaults are the reference model on ETTh1 (Nie et al.'s code):
RevIN without affine (subtract the mean), patch 16 stride 8 with end padding, 3 post-norm
BatchNorm layers, d_model 16, 4 heads, d_ff 128, dropout 0.3, residual attention.

>>> import torch
>>> net = PatchTSTNetwork(PatchTSTConfig(input_size=336, horizon=96, attention="mlr"))
>>> net(torch.randn(2, 336, 7)).shape
torch.Size([2, 96, 7])
>>> net.n_patches
42
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from tsattn.checks import (
    check_field_types,
    check_positive_int,
    check_probability,
    check_real,
)
from tsattn.models.catalog import register_model
from tsattn.models.neural import NeuralForecaster, check_sizes
from tsattn.nn import (
    DistributionHead,
    Encoder,
    EncoderConfig,
    FastDropout,
    FlattenHead,
    LearnablePositionalEmbedding,
    Patching,
    RevIN,
    count_patches,
    finish_outputs,
    n_outputs,
)


@dataclass(frozen=True, kw_only=True)
class PatchTSTConfig(EncoderConfig):
    """PatchTST hyperparameters: the encoder's (see :class:`~tsattn.nn.EncoderConfig`) and

    Attributes:
        input_size, horizon: lookback L and horizon H.
        n_channels: C; only sizes RevIN's affine parameters (1 shares them).
        patch_len, stride, pad_end: patching (see :class:`~tsattn.nn.Patching`).
        head_dropout: dropout after the flatten head.
        revin, revin_affine, revin_subtract_last, revin_eps: RevIN options.
        center_season: with ``revin_subtract_last``, centre each window on the periodic
            continuation of its last ``center_season`` values (its seasonal naive forecast)
            instead of the last value (1), so the network learns departures from it.
    """

    input_size: int
    horizon: int
    n_channels: int = 1
    patch_len: int = 16
    stride: int = 8
    pad_end: bool = True
    head_dropout: float = 0.0
    revin: bool = True
    revin_affine: bool = False
    revin_subtract_last: bool = False
    revin_eps: float = 1e-5
    center_season: int = 1

    def __post_init__(self) -> None:
        check_field_types(self)
        super().__post_init__()
        check_sizes(self)
        check_positive_int("patch_len", self.patch_len)
        check_positive_int("stride", self.stride)
        check_positive_int("center_season", self.center_season)
        check_probability("head_dropout", self.head_dropout)
        check_real("revin_eps", self.revin_eps, "> 0", lambda v: v > 0)
        n_patches = count_patches(self.input_size, self.patch_len, self.stride, self.pad_end)
        self.check_attention(n_patches)


class PatchTSTNetwork(nn.Module):
    """(B, L, C) -> (B, H, C), channel-independent patch Transformer; with a distribution
    ``head`` (see :mod:`tsattn.nn.probabilistic`), (B, L, C) -> (B, H, C, K) parameters."""

    def __init__(self, config: PatchTSTConfig, head: DistributionHead | None = None):
        super().__init__()
        c = self.config = config
        self.n_patches = count_patches(c.input_size, c.patch_len, c.stride, c.pad_end)
        self.revin = (
            RevIN(
                c.n_channels,
                c.revin_affine,
                c.revin_subtract_last,
                c.revin_eps,
                season=c.center_season,
                horizon=c.horizon,
            )
            if c.revin
            else None
        )
        self.patching = Patching(c.patch_len, c.stride, c.pad_end)
        self.patch_embedding = nn.Linear(c.patch_len, c.d_model)
        self.position = LearnablePositionalEmbedding(self.n_patches, c.d_model)
        self.dropout = FastDropout(c.dropout)
        self.encoder = Encoder(c, seq_len=self.n_patches)
        self.output_head = head
        width = c.horizon * n_outputs(self.output_head)
        self.head = FlattenHead(self.n_patches, c.d_model, width, c.head_dropout)

    def forward(self, x: Tensor) -> Tensor:
        b, length, n_channels = x.shape
        if self.revin is not None:
            x, stats = self.revin.normalize(x)  # (B, L, C)
        series = x.transpose(1, 2).reshape(b * n_channels, length)  # (B*C, L)
        patches = self.patching(series)  # (B*C, P, patch_len)
        tokens = self.dropout(self.position(self.patch_embedding(patches)))  # (B*C, P, D)
        encoded = self.encoder(tokens)  # (B*C, P, D)
        forecast = self.head(encoded)  # (B*C, H*K)
        if self.output_head is not None:
            raw = forecast.reshape(b, n_channels, self.config.horizon, -1)  # (B, C, H, K)
            raw = raw.transpose(1, 2)  # (B, H, C, K)
            if self.revin is None:
                return finish_outputs(self.output_head, raw)  # (B, H, C, K)
            return finish_outputs(self.output_head, raw, *self.revin.linear_map(stats))
        forecast = forecast.reshape(b, n_channels, -1).transpose(1, 2)  # (B, H, C)
        if self.revin is not None:
            forecast = self.revin.denormalize(forecast, stats)
        return forecast


@register_model("patchtst")
class PatchTST(NeuralForecaster):
    """PatchTST forecaster; each series is a channel-independent univariate series.

    Keyword arguments: ``h``, ``input_size``, the :class:`PatchTSTConfig` fields (attention,
    attention_options, d_model, n_heads, n_layers, patch_len...), the
    :class:`~tsattn.models.TrainingConfig` fields (max_epochs, lr, batch_size, seed, device,
    progress...) and the ``Forecaster`` arguments (alias, id_col, time_col, target_col, freq,
    fill). Each series is standardized with its training mean/std (so series of different
    scales weigh alike in the loss) and RevIN normalises each window; forecasts come back in
    the original scale.

    >>> model = PatchTST(h=96, input_size=336, attention="mlr",
    ...                  attention_options={"ranks": [2, 1, 1]}, max_epochs=5, progress=False)
    >>> model.d_model, model.lr_schedule
    (16, 'constant')
    """

    config_class = PatchTSTConfig
    network_class = PatchTSTNetwork
    #: users' series: RevIN centred on each window's last value, so that level shifts and
    #: trends carry into the forecast (measured on the real-series benchmark: see
    #: :mod:`tsattn.models.user_defaults`); the literature preset keeps the window mean
    user_network_defaults = {"revin_subtract_last": True}
    #: the literature recipe gives PatchTST the dataset's reference architecture
    literature_architecture = True
