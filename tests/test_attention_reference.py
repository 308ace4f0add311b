"""Every scorer against a dense reference written here, independently of the library code.

The references use only the modules' weights (``state_dict``) and the formulas of
docs/ATTENTION.md, computed in float64: dense projections, explicit block indicators, the BTT
matrix materialised from its cores by the official index formula (the paper's code,
YilunKuang/structured-attention ``src/model.py``), the bilinear MLR matrix built block by
block from the clamped factors.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from tsattn.attention import create_attention


def x64(batch: int, seq_len: int, d_model: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, seq_len, d_model, generator=g, dtype=torch.float64)


def build64(name: str, d_model: int, n_heads: int, seq_len: int, **options):
    torch.manual_seed(0)
    return create_attention(name, d_model, n_heads, seq_len, **options).double().eval()


def heads(t: torch.Tensor, n_heads: int) -> torch.Tensor:
    """(B, T, H*w) -> (B, H, T, w)."""
    b, s, _ = t.shape
    return t.reshape(b, s, n_heads, -1).transpose(1, 2)


def dense_qk(attn, x: torch.Tensor, qk_norm: bool = False):
    """q, k (B, H, T, d) from the module's weights: x W^T + b, per-head LayerNorm if asked."""
    sd, h = attn.state_dict(), attn.n_heads
    q = heads(x @ sd["scorer.query.weight"].T + sd["scorer.query.bias"], h)
    k = heads(x @ sd["scorer.key.weight"].T + sd["scorer.key.bias"], h)
    if qk_norm:
        d = q.shape[-1]
        q = F.layer_norm(q, (d,), sd["scorer.q_norm.weight"], sd["scorer.q_norm.bias"])
        k = F.layer_norm(k, (d,), sd["scorer.k_norm.weight"], sd["scorer.k_norm.bias"])
    return q, k


def value_out(attn, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Dense softmax(S) @ V, head merge and output projection."""
    sd = attn.state_dict()
    v = heads(x @ sd["value.weight"].T + sd["value.bias"], attn.n_heads)
    y = (weights @ v).transpose(1, 2).flatten(2)
    return y @ sd["out.weight"].T + sd["out.bias"]


# ------------------------------------------------------------------------------ softmax
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("qk_norm", [False, True])
def test_softmax_equals_sdpa_on_own_projections(causal, qk_norm):
    attn = build64("softmax", 16, 4, 42, causal=causal, qk_norm=qk_norm)
    x = x64(2, 42, 16)
    q, k = dense_qk(attn, x, qk_norm)
    sd = attn.state_dict()
    v = heads(x @ sd["value.weight"].T + sd["value.bias"], 4)
    y = F.scaled_dot_product_attention(q, k, v, is_causal=causal).transpose(1, 2).flatten(2)
    expected = y @ sd["out.weight"].T + sd["out.bias"]
    with torch.no_grad():
        torch.testing.assert_close(attn(x), expected, rtol=0, atol=1e-12)
        torch.testing.assert_close(attn.attend(x).output, expected, rtol=0, atol=1e-12)
        torch.testing.assert_close(attn.scores(x), q @ k.transpose(-1, -2) / 2.0)


# ------------------------------------------------------------------------------ MLR
def ref_blocks(seq_len: int, n_levels: int, block_sizes=None) -> list[list[int]]:
    if block_sizes is None:
        return [[i * 2**lvl // seq_len for i in range(seq_len)] for lvl in range(n_levels)]
    return [[i // size for i in range(seq_len)] for size in block_sizes]


def ref_mlr_scores(
    attn, x, ranks, scale="uniform", normalize="none", block_sizes=None, qk_norm=False
):
    """sum_l [blk_l(i) == blk_l(j)] c_l q_l(i).k_l(j), divided by the shared-level count."""
    q, k = dense_qk(attn, x, qk_norm)
    seq_len, d = x.shape[1], q.shape[-1]
    total = torch.zeros(x.shape[0], attn.n_heads, seq_len, seq_len, dtype=x.dtype)
    shared = torch.zeros(seq_len, seq_len, dtype=x.dtype)
    start = 0
    for r, blk in zip(ranks, ref_blocks(seq_len, len(ranks), block_sizes)):
        blk = torch.tensor(blk)
        same = (blk[:, None] == blk[None, :]).to(x.dtype)
        c = 1 / math.sqrt(d) if scale == "uniform" else 1 / r
        q_l, k_l = q[..., start : start + r], k[..., start : start + r]
        total += same * c * (q_l @ k_l.transpose(-1, -2))
        shared += same
        start += r
    if normalize == "levels":
        total = total / shared.clamp(min=1)
    return total


@pytest.mark.parametrize("qk_norm", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_mlr_with_one_level_is_softmax(qk_norm, causal):
    soft = build64("softmax", 16, 4, 42, causal=causal, qk_norm=qk_norm)
    mlr = build64("mlr", 16, 4, 42, causal=causal, qk_norm=qk_norm, ranks=[4])
    torch.manual_seed(7)
    mlr.load_state_dict(soft.state_dict())
    x = x64(2, 42, 16)
    with torch.no_grad():
        torch.testing.assert_close(mlr.scores(x), soft.scores(x), rtol=0, atol=1e-12)
        torch.testing.assert_close(mlr(x), soft(x), rtol=0, atol=1e-12)
        torch.testing.assert_close(mlr.attend(x).output, soft(x), rtol=0, atol=1e-12)


MLR_CASES = [
    dict(seq_len=64, ranks=[2, 1, 1]),
    dict(seq_len=42, ranks=[2, 1, 1]),
    dict(seq_len=42, ranks=[1, 1, 1, 1]),
    dict(seq_len=64, ranks=[2, 1, 1], block_sizes=[64, 16, 4]),
    dict(seq_len=42, ranks=[2, 1, 1], block_sizes=[42, 10, 3]),
    dict(seq_len=42, ranks=[2, 2], block_sizes=[20, 7]),  # level 0 is not global
]


@pytest.mark.parametrize("case", MLR_CASES, ids=lambda c: "-".join(map(str, c.values())))
@pytest.mark.parametrize("scale", ["uniform", "per_level"])
@pytest.mark.parametrize("normalize", ["none", "levels"])
@pytest.mark.parametrize("qk_norm", [False, True])
def test_mlr_scores_equal_block_masked_level_sum(case, scale, normalize, qk_norm):
    attn = build64(
        "mlr",
        16,
        4,
        case["seq_len"],
        ranks=case["ranks"],
        block_sizes=case.get("block_sizes"),
        scale=scale,
        normalize=normalize,
        qk_norm=qk_norm,
    )
    x = x64(2, case["seq_len"], 16)
    expected = ref_mlr_scores(
        attn, x, case["ranks"], scale, normalize, case.get("block_sizes"), qk_norm
    )
    with torch.no_grad():
        torch.testing.assert_close(attn.scores(x), expected, rtol=0, atol=1e-12)
        out = value_out(attn, x, torch.softmax(expected, -1))
        torch.testing.assert_close(attn(x), out, rtol=0, atol=1e-12)


def test_mlr_default_blocks_for_42_positions():
    # floor(i * 2^l / 42): level 1 = 21 + 21, level 2 = 11 + 10 + 11 + 10
    blocks = ref_blocks(42, 3)
    assert [blocks[1].count(n) for n in range(2)] == [21, 21]
    assert [blocks[2].count(n) for n in range(4)] == [11, 10, 11, 10]
    attn = build64("mlr", 16, 4, 42, ranks=[2, 1, 1])
    same = attn.scorer.same_block(42, torch.device("cpu"))
    assert same[2, 10, 11].item() == 0 and same[2, 11, 20].item() == 1
    assert same[1, 20, 21].item() == 0 and same[0].all()


def test_mlr_off_diagonal_block_rank():
    attn = build64("mlr", 32, 2, 64, ranks=[3, 5, 8])
    s = attn.scores(x64(2, 64, 32)).detach()
    rank = torch.linalg.matrix_rank
    for b in range(2):
        for h in range(2):
            assert rank(s[b, h, :32, 32:]).item() == 3  # only the global slice r_0
            assert rank(s[b, h, 32:, :32]).item() == 3
            assert rank(s[b, h, :16, 16:32]).item() == 3 + 5  # levels 0 and 1
            assert rank(s[b, h, :16, :16]).item() == 16  # every level: full head width
            assert rank(s[b, h]).item() > 16


def test_mlr_at_other_sequence_lengths_uses_actual_blocks():
    attn = build64("mlr", 16, 4, 64, ranks=[2, 1, 1])
    for seq_len in (42, 100, 5):
        x = x64(2, seq_len, 16)
        with torch.no_grad():
            expected = ref_mlr_scores(attn, x, [2, 1, 1])
            torch.testing.assert_close(attn.scores(x), expected, rtol=0, atol=1e-12)
            torch.testing.assert_close(attn(x), attn.attend(x).output, rtol=0, atol=1e-12)
            torch.testing.assert_close(attn(x), value_out(attn, x, torch.softmax(expected, -1)))


# ------------------------------------------------------------------------------ BTT
def ref_clamp(core: torch.Tensor, d_in: int, d_out: int) -> torch.Tensor:
    rms = torch.sqrt(core.pow(2).mean() + 1e-8)
    rho = math.sqrt(min(d_in, d_out)) / d_in
    return core / max(1.0, (rms / rho).item())


def ref_btt_matrices(attn) -> torch.Tensor:
    """(H, D, D) from the official definition (YilunKuang/structured-attention, ``src/model.py``,
    ``BilinearBTTAttention``), written entry by entry::

        W_h[alpha * b + beta', gamma * b + delta]
            = sum_sigma L[h*b + beta', alpha, gamma*s + sigma]
                        * R[gamma, delta, (h*b + beta')*s + sigma]

    Rows are the key features in the official order ``alpha * b + beta'`` (the order of the
    input features ``gamma * b + delta``), read off the official reshape of the second bmm's
    output ``(H*b, a, B*T) -> (B, H, T, a, b)``; the cores are clamped with the official
    constants first.
    """
    sc, sd = attn.scorer, attn.state_dict()
    a, b, h, s, dim = sc.a, sc.b, sc.n_heads, sc.rank, sc.d_model
    core_r = ref_clamp(sd["scorer.core_r"], d_in=b, d_out=h * b * s)  # (a, b, H*b*s)
    core_l = ref_clamp(sd["scorer.core_l"], d_in=a * s, d_out=a)  # (H*b, a, a*s)
    w = torch.zeros(h, dim, dim, dtype=core_r.dtype)
    for head in range(h):
        for beta in range(b):
            full = head * b + beta
            for alpha in range(a):
                for gamma in range(a):
                    for delta in range(b):
                        w[head, alpha * b + beta, gamma * b + delta] = sum(
                            core_l[full, alpha, gamma * s + sigma]
                            * core_r[gamma, delta, full * s + sigma]
                            for sigma in range(s)
                        )
    return w


@pytest.mark.parametrize("qk_norm", [False, True])
@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("inflate", [1.0, 50.0], ids=["as-built", "clamped"])
def test_btt_scores_equal_dense_matrix(qk_norm, rank, inflate):
    attn = build64("btt", 16, 4, 42, qk_norm=qk_norm, rank=rank)
    with torch.no_grad():
        attn.scorer.core_r.mul_(inflate)
        attn.scorer.core_l.mul_(inflate * 0.7)
    assert (attn.scorer.a, attn.scorer.b) == (2, 8)
    x = x64(2, 42, 16)
    sd = attn.state_dict()
    w = ref_btt_matrices(attn)  # (H, D, D)
    keys = torch.einsum("hkc,btc->bhtk", w, x)  # W_h x_j
    keys = F.layer_norm(keys, (16,), sd["scorer.key_norm.weight"], sd["scorer.key_norm.bias"])
    q = x
    if qk_norm:
        q = F.layer_norm(x, (16,), sd["scorer.query_norm.weight"], sd["scorer.query_norm.bias"])
    expected = q[:, None] @ keys.transpose(-1, -2) / 4.0
    with torch.no_grad():
        torch.testing.assert_close(attn.scores(x), expected, rtol=0, atol=1e-12)
        torch.testing.assert_close(attn(x), value_out(attn, x, torch.softmax(expected, -1)))


def test_btt_identity_cores_give_plain_dot_product():
    """Rank 1, L[h*b + beta', alpha, gamma] = [alpha == gamma], R[gamma, delta, h*b + beta'] =
    [delta == beta']: every W_h is the identity in the official layout, so the scores are
    ``x_i . LN(x_j) / sqrt(D)`` (LN: the key LayerNorm, weight 1 and bias 0 as built). With
    tokens standardised per token (mean 0, variance 1) LN(x_j) = x_j / sqrt(1 + 1e-5), so the
    scores times sqrt(D) * sqrt(1 + 1e-5) are the plain dot products ``x_i . x_j``.
    (The identity cores sit exactly at the clamp ceiling: RMS^2 = 1/b and 1/a; the 1e-8
    inside the RMS divides W by 1 + O(1e-8).)"""
    attn = build64("btt", 16, 4, 42, rank=1)
    sc = attn.scorer
    a, b, h = sc.a, sc.b, sc.n_heads
    with torch.no_grad():
        sc.core_r.zero_()
        sc.core_l.zero_()
        for full in range(h * b):
            for gamma in range(a):
                sc.core_r[gamma, full % b, full] = 1.0
            for alpha in range(a):
                sc.core_l[full, alpha, alpha] = 1.0
        eye = torch.eye(16, dtype=torch.float64).expand(h, 16, 16)
        torch.testing.assert_close(ref_btt_matrices(attn), eye, rtol=0, atol=1e-7)
        x = x64(2, 42, 16)
        keys = F.layer_norm(x, (16,))
        expected = (x @ keys.transpose(-1, -2))[:, None] / 4.0  # (B, 1, T, T) for every head
        torch.testing.assert_close(attn.scores(x), expected.expand(2, h, 42, 42))
        z = (x - x.mean(-1, keepdim=True)) / x.std(-1, unbiased=False, keepdim=True)
        plain = (z @ z.transpose(-1, -2))[:, None]  # x_i . x_j
        got = attn.scores(z) * 4.0 * math.sqrt(1 + 1e-5)
        torch.testing.assert_close(got, plain.expand(2, h, 42, 42), rtol=1e-6, atol=1e-6)
        weights = torch.softmax(plain / (4.0 * math.sqrt(1 + 1e-5)), -1)
        torch.testing.assert_close(attn(z), value_out(attn, z, weights))


def test_btt_factors_of_128():
    attn = create_attention("btt", 128, 16, 8)
    assert (attn.scorer.a, attn.scorer.b) == (8, 16)


def test_btt_matrix_is_full_rank_softmax_is_not():
    btt = build64("btt", 16, 4, 42)
    for w_h in ref_btt_matrices(btt):
        assert torch.linalg.matrix_rank(w_h).item() == 16  # rank D: no bottleneck
    soft = build64("softmax", 16, 4, 42)
    wq = soft.state_dict()["scorer.query.weight"].reshape(4, 4, 16)  # (H, d, D)
    wk = soft.state_dict()["scorer.key.weight"].reshape(4, 4, 16)
    for h in range(4):
        assert torch.linalg.matrix_rank(wq[h].T @ wk[h]).item() == 4  # rank d


# ------------------------------------------------------------------------------ bilinear MLR
def ref_bilinear_matrices(attn, ranks) -> torch.Tensor:
    """(H, D, D): M_h = sum_l c_l blockdiag_n(Wq_l[n][:, h] Wk_l[n][:, h]^T), each factor
    W RMS-clamped first (official constants: d_in = D / n, d_out = H * r)."""
    sd, dim, h = attn.state_dict(), attn.d_model, attn.n_heads
    m = torch.zeros(h, dim, dim, dtype=torch.float64)
    for lvl, r in enumerate(ranks):
        n_chunks, c = 2**lvl, 1 / math.sqrt(r * 2**lvl)
        size = dim // n_chunks
        wq = ref_clamp(sd[f"scorer.queries.{lvl}.weight"], size, h * r)  # (n, D/n, H*r)
        wk = ref_clamp(sd[f"scorer.keys.{lvl}.weight"], size, h * r)
        for head in range(h):
            for n in range(n_chunks):
                fq = wq[n][:, head * r : (head + 1) * r]  # (D/n, r)
                fk = wk[n][:, head * r : (head + 1) * r]
                blk = slice(n * size, (n + 1) * size)
                m[head, blk, blk] += c * fq @ fk.T
    return m


@pytest.mark.parametrize("ranks", [[2, 1, 1], [4], [1, 1, 1, 1]])
@pytest.mark.parametrize("inflate", [1.0, 0.05], ids=["as-built", "below-ceiling"])
def test_bilinear_mlr_scores_equal_dense_matrix(ranks, inflate):
    attn = build64("bilinear_mlr", 16, 4, 42, ranks=ranks)
    with torch.no_grad():
        for p in attn.scorer.parameters():
            p.mul_(inflate)  # 0.05: every factor below its clamp ceiling, used as is
    x = x64(2, 42, 16)
    m = ref_bilinear_matrices(attn, ranks)
    expected = torch.einsum("bic,hcd,bjd->bhij", x, m, x)
    with torch.no_grad():
        torch.testing.assert_close(attn.scores(x), expected, rtol=0, atol=1e-12)
        torch.testing.assert_close(attn(x), value_out(attn, x, torch.softmax(expected, -1)))


# ------------------------------------------------------------------------------ sliding
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("window", [42, 100])
def test_sliding_with_wide_window_is_softmax(causal, window):
    soft = build64("softmax", 16, 4, 42, causal=causal)
    slide = build64("sliding", 16, 4, 42, causal=causal, window=window)
    slide.load_state_dict(soft.state_dict())
    x = x64(2, 42, 16)
    with torch.no_grad():
        torch.testing.assert_close(slide(x), soft(x), rtol=0, atol=1e-12)
        torch.testing.assert_close(slide.attend(x).output, soft(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("window", [0, 1, 5])
def test_sliding_masks_exactly_the_far_pairs(causal, window):
    attn = build64("sliding", 16, 4, 20, causal=causal, window=window)
    x = x64(2, 20, 16)
    weights = attn.attend(x).weights.detach()
    i, j = torch.arange(20)[:, None], torch.arange(20)[None, :]
    masked = (j < i - window) | (j > i) if causal else (i - j).abs() > window
    assert (weights[..., masked] == 0).all()
    assert (weights[..., ~masked] > 0).all()
    soft = build64("softmax", 16, 4, 20)
    soft.load_state_dict(attn.state_dict())
    expected = soft.scores(x).masked_fill(masked, float("-inf")).softmax(-1)
    with torch.no_grad():
        torch.testing.assert_close(weights, expected, rtol=0, atol=1e-12)
        torch.testing.assert_close(attn(x), value_out(attn, x, expected), rtol=0, atol=1e-12)
