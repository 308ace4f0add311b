"""Sliding-window attention: standard scores, pairs farther apart than ``window`` masked.

Non-causal: j attends when |i - j| <= window. Causal: i - window <= j <= i.
``window=0`` leaves each position attending to itself only: no mixing between positions, the
"attention off" ablation (the layer reduces to its value and output projections).
"""

from __future__ import annotations

import torch
from torch import Tensor

from tsattn.attention.softmax import SoftmaxScorer
from tsattn.checks import check_nonnegative_int


class SlidingWindowScorer(SoftmaxScorer):
    """Standard attention restricted to a local window (the locality baseline).

    Args:
        window: the largest allowed distance |i - j| (default 8 positions; 0 = each position
            attends to itself only, an ablation without mixing across positions).
    """

    mask_beyond_causal = True

    def __init__(self, d_model, n_heads, seq_len, causal=False, qk_norm=False, window: int = 8):
        super().__init__(d_model, n_heads, seq_len, causal=causal, qk_norm=qk_norm)
        self.window = check_nonnegative_int("window", window)

    def allowed(self, seq_len: int, device: torch.device) -> Tensor:
        pos = torch.arange(seq_len, device=device)
        offset = pos[:, None] - pos[None, :]  # (T, T): i - j
        if self.causal:
            return (offset >= 0) & (offset <= self.window)
        return offset.abs() <= self.window

    def score_flops(self, seq_len: int | None = None) -> int:
        t = seq_len or self.seq_len
        pairs = int(self.allowed(t, torch.device("cpu")).sum())
        return self.n_heads * pairs * self.head_dim

    def extra_repr(self) -> str:
        return f"window={self.window}, causal={self.causal}"
