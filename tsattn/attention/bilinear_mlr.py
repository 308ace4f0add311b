"""Bilinear (feature-space) MLR attention (docs/ATTENTION.md section 5).

Per head, the bilinear matrix over features is a multi-level low-rank matrix: level l cuts
the D input features into 2^l contiguous chunks and each chunk has its own query/key
factors of rank r_l. ``q_h^(l)(x)`` concatenates the chunk projections (length r_l * 2^l)::

    s_h(i, j) = sum_l c_l q_h^(l)(x_i) . k_h^(l)(x_j),   c_l = 1 / sqrt(r_l * 2^l)

With sum(r_l) = d the parameter count equals that of W_Q and W_K (D^2 each).

As in the paper's official code (YilunKuang/structured-attention, ``src/model.py``,
``BilinearMLRProjection``) every factor -- one (2^l, D / 2^l, H * r_l) weight per level and
side -- is divided before each use by max(1, RMS(W) / rho), with RMS = sqrt(mean(W^2) + 1e-8)
over the whole factor (all chunks and heads) and rho = sqrt(min(d_in, d_out)) / d_in,
d_in = D / 2^l, d_out = H * r_l: the RMS clamp that BTT's cores get. The weights are drawn with
RMS 1 / sqrt(d_in) >= rho, so the clamp is active from initialisation (with D=16, H=4,
ranks [2, 1, 1] and seed 0 it scales the factors by about 0.68-0.71, 0.61-0.89 and
0.85-1.0 at levels 0, 1, 2) and its scale is set by rho, not by the draw. Within a level the
query/key vector is ordered rank-major, ``rank * 2^l + chunk`` (the official "(r p)"
order), which is where a QK-norm's weights apply.

>>> from tsattn.attention import create_attention
>>> import torch
>>> attn = create_attention("bilinear_mlr", d_model=16, n_heads=4, seq_len=42, ranks=[2, 1, 1])
>>> attn(torch.randn(2, 42, 16)).shape
torch.Size([2, 42, 16])
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from tsattn.attention.base import AttentionScorer, QueryKey
from tsattn.attention.btt import rms_clamp
from tsattn.attention.mlr import default_mlr_ranks


class ChunkedProjection(nn.Module):
    """Block-diagonal projection: D features in ``n_chunks`` chunks, each to H*rank outputs,
    through the RMS-clamped weight (:meth:`clamped_weight`)."""

    def __init__(self, d_model: int, n_heads: int, n_chunks: int, rank: int):
        super().__init__()
        self.n_heads, self.n_chunks, self.rank = n_heads, n_chunks, rank
        chunk = d_model // n_chunks
        self.d_in, self.d_out = chunk, n_heads * rank
        self.weight = nn.Parameter(torch.randn(n_chunks, chunk, n_heads * rank) / math.sqrt(chunk))

    def clamped_weight(self) -> Tensor:
        """(n, D/n, H*r) weight divided by max(1, RMS / rho), the official constants."""
        return rms_clamp(self.weight, d_in=self.d_in, d_out=self.d_out)

    def forward(self, x: Tensor) -> Tensor:
        """(B, T, D) -> (B, H, T, rank * n_chunks), ordered rank-major (``(r n)``)."""
        b, t, _ = x.shape
        xc = x.reshape(b, t, self.n_chunks, -1)  # (B, T, n, D/n)
        y = torch.einsum("btnc,ncr->btnr", xc, self.clamped_weight())  # (B, T, n, H*r)
        y = y.reshape(b, t, self.n_chunks, self.n_heads, self.rank)  # (B, T, n, H, r)
        # (B, T, n, H, r) -> (B, H, T, r, n) -> (B, H, T, r*n)
        return y.permute(0, 3, 1, 4, 2).reshape(b, self.n_heads, t, self.rank * self.n_chunks)


class BilinearMLRScorer(AttentionScorer):
    """Feature-space MLR scoring.

    Args:
        ranks: rank per level, summing to the head width d (default
            :func:`tsattn.attention.mlr.default_mlr_ranks`, with levels dropped until
            2^(L-1) divides D).
        qk_norm: LayerNorm each level's query and key vectors.
    """

    def __init__(
        self, d_model, n_heads, seq_len, causal=False, qk_norm=False, ranks: list[int] | None = None
    ):
        super().__init__(d_model, n_heads, seq_len, causal=causal, qk_norm=qk_norm)
        self.ranks = self._check_ranks(ranks)
        chunks = [2**level for level in range(len(self.ranks))]
        self.queries = nn.ModuleList(
            ChunkedProjection(d_model, n_heads, n, r) for n, r in zip(chunks, self.ranks)
        )
        self.keys = nn.ModuleList(
            ChunkedProjection(d_model, n_heads, n, r) for n, r in zip(chunks, self.ranks)
        )
        widths = [n * r for n, r in zip(chunks, self.ranks)]
        norm = nn.LayerNorm if qk_norm else (lambda _: nn.Identity())
        self.q_norms = nn.ModuleList(norm(w) for w in widths)
        self.k_norms = nn.ModuleList(norm(w) for w in widths)
        self.level_scales = [1.0 / math.sqrt(w) for w in widths]

    def _check_ranks(self, ranks: list[int] | None) -> list[int]:
        if ranks is None:
            ranks = default_mlr_ranks(self.head_dim)
            while len(ranks) > 1 and self.d_model % 2 ** (len(ranks) - 1):
                ranks = ranks[:-2] + [ranks[-2] + ranks[-1]]
        ranks = [int(r) for r in ranks]
        if not ranks or any(r <= 0 for r in ranks) or sum(ranks) != self.head_dim:
            raise ValueError(
                f"bilinear_mlr ranks must be positive integers summing to the head width "
                f"d_model / n_heads = {self.head_dim}; got {ranks}"
            )
        if self.d_model % 2 ** (len(ranks) - 1):
            raise ValueError(
                f"bilinear_mlr with {len(ranks)} levels needs d_model divisible by "
                f"{2 ** (len(ranks) - 1)}; got d_model={self.d_model}: use fewer levels"
            )
        return ranks

    def query_key(self, x: Tensor) -> QueryKey:
        q_parts, k_parts = [], []
        levels = zip(self.queries, self.keys, self.q_norms, self.k_norms, self.level_scales)
        for q_proj, k_proj, q_norm, k_norm, c_l in levels:
            q_parts.append(c_l * q_norm(q_proj(x)))  # (B, H, T, 2^l * r_l)
            k_parts.append(k_norm(k_proj(x)))
        return QueryKey(torch.cat(q_parts, dim=-1), torch.cat(k_parts, dim=-1), 1.0)

    def score_flops(self, seq_len: int | None = None) -> int:
        t = seq_len or self.seq_len
        width = sum(r * 2**level for level, r in enumerate(self.ranks))
        return self.n_heads * t * t * width

    def extra_repr(self) -> str:
        return f"ranks={self.ranks}, causal={self.causal}"
