"""Structured routes (sliding band, MLR grouped keys) equal the dense fused route.

``MultiHeadAttention.forward`` takes a scorer's structured route when it has one;
``forward_dense`` (``use_structured = False``) is the reference: one fused call on the full
(T, T) scores, or the explicit scores for MLR's block-divide normaliser. Outputs and the
gradients of the input and of every parameter must agree, in float64, causal or not, at
sequence lengths the blocks do not divide.
"""

from __future__ import annotations

import pytest
import torch

from tsattn.attention import create_attention
from tsattn.attention.blocked import contiguous_groups


def build(name: str, seq_len: int, causal: bool, **options):
    torch.manual_seed(0)
    return create_attention(name, 16, 4, seq_len, causal=causal, **options).double()


def outputs_and_grads(attn, x: torch.Tensor, grad: torch.Tensor) -> list[torch.Tensor]:
    """The forward output, then d(output . grad) / d(input and every parameter)."""
    x = x.clone().requires_grad_()
    y = attn(x)
    params = [p for _, p in sorted(attn.named_parameters())]
    return [y, *torch.autograd.grad((y * grad).sum(), [x, *params])]


def assert_structured_equals_dense(attn, seq_len: int, batch: int = 3) -> None:
    assert attn.scorer.has_structured_route(seq_len)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, seq_len, 16, generator=g, dtype=torch.float64)
    grad = torch.randn(batch, seq_len, 16, generator=g, dtype=torch.float64)
    attn.use_structured = True
    fast = outputs_and_grads(attn, x, grad)
    attn.use_structured = False
    dense = outputs_and_grads(attn, x, grad)
    for a, b in zip(fast, dense, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    with torch.no_grad():  # and the explicit reference path
        torch.testing.assert_close(fast[0], attn.attend(x).output, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------ sliding
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize(("seq_len", "window", "block"), [(20, 0, 4), (27, 3, 6), (61, 5, 10)])
@pytest.mark.parametrize("qk_norm", [False, True])
def test_sliding_band_equals_dense_mask(causal, seq_len, window, block, qk_norm):
    attn = build("sliding", seq_len, causal, window=window, qk_norm=qk_norm)
    attn.scorer.band_block = block  # small blocks, so short test sequences take the band
    assert_structured_equals_dense(attn, seq_len)


def test_sliding_band_only_where_it_leaves_out_most_keys():
    attn = create_attention("sliding", 16, 4, 42, window=8)
    assert not attn.scorer.has_structured_route(42)  # 32-query blocks + 16 keys: ~ dense
    assert attn.scorer.has_structured_route(128)


def test_sliding_band_blocks_hold_exactly_the_window():
    attn = build("sliding", 27, False, window=3)
    attn.scorer.band_block = 6
    layout, mask = attn.scorer.band_layout(27, torch.device("cpu"))
    assert mask.shape == (1, 5 * 4, 6, 12)  # ceil(27/6) blocks x 4 heads, 6 queries, 6+2*3 keys
    for i in range(27):
        g, u = int(layout.group[i]), int(layout.slot[i])
        assert int(layout.query_index[u, g]) == i
        reached = layout.key_index[:, g][layout.allowed[g, u]]
        assert sorted(reached.tolist()) == [j for j in range(27) if abs(i - j) <= 3]


# ------------------------------------------------------------------------------ mlr
MLR_CASES = [
    ("mlr", {}),
    ("mlr", {"qk_norm": True, "scale": "per_level"}),
    ("mlr", {"scale": "per_level", "normalize": "levels"}),
    ("mlr", {"normalize": "levels", "ranks": [2, 1, 1], "block_sizes": [30, 7, 4]}),  # not nested
    ("mlr", {"ranks": [4]}),  # one level: softmax
    ("mlr_paper", {}),
    ("mlr_paper", {"qk_norm": False, "ranks": [2, 2]}),
]


@pytest.mark.parametrize(("name", "options"), MLR_CASES, ids=[str(c) for c in MLR_CASES])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("seq_len", [30, 42])
def test_mlr_grouped_keys_equal_dense(name, options, causal, seq_len):
    attn = build(name, seq_len, causal, **options)
    attn.scorer.min_grouped_len = 1  # plain MLR groups from T=512 on; test it at 30 and 42
    assert_structured_equals_dense(attn, seq_len)


def test_mlr_routes_by_sequence_length():
    plain = create_attention("mlr", 128, 8, 2048).scorer
    assert not plain.has_structured_route(64) and plain.has_structured_route(1024)
    paper = create_attention("mlr_paper", 128, 8, 2048).scorer
    assert paper.has_structured_route(64)  # its dense route is explicit scores: always group


def test_mlr_groups_share_every_level_block():
    attn = build("mlr", 42, False)  # ranks [2, 1, 1]: blocks 42 / 21 / ~10 positions
    layout, weight, mask = attn.scorer.group_layout(42, torch.device("cpu"), torch.float64)
    assert layout.n_groups == 4 and mask is None
    assert weight.shape == (42, 4, 1, 4)
    c = 0.5  # uniform scale 1/sqrt(d)
    for g, start in enumerate([0, 11, 21, 32]):
        same_half = (torch.arange(42) < 21) == (start < 21)
        torch.testing.assert_close(weight[:, g, 0, :2], torch.full((42, 2), c, dtype=torch.float64))
        torch.testing.assert_close(weight[:, g, 0, 2], c * same_half.double())


def test_contiguous_groups_pad_short_groups_with_their_last_position():
    query_index, group, slot = contiguous_groups([0, 3, 5], 9)
    assert query_index.T.tolist() == [[0, 1, 2, 2], [3, 4, 4, 4], [5, 6, 7, 8]]
    assert group.tolist() == [0, 0, 0, 1, 1, 2, 2, 2, 2]
    assert slot.tolist() == [0, 1, 2, 0, 1, 0, 1, 2, 3]


@pytest.mark.parametrize("name", ["mlr", "mlr_paper", "sliding"])
def test_structured_route_dropout_is_random_in_training_only(name):
    attn = build(name, 64, False, dropout=0.5).float()
    attn.scorer.band_block, attn.scorer.min_grouped_len = 8, 1
    x = torch.randn(2, 64, 16)
    attn.eval()
    evaluated = attn(x)
    attn.use_structured = False
    torch.testing.assert_close(attn(x), evaluated, rtol=0, atol=1e-5)
    attn.use_structured = True
    attn.train()
    assert not torch.allclose(attn(x), evaluated, atol=1e-3)


# ------------------------------------------------------------------------------ btt
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("explicit", [True, False], ids=["explicit-softmax", "fused"])
@pytest.mark.parametrize(("qk_norm", "rank"), [(False, 1), (True, 2)])
def test_btt_structured_route_equals_dense(causal, explicit, qk_norm, rank):
    attn = build("btt", 42, causal, qk_norm=qk_norm, rank=rank)
    attn.scorer.max_unfused_len = 42 if explicit else 41
    assert_structured_equals_dense(attn, 42)
