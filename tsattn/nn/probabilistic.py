"""Distribution and quantile heads: one mechanism for every network's probabilistic output.

A network trained with a point loss (``"mse"``, ``"mae"``) outputs (B, H, C). With a
probabilistic loss its final projection is ``K`` times wider and it outputs (B, H, C, K): the
``K`` parameters of a :class:`DistributionHead` per step and channel, already constrained
(:meth:`~DistributionHead.constrain`: positive scales, ordered quantiles) and mapped back to the
input's scale (:meth:`~DistributionHead.denormalize`: location-like outputs as the point
forecast, scale-like outputs multiplied by the scale only). The head also gives the training
loss, the point forecast and quantiles for any probabilities.

- ``"quantile"``: K = len(quantiles) values, trained with the mean pinball loss. They never
  cross: the output nearest the median is free and the others are cumulative softplus
  increments away from it. Other probabilities are interpolated linearly between the head's
  quantiles (a ``ValueError`` outside their range). Point forecast: the median.
- ``"normal"``: (loc, scale), negative log-likelihood. Point forecast: loc (the mean).
- ``"studentt"``: (loc, scale, df) with df > 2 (finite variance), negative log-likelihood.
  Point forecast: loc (the mean and median).

The default quantiles, :data:`DEFAULT_QUANTILES`, hold 0.025/0.975 and 0.05/0.95 and the
deciles, so that the 80%, 90% and 95% intervals come straight from the head.

>>> import torch
>>> head = make_head("quantile", (0.1, 0.5, 0.9))
>>> params = head.constrain(torch.zeros(2, 4, 1, 3))  # (B, H, C, K): ordered
>>> bool((params.diff(dim=-1) > 0).all()), head.point(params).shape
(True, torch.Size([2, 4, 1]))
>>> make_head("mse", DEFAULT_QUANTILES) is None
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

POINT_LOSSES = ("mse", "mae")
PROBABILISTIC_LOSSES = ("quantile", "normal", "studentt")
LOSS_NAMES = POINT_LOSSES + PROBABILISTIC_LOSSES
#: the quantile head's default probabilities: 95%, 90% and 80% intervals plus the deciles
DEFAULT_QUANTILES = (0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975)
#: the smallest scale of a parametric head, in normalised units (keeps the likelihood finite)
MIN_SCALE = 1e-3


def check_quantiles(quantiles: object) -> tuple[float, ...]:
    """The quantile head's probabilities as a sorted tuple of floats: distinct, each in
    (0, 1), 0.5 among them (the point forecast). A list (as a saved model holds) is accepted.

    >>> check_quantiles([0.9, 0.5, 0.1])
    (0.1, 0.5, 0.9)
    """
    if isinstance(quantiles, str | bytes) or not isinstance(quantiles, Sequence):
        raise ValueError(f"quantiles must be a sequence of probabilities, got {quantiles!r}")
    values = []
    for q in quantiles:
        if isinstance(q, bool) or not isinstance(q, int | float | np.floating | np.integer):
            raise ValueError(f"quantiles must be numbers in (0, 1), got {q!r}")
        if not 0.0 < float(q) < 1.0:
            raise ValueError(f"quantiles must be in (0, 1) (exclusive), got {q!r}")
        values.append(float(q))
    result = tuple(sorted(values))
    if len(set(result)) != len(result):
        raise ValueError(f"quantiles must be distinct, got {list(quantiles)}")
    if 0.5 not in result:
        raise ValueError(
            f"quantiles must include 0.5 (the median is the point forecast), got {list(result)}"
        )
    return result


class DistributionHead:
    """What a probabilistic network's K outputs per step mean (no parameters of its own).

    Tensors are (..., K) parameters; ``slope`` and ``offset`` of :meth:`denormalize` broadcast
    against them (e.g. (B, 1, C, 1)) and map normalised values ``z`` to ``slope * z + offset``.
    """

    name: str = ""
    n_outputs: int = 0

    def constrain(self, raw: Tensor) -> Tensor:
        """(..., K) unconstrained outputs -> valid parameters in normalised units."""
        raise NotImplementedError

    def denormalize(self, params: Tensor, slope: Tensor, offset: Tensor) -> Tensor:
        """Location-like parameters as the point forecast, scales times ``|slope|``."""
        raise NotImplementedError

    def loss(self, params: Tensor, target: Tensor) -> Tensor:
        """Per-value loss, (...) for (..., K) params and (...) targets."""
        raise NotImplementedError

    def point(self, params: Tensor) -> Tensor:
        """(..., K) -> (...) point forecast."""
        return params[..., 0]  # the location

    def quantiles(self, params: np.ndarray, probs: np.ndarray) -> np.ndarray:
        """(..., K) float64 parameters -> (..., len(probs)) quantiles."""
        raise NotImplementedError

    def check_probs(self, probs: np.ndarray) -> None:
        """A ``ValueError`` for probabilities this head cannot give (none by default)."""


class QuantileHead(DistributionHead):
    """K ordered quantiles at fixed probabilities, trained with the pinball loss."""

    name = "quantile"

    def __init__(self, quantiles: Sequence[float]):
        self.probs = check_quantiles(quantiles)
        self.n_outputs = len(self.probs)
        self.median = self.probs.index(0.5)

    def constrain(self, raw: Tensor) -> Tensor:
        m = self.median
        center = raw[..., m : m + 1]  # (..., 1)
        up = nn.functional.softplus(raw[..., m + 1 :]).cumsum(dim=-1)  # (..., K - m - 1)
        down = nn.functional.softplus(raw[..., :m].flip(-1)).cumsum(dim=-1).flip(-1)  # (..., m)
        return torch.cat([center - down, center, center + up], dim=-1)  # (..., K), increasing

    def denormalize(self, params: Tensor, slope: Tensor, offset: Tensor) -> Tensor:
        return params * slope + offset  # every quantile is location-like

    def loss(self, params: Tensor, target: Tensor) -> Tensor:
        tau = torch.tensor(self.probs, dtype=params.dtype, device=params.device)  # (K,)
        error = target.unsqueeze(-1) - params  # (..., K)
        return torch.maximum(tau * error, (tau - 1) * error).mean(dim=-1)  # (...)

    def point(self, params: Tensor) -> Tensor:
        return params[..., self.median]

    def check_probs(self, probs: np.ndarray) -> None:
        low, high = self.probs[0], self.probs[-1]
        outside = [float(p) for p in np.asarray(probs) if not low <= p <= high]
        if outside:
            raise ValueError(
                f"the quantile head was trained for quantiles {list(self.probs)}; "
                f"{outside} lies outside [{low}, {high}] (a level above "
                f"{round(100 * (high - low), 6):g}% needs wider quantiles: train with "
                f"quantiles=[...] covering it)"
            )

    def quantiles(self, params: np.ndarray, probs: np.ndarray) -> np.ndarray:
        self.check_probs(probs)
        grid = np.asarray(self.probs)  # (K,)
        upper = np.clip(np.searchsorted(grid, probs, side="right"), 1, len(grid) - 1)  # (Q,)
        lower = upper - 1
        weight = (np.asarray(probs) - grid[lower]) / (grid[upper] - grid[lower])  # (Q,)
        weight = np.clip(weight, 0.0, 1.0)
        return params[..., lower] * (1 - weight) + params[..., upper] * weight  # (..., Q)


class NormalHead(DistributionHead):
    """(loc, scale) of a Normal, trained by negative log-likelihood."""

    name, n_outputs = "normal", 2

    def constrain(self, raw: Tensor) -> Tensor:
        scale = nn.functional.softplus(raw[..., 1:2]) + MIN_SCALE  # (..., 1)
        return torch.cat([raw[..., :1], scale, raw[..., 2:]], dim=-1)  # (..., K)

    def denormalize(self, params: Tensor, slope: Tensor, offset: Tensor) -> Tensor:
        loc = params[..., :1] * slope + offset  # (..., 1)
        scales = params[..., 1:2] * slope.abs()  # (..., 1)
        return torch.cat([loc, scales, params[..., 2:]], dim=-1)  # (..., K): df unchanged

    def loss(self, params: Tensor, target: Tensor) -> Tensor:
        loc, scale = params[..., 0], params[..., 1]  # (...)
        z = (target - loc) / scale
        return 0.5 * z.square() + scale.log() + 0.5 * math.log(2 * math.pi)

    def quantiles(self, params: np.ndarray, probs: np.ndarray) -> np.ndarray:
        from scipy.special import ndtri

        z = ndtri(np.asarray(probs, dtype=np.float64))  # (Q,)
        return params[..., :1] + params[..., 1:2] * z  # (..., Q)


class StudentTHead(NormalHead):
    """(loc, scale, df) of a Student's t with df > 2, trained by negative log-likelihood."""

    name, n_outputs = "studentt", 3

    def constrain(self, raw: Tensor) -> Tensor:
        df = 2.0 + nn.functional.softplus(raw[..., 2:3])  # (..., 1): finite variance
        return torch.cat([super().constrain(raw[..., :2]), df], dim=-1)  # (..., 3)

    def loss(self, params: Tensor, target: Tensor) -> Tensor:
        loc, scale, df = params[..., 0], params[..., 1], params[..., 2]  # (...)
        return -torch.distributions.StudentT(df, loc, scale).log_prob(target)

    def quantiles(self, params: np.ndarray, probs: np.ndarray) -> np.ndarray:
        from scipy.special import stdtrit

        t = stdtrit(params[..., 2:3], np.asarray(probs, dtype=np.float64))  # (..., Q)
        return params[..., :1] + params[..., 1:2] * t  # (..., Q)


def make_head(loss: str, quantiles: Sequence[float]) -> DistributionHead | None:
    """The head a network trained with ``loss`` needs (None for a point loss)."""
    if loss in POINT_LOSSES:
        return None
    if loss == "quantile":
        return QuantileHead(quantiles)
    if loss == "normal":
        return NormalHead()
    if loss == "studentt":
        return StudentTHead()
    raise ValueError(f"loss must be one of {', '.join(LOSS_NAMES)}; got {loss!r}")


def n_outputs(head: DistributionHead | None) -> int:
    """Outputs per step and channel: 1 for a point forecast, K for a head."""
    return 1 if head is None else head.n_outputs


def finish_outputs(
    head: DistributionHead,
    raw: Tensor,
    slope: Tensor | float = 1.0,
    offset: Tensor | float = 0.0,
) -> Tensor:
    """(B, H, C, K) raw outputs in normalised units -> constrained parameters in the input's
    scale; ``slope`` / ``offset`` (B, 1, C) map normalised values back (RevIN's statistics,
    NLinear's last value), as ``slope * z + offset``."""
    params = head.constrain(raw)  # (B, H, C, K)
    if isinstance(slope, Tensor):
        slope = slope.unsqueeze(-1)  # (B, 1, C, 1)
    if isinstance(offset, Tensor):
        offset = offset.unsqueeze(-1)  # (B, 1, C, 1)
    if isinstance(slope, float) and slope == 1.0 and isinstance(offset, float) and offset == 0.0:
        return params
    slope_t = torch.as_tensor(slope, dtype=params.dtype, device=params.device)
    offset_t = torch.as_tensor(offset, dtype=params.dtype, device=params.device)
    return head.denormalize(params, slope_t, offset_t)
