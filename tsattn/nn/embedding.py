"""Per-time-step token embedding of the vanilla Transformer (Time-Series-Library's
``DataEmbedding`` with ``embed="timeF"``).

A token is the sum of three parts, then dropout:

* a value embedding: a 1-D convolution over time, kernel 3, circular padding, no bias, from
  the C channels to D (Kaiming-normal initialised, fan-in, leaky-ReLU gain);
* a fixed sinusoidal position embedding, ``pe[t, 2i] = sin(t / 10000^(2i/D))`` and
  ``pe[t, 2i+1] = cos(...)``;
* a time-feature embedding: a bias-free linear map of the step's calendar features (for
  hourly data the four of ``hourly_time_features`` in ``tsattn.models.vanilla_transformer``).

Without time features (``marks=None``) the third part is left out, as the reference does.

>>> import torch
>>> embed = DataEmbedding(n_channels=7, d_model=16, n_time_features=4)
>>> embed(torch.randn(2, 96, 7), torch.rand(2, 96, 4)).shape
torch.Size([2, 96, 16])
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from tsattn.nn.layers import FastDropout


class TokenEmbedding(nn.Module):
    """(B, T, C) -> (B, T, D) by a kernel-3 circular convolution over time (no bias)."""

    def __init__(self, n_channels: int, d_model: int):
        super().__init__()
        self.conv = nn.Conv1d(
            n_channels, d_model, kernel_size=3, padding=1, padding_mode="circular", bias=False
        )
        nn.init.kaiming_normal_(self.conv.weight, mode="fan_in", nonlinearity="leaky_relu")

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x.transpose(1, 2)).transpose(1, 2)  # (B, C, T) -> (B, D, T) -> (B, T, D)


def sinusoidal_table(length: int, d_model: int) -> Tensor:
    """(length, D) fixed sinusoidal position table (sines on even, cosines on odd features)."""
    position = torch.arange(length, dtype=torch.float32)[:, None]  # (T, 1)
    frequency = torch.exp(torch.arange(0, d_model, 2).float() * -(math.log(10000.0) / d_model))
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: d_model // 2])
    return table


class SinusoidalPositionalEmbedding(nn.Module):
    """The (T, D) sinusoidal table for (B, T, ...) inputs (a buffer, not trained)."""

    def __init__(self, d_model: int, max_len: int = 5000):
        super().__init__()
        self.register_buffer("table", sinusoidal_table(max_len, d_model), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.table[: x.shape[1]]  # (T, D), broadcast over the batch


class DataEmbedding(nn.Module):
    """Value + position (+ time-feature) embedding, then dropout: (B, T, C) -> (B, T, D).

    Args:
        n_channels: input channels C.
        d_model: token width D.
        n_time_features: calendar features per step (4 for hourly data).
        dropout: dropout on the summed embedding.
    """

    def __init__(self, n_channels: int, d_model: int, n_time_features: int, dropout: float = 0.0):
        super().__init__()
        self.value = TokenEmbedding(n_channels, d_model)
        self.position = SinusoidalPositionalEmbedding(d_model)
        self.time = nn.Linear(n_time_features, d_model, bias=False)
        self.dropout = FastDropout(dropout)

    def forward(self, x: Tensor, marks: Tensor | None = None) -> Tensor:
        """``x`` (B, T, C) and optional ``marks`` (B, T, F) -> (B, T, D)."""
        tokens = self.value(x) + self.position(x)  # (B, T, D) + (T, D)
        if marks is not None:
            tokens = tokens + self.time(marks)  # (B, T, D)
        return self.dropout(tokens)
