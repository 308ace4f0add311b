"""Standard scaled dot-product attention: s_h(i, j) = q_h(i) . k_h(j) / sqrt(d)."""

from __future__ import annotations

from torch import Tensor

from tsattn.attention.base import DenseQKScorer, QueryKey, default_scale


class SoftmaxScorer(DenseQKScorer):
    """Standard attention: the baseline every structured variant is compared with."""

    def query_key(self, x: Tensor) -> QueryKey:
        q, k = self.project(x)  # (B, H, T, d) each
        return QueryKey(q, k, default_scale(self.head_dim))

    def score_flops(self, seq_len: int | None = None) -> int:
        t = seq_len or self.seq_len
        return self.n_heads * t * t * self.head_dim
