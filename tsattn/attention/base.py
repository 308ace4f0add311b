"""The scorer contract and the multi-head attention module built around it.

Every attention variant in tsattn only changes the *scoring function*: how the pre-softmax
logits ``S (B, H, T, T)`` are made from the tokens. A scorer owns its query/key-side
parameters; :class:`MultiHeadAttention` owns everything else (value projection, mask,
softmax, dropout, ``A @ V``, head merge and output projection).

Two paths compute the same result:

* the *fast path* (:meth:`MultiHeadAttention.forward`): when the scores are a dot product of
  transformed vectors, ``S = scale * q @ k^T``, PyTorch's fused
  ``scaled_dot_product_attention`` (SDPA) is called on ``q`` and ``k``;
* the *reference path* (:meth:`MultiHeadAttention.attend`): explicit ``softmax(S) @ V``,
  which also returns the scores and weights (for residual attention, plots and debugging).

Tests prove that both paths agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsattn.checks import check_positive_int


@dataclass(frozen=True)
class QueryKey:
    """Transformed queries and keys whose scaled dot product is the score.

    ``q`` and ``k`` have shape (B, H, T, E); the score is ``scale * q @ k^T``. ``E`` may
    differ from the value head width.
    """

    q: Tensor
    k: Tensor
    scale: float


@dataclass(frozen=True)
class AttentionOutput:
    """What the reference path returns.

    Attributes:
        output: (B, T, D) attention output after the output projection.
        scores: (B, H, T, T) pre-softmax logits, score bias added, mask not applied.
        weights: (B, H, T, T) attention probabilities (mask applied, before dropout).
    """

    output: Tensor
    scores: Tensor
    weights: Tensor


class AttentionScorer(nn.Module):
    """Base class of every scoring function.

    Subclasses implement :meth:`query_key` (separable scorers) or override :meth:`scores`
    and set ``separable = False``. :meth:`allowed` gives the mask (True = may attend).

    Args:
        d_model: token width D.
        n_heads: number of heads H; must divide ``d_model``.
        seq_len: the sequence length T the layer is built for (used for validation and FLOP
            counts; scorers accept other lengths at run time where their math allows).
        causal: if True, position i attends only to positions j <= i.
        qk_norm: apply a LayerNorm to queries and keys (per head) before scoring.
    """

    separable: ClassVar[bool] = True
    #: True when :meth:`allowed` is more than the plain causal/None mask (e.g. a window).
    mask_beyond_causal: ClassVar[bool] = False

    def __init__(
        self, d_model: int, n_heads: int, seq_len: int, causal: bool = False, qk_norm: bool = False
    ):
        super().__init__()
        self.d_model = check_positive_int("d_model", d_model)
        self.n_heads = check_positive_int("n_heads", n_heads)
        self.seq_len = check_positive_int("seq_len", seq_len)
        if d_model % n_heads:
            raise ValueError(
                f"d_model ({d_model}) must be divisible by n_heads ({n_heads}); "
                f"pick n_heads among the divisors of {d_model}"
            )
        self.causal = bool(causal)
        self.qk_norm = bool(qk_norm)

    @property
    def head_dim(self) -> int:
        """Per-head width d = D / H."""
        return self.d_model // self.n_heads

    def query_key(self, x: Tensor) -> QueryKey:
        """(B, T, D) -> transformed queries and keys, each (B, H, T, E)."""
        raise NotImplementedError(f"{type(self).__name__} has no separable query/key form")

    def scores(self, x: Tensor) -> Tensor:
        """(B, T, D) -> (B, H, T, T) pre-softmax logits (scale applied, mask not).

        The reference definition; scorers whose math has a more direct form than the dot
        product of transformed vectors (MLR's level sum) override it.
        """
        qk = self.query_key(x)
        return qk.scale * (qk.q @ qk.k.transpose(-2, -1))

    def fast_scores(self, x: Tensor) -> Tensor:
        """The same logits as :meth:`scores`, by the cheapest exact route.

        Separable scorers use one matmul of their transformed q and k (for MLR, the
        augmented vectors instead of one masked product per level).
        """
        if not self.separable:
            return self.scores(x)
        qk = self.query_key(x)  # (B, H, T, E) each
        return qk.scale * (qk.q @ qk.k.transpose(-2, -1))

    def allowed(self, seq_len: int, device: torch.device) -> Tensor | None:
        """(T, T) boolean mask, True where i may attend to j; None when all pairs may."""
        if not self.causal:
            return None
        return torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).tril()

    def score_flops(self, seq_len: int | None = None) -> int:
        """Multiply-adds to form the (H, T, T) logits of one sequence from its q/k vectors."""
        raise NotImplementedError

    def has_structured_route(self, seq_len: int) -> bool:
        """True when :meth:`structured_attention` beats the dense fused path at ``seq_len``."""
        return False

    def structured_attention(self, x: Tensor, v: Tensor, dropout_p: float) -> Tensor:
        """Attention output by a route that uses the scorer's structure (no score bias).

        Args:
            x: (B, T, D) tokens.
            v: (B, T, H, d) values.
            dropout_p: dropout on the attention weights.

        Returns:
            (B, T, H, d), equal to softmax(scores, masked) @ v. Scorers that return True
            from :meth:`has_structured_route` implement it (a sliding window's band, MLR's
            per-group key masks).
        """
        raise NotImplementedError(f"{type(self).__name__} has no structured route")

    def _split_heads(self, x: Tensor, width: int) -> Tensor:
        # (B, T, H*width) -> (B, H, T, width)
        b, t, _ = x.shape
        return x.view(b, t, self.n_heads, width).transpose(1, 2)

    def _check_input(self, x: Tensor) -> None:
        if x.dim() != 3 or x.shape[-1] != self.d_model:
            raise ValueError(
                f"{type(self).__name__} expects input of shape (batch, seq_len, {self.d_model}), "
                f"got {tuple(x.shape)}"
            )


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
        q, k = self.project_tokens(x)  # (B, T, H, d) each
        return q.transpose(1, 2), k.transpose(1, 2)

    def project_tokens(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(B, T, D) -> q, k of shape (B, T, H, d) (token-major), QK-normed when enabled."""
        b, t, _ = x.shape
        h, d = self.n_heads, self.head_dim
        q = self.q_norm(self.query(x).view(b, t, h, d))
        k = self.k_norm(self.key(x).view(b, t, h, d))
        return q, k


class MultiHeadAttention(nn.Module):
    """Multi-head attention around a pluggable :class:`AttentionScorer`.

    Args:
        scorer: the scoring function (owns the query/key side).
        dropout: dropout probability on the attention weights.
        bias: whether the value and output projections have a bias.
    """

    #: Widest q/k, as a multiple of the value head width, for which the CPU fast path pads
    #: the value heads to reach the fused kernel (set from measurements; see benchmarks).
    max_value_pad: ClassVar[int] = 4
    #: Let scorers use their structured route in :meth:`forward` (False: always dense).
    use_structured: bool = True

    def __init__(self, scorer: AttentionScorer, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"attention dropout must be in [0, 1), got {dropout}")
        self.scorer = scorer
        self.dropout = float(dropout)
        self.value = nn.Linear(scorer.d_model, scorer.d_model, bias=bias)
        self.out = nn.Linear(scorer.d_model, scorer.d_model, bias=bias)

    @property
    def d_model(self) -> int:
        return self.scorer.d_model

    @property
    def n_heads(self) -> int:
        return self.scorer.n_heads

    def scores(self, x: Tensor) -> Tensor:
        """(B, T, D) -> (B, H, T, T) pre-softmax logits (scale and normaliser applied, no mask)."""
        self.scorer._check_input(x)
        return self.scorer.scores(x)

    def forward(self, x: Tensor, score_bias: Tensor | None = None) -> Tensor:
        """(B, T, D) -> (B, T, D), by the fastest exact path.

        ``score_bias`` (broadcastable to (B, H, T, T)) is added to the logits before the
        softmax, as in residual attention. Without one, a scorer with a structured route
        (:meth:`AttentionScorer.structured_attention`) uses it unless ``use_structured`` is
        False; otherwise :meth:`forward_dense`.
        """
        self.scorer._check_input(x)
        b, t, _ = x.shape
        if score_bias is None and self.use_structured and self.scorer.has_structured_route(t):
            v = self.value(x).view(b, t, self.n_heads, -1)  # (B, T, H, d)
            dropout_p = self.dropout if self.training else 0.0
            y = self.scorer.structured_attention(x, v, dropout_p)  # (B, T, H, d)
            return self.out(y.reshape(b, t, self.d_model))
        return self.forward_dense(x, score_bias)

    def forward_dense(self, x: Tensor, score_bias: Tensor | None = None) -> Tensor:
        """(B, T, D) -> (B, T, D) by one fused kernel call on the full (T, T) scores (or the
        reference path for scorers without a dot-product form): the reference for the
        structured routes."""
        self.scorer._check_input(x)
        if not self.scorer.separable:
            return self.attend(x, score_bias).output
        b, t, _ = x.shape
        qk = self.scorer.query_key(x)
        width = self._value_width(x, qk.q.shape[-1])
        weight, bias = self._padded_value(width)
        v = self.scorer._split_heads(F.linear(x, weight, bias), width)  # (B, H, T, width)
        mask = self.scorer.allowed(t, x.device)
        is_causal = False
        # SDPA takes one additive or boolean mask. Three cases, cheapest first:
        # - a score bias (residual attention): the bias is the additive mask, with -inf where
        #   the scorer forbids a pair, so both apply in one tensor;
        # - a plain causal scorer: is_causal=True lets SDPA skip the masked half instead of
        #   reading a (T, T) mask;
        # - anything else (a window, or no mask at all): the scorer's boolean mask, or None.
        if score_bias is not None:
            attn_mask = score_bias.to(qk.q.dtype)
            if mask is not None:
                attn_mask = attn_mask.masked_fill(~mask, float("-inf"))
        elif self.scorer.causal and not self.scorer.mask_beyond_causal:
            attn_mask, is_causal = None, True
        else:
            attn_mask = mask
        y = F.scaled_dot_product_attention(
            qk.q,
            qk.k,
            v,
            attn_mask=attn_mask,
            dropout_p=self.dropout if self.training else 0.0,
            is_causal=is_causal,
            scale=qk.scale,
        )  # (B, H, T, width)
        y = y.transpose(1, 2).reshape(b, t, self.n_heads * width)  # (B, T, H*width)
        return F.linear(y, self._padded_out_weight(width), self.out.bias)

    # PyTorch's fused CPU kernel needs q, k and v of one width; otherwise SDPA falls back to
    # its unfused math path. When the scorer's q/k are wider than the value head (MLR's
    # augmented vectors, bilinear MLR), v gets zero rows in its projection and W_O zero
    # columns: exact, and no pad/slice copies of the activations.
    def _value_width(self, x: Tensor, qk_width: int) -> int:
        d = self.scorer.head_dim
        if x.device.type == "cpu" and d < qk_width <= self.max_value_pad * d:
            return qk_width
        return d

    def _padded_value(self, width: int) -> tuple[Tensor, Tensor | None]:
        """Value weight (H*width, D) and bias, zero-padded per head from width d."""
        weight, bias = self.value.weight, self.value.bias
        h, d = self.n_heads, self.scorer.head_dim
        if width == d:
            return weight, bias
        # (H*d, D) -> (H, d, D) -> (H, width, D) -> (H*width, D)
        weight = F.pad(weight.view(h, d, -1), (0, 0, 0, width - d)).view(h * width, -1)
        if bias is not None:
            bias = F.pad(bias.view(h, d), (0, width - d)).view(h * width)
        return weight, bias

    def _padded_out_weight(self, width: int) -> Tensor:
        """Output weight (D, H*width), zero columns where the value head was padded."""
        h, d = self.n_heads, self.scorer.head_dim
        if width == d:
            return self.out.weight
        # (D, H*d) -> (D, H, d) -> (D, H, width) -> (D, H*width)
        return F.pad(self.out.weight.view(-1, h, d), (0, width - d)).view(-1, h * width)

    def attend(self, x: Tensor, score_bias: Tensor | None = None) -> AttentionOutput:
        """Explicit path: ``softmax(logits) @ V``, returning the logits and weights."""
        self.scorer._check_input(x)
        b, t, _ = x.shape
        scores = self.scorer.fast_scores(x)  # (B, H, T, T)
        if score_bias is not None:
            scores = scores + score_bias
        mask = self.scorer.allowed(t, x.device)
        masked = scores if mask is None else scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(masked, dim=-1)  # (B, H, T, T)
        dropped = F.dropout(weights, self.dropout, self.training)
        v = self.scorer._split_heads(self.value(x), self.scorer.head_dim)  # (B, H, T, d)
        y = (dropped @ v).transpose(1, 2).reshape(b, t, self.d_model)  # (B, T, D)
        return AttentionOutput(output=self.out(y), scores=scores, weights=weights)

    def num_parameters(self, scoring_only: bool = False) -> int:
        """Number of trainable parameters (of the scorer alone when ``scoring_only``)."""
        module = self.scorer if scoring_only else self
        return sum(p.numel() for p in module.parameters() if p.requires_grad)

    def score_flops(self, seq_len: int | None = None) -> int:
        """Multiply-adds forming one sequence's logits (all heads) at ``seq_len``."""
        return self.scorer.score_flops(seq_len)

    def extra_repr(self) -> str:
        return f"dropout={self.dropout}"


def default_scale(width: int) -> float:
    """The usual 1/sqrt(width) logit scale."""
    return 1.0 / math.sqrt(width)
