"""DLinear and NLinear (Zeng et al. 2023, "Are Transformers Effective for Time Series
Forecasting?"): one linear map over time per decomposed component / after subtracting the last
value. Channel-independent by default; ``individual=True`` gives each channel its own weights
(and makes the forecaster fit all series jointly, as channels).

>>> import torch
>>> net = DLinearNetwork(DLinearConfig(input_size=48, horizon=12, n_channels=3))
>>> net(torch.randn(4, 48, 3)).shape
torch.Size([4, 12, 3])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from tsattn.checks import check_field_types, check_nonnegative_int, check_positive_int
from tsattn.models.catalog import register_model
from tsattn.models.neural import NeuralForecaster, check_sizes
from tsattn.nn import DistributionHead, MovingAverage, finish_outputs, last_season, n_outputs


class TimeLinear(nn.Module):
    """Linear map over time, (B, L, C) -> (B, H, C), shared by all channels or one per
    channel (``n_channels`` > 1 and ``individual``)."""

    def __init__(self, input_size: int, horizon: int, n_channels: int, individual: bool):
        super().__init__()
        self.individual = individual
        if not individual:
            self.shared = nn.Linear(input_size, horizon)
            return
        bound = 1 / math.sqrt(input_size)  # nn.Linear's default init
        weight = torch.empty(n_channels, input_size, horizon).uniform_(-bound, bound)
        self.weight = nn.Parameter(weight)  # (C, L, H)
        self.bias = nn.Parameter(torch.empty(n_channels, horizon).uniform_(-bound, bound))

    def forward(self, x: Tensor) -> Tensor:
        x = x.transpose(1, 2)  # (B, L, C) -> (B, C, L)
        if self.individual:
            y = torch.einsum("bcl,clh->bch", x, self.weight) + self.bias  # (B, C, H)
        else:
            y = self.shared(x)  # (B, C, H)
        return y.transpose(1, 2)  # (B, H, C)


@dataclass(frozen=True, kw_only=True)
class NLinearConfig:
    """NLinear: ``input_size`` L, ``horizon`` H, ``n_channels`` C, ``individual`` weights, and
    ``center_season``: the windows are centred on the periodic continuation of their last
    ``center_season`` values (their seasonal naive forecast), 1 being the last value, plus
    with ``center_drift`` k > 0 the slope of their last k steps (the naive with drift)."""

    input_size: int
    horizon: int
    n_channels: int = 1
    individual: bool = False
    center_season: int = 1
    center_drift: int = 0

    def __post_init__(self) -> None:
        check_field_types(self)
        check_sizes(self)
        check_positive_int("center_season", self.center_season)
        check_nonnegative_int("center_drift", self.center_drift)


@dataclass(frozen=True, kw_only=True)
class DLinearConfig(NLinearConfig):
    """DLinear: NLinear's fields plus the moving-average ``kernel_size`` of the trend and
    ``subtract_last``: subtract each window's last value before the maps and add it back (the
    instance normalisation NLinear always does; it follows trends and level shifts). The
    paper's DLinear has none (False, the literature preset); the forecaster's default for
    users' series is True."""

    kernel_size: int = 25
    subtract_last: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive_int("kernel_size", self.kernel_size)


def _split_outputs(y: Tensor, horizon: int) -> Tensor:
    """(B, H*K, C) time-linear outputs -> (B, H, C, K)."""
    b, _, n_channels = y.shape
    return y.reshape(b, horizon, -1, n_channels).transpose(2, 3)  # (B, H, C, K)


class NLinearNetwork(nn.Module):
    """Subtract the window's last value, map linearly over time, add it back. With a
    distribution ``head``: (B, L, C) -> (B, H, C, K) parameters."""

    def __init__(self, config: NLinearConfig, head: DistributionHead | None = None):
        super().__init__()
        self.config = config
        c = config
        self.output_head = head
        width = c.horizon * n_outputs(self.output_head)
        self.linear = TimeLinear(c.input_size, width, c.n_channels, c.individual)

    def forward(self, x: Tensor) -> Tensor:
        c = self.config
        # the centre over the window and ahead of it: (B, L, C), (B, H, C)
        center, ahead = last_season(x, c.center_season, c.horizon, c.center_drift)
        if self.output_head is not None:
            raw = _split_outputs(self.linear(x - center), c.horizon)  # (B, H, C, K)
            return finish_outputs(self.output_head, raw, 1.0, ahead)  # location + centre
        return self.linear(x - center) + ahead  # (B, H, C)


class DLinearNetwork(nn.Module):
    """Split into a moving-average trend and the remainder; one linear map for each. With a
    distribution ``head``: (B, L, C) -> (B, H, C, K) parameters."""

    def __init__(self, config: DLinearConfig, head: DistributionHead | None = None):
        super().__init__()
        self.config = config
        c = config
        self.output_head = head
        width = c.horizon * n_outputs(self.output_head)
        self.trend = MovingAverage(c.kernel_size)
        self.trend_linear = TimeLinear(c.input_size, width, c.n_channels, c.individual)
        self.seasonal_linear = TimeLinear(c.input_size, width, c.n_channels, c.individual)

    def forward(self, x: Tensor) -> Tensor:
        c = self.config
        ahead = None
        if c.subtract_last:  # centred on the last value (or season): (B, L, C), (B, H, C)
            center, ahead = last_season(x, c.center_season, c.horizon, c.center_drift)
            x = x - center
        trend = self.trend(x)  # (B, L, C)
        forecast = self.trend_linear(trend) + self.seasonal_linear(x - trend)  # (B, H*K, C)
        if self.output_head is not None:
            raw = _split_outputs(forecast, c.horizon)  # (B, H, C, K)
            offset = 0.0 if ahead is None else ahead
            return finish_outputs(self.output_head, raw, 1.0, offset)  # (B, H, C, K)
        return forecast if ahead is None else forecast + ahead  # (B, H, C)


class _LinearForecaster(NeuralForecaster):
    standardize = True

    @property
    def joint_channels(self) -> bool:
        return bool(self.individual)


@register_model("nlinear")
class NLinear(_LinearForecaster):
    """NLinear forecaster. Keyword arguments: the :class:`NLinearConfig` fields (except
    input_size/horizon/n_channels), the :class:`~tsattn.models.TrainingConfig` fields and the
    ``Forecaster`` arguments; series are standardized with their training statistics.

    >>> model = NLinear(h=12, input_size=48, max_epochs=1, progress=False)
    """

    config_class = NLinearConfig
    network_class = NLinearNetwork


@register_model("dlinear")
class DLinear(_LinearForecaster):
    """DLinear forecaster (arguments as :class:`NLinear`, plus ``kernel_size``).

    >>> model = DLinear(h=12, input_size=48, kernel_size=25, max_epochs=1, progress=False)
    """

    config_class = DLinearConfig
    network_class = DLinearNetwork
    user_network_defaults = {"subtract_last": True}
