"""Covariates for any forecasting network: packed windows and an additive linear effect.

A window with covariates is packed into one tensor ``x`` of shape (B, L + H, 1 + F + P + S):
channel 0 is the target, then F future-known, P past-only and S static covariates (each
static value repeated on every row). Rows ``L:`` are the horizon: there the target and the
past-only channels are zero (unknown at forecast time), the future-known ones hold their
values at the forecast dates. :class:`CovariateLayout` splits such a tensor.

:class:`CovariateNetwork` gives any network mapping (B, L, 1) -> (B, H, 1) covariates: its
forecast plus linear maps over time from each kind of covariate (the future-known ones over
all L + H rows, the past-only ones over the L input rows, the static ones), initialised at
zero so training starts from the network alone. Models with their own way of mixing
covariates in (PatchTST's tokens) take the same packed tensor.

>>> import torch
>>> layout = CovariateLayout(n_futr=2, n_hist=1, n_stat=1)
>>> target, futr, hist, static = layout.split(torch.zeros(4, 12 + 3, layout.width), 12)
>>> tuple(target.shape), tuple(futr.shape), tuple(hist.shape), tuple(static.shape)
((4, 12, 1), (4, 15, 2), (4, 12, 1), (4, 1))
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class CovariateLayout:
    """How many covariates of each kind a packed window carries."""

    n_futr: int = 0
    n_hist: int = 0
    n_stat: int = 0

    @property
    def width(self) -> int:
        """Channels of a packed window: the target and every covariate."""
        return 1 + self.n_futr + self.n_hist + self.n_stat

    @property
    def hidden_in_horizon(self) -> list[int]:
        """Channels that are unknown after the cutoff: the target and the past-only ones."""
        first_hist = 1 + self.n_futr
        return [0, *range(first_hist, first_hist + self.n_hist)]

    def split(self, x: Tensor, input_size: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(B, L + H, width) -> target (B, L, 1), future-known (B, L + H, F), past-only
        (B, L, P) and static (B, S) covariates."""
        f_end = 1 + self.n_futr
        p_end = f_end + self.n_hist
        target = x[:, :input_size, :1]
        futr = x[:, :, 1:f_end]
        hist = x[:, :input_size, f_end:p_end]
        static = x[:, 0, p_end:]
        return target, futr, hist, static


#: the covariate maps' outputs are multiplied by this, so that with Adam (whose steps have
#: a fixed size per parameter) the effect of a covariate on standardized targets (a weight
#: near 1) is learnt in tens of steps rather than a thousand
COVARIATE_GAIN = 10.0


class LinearCovariates(nn.Module):
    """The covariates' additive effect on an H-step forecast: one linear map over time per
    kind, zero at initialisation, its output times :data:`COVARIATE_GAIN`.
    (B, L + H, F), (B, L, P), (B, S) -> (B, H)."""

    def __init__(self, layout: CovariateLayout, input_size: int, horizon: int):
        super().__init__()
        total = input_size + horizon
        self.futr = _zero_linear(total * layout.n_futr, horizon)
        self.hist = _zero_linear(input_size * layout.n_hist, horizon)
        self.stat = _zero_linear(layout.n_stat, horizon)

    def forward(self, futr: Tensor, hist: Tensor, static: Tensor) -> Tensor:
        effect = 0.0
        for linear, values in ((self.futr, futr), (self.hist, hist), (self.stat, static)):
            if linear is not None:
                effect = effect + linear(values.flatten(1))  # (B, H)
        return COVARIATE_GAIN * effect


def _zero_linear(n_in: int, n_out: int) -> nn.Linear | None:
    if n_in == 0:
        return None
    linear = nn.Linear(n_in, n_out)
    nn.init.zeros_(linear.weight)
    nn.init.zeros_(linear.bias)
    return linear


class CovariateNetwork(nn.Module):
    """A target-only ``backbone`` ((B, L, 1) -> (B, H, 1), or (B, H, 1, K) parameters with a
    distribution head) plus the :class:`LinearCovariates` effect: packed windows
    (B, L + H, width) -> the backbone's output shifted by the effect."""

    def __init__(self, backbone: nn.Module, layout: CovariateLayout):
        super().__init__()
        self.backbone = backbone
        self.config = backbone.config
        self.layout = layout
        self.output_head = getattr(backbone, "output_head", None)
        self.covariates = LinearCovariates(layout, self.config.input_size, self.config.horizon)

    def forward(self, x: Tensor) -> Tensor:
        target, futr, hist, static = self.layout.split(x, self.config.input_size)
        base = self.backbone(target)  # (B, H, 1) or (B, H, 1, K)
        effect = self.covariates(futr, hist, static)[:, :, None]  # (B, H, 1)
        if self.output_head is None:
            return base + effect
        one = torch.ones((), dtype=base.dtype, device=base.device)
        return self.output_head.denormalize(base, one, effect[..., None])  # shift locations
