"""Sequence Multi-Level Low-Rank (MLR) attention (docs/ATTENTION.md section 3).

Each head's T x T score matrix is a multi-level low-rank matrix over positions: the head's
q and k (width d) are split along features into slices of widths r_0 ... r_{L-1}
(sum = d); level l cuts the positions into contiguous blocks and only pairs in the same
level-l block get the level-l term::

    S_h(i, j) = nu(i, j) * sum_l [blk_l(i) == blk_l(j)] * c_l * q_h^(l)(i) . k_h^(l)(j)

Nearby positions share blocks at every level and use all d features; distant positions
share only the global level 0 and interact through the rank-r_0 slice. The parameters are
exactly those of standard attention.

Fast route (grouped keys, :meth:`MLRScorer.structured_attention`): cut the positions into
groups that share their block at every level (4 groups with the default 3 levels). For the
queries of group g, every level's indicator ``[blk_l(i) == blk_l(j)]`` depends on j only,
and so does the block-divide normaliser; the score is therefore ``q_i . (m_g(j) * k_j)``
with a per-group weight ``m_g(j)`` on the key features (level l's columns get
``[blk_l(j) == blk_l(g)] * c_l / n_g(j)``). One fused SDPA call on G groups of T/G queries
against their G weighted copies of the keys computes the attention with softmax's
T * T * d multiply-adds, for both scales and both normalisers. Plain ``mlr`` takes it from
T = 512 on (``MLRScorer.min_grouped_len``; shorter sequences run the dense route faster on
CPU), the block-divide normaliser (``mlr_paper``) at every T.

Dense route (the reference of the fast route, :meth:`MultiHeadAttention.forward_dense`):
with augmented vectors ``q~_i = [c_0 q0_i | onehot(blk_1(i)) (x) c_1 q1_i | ...]`` (``k~``
likewise without c), ``q~_i . k~_j`` is the MLR score, so one fused SDPA call on vectors
of width W = sum_l r_l * n_l computes the attention. The block-divide normaliser
(``normalize="levels"``) is not separable there and uses explicit scores.

The paper's recipe (Kuang et al., ICML 2025, and its official ``AttentionMLR``): per-level
scale c_l = 1/r_l, per-head QK-norm, and the block-divide normaliser. It is registered as
``"mlr_paper"`` (:class:`MLRPaperScorer`), so ``create_attention("mlr_paper", ...)`` and specs
such as ``patchtst:mlr_paper`` get it by name; it is exactly ``"mlr"`` with
``qk_norm=True, scale="per_level", normalize="levels"``. The plain ``"mlr"`` defaults
(uniform 1/sqrt(d), no QK-norm, no normaliser) are tsattn's: one level is then exactly
standard attention.

>>> from tsattn.attention import create_attention
>>> import torch
>>> attn = create_attention("mlr", d_model=16, n_heads=4, seq_len=42, ranks=[2, 1, 1])
>>> attn(torch.randn(3, 42, 16)).shape
torch.Size([3, 42, 16])
>>> paper = create_attention("mlr_paper", d_model=16, n_heads=4, seq_len=42)
>>> paper.scorer.qk_norm, paper.scorer.scale_mode, paper.scorer.normalize
(True, 'per_level', 'levels')
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from tsattn.attention.base import DenseQKScorer, QueryKey, default_scale
from tsattn.attention.blocked import BlockLayout, blocked_attention, contiguous_groups, head_mask

SCALES = ("uniform", "per_level")
NORMALIZERS = ("none", "levels")


def default_mlr_ranks(head_dim: int) -> list[int]:
    """The default split of a head's width over levels.

    Half of the width (rounded up) goes to the global level 0, the rest is split as evenly
    as possible over two finer levels: d=4 -> [2, 1, 1], d=8 -> [4, 2, 2], d=6 -> [3, 2, 1],
    d=3 -> [2, 1], d=2 -> [1, 1], d=1 -> [1] (a single level is standard attention).
    Far patches keep a global low-rank channel while neighbours get the full width.
    """
    r0 = math.ceil(head_dim / 2)
    rest = head_dim - r0
    r1 = math.ceil(rest / 2)
    return [r for r in (r0, r1, rest - r1) if r > 0]


def block_ids(seq_len: int, n_levels: int, block_sizes: list[int] | None) -> list[Tensor]:
    """Per level, the (T,) block index of each position.

    Default: 2^l near-equal nested blocks, ``blk_l(i) = floor(i * 2^l / T)``, for any T.
    With ``block_sizes``: ``blk_l(i) = floor(i / block_sizes[l])`` (ragged last block).
    """
    pos = torch.arange(seq_len)
    if block_sizes is None:
        return [(pos * 2**level) // seq_len for level in range(n_levels)]
    return [pos // size for size in block_sizes]


class MLRScorer(DenseQKScorer):
    """Sequence MLR attention.

    Args:
        ranks: feature widths per level, summing to the head width d. Default:
            :func:`default_mlr_ranks`.
        block_sizes: optional block length per level (same length as ``ranks``). Default:
            2^l near-equal blocks at level l.
        scale: ``"uniform"`` (default; c_l = 1/sqrt(d) at every level, so one level is
            exactly standard attention and the logits start at softmax's scale) or
            ``"per_level"`` (c_l = 1/r_l, the paper's muP scale for its language models).
        normalize: ``"none"`` (default) or ``"levels"``: divide each score by the number of
            levels at which i and j share a block (the paper's block-divide).
    """

    def __init__(
        self,
        d_model,
        n_heads,
        seq_len,
        causal=False,
        qk_norm=False,
        ranks: list[int] | None = None,
        block_sizes: list[int] | None = None,
        scale: str = "uniform",
        normalize: str = "none",
    ):
        super().__init__(d_model, n_heads, seq_len, causal=causal, qk_norm=qk_norm)
        self.ranks = self._check_ranks(ranks)
        self.block_sizes = self._check_block_sizes(block_sizes)
        if scale not in SCALES:
            raise ValueError(f"mlr scale must be one of {SCALES}, got {scale!r}")
        if normalize not in NORMALIZERS:
            raise ValueError(f"mlr normalize must be one of {NORMALIZERS}, got {normalize!r}")
        self.scale_mode, self.normalize = scale, normalize
        self.separable = normalize == "none"
        self._augment_cache: dict[tuple, tuple[Tensor, Tensor, Tensor]] = {}
        self._group_cache: dict[tuple, tuple[BlockLayout, Tensor, Tensor | None]] = {}

    # ----------------------------------------------------------------- validation
    def _check_ranks(self, ranks: list[int] | None) -> list[int]:
        if ranks is None:
            ranks = default_mlr_ranks(self.head_dim)
            while len(ranks) > 1 and 2 ** (len(ranks) - 1) > self.seq_len:
                ranks = ranks[:-2] + [ranks[-2] + ranks[-1]]  # too few positions: merge levels
        ranks = [int(r) for r in ranks]
        if not ranks or any(r <= 0 for r in ranks) or sum(ranks) != self.head_dim:
            raise ValueError(
                f"mlr ranks must be positive integers summing to the head width "
                f"d_model / n_heads = {self.head_dim}; got {ranks} (sum {sum(ranks)}). "
                f"For example ranks={default_mlr_ranks(self.head_dim)}"
            )
        return ranks

    def _check_block_sizes(self, block_sizes: list[int] | None) -> list[int] | None:
        if block_sizes is None:
            if 2 ** (len(self.ranks) - 1) > self.seq_len:
                raise ValueError(
                    f"mlr with {len(self.ranks)} levels needs seq_len >= "
                    f"{2 ** (len(self.ranks) - 1)}, got {self.seq_len}; use fewer ranks"
                )
            return None
        sizes = [int(b) for b in block_sizes]
        if len(sizes) != len(self.ranks):
            raise ValueError(
                f"mlr block_sizes needs one block length per level ({len(self.ranks)}), got {sizes}"
            )
        bad = [b for b in sizes if b <= 0 or b > self.seq_len]
        if bad:
            raise ValueError(
                f"mlr block lengths must be in 1..seq_len={self.seq_len}; got {bad}: "
                f"shorten them or raise seq_len"
            )
        return sizes

    # ----------------------------------------------------------------- structure
    @property
    def n_levels(self) -> int:
        return len(self.ranks)

    def level_scales(self) -> list[float]:
        """c_l for each level."""
        if self.scale_mode == "uniform":
            return [default_scale(self.head_dim)] * self.n_levels
        return [1.0 / r for r in self.ranks]

    def _augment(self, seq_len: int, device: torch.device, dtype: torch.dtype) -> tuple:
        """The constants that turn q, k (width d) into q~, k~ (width W = sum_l r_l * n_l).

        Returns ``(src, q_mask, k_mask)``: ``src`` (W,) is the feature (within a head) that
        augmented column c copies; ``k_mask`` (T, 1, W) is 1 where position i's level-l block
        owns column c, ``q_mask`` the same times c_l (1 for the uniform scale, which SDPA
        applies). Cached per (T, device, dtype).
        """
        key = (seq_len, device, dtype)
        if key not in self._augment_cache:
            ids = block_ids(seq_len, self.n_levels, self.block_sizes)
            uniform = self.scale_mode == "uniform"
            src, k_cols, q_cols, offset = [], [], [], 0
            for ids_l, r_l, c_l in zip(ids, self.ranks, self.level_scales(), strict=True):
                n_blocks = int(ids_l.max()) + 1
                src.append((offset + torch.arange(r_l)).repeat(n_blocks))  # column -> feature
                # (T, n) one-hot of the block -> (T, n*r): 1 on the block's r columns
                onehot = torch.nn.functional.one_hot(ids_l, n_blocks).repeat_interleave(r_l, 1)
                k_cols.append(onehot.to(torch.float64))
                q_cols.append(onehot.to(torch.float64) * (1.0 if uniform else c_l))
                offset += r_l
            self._augment_cache[key] = (
                torch.cat(src).to(device),
                torch.cat(q_cols, 1)[:, None, :].to(device, dtype),  # (T, 1, W)
                torch.cat(k_cols, 1)[:, None, :].to(device, dtype),
            )
        return self._augment_cache[key]

    def _slices(self, x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        """(B, T, D) -> per level q_l, k_l of shape (B, H, T, r_l)."""
        q, k = self.project(x)  # (B, H, T, d) each
        return list(q.split(self.ranks, dim=-1)), list(k.split(self.ranks, dim=-1))

    # ----------------------------------------------------------------- scoring
    def query_key(self, x: Tensor) -> QueryKey:
        """Augmented q~, k~ of shape (B, H, T, W) with ``q~_i . k~_j`` the MLR score.

        Without QK-norm the column copy is folded into the projection weights (one wider
        linear layer, then one multiply by the block mask); with QK-norm the normed q, k are
        widened by indexing. Either way no per-level tensors or concatenations are built.
        """
        b, t, _ = x.shape
        h, d = self.n_heads, self.head_dim
        src, q_mask, k_mask = self._augment(t, x.device, x.dtype)
        width = src.numel()
        if self.qk_norm:
            q, k = self.project(x)  # (B, H, T, d) each
            # (B, H, T, d) -> (B, H, T, W) -> (B, T, H, W)
            q, k = q[..., src].transpose(1, 2), k[..., src].transpose(1, 2)
        else:
            rows = (torch.arange(h, device=x.device)[:, None] * d + src).reshape(-1)  # (H*W,)
            q = self._widened_linear(self.query, x, rows).view(b, t, h, width)  # (B, T, H, W)
            k = self._widened_linear(self.key, x, rows).view(b, t, h, width)
        # (B, T, H, W) * (T, 1, W) -> (B, T, H, W) -> (B, H, T, W)
        q, k = (q * q_mask).transpose(1, 2), (k * k_mask).transpose(1, 2)
        scale = default_scale(self.head_dim) if self.scale_mode == "uniform" else 1.0
        return QueryKey(q, k, scale)

    #: Shortest sequence for which plain MLR takes the grouped route; below it the dense
    #: route (augmented q/k) is faster on CPU: with T/4-query groups the fused kernel runs
    #: short blocks and the 4 key/value copies cost as much as the saved width (measured
    #: with benchmarks/attention_speed.py). The block-divide normaliser always groups.
    min_grouped_len: int = 512

    def has_structured_route(self, seq_len: int) -> bool:
        return not self.separable or seq_len >= self.min_grouped_len

    def structured_attention(self, x: Tensor, v: Tensor, dropout_p: float) -> Tensor:
        """Grouped-keys route: (B, T, D) tokens, (B, T, H, d) values -> (B, T, H, d)."""
        q, k = self.project_tokens(x)  # (B, T, H, d) each
        layout, key_weight, mask = self.group_layout(x.shape[1], x.device, x.dtype)
        return blocked_attention(q, k, v, layout, 1.0, dropout_p, key_weight, mask)

    def group_layout(self, seq_len: int, device: torch.device, dtype: torch.dtype) -> tuple:
        """``(layout, key_weight (T, G, 1, d), mask)`` of the grouped-keys route, cached.

        A group is a run of positions in the same block at every level; ``key_weight[j, g]``
        holds, on level l's features, ``[blk_l(j) == blk_l(g)] * c_l / n_g(j)`` (n_g(j) the
        number of shared levels with the block-divide normaliser, else 1).
        """
        cache_key = (seq_len, device, dtype)
        if cache_key not in self._group_cache:
            ids = torch.stack(block_ids(seq_len, self.n_levels, self.block_sizes))  # (L, T)
            change = (ids[:, 1:] != ids[:, :-1]).any(0)  # (T-1,): a new group starts at i+1
            starts = [0] + (torch.nonzero(change).flatten() + 1).tolist()
            query_index, group, slot = contiguous_groups(starts, seq_len)
            shared = (ids[:, None, :] == ids[:, starts, None]).to(torch.float64)  # (L, G, T)
            if self.normalize == "levels":
                shared = shared / shared.sum(0).clamp(min=1.0)  # as in scores()
            scales = torch.tensor(self.level_scales(), dtype=torch.float64)[:, None, None]
            level_of_feature = torch.repeat_interleave(torch.tensor(self.ranks))  # (d,)
            weight = (shared * scales)[level_of_feature].permute(2, 1, 0)  # (T, G, d)
            allowed = None
            if self.causal:  # (G, m, T): j <= i
                allowed = query_index.T[:, :, None] >= torch.arange(seq_len)[None, None, :]
            layout = BlockLayout(query_index, None, allowed, group, slot)
            mask = head_mask(allowed, self.n_heads)
            self._group_cache[cache_key] = (
                layout.to(device),
                weight[:, :, None, :].to(device, dtype),
                None if mask is None else mask.to(device),
            )
        return self._group_cache[cache_key]

    @staticmethod
    def _widened_linear(linear: torch.nn.Linear, x: Tensor, rows: Tensor) -> Tensor:
        """``linear(x)[..., rows]`` computed as one linear layer with the rows gathered."""
        bias = None if linear.bias is None else linear.bias[rows]
        return torch.nn.functional.linear(x, linear.weight[rows], bias)

    def scores(self, x: Tensor) -> Tensor:
        """Explicit level sum of block-masked low-rank terms, normaliser applied."""
        qs, ks = self._slices(x)
        t = x.shape[1]
        same = self.same_block(t, x.device, qs[0].dtype)  # (L, T, T)
        total = 0.0
        for level, (q_l, k_l, c_l) in enumerate(zip(qs, ks, self.level_scales(), strict=True)):
            total = total + same[level] * (c_l * (q_l @ k_l.transpose(-2, -1)))
        if self.normalize == "levels":
            shared = same.sum(0).clamp(min=1.0)  # (T, T): levels where i, j share a block
            total = total / shared
        return total

    def same_block(
        self, seq_len: int, device: torch.device, dtype: torch.dtype = torch.float32
    ) -> Tensor:
        """(L, T, T) indicator (0/1 in ``dtype``) that i and j share a level-l block."""
        ids = torch.stack(block_ids(seq_len, self.n_levels, self.block_sizes)).to(device)
        return (ids[:, :, None] == ids[:, None, :]).to(dtype)

    def score_flops(self, seq_len: int | None = None) -> int:
        t = seq_len or self.seq_len
        ids = block_ids(t, self.n_levels, self.block_sizes)
        per_head = sum(
            r * int((torch.bincount(i) ** 2).sum()) for r, i in zip(self.ranks, ids, strict=True)
        )
        return self.n_heads * per_head

    def extra_repr(self) -> str:
        return (
            f"ranks={self.ranks}, block_sizes={self.block_sizes}, scale={self.scale_mode!r}, "
            f"normalize={self.normalize!r}, causal={self.causal}"
        )


class MLRPaperScorer(MLRScorer):
    """Sequence MLR with the paper's recipe: ``mlr`` with ``scale="per_level"`` (c_l = 1/r_l),
    ``normalize="levels"`` (block-divide) and QK-norm on.

    The scale and normaliser are the recipe and cannot be changed here (use ``"mlr"`` for
    other combinations); QK-norm is on by default, as in every experiment of the paper, and
    ``qk_norm=False`` switches it off for ablations.

    Args:
        qk_norm: per-head LayerNorm on q and k (default True).
        ranks, block_sizes: as for :class:`MLRScorer`.
    """

    def __init__(
        self,
        d_model,
        n_heads,
        seq_len,
        causal=False,
        qk_norm=True,
        ranks: list[int] | None = None,
        block_sizes: list[int] | None = None,
    ):
        super().__init__(
            d_model,
            n_heads,
            seq_len,
            causal=causal,
            qk_norm=qk_norm,
            ranks=ranks,
            block_sizes=block_sizes,
            scale="per_level",
            normalize="levels",
        )
