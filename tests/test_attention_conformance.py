"""Conformance checks every registered attention scorer must pass.

Loops over the whole registry (``list_attention()``) and, for each scorer, over causal
on/off and QK-norm on/off; MLR additionally over its scale and normaliser options. Each
check asserts a property of the scorer contract (``AttentionScorer``): shapes, finiteness,
gradients, batch independence, causality, and fast path == reference path.
"""

from __future__ import annotations

import pytest
import torch

from tsattn.attention import create_attention, list_attention

D_MODEL, N_HEADS, SEQ_LEN, BATCH = 16, 4, 20, 3


def _configs() -> list[tuple[str, bool, dict]]:
    configs = []
    for name in list_attention():
        extra = [{}]
        if name == "mlr":
            extra = [
                {"scale": scale, "normalize": norm}
                for scale in ("uniform", "per_level")
                for norm in ("none", "levels")
            ]
        for causal in (False, True):
            for qk_norm in (False, True):
                for opts in extra:
                    configs.append((name, causal, {"qk_norm": qk_norm, **opts}))
    return configs


CONFIGS = _configs()
IDS = [
    f"{n}-{'causal' if c else 'bidir'}-" + "-".join(f"{v}" for v in o.values())
    for n, c, o in CONFIGS
]


def build(name: str, causal: bool, opts: dict, seq_len: int = SEQ_LEN, **extra):
    torch.manual_seed(0)
    return create_attention(name, D_MODEL, N_HEADS, seq_len, causal=causal, **opts, **extra)


def inputs(seq_len: int = SEQ_LEN, batch: int = BATCH, seed: int = 1) -> torch.Tensor:
    return torch.randn(batch, seq_len, D_MODEL, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(params=CONFIGS, ids=IDS)
def config(request):
    return request.param


def test_shapes_and_finite(config):
    attn = build(*config).eval()
    x = inputs()
    out = attn.attend(x)
    assert attn(x).shape == (BATCH, SEQ_LEN, D_MODEL)
    assert out.output.shape == (BATCH, SEQ_LEN, D_MODEL)
    assert out.scores.shape == out.weights.shape == (BATCH, N_HEADS, SEQ_LEN, SEQ_LEN)
    assert attn.scores(x).shape == (BATCH, N_HEADS, SEQ_LEN, SEQ_LEN)
    for t in (attn(x), out.output, out.scores, out.weights):
        assert torch.isfinite(t).all()
    torch.testing.assert_close(out.weights.sum(-1), torch.ones(BATCH, N_HEADS, SEQ_LEN))


@pytest.mark.parametrize("path", ["forward", "attend"])
def test_every_parameter_gets_a_gradient(config, path):
    attn = build(*config).train()
    x = inputs().requires_grad_()
    y = attn(x) if path == "forward" else attn.attend(x).output
    (y * torch.randn_like(y)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for pname, p in attn.named_parameters():
        assert p.grad is not None, f"{pname} got no gradient"
        assert torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, f"{pname} got a zero gradient"


def test_batch_independence(config):
    attn = build(*config).eval()
    x = inputs()
    x2 = x.clone()
    x2[1:] = torch.randn_like(x2[1:]) * 3
    with torch.no_grad():
        torch.testing.assert_close(attn(x)[0], attn(x2)[0], rtol=0, atol=1e-6)
        torch.testing.assert_close(attn.attend(x).output[0], attn.attend(x2).output[0])
        assert not torch.allclose(attn(x)[1], attn(x2)[1])


@pytest.mark.parametrize("i", [0, 7, SEQ_LEN - 2])
def test_causal_mode(config, i):
    name, causal, opts = config
    attn = build(*config).eval()
    x = inputs()
    x2 = x.clone()
    x2[:, i + 1 :] = torch.randn_like(x2[:, i + 1 :])
    with torch.no_grad():
        for run in (attn, lambda t: attn.attend(t).output):
            before, after = run(x)[:, : i + 1], run(x2)[:, : i + 1]
            if causal:
                torch.testing.assert_close(before, after, rtol=0, atol=1e-6)
            else:  # bidirectional: the future reaches position i (i + 1 is in every window)
                assert not torch.allclose(before, after, atol=1e-4)


def test_fast_path_equals_reference(config):
    attn = build(*config).eval()
    x = inputs()
    with torch.no_grad():
        torch.testing.assert_close(attn(x), attn.attend(x).output, rtol=0, atol=1e-5)


def test_both_paths_equal_softmax_of_the_reference_scores_times_values(config):
    attn = build(*config).eval()
    x = inputs()
    with torch.no_grad():
        scores = attn.scores(x)  # the scorer's reference definition, (B, H, T, T)
        mask = attn.scorer.allowed(SEQ_LEN, x.device)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        v = attn.value(x).view(BATCH, SEQ_LEN, N_HEADS, -1).transpose(1, 2)  # (B, H, T, d)
        y = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(BATCH, SEQ_LEN, D_MODEL)
        expected = attn.out(y)
        torch.testing.assert_close(attn(x), expected, rtol=0, atol=1e-5)
        torch.testing.assert_close(attn.attend(x).output, expected, rtol=0, atol=1e-5)
        torch.testing.assert_close(attn.attend(x).scores, attn.scores(x), rtol=0, atol=1e-5)


@pytest.mark.parametrize("bias_shape", [(BATCH, N_HEADS, SEQ_LEN, SEQ_LEN), (SEQ_LEN, SEQ_LEN)])
def test_fast_path_equals_reference_with_score_bias(config, bias_shape):
    attn = build(*config).eval()
    x = inputs()
    bias = torch.randn(bias_shape, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ref = attn.attend(x, score_bias=bias)
        torch.testing.assert_close(attn(x, score_bias=bias), ref.output, rtol=0, atol=1e-5)
        torch.testing.assert_close(ref.scores, attn.scores(x) + bias)
        assert not torch.allclose(ref.output, attn(x), atol=1e-4)  # the bias matters


@pytest.mark.parametrize("name", list_attention())
@pytest.mark.parametrize("causal", [False, True])
def test_attention_dropout(name, causal):
    attn = build(name, causal, {}, dropout=0.5)
    x = inputs()
    with torch.no_grad():
        attn.eval()
        evaluated = attn(x)
        torch.testing.assert_close(attn(x), evaluated, rtol=0, atol=0)
        torch.testing.assert_close(attn.attend(x).output, evaluated, rtol=0, atol=1e-5)
        attn.train()
        torch.manual_seed(5)
        assert not torch.allclose(attn(x), evaluated, atol=1e-3)
        assert not torch.allclose(attn.attend(x).output, evaluated, atol=1e-3)
        # the reference path returns the weights before dropout
        torch.testing.assert_close(attn.attend(x).weights.sum(-1), torch.ones(3, 4, SEQ_LEN))


@pytest.mark.parametrize("name", list_attention())
def test_float64_fast_path_equals_reference(name):
    attn = build(name, False, {}).double().eval()
    x = inputs().double()
    with torch.no_grad():
        torch.testing.assert_close(attn(x), attn.attend(x).output, rtol=0, atol=1e-12)
