"""Sliding-window attention: standard scores, pairs farther apart than ``window`` masked.

Non-causal: j attends when |i - j| <= window. Causal: i - window <= j <= i.
``window=0`` leaves each position attending to itself only: no mixing between positions, the
"attention off" ablation (the layer reduces to its value and output projections).

Fast route (band): queries go in blocks of ``c = max(band_block, 2 * window)`` consecutive
positions; block n reaches only keys ``n*c - window .. n*c + c - 1 + window`` (``.. n*c + c
- 1`` causal), so one fused kernel call on (T / c) blocks of c queries and c + 2 * window
keys computes the attention: the cost grows as T * (c + 2 * window), not T^2. The dense
masked call (:meth:`MultiHeadAttention.forward_dense`) is the reference; it is used with a
score bias and when the band would cover most of the sequence.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tsattn.attention.base import default_scale
from tsattn.attention.blocked import BlockLayout, blocked_attention, contiguous_groups, head_mask
from tsattn.attention.softmax import SoftmaxScorer
from tsattn.checks import check_nonnegative_int


class SlidingWindowScorer(SoftmaxScorer):
    """Standard attention restricted to a local window (the locality baseline).

    Args:
        window: the largest allowed distance |i - j| (default 8 positions; 0 = each position
            attends to itself only, an ablation without mixing across positions).
    """

    mask_beyond_causal = True
    #: Smallest query block of the band route (measured: smaller blocks cost more per query
    #: in kernel overhead than they save in masked pairs; see benchmarks/attention_speed.py).
    band_block: int = 32

    def __init__(self, d_model, n_heads, seq_len, causal=False, qk_norm=False, window: int = 8):
        super().__init__(d_model, n_heads, seq_len, causal=causal, qk_norm=qk_norm)
        self.window = check_nonnegative_int("window", window)
        self._band_cache: dict[tuple, tuple[BlockLayout, Tensor]] = {}

    @property
    def block(self) -> int:
        """Query block length c of the band route."""
        return max(self.band_block, 2 * self.window)

    def has_structured_route(self, seq_len: int) -> bool:
        # the band pays off once it leaves out at least half of the keys
        return 2 * (self.block + 2 * self.window) <= seq_len

    def structured_attention(self, x: Tensor, v: Tensor, dropout_p: float) -> Tensor:
        """Band route: (B, T, D) tokens, (B, T, H, d) values -> (B, T, H, d)."""
        q, k = self.project_tokens(x)  # (B, T, H, d) each
        layout, mask = self.band_layout(x.shape[1], x.device)
        scale = default_scale(self.head_dim)
        return blocked_attention(q, k, v, layout, scale, dropout_p, mask=mask)

    def band_layout(self, seq_len: int, device: torch.device) -> tuple[BlockLayout, Tensor]:
        """The band's blocks at ``seq_len`` and their (1, G*H, c, n) mask, cached."""
        key = (seq_len, device)
        if key not in self._band_cache:
            c, w = self.block, self.window
            query_index, group, slot = contiguous_groups(list(range(0, seq_len, c)), seq_len)
            span = c + w if self.causal else c + 2 * w
            first = torch.arange(0, seq_len, c)[None, :] - w  # (1, G): first key of a block
            raw_keys = first + torch.arange(span)[:, None]  # (n, G), may leave 0..T-1
            offset = query_index.T[:, :, None] - raw_keys.T[:, None, :]  # (G, m, n): i - j
            inside = ((raw_keys >= 0) & (raw_keys < seq_len)).T[:, None, :]  # (G, 1, n)
            near = (offset >= 0) if self.causal else (offset >= -w)
            allowed = inside & near & (offset <= w)
            layout = BlockLayout(query_index, raw_keys.clamp(0, seq_len - 1), allowed, group, slot)
            self._band_cache[key] = (layout.to(device), head_mask(allowed, self.n_heads).to(device))
        return self._band_cache[key]

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
