"""Several networks of one architecture trained side by side, forecasting as their mean.

A network's forecast moves with its random initialisation (on M4 Hourly one PatchTST's OWA
varies by about 0.02 across seeds); the mean of a few independently initialised members
moves less and is usually better than the average member (N-BEATS forecasts with the median
of many). :class:`NetworkEnsemble` holds the members; in training mode it returns every
member's output, stacked, so the training loop gives each member its own loss on the same
batches (their gradients never mix: each member trains exactly as it would alone, only the
initial weights and dropout masks differ); in eval mode it returns the members' mean.

With a distribution head the mean is taken over the head's outputs: quantiles averaged per
probability (a quantile average of the members' forecast distributions), or for ``normal`` /
``studentt`` the members' mean parameters (the spread between members is not added).

>>> import torch
>>> from torch import nn
>>> members = [nn.Linear(4, 2) for _ in range(3)]
>>> ensemble = NetworkEnsemble(members)
>>> ensemble.train()(torch.randn(5, 4)).shape  # (members, batch, ...)
torch.Size([3, 5, 2])
>>> ensemble.eval()(torch.randn(5, 4)).shape  # the members' mean
torch.Size([5, 2])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn


class NetworkEnsemble(nn.Module):
    """``len(members)`` networks of one architecture: (B, ...) -> (M, B, ...) in training
    mode, the members' mean (B, ...) in eval mode. ``config`` and ``output_head`` are the
    first member's (all members share them)."""

    def __init__(self, members: Sequence[nn.Module]):
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least 2 members, got {len(members)}")
        self.members = nn.ModuleList(members)

    @property
    def n_members(self) -> int:
        return len(self.members)

    @property
    def config(self) -> Any:
        return getattr(self.members[0], "config", None)

    @property
    def output_head(self) -> Any:
        return getattr(self.members[0], "output_head", None)

    def forward(self, x: Tensor) -> Tensor:
        outputs = torch.stack([member(x) for member in self.members])  # (M, B, ...)
        return outputs if self.training else outputs.mean(dim=0)  # eval: (B, ...)


def member_parameters(network: nn.Module) -> list[list[nn.Parameter]]:
    """The parameters of each member of an ensemble (one list for any other network), so
    that gradient clipping acts per member as it would on the member alone."""
    if isinstance(network, NetworkEnsemble):
        return [list(member.parameters()) for member in network.members]
    return [list(network.parameters())]


__all__ = ["NetworkEnsemble", "member_parameters"]
