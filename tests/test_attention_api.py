"""The attention factory and bookkeeping: parameter and FLOP counts, option errors, passing
a scorer as a name, a class or an instance, and dtype handling."""

from __future__ import annotations

import pytest
import torch

from tsattn.attention import (
    ATTENTION,
    AttentionScorer,
    MLRScorer,
    MultiHeadAttention,
    SoftmaxScorer,
    create_attention,
    list_attention,
)


def test_registry_names_are_lowercase_sorted_unique_and_name_scorers():
    """A property of every registered name, not a hand-kept list: a new scorer is one
    registration away from every registry-driven test."""
    names = list_attention()
    assert "softmax" in names  # the reference every other scorer is compared with
    assert names == sorted(set(names))
    for name in names:
        assert name == name.lower() and name.isidentifier(), name
        cls = ATTENTION.get(name.upper())  # case-insensitive look-up
        assert isinstance(cls, type) and issubclass(cls, AttentionScorer), name
        attention = create_attention(name, 16, 4, 42)
        assert isinstance(attention.scorer, cls), name  # wrapped in MultiHeadAttention


# ------------------------------------------------------------------------------ counts
@pytest.mark.parametrize("qk_norm", [False, True])
@pytest.mark.parametrize("d_model,n_heads", [(16, 4), (128, 16), (32, 2)])
def test_mlr_has_exactly_softmax_parameter_count(qk_norm, d_model, n_heads):
    soft = create_attention("softmax", d_model, n_heads, 64, qk_norm=qk_norm)
    mlr = create_attention("mlr", d_model, n_heads, 64, qk_norm=qk_norm)
    assert mlr.num_parameters() == soft.num_parameters()
    assert mlr.num_parameters(scoring_only=True) == soft.num_parameters(scoring_only=True)
    assert set(mlr.state_dict()) == set(soft.state_dict())


def test_bilinear_mlr_has_standard_scoring_parameter_count():
    for d_model, n_heads in [(16, 4), (128, 16)]:
        attn = create_attention("bilinear_mlr", d_model, n_heads, 64)
        assert attn.num_parameters(scoring_only=True) == 2 * d_model**2


@pytest.mark.parametrize(
    "d_model,n_heads,rank,a,b", [(16, 4, 1, 2, 8), (128, 16, 1, 8, 16), (128, 16, 2, 8, 16)]
)
@pytest.mark.parametrize("qk_norm", [False, True])
def test_btt_scoring_parameter_count(d_model, n_heads, rank, a, b, qk_norm):
    attn = create_attention("btt", d_model, n_heads, 42, rank=rank, qk_norm=qk_norm)
    layer_norms = 2 * d_model * (2 if qk_norm else 1)
    expected = n_heads * rank * d_model * (a + b) + layer_norms
    assert attn.num_parameters(scoring_only=True) == expected
    assert attn.num_parameters() == expected + 2 * (d_model**2 + d_model)


@pytest.mark.parametrize("d_model,n_heads", [(16, 4), (128, 16)])
def test_score_flops_match_attention_md(d_model, n_heads):
    d = d_model // n_heads
    soft = create_attention("softmax", d_model, n_heads, 64)
    assert soft.score_flops() == n_heads * 64 * 64 * d
    assert soft.score_flops(42) == n_heads * 42 * 42 * d
    ranks = [d // 2, d // 4, d // 4]
    mlr = create_attention("mlr", d_model, n_heads, 64, ranks=ranks)
    expected = n_heads * sum(64 * (64 // 2**lvl) * r for lvl, r in enumerate(ranks))
    assert mlr.score_flops() == expected
    assert mlr.score_flops() < soft.score_flops()
    assert mlr.score_flops(42) < soft.score_flops(42)
    # T = 42: level-2 blocks 11, 10, 11, 10
    assert mlr.score_flops(42) == n_heads * (
        42 * 42 * ranks[0] + 2 * 21**2 * ranks[1] + (2 * 11**2 + 2 * 10**2) * ranks[2]
    )
    btt = create_attention("btt", d_model, n_heads, 64)
    assert btt.score_flops() == n_heads * 64 * 64 * d_model
    sliding = create_attention("sliding", d_model, n_heads, 64, window=64)
    assert sliding.score_flops() == soft.score_flops()


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "name,kwargs,match",
    [
        ("mlr", dict(ranks=[2, 1]), "summing to the head width"),
        ("mlr", dict(ranks=[2, 2, 0]), "positive integers"),
        ("mlr", dict(ranks=[2, 1, 1], block_sizes=[42, 43, 4]), "block lengths"),
        ("mlr", dict(ranks=[2, 1, 1], block_sizes=[42, 4]), "one block length per level"),
        ("mlr", dict(scale="sqrt"), "scale must be one of"),
        ("mlr", dict(normalize="rows"), "normalize must be one of"),
        ("bilinear_mlr", dict(ranks=[1, 1]), "summing to the head width"),
        ("sliding", dict(window=-1), "window must be an integer >= 0"),
        ("btt", dict(rank=0), "rank must be a positive integer"),
        ("softmax", dict(dropout=1.0), "dropout"),
    ],
)
def test_bad_options_raise(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        create_attention(name, 16, 4, 42, **kwargs)


def test_mlr_too_many_levels_for_short_sequence():
    with pytest.raises(ValueError, match="needs seq_len >= 4"):
        create_attention("mlr", 16, 4, 3, ranks=[2, 1, 1])
    assert create_attention("mlr", 16, 4, 3).scorer.ranks == [2, 2]  # default merges levels


def test_d_model_not_divisible_by_heads():
    with pytest.raises(ValueError, match=r"divisible by n_heads \(3\)"):
        create_attention("softmax", 16, 3, 42)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as err:
        create_attention("flash", 16, 4, 42)
    for name in list_attention():
        assert name in str(err.value)


def test_unknown_option_is_named():
    with pytest.raises(ValueError, match=r"unknown option.*'windw'.*accepted.*'window'"):
        create_attention("sliding", 16, 4, 42, windw=3)
    with pytest.raises(ValueError, match=r"unknown option.*'ranks'"):
        create_attention("softmax", 16, 4, 42, ranks=[4])


@pytest.mark.parametrize("name", list_attention())
def test_wrong_input_width(name):
    attn = create_attention(name, 16, 4, 42)
    x = torch.randn(2, 42, 8)
    for call in (attn, attn.attend, attn.scores):
        with pytest.raises(ValueError, match=r"shape \(batch, seq_len, 16\)"):
            call(x)
    with pytest.raises(ValueError, match="expects input"):
        attn(torch.randn(42, 16))


def test_not_a_scorer():
    with pytest.raises(ValueError, match="must be a name"):
        create_attention(torch.nn.Linear, 16, 4, 42)


# ------------------------------------------------------------------------------ class / instance
def test_class_works_like_its_name():
    torch.manual_seed(0)
    by_class = create_attention(MLRScorer, 16, 4, 42, ranks=[2, 1, 1])
    torch.manual_seed(0)
    by_name = create_attention("mlr", 16, 4, 42, ranks=[2, 1, 1])
    x = torch.randn(2, 42, 16)
    torch.testing.assert_close(by_class(x), by_name(x))


@pytest.mark.parametrize("kind", ["scorer", "module"])
def test_instance_is_deep_copied(kind):
    proto = MLRScorer(16, 4, 42, ranks=[2, 1, 1])
    if kind == "module":
        proto = MultiHeadAttention(proto)
    first = create_attention(proto, 16, 4, 42)
    second = create_attention(proto, 16, 4, 42)
    scorer = proto if kind == "scorer" else proto.scorer
    assert first.scorer is not scorer and first.scorer is not second.scorer
    assert first.scorer.ranks == [2, 1, 1]
    torch.testing.assert_close(first.scorer.query.weight, scorer.query.weight)
    ptrs = {p.data_ptr() for p in first.parameters()}
    assert not ptrs & {p.data_ptr() for p in second.parameters()}
    assert not ptrs & {p.data_ptr() for p in proto.parameters()}
    x = torch.randn(2, 42, 16)
    before = second(x).detach()
    with torch.no_grad():
        first.scorer.query.weight.add_(1.0)
    torch.testing.assert_close(second(x), before)
    assert not torch.allclose(first(x), before)


def test_instance_shape_and_causal_must_match():
    proto = SoftmaxScorer(16, 4, 42)
    with pytest.raises(ValueError, match="n_heads=2"):
        create_attention(proto, 16, 2, 42)
    with pytest.raises(ValueError, match="causal=True"):
        create_attention(proto, 16, 4, 42, causal=True)
    with pytest.raises(ValueError, match="cannot change an attention instance"):
        create_attention(proto, 16, 4, 42, qk_norm=True)
    causal = create_attention(SoftmaxScorer(16, 4, 42, causal=True), 16, 4, 42, causal=True)
    assert causal.scorer.causal


# ------------------------------------------------------------------------------ dtypes
@pytest.mark.parametrize(
    "name,opts", [(n, {}) for n in list_attention()] + [("mlr", {"normalize": "levels"})]
)
def test_bfloat16_keeps_its_dtype(name, opts):
    attn = create_attention(name, 16, 4, 42, **opts).to(torch.bfloat16)
    x = torch.randn(2, 42, 16, dtype=torch.bfloat16)
    assert attn(x).dtype == torch.bfloat16
    out = attn.attend(x)
    assert out.scores.dtype == out.weights.dtype == out.output.dtype == torch.bfloat16
    torch.testing.assert_close(attn(x), out.output, rtol=0.05, atol=0.05)


def test_spec_option_names_come_from_the_scorers_signatures():
    """Every option a registered scorer takes is foldable from a flat model spec, and nothing
    else is (issue 16: no hand-kept list)."""
    import inspect

    from tsattn.attention import ATTENTION, scorer_option_names

    names = set(scorer_option_names())
    for name in ATTENTION.names():
        params = inspect.signature(ATTENTION.get(name).__init__).parameters
        own = set(params) - {"self", "d_model", "n_heads", "seq_len", "causal"}
        assert own <= names, name
    assert {"ranks", "window", "rank", "block_sizes"} <= names
    assert not names & {"d_model", "n_heads", "seq_len", "causal"}
