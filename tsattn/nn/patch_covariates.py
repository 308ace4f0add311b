"""Covariates as parts of PatchTST's tokens (see :mod:`tsattn.models.patchtst` for the why).

From a packed window (B, L + H, 1 + F + P + S) (see :class:`~tsattn.nn.covariates.CovariateLayout`),
:class:`PatchCovariates` makes

- the look-back term, (B, N, D): the F future-known and P past-only covariates cut into the
  same N patches as the target, embedded by one linear map, to be added to the target's
  patch tokens;
- the horizon tokens, (B, M, D): the future-known covariates over the H horizon rows,
  patched the same way (a horizon shorter than a patch is first extended by repeating its
  last row), embedded by their own linear map, with their own positional embedding;
- the static term, (B, 1, D): one linear map of the S static values, added to every token.

The time-varying covariates are first divided by the target window's RevIN scale (the
target's own scale is what the encoder's outputs are multiplied by): then a linear effect of
a covariate on the target is the same linear map of the tokens in every window, whatever the
window's spread, instead of one the network must rescale per window.

>>> import torch
>>> from tsattn.nn.covariates import CovariateLayout
>>> layout = CovariateLayout(n_futr=2, n_hist=1, n_stat=1)
>>> cov = PatchCovariates(layout, input_size=24, horizon=6, patch_len=8, stride=4, d_model=16)
>>> past, future = cov(torch.randn(3, 24 + 6, layout.width))
>>> tuple(past.shape), tuple(future.shape), cov.n_future
((3, 6, 16), (3, 2, 16), 2)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tsattn.nn.covariates import CovariateLayout
from tsattn.nn.layers import LearnablePositionalEmbedding
from tsattn.nn.patching import Patching, count_patches

#: the smallest target scale the covariates are divided by: the target reaches the network
#: standardized per series, so a window scale far below 1 is a near-constant window, and
#: dividing by its RevIN scale (down to 0) would blow the covariates up
MIN_SCALE = 0.1


def horizon_patches(horizon: int, patch_len: int, stride: int, pad_end: bool = True) -> int:
    """Patches cut from ``horizon`` rows (at least one patch's length, see the module)."""
    return count_patches(max(horizon, patch_len), patch_len, stride, pad_end)


class PatchCovariates(nn.Module):
    """Packed windows (B, L + H, width) -> (look-back term (B, N, D) to add to the target's
    patch tokens, horizon tokens (B, M, D) or None when there is no future-known covariate);
    both include the static term. Either term is 0 (a float) when no covariate feeds it."""

    def __init__(
        self,
        layout: CovariateLayout,
        input_size: int,
        horizon: int,
        patch_len: int,
        stride: int,
        d_model: int,
        pad_end: bool = True,
    ):
        super().__init__()
        self.layout, self.input_size, self.horizon = layout, input_size, horizon
        self.patch_len = patch_len
        self.patching = Patching(patch_len, stride, pad_end)
        known = layout.n_futr + layout.n_hist
        self.past = nn.Linear(patch_len * known, d_model) if known else None
        self.n_future = horizon_patches(horizon, patch_len, stride, pad_end) if layout.n_futr else 0
        self.future = nn.Linear(patch_len * layout.n_futr, d_model) if layout.n_futr else None
        self.future_position = (
            LearnablePositionalEmbedding(self.n_future, d_model) if layout.n_futr else None
        )
        self.static = nn.Linear(layout.n_stat, d_model) if layout.n_stat else None

    def forward(
        self, x: Tensor, scale: Tensor | None = None
    ) -> tuple[Tensor | float, Tensor | None]:
        """``scale``: the target window's RevIN scale (B, 1, 1), which the time-varying
        covariates are divided by (at least :data:`MIN_SCALE`), or None."""
        _, futr, hist, static = self.layout.split(x, self.input_size)
        if scale is not None:
            scale = scale.clamp(min=MIN_SCALE)  # (B, 1, 1)
            futr, hist = futr / scale, hist / scale  # in the target's normalised units
        shared = 0.0 if self.static is None else self.static(static)[:, None, :]  # (B, 1, D)
        past: Tensor | float = shared
        if self.past is not None:
            known = torch.cat([futr[:, : self.input_size], hist], dim=-1)  # (B, L, F + P)
            past = self.past(self._patches(known)) + shared  # (B, N, D)
        if self.future is None:
            return past, None
        ahead = futr[:, self.input_size :]  # (B, H, F)
        short = self.patch_len - ahead.shape[1]
        if short > 0:  # a horizon shorter than a patch: repeat its last row
            ahead = torch.cat([ahead, ahead[:, -1:].expand(-1, short, -1)], dim=1)
        future = self.future_position(self.future(self._patches(ahead))) + shared  # (B, M, D)
        return past, future

    def _patches(self, values: Tensor) -> Tensor:
        """(B, T, K) -> (B, patches, K * patch_len), each channel patched like the target."""
        b, t, k = values.shape
        series = values.transpose(1, 2).reshape(b * k, t)  # (B*K, T)
        patches = self.patching(series)  # (B*K, n, patch_len)
        n = patches.shape[1]
        patches = patches.reshape(b, k, n, self.patch_len).transpose(1, 2)  # (B, n, K, patch_len)
        return patches.reshape(b, n, k * self.patch_len)  # (B, n, K*patch_len)
