"""Covariates for any forecasting network: packed windows and an additive linear effect.

A window with covariates is packed into one tensor ``x`` of shape (B, L + H, 1 + F + P + S):
channel 0 is the target, then F future-known, P past-only and S static covariates (each
static value repeated on every row). Rows ``L:`` are the horizon: there the target and the
past-only channels are zero (unknown at forecast time), the future-known ones hold their
values at the forecast dates. :class:`CovariateLayout` splits such a tensor.

:class:`CovariateNetwork` gives any network mapping (B, L, 1) -> (B, H, 1) covariates: its
forecast plus a learnt linear effect of the covariates (:class:`LinearCovariates`),
initialised at zero so training starts from the network alone. Models with their own way of mixing
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
    """How many covariates of each kind a packed window carries, after ``n_targets`` target
    channels (1, or one per series for a model that forecasts the series jointly)."""

    n_futr: int = 0
    n_hist: int = 0
    n_stat: int = 0
    n_targets: int = 1

    @property
    def width(self) -> int:
        """Channels of a packed window: the targets and every covariate."""
        return self.n_targets + self.n_futr + self.n_hist + self.n_stat

    @property
    def n_covariates(self) -> int:
        return self.n_futr + self.n_hist + self.n_stat

    @property
    def hidden_in_horizon(self) -> list[int]:
        """Channels that are unknown after the cutoff: the targets and the past-only ones."""
        first_hist = self.n_targets + self.n_futr
        return [*range(self.n_targets), *range(first_hist, first_hist + self.n_hist)]

    def split(self, x: Tensor, input_size: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(B, L + H, width) -> targets (B, L, n_targets), future-known (B, L + H, F),
        past-only (B, L, P) and static (B, S) covariates."""
        f_end = self.n_targets + self.n_futr
        p_end = f_end + self.n_hist
        target = x[:, :input_size, : self.n_targets]
        futr = x[:, :, self.n_targets : f_end]
        hist = x[:, :input_size, f_end:p_end]
        static = x[:, 0, p_end:]
        return target, futr, hist, static


#: the same-step map's output is multiplied by this: with Adam (whose steps have a fixed
#: size per parameter) a future-known covariate's effect on a standardized target (a weight
#: near 1) is then learnt in tens of steps rather than a thousand. Its few inputs (F per
#: step) keep the boosted steps small; the wide maps over time keep a gain of 1.
SAME_STEP_GAIN = 10.0


class LinearCovariates(nn.Module):
    """The covariates' additive effect on an H-step forecast, zero at initialisation: each
    future-known covariate's value at a forecast step acting on that step (one weight per
    covariate, shared by the steps, times :data:`SAME_STEP_GAIN`), a linear map from the
    past-only covariates' last ``min(L, H)`` input rows to the H steps, and one from the
    static ones. The time-varying covariates enter as changes since the last input step, as
    the user recipe centres the target on its last value: the effect is of a covariate's
    move, not of its level. (B, L + H, F), (B, L, P), (B, S) -> (B, H).

    Measured on ``benchmarks/covariates.py``'s tasks. NLinear over 10 windows: maps over
    every input row overfit (ETTh1's oil temperature with the six loads as past-only
    covariates: MAE 1.84 against 1.44 without them, 1.36 with the last 24 rows only; a map
    over the calendar's rows, 2.85 against 2.59). NLinear and DLinear over 20 windows:
    levels instead of changes lost on Weather
    (air temperature with pressure, humidity, wind, radiation: NLinear 1.32 and DLinear 1.29
    against 0.89 and 0.88 without them; as changes 0.87 and 0.79); changes were a little
    worse on ETTh1's loads (1.49 and 1.41 against levels' 1.44 and 1.32) and even on its
    calendar (2.58 both ways)."""

    def __init__(self, layout: CovariateLayout, input_size: int, horizon: int):
        super().__init__()
        self.input_size = input_size
        self.recent = min(input_size, horizon)  # past-only rows read: the last H of the input
        self.same_step = _zero_linear(layout.n_futr, 1)
        self.hist = _zero_linear(self.recent * layout.n_hist, horizon)
        self.stat = _zero_linear(layout.n_stat, horizon)

    def forward(self, futr: Tensor, hist: Tensor, static: Tensor) -> Tensor:
        effect = 0.0
        if self.same_step is not None:
            last = futr[:, self.input_size - 1 : self.input_size]  # (B, 1, F)
            ahead = futr[:, self.input_size :] - last  # (B, H, F) changes since the cutoff
            effect = SAME_STEP_GAIN * self.same_step(ahead)[..., 0]  # (B, H)
        recent = hist[:, self.input_size - self.recent :] - hist[:, -1:]  # (B, min(L, H), P)
        for linear, values in ((self.hist, recent), (self.stat, static)):
            if linear is not None:
                effect = effect + linear(values.flatten(1))  # (B, H)
        return effect


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
