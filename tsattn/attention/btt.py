"""Bilinear Block Tensor-Train (BTT) attention (docs/ATTENTION.md section 4).

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

Speed: the per-head matrices are materialised from the cores (``weight``: H * D^2
entries, 0.5 MB at D=128, H=8) and every head's keys come from one GEMM ``x @ W^T``. The
two-stage BTT product costs fewer multiply-adds (H * D * (a + b) * s per token instead of
H * D^2) but its small batched matmuls and the permutes between them took 4x longer on CPU
(measured with torch.profiler at D=128, H=8, T=64). The scores themselves are inherently
H times softmax's: every head takes a D-wide dot product (softmax's heads are D/H wide).
The structured route (:meth:`BTTScorer.structured_attention`) computes them with one
matmul against all heads' keys (queries are shared) and an explicit softmax for short
sequences, and with the fused kernel (values zero-padded to width D) for long ones.

Before each use a core is divided by
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
import torch.nn.functional as F
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

    def weight(self) -> Tensor:
        """(H*D, D): every head's W_h from the clamped cores, stacked (row h*D + al*b + be)."""
        a, b, h, s = self.a, self.b, self.n_heads, self.rank
        core_r, core_l = self.cores()
        left = core_l.view(h, b, a, a, s)  # [h, be', al, ga, sigma]
        right = core_r.view(a, b, h, b, s)  # [ga, de, h, be', sigma]
        w = torch.einsum("hbxgs,gdhbs->hxbgd", left, right)  # [h, al, be', ga, de]
        return w.reshape(h * self.d_model, self.d_model)

    def keys(self, x: Tensor) -> Tensor:
        """(B, T, D) -> LayerNormed keys W_h x of shape (B, H, T, D)."""
        return self._keys(x).transpose(1, 2)

    def _keys(self, x: Tensor) -> Tensor:
        """(B, T, D) -> LayerNormed keys of shape (B, T, H, D), one GEMM for all heads."""
        b, t, d = x.shape
        return self.key_norm(F.linear(x, self.weight()).view(b, t, self.n_heads, d))

    #: Longest sequence for the explicit-softmax route; beyond it the fused kernel (with
    #: values zero-padded to width D) wins on CPU (measured: equal at T=256, D=128, H=8).
    max_unfused_len: int = 256

    def has_structured_route(self, seq_len: int) -> bool:
        return True

    def structured_attention(self, x: Tensor, v: Tensor, dropout_p: float) -> Tensor:
        """(B, T, D) tokens, (B, T, H, d) values -> (B, T, H, d)."""
        q = self.query_norm(x)  # (B, T, D), shared by every head
        k = self._keys(x)  # (B, T, H, D)
        if x.shape[1] <= self.max_unfused_len:
            return self._explicit_attention(q, k, v, dropout_p)
        return self._fused_attention(q, k, v, dropout_p)

    def _explicit_attention(self, q: Tensor, k: Tensor, v: Tensor, dropout_p: float) -> Tensor:
        b, t, h, d = k.shape
        keys = k.transpose(1, 2).reshape(b, h * t, d)  # (B, H*T, D)
        scores = torch.bmm(q * default_scale(d), keys.transpose(1, 2)).view(b, t, h, t)
        mask = self.allowed(t, q.device)  # (T, T) or None
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
        weights = F.dropout(torch.softmax(scores, dim=-1), dropout_p)  # (B, T, H, T)
        y = weights.transpose(1, 2) @ v.transpose(1, 2)  # (B, H, T, d_v)
        return y.transpose(1, 2)

    def _fused_attention(self, q: Tensor, k: Tensor, v: Tensor, dropout_p: float) -> Tensor:
        b, t, h, d = k.shape
        width = v.shape[-1]
        y = F.scaled_dot_product_attention(
            q.unsqueeze(1).expand(b, h, t, d),
            k.transpose(1, 2),
            F.pad(v, (0, d - width)).transpose(1, 2),  # the fused kernel needs equal widths
            dropout_p=dropout_p,
            is_causal=self.causal,
            scale=default_scale(d),
        )  # (B, H, T, D)
        return y[..., :width].transpose(1, 2)

    def query_key(self, x: Tensor) -> QueryKey:
        bsz, t, d = x.shape
        q = self.query_norm(x).unsqueeze(1).expand(bsz, self.n_heads, t, d)  # (B, H, T, D)
        return QueryKey(q, self.keys(x), default_scale(self.d_model))

    def score_flops(self, seq_len: int | None = None) -> int:
        t = seq_len or self.seq_len
        return self.n_heads * t * t * self.d_model

    def extra_repr(self) -> str:
        return f"rank={self.rank}, a={self.a}, b={self.b}, causal={self.causal}"
