"""Reversible instance normalisation (RevIN, Kim et al. 2022), as used by PatchTST.

Each window is normalised by its own statistics over time; the forecast is mapped back with
the same statistics, so the network sees unit-scale inputs and predictions come out in the
input's scale.

>>> import torch
>>> revin = RevIN(n_channels=3)
>>> x = torch.randn(2, 48, 3) * 5 + 7
>>> z, stats = revin.normalize(x)
>>> torch.allclose(revin.denormalize(z, stats), x, atol=1e-4)
True

Centred on the last season (``subtract_last=True, season=m``), a window is measured from the
periodic continuation of its last ``m`` values, so a network that outputs zeros forecasts the
seasonal naive:

>>> t = torch.arange(48.0)[None, :, None]
>>> x = torch.sin(2 * torch.pi * t / 12) + t / 10  # (1, 48, 1)
>>> seasonal = RevIN(subtract_last=True, season=12, horizon=6)
>>> z, stats = seasonal.normalize(x)
>>> torch.allclose(seasonal.denormalize(torch.zeros(1, 6, 1), stats), x[:, -12:-6])
True
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class RevINStats:
    """Per-window statistics: the centre added back to the outputs, (B, 1, C) or, centred on
    a season, (B, H, C); the scale divided, (B, 1, C)."""

    center: Tensor
    scale: Tensor


def last_season(x: Tensor, season: int, horizon: int, drift: int = 0) -> tuple[Tensor, Tensor]:
    """The periodic continuation of the last ``season`` steps of (B, L, C) windows, backwards
    over the window and forwards over the horizon: ((B, L, C), (B, H, C)). The forward part is
    the seasonal naive forecast; ``season=1`` gives the last value throughout. With ``drift``
    k > 0, a line through the last value with the slope of the window's last k steps is added
    (the naive forecast with drift; k is capped at L - 1).

    >>> x = torch.tensor([[1.0, 2.0, 4.0, 6.0]])[:, :, None]  # (1, 4, 1)
    >>> back, ahead = last_season(x, 1, 3, drift=2)
    >>> back[0, :, 0].tolist(), ahead[0, :, 0].tolist()
    ([0.0, 2.0, 4.0, 6.0], [8.0, 10.0, 12.0])
    """
    length = x.shape[1]
    m = max(1, min(season, length))
    pattern = x[:, length - m :, :]  # (B, m, C)
    back = torch.remainder(torch.arange(length, device=x.device) - length, m)  # (L,)
    ahead = torch.arange(horizon, device=x.device) % m  # (H,)
    center, forward = pattern[:, back, :], pattern[:, ahead, :]  # (B, L, C), (B, H, C)
    k = min(drift, length - 1)
    if k < 1:
        return center, forward
    slope = (x[:, -1:, :] - x[:, -1 - k : length - k, :]) / k  # (B, 1, C)
    before = torch.arange(1 - length, 1, device=x.device, dtype=x.dtype)  # (L,): 1-L .. 0
    after = torch.arange(1, horizon + 1, device=x.device, dtype=x.dtype)  # (H,): 1 .. H
    return center + slope * before[:, None], forward + slope * after[:, None]


class RevIN(nn.Module):
    """Normalise (B, L, C) windows per window and channel; undo it on (B, H, C) outputs.

    Args:
        n_channels: C, the size of the affine parameters (1 shares them over channels).
        affine: learn a per-channel scale and shift applied after normalising.
        subtract_last: centre on the last value instead of the mean.
        season, horizon: with ``subtract_last`` and ``season`` > 1, centre each window on the
            periodic continuation of its last ``season`` values instead (see
            :func:`last_season`), the outputs on its ``horizon`` steps ahead.
        drift: with ``subtract_last`` and ``drift`` k > 0, add to that centre the line
            through the last value with the slope of the last k steps (see
            :func:`last_season`).
        eps: added to the variance, times the window's mean square when that is below 1
            (a constant window gives scale sqrt(eps) * min(1, |level|), not 0).
    """

    def __init__(
        self,
        n_channels: int = 1,
        affine: bool = False,
        subtract_last: bool = False,
        eps=1e-5,
        season: int = 1,
        horizon: int | None = None,
        drift: int = 0,
    ):
        super().__init__()
        self.affine, self.subtract_last, self.eps = affine, subtract_last, eps
        self.season = season if subtract_last and horizon is not None else 1
        self.drift = drift if subtract_last and horizon is not None else 0
        self.horizon = horizon
        if affine:
            self.weight = nn.Parameter(torch.ones(n_channels))
            self.bias = nn.Parameter(torch.zeros(n_channels))

    def normalize(self, x: Tensor) -> tuple[Tensor, RevINStats]:
        """(B, L, C) -> normalised (B, L, C) and the statistics to undo it."""
        # statistics in float64: the variance of float32 values above ~1e19 would overflow
        stats_x = x.detach() if x.device.type == "mps" else x.detach().double()  # (B, L, C)
        if self.season > 1 or self.drift > 0:
            center, ahead = last_season(x.detach(), self.season, self.horizon, self.drift)
        elif self.subtract_last:
            center = ahead = stats_x[:, -1:, :]  # (B, 1, C)
        else:
            center = ahead = stats_x.mean(dim=1, keepdim=True)  # (B, 1, C)
        var = stats_x.var(dim=1, keepdim=True, unbiased=False)  # (B, 1, C)
        # eps is absolute for windows of magnitude >= 1 (the reference RevIN) and relative to
        # the window's mean square below that, so that a series at 1e-9 scale is normalised
        # by its own spread instead of by sqrt(eps); the floor keeps an all-zero window finite
        magnitude = stats_x.square().mean(dim=1, keepdim=True).clamp(max=1.0)  # (B, 1, C)
        scale = torch.sqrt(var + self.eps * magnitude)
        tiny = torch.finfo(x.dtype).tiny
        center, scale = center.to(x.dtype), scale.to(x.dtype).clamp(min=tiny)
        z = (x - center) / scale
        if self.affine:
            z = z * self.weight + self.bias
        return z, RevINStats(ahead.to(x.dtype), scale)

    def denormalize(self, y: Tensor, stats: RevINStats) -> Tensor:
        """(B, H, C) in normalised units -> the scale of the input window."""
        if self.affine:
            # eps * eps, not eps: the reference RevIN's quirk, kept so that trained reference
            # weights give the same forecasts (it only guards a zero affine weight)
            y = (y - self.bias) / (self.weight + self.eps * self.eps)
        return y * stats.scale + stats.center

    def linear_map(self, stats: RevINStats) -> tuple[Tensor, Tensor]:
        """(slope, offset), each (B, 1, C), such that :meth:`denormalize` is
        ``y * slope + offset``: how a distribution head maps its location and scale back."""
        slope = stats.scale  # (B, 1, C)
        if self.affine:
            slope = slope / (self.weight + self.eps * self.eps)  # (B, 1, C)
            return slope, stats.center - self.bias * slope
        return slope, stats.center

    def extra_repr(self) -> str:
        season = f", season={self.season}" if self.season > 1 else ""
        season += f", drift={self.drift}" if self.drift > 0 else ""
        return f"affine={self.affine}, subtract_last={self.subtract_last}, eps={self.eps}{season}"
