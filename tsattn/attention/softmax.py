"""Standard scaled dot-product attention: s_h(i, j) = q_h(i) . k_h(j) / sqrt(d)."""

from __future__ import annotations

from torch import Tensor, nn

from tsattn.attention.base import AttentionScorer, QueryKey, default_scale


class DenseQKScorer(AttentionScorer):
    """Dense query/key projections (D -> H*d each) with optional per-head QK-norm.

    The shared parent of ``softmax``, ``sliding`` and ``mlr``: they have the same parameters
    and differ only in how q and k are combined.
    """

    def __init__(self, d_model, n_heads, seq_len, causal=False, qk_norm=False):
        super().__init__(d_model, n_heads, seq_len, causal=causal, qk_norm=qk_norm)
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.q_norm = nn.LayerNorm(self.head_dim) if qk_norm else nn.Identity()
        self.k_norm = nn.LayerNorm(self.head_dim) if qk_norm else nn.Identity()

    def project(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(B, T, D) -> q, k of shape (B, H, T, d), QK-normed when enabled."""
        q = self.q_norm(self._split_heads(self.query(x), self.head_dim))
        k = self.k_norm(self._split_heads(self.key(x), self.head_dim))
        return q, k


class SoftmaxScorer(DenseQKScorer):
    """Standard attention: the baseline every structured variant is compared with."""

    def query_key(self, x: Tensor) -> QueryKey:
        q, k = self.project(x)  # (B, H, T, d) each
        return QueryKey(q, k, default_scale(self.head_dim))

    def score_flops(self, seq_len: int | None = None) -> int:
        t = seq_len or self.seq_len
        return self.n_heads * t * t * self.head_dim
