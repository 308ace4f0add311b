"""Bilinear Block Tensor-Train (BTT) attention (ATTENTION.md section 4).

Per head h: ``s_h(i, j) = x_i . LN(W_h x_j) / sqrt(D)`` with ``W_h`` a D x D Block
Tensor-Train matrix. There is no query projection (the query is the token itself), and
``W_h`` can be full rank: small heads lose the low-rank bottleneck of ``W_Q W_K^T``.

The BTT matrix of rank s: D = a * b with b the smallest divisor of D above sqrt(D). Two
cores, R (a, b, H*b*s) and L (H*b, a, a*s), give for head h the D x D matrix::

    W_h[al * b + be', ga * b + de] = sum_sigma L[h*b + be', al, ga*s + sigma]
                                               * R[ga, de, (h*b + be')*s + sigma]

(alpha, beta, gamma, delta abbreviated; be' in 0..b-1 is the output block within the head).
Input and output are both indexed "a-major, b-minor": the input feature ga * b + de is
x.reshape(a, b)[ga, de], and the key feature al * b + be' is laid out the same way. This is
the layout of the paper's official code (YilunKuang/structured-attention, ``src/model.py``,
``BilinearBTTAttention``), so the family contains W_h = I, i.e. plain ``x_i . LN(x_j)``
(L[h*b + be', al, ga] = [al == ga], R[ga, de, h*b + be'] = [de == be'] at rank 1).
tsattn before issue 15 laid the key out as be' * a + al, a fixed permutation P of the
official one (scores ``x_i . P W_h x_j``), which cannot represent the identity.

Keys cost two batched matmuls. Before each use a core is divided by
max(1, RMS(core) / rho), RMS = sqrt(mean(core^2) + 1e-8), rho = sqrt(min(d_in, d_out)) / d_in
(R: d_in = b, d_out = H*b*s; L: d_in = a*s, d_out = a), the official constants.

>>> from tsattn.attention import create_attention
>>> import torch
>>> create_attention("btt", d_model=16, n_heads=4, seq_len=42)(torch.randn(2, 42, 16)).shape
torch.Size([2, 42, 16])
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from tsattn.attention.base import AttentionScorer, QueryKey, default_scale
from tsattn.checks import check_positive_int


def btt_factors(dim: int) -> tuple[int, int]:
    """(a, b) with D = a * b and b the smallest divisor of D greater than sqrt(D).

    >>> btt_factors(16), btt_factors(128)
    ((2, 8), (8, 16))
    """
    root = math.isqrt(dim)
    for b in range(root + 1, dim + 1):
        if dim % b == 0:
            return dim // b, b
    return 1, dim  # dim == 1


def rms_clamp(core: Tensor, d_in: int, d_out: int) -> Tensor:
    """Divide ``core`` by max(1, RMS(core) / rho), rho = sqrt(min(d_in, d_out)) / d_in."""
    rho = math.sqrt(min(d_in, d_out)) / d_in
    rms = torch.sqrt(core.pow(2).mean() + 1e-8)
    return core / torch.clamp(rms / rho, min=1.0)


class BTTScorer(AttentionScorer):
    """Bilinear BTT attention: full-rank per-head scoring matrices.

    Args:
        rank: the BTT rank s (default 1).
        qk_norm: also LayerNorm the queries over D (the keys are always LayerNormed).
    """

    def __init__(self, d_model, n_heads, seq_len, causal=False, qk_norm=False, rank: int = 1):
        super().__init__(d_model, n_heads, seq_len, causal=causal, qk_norm=qk_norm)
        self.rank = check_positive_int("rank", rank)
        self.a, self.b = btt_factors(d_model)
        a, b, h, s = self.a, self.b, n_heads, self.rank
        self.core_r = nn.Parameter(torch.randn(a, b, h * b * s) * self._rho_r)
        self.core_l = nn.Parameter(torch.randn(h * b, a, a * s) * self._rho_l)
        self.key_norm = nn.LayerNorm(d_model)
        self.query_norm = nn.LayerNorm(d_model) if qk_norm else nn.Identity()

    # Initial scales: each core starts with entries of RMS about rho = sqrt(min(d_in, d_out))
    # / d_in, the same ceiling that rms_clamp enforces in the forward pass, so the clamp is
    # (nearly) inactive at initialisation and grows active only if training inflates a core.
    # R maps the b-wide slices of x to H*b*s outputs (d_in = b); L maps a*s inputs to a
    # outputs (d_in = a*s).
    @property
    def _rho_r(self) -> float:
        return math.sqrt(min(self.b, self.n_heads * self.b * self.rank)) / self.b

    @property
    def _rho_l(self) -> float:
        return math.sqrt(min(self.a * self.rank, self.a)) / (self.a * self.rank)

    def cores(self) -> tuple[Tensor, Tensor]:
        """The RMS-clamped cores (R, L) as used in the forward pass."""
        h, s = self.n_heads, self.rank
        core_r = rms_clamp(self.core_r, d_in=self.b, d_out=h * self.b * s)
        core_l = rms_clamp(self.core_l, d_in=self.a * s, d_out=self.a)
        return core_r, core_l

    def keys(self, x: Tensor) -> Tensor:
        """(B, T, D) -> LayerNormed keys W_h x of shape (B, H, T, D)."""
        bsz, t, d = x.shape
        a, b, h, s = self.a, self.b, self.n_heads, self.rank
        core_r, core_l = self.cores()
        xs = x.reshape(bsz * t, a, b).transpose(0, 1)  # (a, N, b): x[gamma, n, delta]
        y = torch.bmm(xs, core_r)  # (a, N, H*b*s): y[gamma, n, (beta, sigma)]
        # (a, N, H*b, s) -> (H*b, N, a, s) -> (H*b, N, a*s): rows indexed (gamma, sigma)
        y = y.reshape(a, bsz * t, h * b, s).permute(2, 1, 0, 3).reshape(h * b, bsz * t, a * s)
        z = torch.bmm(y, core_l.transpose(1, 2))  # (H*b, N, a): z[beta, n, alpha]
        # (H, b, N, a) -> (N, H, a, b) -> (B, T, H, D): key feature alpha * b + beta'
        z = z.reshape(h, b, bsz * t, a).permute(2, 0, 3, 1).reshape(bsz, t, h, d)
        return self.key_norm(z.transpose(1, 2))

    def query_key(self, x: Tensor) -> QueryKey:
        bsz, t, d = x.shape
        q = self.query_norm(x).unsqueeze(1).expand(bsz, self.n_heads, t, d)  # (B, H, T, D)
        return QueryKey(q, self.keys(x), default_scale(self.d_model))

    def score_flops(self, seq_len: int | None = None) -> int:
        t = seq_len or self.seq_len
        return self.n_heads * t * t * self.d_model

    def extra_repr(self) -> str:
        return f"rank={self.rank}, a={self.a}, b={self.b}, causal={self.causal}"
