"""Blocked attention: queries cut into groups, each group attending to its own key set.

Structured scorers whose scores are a plain dot product *within a group of queries* can
run PyTorch's fused attention kernel on exactly the work they need:

* a sliding window: a block of consecutive queries only reaches the keys of its block and
  ``window`` positions either side, so the T x T score matrix shrinks to a band;
* sequence MLR: for the queries that share every level's block, the MLR score is
  ``q_i . (m_g * k_j)`` with one per-group mask ``m_g`` on the key features, so the
  augmented (twice as wide) vectors of the dense route are not needed.

A :class:`BlockLayout` says, per group g, which positions its ``m`` query slots and ``n``
key slots hold, which (query, key) pairs may attend, and optionally a weight on each key's
features. :func:`blocked_attention` gathers queries, keys and values into that layout
(``(B, G*H, m, d)`` and ``(B, G*H, n, d)``, built so the head merge is a view), calls the
fused kernel once, and scatters the outputs back to their positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class BlockLayout:
    """Where each group's queries and keys come from.

    Attributes:
        query_index: (m, G) long, the position held by query slot u of group g; slots past
            a group's end repeat a real position (their outputs are never read).
        key_index: (n, G) long, the position held by key slot c of group g (in range), or
            None when every group reaches all positions in order (n = T).
        allowed: (G, m, n) bool, True where slot u may attend to key slot c; None = all.
        group: (T,) long, the group holding each position's output.
        slot: (T,) long, the query slot holding each position's output.
    """

    query_index: Tensor
    key_index: Tensor
    allowed: Tensor | None
    group: Tensor
    slot: Tensor

    @property
    def n_groups(self) -> int:
        return self.query_index.shape[1]

    def to(self, device: torch.device) -> BlockLayout:
        """The same layout on ``device``."""
        moved = [None if t is None else t.to(device) for t in self._tensors()]
        return BlockLayout(*moved)

    def _tensors(self) -> list[Tensor | None]:
        return [self.query_index, self.key_index, self.allowed, self.group, self.slot]


def contiguous_groups(starts: list[int], seq_len: int) -> tuple[Tensor, Tensor, Tensor]:
    """Query slots for groups of consecutive positions beginning at ``starts``.

    Returns ``(query_index (m, G), group (T,), slot (T,))`` with m the longest group; a
    shorter group's spare slots repeat its last position.
    """
    ends = starts[1:] + [seq_len]
    m = max(e - s for s, e in zip(starts, ends, strict=True))
    start, end = torch.tensor(starts), torch.tensor(ends)
    query_index = torch.minimum(start[None, :] + torch.arange(m)[:, None], end[None, :] - 1)
    pos = torch.arange(seq_len)
    group = torch.searchsorted(start, pos, right=True) - 1  # (T,)
    return query_index, group, pos - start[group]


def _gather(x: Tensor, index: Tensor) -> Tensor:
    """(B, T, H, d) and (s, G) positions -> (B, G*H, s, d), a view of one gather."""
    b, _, h, d = x.shape
    s, g = index.shape
    y = x.index_select(1, index.reshape(-1)).view(b, s, g, h, d)
    # (B, s, G, H, d) -> (B, G, H, s, d) -> (B, G*H, s, d): G and H merge without a copy
    return y.permute(0, 2, 3, 1, 4).reshape(b, g * h, s, d)


def head_mask(allowed: Tensor | None, n_heads: int) -> Tensor | None:
    """(G, m, n) -> (1, G*H, m, n), the 4-D mask shape the fused kernel accepts."""
    if allowed is None:
        return None
    g, m, n = allowed.shape
    return allowed[:, None].expand(g, n_heads, m, n).reshape(1, g * n_heads, m, n)


def blocked_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    layout: BlockLayout,
    scale: float,
    dropout_p: float = 0.0,
    key_weight: Tensor | None = None,
    mask: Tensor | None = None,
) -> Tensor:
    """Attention of (B, T, H, d) q, k, v by groups; returns (B, T, H, d).

    Args:
        layout: the groups (see :class:`BlockLayout`). ``layout.key_index`` None means every
            group reaches all T keys (then keys and values are broadcast, not gathered).
        scale: the logit scale of the fused kernel.
        dropout_p: dropout on the attention weights.
        key_weight: optional (n, G, 1, d) factor on each group's key features.
        mask: ``head_mask(layout.allowed, H)``, passed in so callers can cache it.
    """
    b, t, h, d = q.shape
    g = layout.n_groups
    if layout.key_index is None:  # (B, T, 1, H, d) -> (B, T, G, H, d)
        keys = k.unsqueeze(2) * key_weight if key_weight is not None else k.unsqueeze(2)
        keys, values = keys.expand(b, t, g, h, d), v.unsqueeze(2).expand(b, t, g, h, d)
    else:  # (B, n*G, H, d) -> (B, n, G, H, d)
        keys = k.index_select(1, layout.key_index.reshape(-1)).view(b, -1, g, h, d)
        values = v.index_select(1, layout.key_index.reshape(-1)).view(b, -1, g, h, d)
        keys = keys * key_weight if key_weight is not None else keys
    y = F.scaled_dot_product_attention(
        _gather(q, layout.query_index),
        _merge_groups(keys),
        _merge_groups(values),
        attn_mask=mask,
        dropout_p=dropout_p,
        scale=scale,
    )  # (B, G*H, m, d)
    # (B, G*H, m, d) -> (B, G, m, H, d) -> (B, G*m, H, d): the slots in position order
    y = y.view(b, g, h, -1, d).transpose(2, 3).reshape(b, -1, h, d)
    if y.shape[1] == t:  # no spare slots: slot order is position order
        return y
    m = layout.query_index.shape[0]
    return y.index_select(1, layout.group * m + layout.slot)


def _merge_groups(x: Tensor) -> Tensor:
    """(B, n, G, H, d) -> (B, G*H, n, d)."""
    b, n, g, h, d = x.shape
    return x.permute(0, 2, 3, 1, 4).reshape(b, g * h, n, d)
